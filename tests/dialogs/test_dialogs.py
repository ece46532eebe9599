"""Conversation flows through botbuilder's TestAdapter: what a person sees, turn by turn."""

from __future__ import annotations

from datetime import datetime, timezone

from chat import Chat, _card_nonce, _onboard

from dialogs.cards import card_buttons
from model import content


async def test_full_onboarding_in_danish_by_clicked_labels(da):
    reply = await da.send("hej")
    assert "Hvad arbejder du med" in reply and "Leder" in reply
    reply = await da.send("Leder")
    assert "involveret" in reply and "Jeg styrer arbejdet, når nye løsninger bliver udviklet" in reply
    reply = await da.send("Jeg styrer udvikling og implementering")
    assert reply.index("Implementering og anskaffelse") < reply.index("Udvikling**") < reply.index("Innovation")
    assert "indkøbsprocesser" in reply  # says why
    profile = await da.users.profile(da.key)
    assert (profile["role"], profile["level"], profile["language"]) == ("manager", "steer", "da")


async def test_full_onboarding_in_english_by_typed_numbers_and_a_typo(en):
    reply = await en.send("hello")
    assert "What kind of work do you do" in reply
    reply = await en.send("Projet lead")  # typo
    assert "How are you usually involved" in reply
    reply = await en.send("2")
    assert "Development" in reply and "Why:" in reply
    assert (await en.users.profile(en.key))["role"] == "project_lead"


async def test_unclear_answer_is_asked_again_without_losing_the_place(da):
    await da.send("hej")
    reply = await da.send("bananbrød")
    assert "hvad du arbejder med" in reply and "skriv din stilling" in reply
    reply = await da.send("4")
    assert "involveret" in reply


async def test_start_midway_restarts_onboarding(da):
    await da.send("hej")
    await da.send("Leder")
    reply = await da.send("start")
    assert "Hvad arbejder du med" in reply
    await da.send("1")
    reply = await da.send("1")
    assert "Innovation" in reply.split("\n\n")[1]  # frontline + uses: innovation first
    assert (await da.users.profile(da.key))["role"] == "frontline"


async def test_question_mid_onboarding_is_answered_then_the_prompt_returns(da):
    await da.send("hej")
    reply = await da.send("hvad betyder innovation for mig?")
    assert "Innovation" in reply and "Hvad arbejder du med" in reply
    reply = await da.send("Leder")
    assert "involveret" in reply


async def test_language_switch_is_remembered(da):
    await da.send("hej")
    await da.send("1")
    await da.send("1")
    reply = await da.send("language english")
    assert "English" in reply
    reply = await da.send("profil")
    assert "Your profile" in reply


async def test_quick_check_by_typed_numbers_in_five_turns(da):
    await _onboard(da)
    reply = await da.send("vurdering")
    assert "Vurder dig selv" in reply and "Udvikling" in reply
    await da.send("4")
    await da.send("spring over")
    await da.send("2")
    reply = await da.send("blive bedre til business cases")
    assert "gemt" in reply
    items = await da.users.assessments(da.key)
    assert len(items) == 1
    first = items[0]
    assert first["scores"] == {"development": 4, "innovation": 2} or first["scores"] == {
        "development": 4,
        "implementation": 2,
    }
    assert first["note"] == "blive bedre til business cases"
    assert first["role"] == "administrative" and first["language"] == "da" and first["schema"] == 1


async def _quick_check(chat: Chat, implementation: str, development: str, innovation: str) -> str:
    """Onboard, open the check and submit the card; returns the card's nonce."""
    await _onboard(chat)
    nonce, _ = await chat.submit_check(implementation, development, innovation)
    return nonce


async def test_quick_check_by_card_submit_and_invalid_submits_are_reasked(en):
    await _onboard(en)
    nonce = await _card_nonce(en)
    reply = await en.send(value={"kh": "quick", "nonce": nonce, "implementation": "7"})
    assert "value I can't use" in reply
    reply = await en.send(value={"kh": "quick", "nonce": nonce})
    assert "didn't pick anything" in reply
    reply = await en.send(value={"kh": "quick", "nonce": "forged", "implementation": "3"})
    assert "no longer active" in reply
    assert await en.users.assessments(en.key) == []
    reply = await en.send(
        value={
            "kh": "quick",
            "nonce": nonce,
            "implementation": "3",
            "development": "5",
            "innovation": "1",
            "note": "  trends  ",
        }
    )
    assert "saved" in reply and "11 example competences" in reply
    items = await en.users.assessments(en.key)
    assert items[0]["scores"] == {"implementation": 3, "development": 5, "innovation": 1}
    assert items[0]["note"] == "trends"


async def test_stop_midway_stores_nothing(en):
    await _onboard(en)
    await en.send("assessment")
    await en.send("3")
    reply = await en.send("stop")
    assert "Nothing was saved" in reply
    assert await en.users.assessments(en.key) == []
    reply = await en.send("4")
    assert "saved" not in reply


async def test_assessment_without_profile_runs_onboarding_first(en):
    reply = await en.send("assessment")
    assert "What kind of work do you do" in reply
    await en.send("1")
    reply = await en.send("1")
    assert "Self-assessment: Development" in reply


async def test_deep_round_over_the_eleven_examples(en):
    nonce = await _quick_check(en, "3", "3", "3")
    reply = await en.send("yes")
    assert "Example competences" in reply
    values = {"kh": "deep", "nonce": nonce, "procurement": "2", "trends": "5"}
    reply = await en.send(value=values)
    assert "2 examples" in reply
    assert (await en.users.assessments(en.key))[0]["competences"] == {"procurement": 2, "trends": 5}


async def test_history_export_and_delete(en):
    await _onboard(en)
    nonce = await _card_nonce(en)
    await en.send(value={"kh": "quick", "nonce": nonce, "implementation": "3", "development": "4", "innovation": "2"})
    await en.send("no")
    reply = await en.send("history")
    assert "Latest scores" in reply and "4/5" in reply and "Suggestion" in reply
    reply = await en.send("export")
    assert "This is what I have stored about you" in reply and "Self-assessments: 1" in reply
    attached = next(att for a in en.last for att in a.attachments or [] if att.content_type == "application/json")
    assert attached.content_url.startswith("data:application/json;base64,")  # outside Teams: the file itself
    reply = await en.send("delete my data")
    assert "cannot be undone" in reply
    reply = await en.send("no")
    assert "haven't deleted" in reply
    assert await en.users.get(en.key) is not None
    await en.send("delete my data")
    reply = await en.send("yes")
    assert "deleted everything" in reply
    assert await en.users.get(en.key) is None
    assert [p for p in (en.store.root).rglob("*.json")] == []


async def test_a_question_about_ones_own_job_mid_dialog_is_answered_and_the_question_comes_back(en):
    """'and what does it mean for me?' while the delete confirmation waits: the person's own job
    is answered (it used to be taken as a wrong answer to yes/no), the question comes again, and
    nothing is deleted until they say yes."""
    await _onboard(en, role="5", level="3")  # manager, steers
    await en.send("delete my data")
    reply = await en.send("and what does it mean for me?")
    assert content.t("en", "coaching.role_title", role=content.lookup("en", "roles.manager.in_sentence")) in reply
    assert content.t("en", "msg.resume") in reply and "cannot be undone" in reply
    assert await en.users.get(en.key) is not None
    assert "deleted everything" in await en.send("yes")


async def test_out_of_scope_gets_a_kind_pointer(en):
    await _onboard(en)
    reply = await en.send("what's the weather tomorrow?")
    assert "can't help with that" in reply and "help" in reply
    assert "If it is about your work, ask your manager" in reply  # who can answer instead


async def test_question_in_english_from_a_danish_user_is_answered_in_english(da):
    await _onboard(da, role="Leder", level="3")
    reply = await da.send("what does Innovation mean for me?")
    assert "You are a manager, and you steer the work" in reply
    reply = await da.send("hvad betyder innovation for mig?")
    assert "Du er leder, og du styrer arbejdet" in reply


async def test_close_topics_get_a_which_one_question_with_buttons(en):
    from model.language.understanding import understand

    text = "udvikling og innovation"
    assert understand(text).ambiguous
    await _onboard(en)
    reply = await en.send(text)
    assert "Do you mean" in reply or "Mener du" in reply
    buttons = [b["title"] for a in en.last for att in a.attachments or [] for b in card_buttons(att.content)]
    assert len(buttons) == 2


async def test_first_assessment_offers_reminders_but_never_turns_them_on(en):
    await _quick_check(en, "3", "3", "3")
    reply = await en.send("no")
    assert "friendly reminder" in reply and "Yes, set up reminders" in reply
    doc = await en.users.get(en.key)
    assert ((doc.get("reminder") or {}).get("prefs") or {}).get("frequency", "off") == "off"


async def test_reminders_dialog_shows_the_next_nudge_in_the_persons_language(da):
    da.now = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    await _onboard(da)
    reply = await da.send("påmindelser")
    assert "Hvor tit" in reply and "Hver anden uge" in reply
    await da.send("hver måned")
    await da.send("torsdag")
    reply = await da.send("kl 10.30")
    assert "torsdag d. 3. december 2026 kl. 10:30" in reply
    reply = await da.send("påmindelser")
    assert "en gang om måneden" in reply
    reply = await da.send("Ingen påmindelser")
    assert "slået fra" in reply


async def test_reminder_time_outside_working_hours_is_asked_again(en):
    en.now = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    await _onboard(en)
    await en.send("reminders")
    await en.send("weekly")
    await en.send("Monday")
    reply = await en.send("22:00")
    assert "between 08:00 and 16:00" in reply
    reply = await en.send("9")
    assert "Monday 7 December 2026 at 09:00" in reply


async def test_no_thanks_button_answers_the_offer_instead_of_being_thanks(da):
    await _quick_check(da, "3", "3", "3")
    reply = await da.send("Nej tak")
    assert "Det var så lidt" not in reply and "historik" in reply


async def test_multi_line_texts_use_hard_line_breaks_for_markdown_clients(da):
    await da.send("hej")
    await da.send("1")
    await da.send("1")
    card = next(att.content for a in da.last for att in a.attachments or [] if "Hvorfor" in str(att.content))
    assert any(block["text"].startswith("Hvorfor") for block in card["body"])  # its own line in a card
    profile = await da.send("profil")
    assert "  \nRolle" in profile  # a plain text keeps its lines in Markdown clients


async def test_each_turn_reads_the_persons_document_once(da):
    """The handler, the router and the dialogs all ask for the person's document; the
    backend is asked once a turn (on Azure Blob each read is an HTTP request)."""
    await _onboard(da)
    reads: list[str] = []
    plain_read = da.store.read

    async def counting_read(collection, key):
        reads.append(collection)
        return await plain_read(collection, key)

    da.store.read = counting_read
    per_turn = {}
    for text in ["historik", "profil", "mål", "hvad er udvikling", "vurdering", "3", "2", "4", "spring over"]:
        reads.clear()
        await da.send(text)
        per_turn[text] = reads.count("users")
    assert per_turn == dict.fromkeys(per_turn, 1), per_turn
    assert (await da.users.assessments(da.key))[-1]["scores"], "the check was saved all the same"


async def test_one_example_rated_is_said_in_the_singular(da):
    """'… af 1 eksempel', not '1 eksempler' (a walk rated one example and read that)."""
    await _onboard(da)
    nonce, _ = await da.submit_check("3", "3", "2")
    await da.send("ja")
    reply = await da.send(value={"kh": "deep", "nonce": nonce, "procurement": "4"})
    assert content.t("da", "assessment.deep_saved_one") in reply and "1 eksempler" not in reply
