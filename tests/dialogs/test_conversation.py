"""A conversation that reads like a good colleague (issue 16): each flow defect people tripped
over, the 28-character button rule on the Teams channel, and plain Danish (LIX <= 40)."""

from __future__ import annotations

from datetime import datetime, timezone

from chat import _card_nonce, _onboard
from conftest import Connector, TeamsUser, buttons_of, say

from model import content
from model.language.readability import PLAIN_LIMIT, is_label, lix

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


# -- language ----------------------------------------------------------------------------------
async def test_asking_for_the_language_already_on_keeps_it_and_says_so(en):
    await _onboard(en)
    reply = await en.send("english")
    assert "already writing to you in English" in reply
    reply = await en.send("english please")
    assert "already" in reply and (await en.users.profile(en.key))["language"] == "en"


async def test_danish_twice_stays_danish(da):
    await _onboard(da)
    for _ in range(2):
        reply = await da.send("dansk")
        assert "allerede dansk" in reply
    assert (await da.users.profile(da.key))["language"] == "da"


async def test_sprog_alone_asks_which_language_with_buttons(da):
    await _onboard(da)
    reply = await da.send("sprog")
    assert "Jeg skriver dansk til dig nu" in reply and "Dansk" in reply and "English" in reply
    assert (await da.users.profile(da.key))["language"] == "da"  # nothing switched by itself
    reply = await da.send("engelsk")
    assert "English from now on" in reply


# -- onboarding ----------------------------------------------------------------------------------
async def test_a_question_during_onboarding_is_answered_without_contradicting_the_onboarding(da):
    await da.send("hej")
    reply = await da.send("hvad betyder innovation?")
    assert "Innovation" in reply
    assert content.t("da", "msg.answer_next_step_profile") not in reply  # no "type start" while in onboarding
    assert content.t("da", "msg.ask_role") in reply  # and then the question again, once


async def test_hello_during_onboarding_does_not_start_it_all_over(da):
    await da.send("hej")
    reply = await da.send("hej")
    assert content.t("da", "msg.welcome").split("\n")[0] not in reply
    assert content.t("da", "msg.greeting_short") in reply and content.t("da", "msg.ask_role") in reply


async def test_something_out_of_scope_during_onboarding_says_what_the_bot_does_then_asks_once(da):
    await da.send("hej")
    reply = await da.send("hvad bliver vejret i morgen")
    assert "digitale kompetencer" in reply and reply.count(content.t("da", "msg.ask_role")) <= 1
    assert "hvad du arbejder med" in reply


async def test_start_for_someone_known_is_no_first_meeting(da):
    await _onboard(da)
    reply = await da.send("start")
    assert content.t("da", "msg.welcome_back") in reply
    assert "Først to korte spørgsmål" not in reply and content.t("da", "msg.privacy_line").split(".")[0] not in reply


async def test_a_new_person_hears_what_is_stored_for_how_long_and_how_to_see_or_delete_it(da):
    reply = await da.send("hej")
    assert "2 år" in reply and "eksport" in reply and "slet mine data" in reply


async def test_with_retention_off_a_new_person_hears_their_data_stays_until_they_delete_it(da):
    da.services.retention_days = 0  # RETENTION_DAYS=0: nothing expires
    reply = await da.send("hej")
    assert content.t("da", "msg.privacy_line_no_expiry") in reply and "0 år" not in reply


async def test_an_old_card_clicked_after_deletion_says_the_card_is_gone_and_stores_nothing(da):
    await _onboard(da)
    await da.send("slet mine data")
    await da.send("Ja, slet alt")
    reply = await da.send(value={"kh": "say", "text": "vurdering"})
    assert reply == content.t("da", "msg.stale_click")
    assert await da.users.get(da.key) is None


# -- profile, reminders, suggestions --------------------------------------------------------------
async def test_profile_shows_reminders_as_they_are_and_dates_in_words(da):
    da.now = MONDAY
    await _onboard(da)
    for answer in ("påmindelser", "Hver uge", "tirsdag", "09:00"):
        await da.send(answer)
    reply = await da.send("profil")
    assert "Påmindelser: slået til" in reply and "30. november 2026" in reply and "2026-11-30" not in reply


async def test_the_reminder_confirmation_never_names_a_date_in_the_quiet_days_after_a_check(da):
    da.now = MONDAY
    await _onboard(da)
    nonce = await _card_nonce(da)
    await da.send(value={"kh": "quick", "nonce": nonce, "implementation": "3", "development": "3", "innovation": "3"})
    await da.send("nej")
    for answer in ("påmindelser", "Hver uge", "tirsdag"):
        await da.send(answer)
    reply = await da.send("09:00")
    assert "1. december" not in reply and "8. december 2026" in reply  # Tuesday tomorrow is within 3 days


async def test_snooze_before_any_nudge_moves_nothing_earlier(da):
    da.now = MONDAY
    await _onboard(da)
    for answer in ("påmindelser", "Hver måned", "fredag", "09:00"):
        await da.send(answer)
    before = (await da.users.get(da.key))["reminder"]["next"]
    reply = await da.send("udsæt")
    assert "ingen påmindelse at udsætte" in reply
    assert (await da.users.get(da.key))["reminder"]["next"] == before


async def test_the_reminder_offer_after_a_first_check_can_be_declined(da):
    await _onboard(da)
    nonce = await _card_nonce(da)
    await da.send(value={"kh": "quick", "nonce": nonce, "implementation": "3", "development": "3", "innovation": "3"})
    await da.send("nej")
    titles = [b["title"] for a in da.last for att in a.attachments or [] for b in buttons_of(att.content)]
    assert "Nej tak" in titles
    reply = await da.send(value={"kh": "decline", "what": "reminders"})
    assert "ingen påmindelser" in reply.lower()


async def test_most_to_gain_follows_the_lowest_scores_and_never_an_unrated_sub_area(en):
    await _onboard(en, role="5", level="3")  # a manager who steers: all three matter a lot
    nonce = await _card_nonce(en)
    await en.send(value={"kh": "quick", "nonce": nonce, "implementation": "2", "innovation": "1"})
    await en.send("no")
    reply = await en.send("history")
    suggestion = next(line for line in reply.split("\n") if line.startswith("Suggestion"))
    assert "Innovation" in suggestion and "Development" not in suggestion
    nonce = await _card_nonce(en)
    await en.send(value={"kh": "quick", "nonce": nonce, "development": "4"})
    await en.send("no")
    reply = await en.send("history")
    assert "most to gain" in reply  # said about a rated sub-area only


async def test_the_overview_for_a_steering_manager_says_what_matters_most_not_all_high(da):
    await _onboard(da, role="5", level="3")
    reply = await da.send("hvad er kompetencehjulet")
    assert reply.count(content.t("da", "bands.high")) == 1
    assert "fire områder" in reply and not reply.lstrip().startswith("Tak")


async def test_no_sub_area_is_called_of_little_relevance(da):
    await _onboard(da, role="1", level="1")  # a frontline employee who uses the solutions
    reply = da.last and "\n".join(str(a.serialize()) for a in da.last)
    assert "mindre relevans" not in reply
    overview = await da.send("hvad betyder udvikling for mig")
    assert "Udvikling" in overview and "mindre relevans" not in overview


async def test_the_typed_deeper_round_explains_the_scale_once(da):
    await _onboard(da)
    nonce = await _card_nonce(da)
    await da.send(value={"kh": "quick", "nonce": nonce, "implementation": "3", "development": "3", "innovation": "3"})
    await da.send("ja")
    said = da.last and "\n".join(a.text or "" for a in da.last)
    for _ in range(3):
        said += "\n" + await da.send("3")
    assert said.count("5 = ") == 1


# -- Teams: every button fits, every prompt is one message -----------------------------------------
async def test_every_button_on_the_teams_channel_fits_28_characters(server, connector: Connector):
    users = [TeamsUser(connector, locale=locale) for locale in ("da-DK", "en-US")]
    for user in users:
        server.runtime.services.clock = lambda: MONDAY
        await say(server, connector, user.install())
        for text in (
            "5",
            "3",
            "hvad betyder innovation for mig",
            "hvad er gevinstrealisering",
            "hvordan bliver jeg bedre til business cases",
            "jeg er sosu-assistent, hvad skal jeg kunne",
            "sprog",
            "vurdering",
        ):
            await say(server, connector, user.message(text))
        card = next(a for a in reversed(connector.activities) if "nonce" in str(a.get("attachments")))
        nonce = card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]
        await say(
            server,
            connector,
            user.message(
                value={"kh": "quick", "nonce": nonce, "implementation": "2", "development": "3", "innovation": "1"}
            ),
        )
        for text in (
            "ja",
            "nej",
            "historik",
            "mål",
            "påmindelser",
            "Hver uge",
            "tirsdag",
            "09:00",
            "eksport",
            "slet mine data",
            "nej",
        ):
            await say(server, connector, user.message(text))
        await server.runtime.nudges.run(datetime(2026, 12, 8, 8, 0, 30, tzinfo=timezone.utc))
    titles = [b["title"] for b in connector.buttons()]
    assert len(titles) > 40
    too_long = sorted({t for t in titles if len(t) > 28})
    assert not too_long


async def test_a_prompt_with_choices_arrives_as_one_message(server, connector):
    user = TeamsUser(connector)
    await say(server, connector, user.install())
    before = len(connector.activities)
    await say(server, connector, user.message("Leder"))
    sent = connector.activities[before:]
    assert len(sent) == 1 and content.t("da", "msg.ask_level") in connector.texts(before)[0]


# -- plain Danish ---------------------------------------------------------------------------------------
OFFICIAL_NAMES = {
    "wheel.areas.use.name",
    "wheel.areas.understanding.name",
    "wheel.areas.communication.name",
    "wheel.areas.development_implementation.name",
}  # KL's own names, quoted as they are
VOCABULARY = ("aliases", "_words", "words", "frequency_aliases", "language_aliases")  # what people type, not text


def _texts(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        if not any(path.endswith(v) or f".{v}." in f".{path}." for v in VOCABULARY):
            for i, value in enumerate(node):
                yield from _texts(value, f"{path}.{i}")
    elif isinstance(node, str) and not any(v in path for v in VOCABULARY):
        yield path, node


def test_every_danish_text_is_plain_lix_at_most_40():
    hard = {
        path: round(lix(text))
        for path, text in _texts(content.texts("da"))
        if path not in OFFICIAL_NAMES and not is_label(text) and lix(text) > PLAIN_LIMIT
    }
    assert not hard


def test_the_danish_texts_say_du_not_medarbejdere_skal_or_vi():
    import re

    offenders = [
        path
        for path, text in _texts(content.texts("da"))
        if re.search(r"\b(medarbejdere skal|vi har|vi skal)\b", text, re.IGNORECASE)
    ]
    assert not offenders


def test_one_term_for_one_thing():
    import re

    danish = " ".join(text for _, text in _texts(content.texts("da")))
    assert not re.search(r"\bdin udvikling\b", danish.lower())  # progress is "dine fremskridt"
    assert "tjek" not in danish.lower().replace("tjekliste", "")  # the self-assessment is "vurdering"


def test_the_core_message_of_early_involvement_is_said_during_onboarding():
    welcome = content.t("da", "msg.welcome").lower()
    assert "fra start" in welcome and "borgere" in welcome
