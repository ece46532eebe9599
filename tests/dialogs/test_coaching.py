"""Coaching in the conversation: answers at the grain asked (a competence, a term, a job, how
to get better), a goal proposed after a check and followed up by the reminder nudge, in both
languages, through the real handler, and the whole goal loop over HTTP in Teams shape."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import datetime, timezone

import pytest
from chat import Chat, _onboard
from conftest import ROOT, BotServer, Connector, TeamsUser, buttons_of, say

from model import content
from model.domain import coaching, goals
from model.domain.goals import goal_title

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


def _buttons(chat: Chat) -> list[dict]:
    return chat.buttons()


async def _check(chat: Chat, implementation="2", development="4", innovation="1") -> str:
    await chat.submit_check(implementation, development, innovation)
    return await chat.send("nej" if chat.locale.startswith("da") else "no")


# -- answers at the level asked ------------------------------------------------------------------
async def test_a_term_gets_its_definition_and_a_pointer_to_its_competence(da):
    reply = await da.send("hvad er gevinstrealisering")
    assert content.lookup("da", "coaching.glossary.gevinstrealisering.text") in reply
    assert coaching.competence_name("da", "business_cases") in reply
    assert content.t("da", "subareas.development.details.0") not in reply  # not the whole sub-area


async def test_how_do_i_get_better_gives_steps_for_the_persons_score(da):
    await _onboard(da, role="5", level="3")  # manager, steers
    await _check(da, development="1")
    reply = await da.send("hvordan bliver jeg bedre til business cases?")
    first = coaching.steps("da", "business_cases", "beginner", audience="steer")[0]
    assert "1 ud af 5" in reply and first.title in reply
    assert _buttons(da)[0]["data"] == {
        "kh": "goal",
        "do": "set",
        "competence": "business_cases",
        "stage": "beginner",
        "audience": "steer",
        "step": 0,
    }


async def test_how_to_do_a_tender_is_about_the_procurement_competence(en):
    reply = await en.send("how do I run a tender?")
    assert coaching.competence_name("en", "procurement") in reply
    assert coaching.steps("en", "procurement", "beginner")[0].title in reply


async def test_a_job_title_question_answers_for_that_role_and_offers_to_save_it(da):
    reply = await da.send("jeg er sosu-assistent, hvad skal jeg kunne")
    assert reply.startswith("Når du er borgernær medarbejder") or "Når du er borgernær medarbejder" in reply
    save = next(b for b in _buttons(da) if b["data"] == {"kh": "role", "role": "frontline"})
    reply = await da.send(value=save["data"])  # saved; the level is asked next
    assert content.t("da", "msg.ask_level") in reply
    reply = await da.send("1")
    profile = await da.users.profile(da.key)
    assert profile["role"] == "frontline" and profile["level"] == "use"


async def test_a_manager_asking_what_to_know_gets_the_manager_answer(en):
    reply = await en.send("what do I need to know as a manager?")
    assert reply.lstrip().startswith("For a manager, these competences often matter most")


async def test_what_do_i_need_without_a_job_named_answers_for_the_job_given_at_the_start(da):
    """'hvad skal jeg kunne?' names no job: the one the person gave is used (it was turned away)."""
    await _onboard(da, role="5", level="3")  # manager, steers
    reply = await da.send("hvad skal jeg kunne?")
    assert content.t("da", "msg.out_of_scope")[:30] not in reply
    assert "Når du er leder" in reply


@pytest.mark.parametrize("text", ["hvorfor skal vi med fra starten?", "hvorfor skal vi med fra start"])
async def test_why_take_part_from_the_start_is_answered_not_a_restart(da, text):
    """'start' inside the question is no command: the person keeps their profile and gets the answer."""
    await _onboard(da, role="1", level="1")  # frontline, uses
    reply = await da.send(text)
    assert content.t("da", "area.early_involvement.title") in reply
    assert content.t("da", "msg.ask_role")[:30] not in reply
    assert (await da.users.profile(da.key))["role"] == "frontline"


async def test_an_unsure_reply_to_the_level_question_is_not_taken_for_a_level(da):
    await da.send("hej")
    await da.send("sygeplejerske")
    reply = await da.send("jeg ved ikke hvad jeg skal svare")
    assert content.t("da", "msg.ask_level_retry", count=3) in reply  # asked again, kindly
    assert not (await da.users.profile(da.key) or {}).get("level")


@pytest.mark.parametrize(
    ("person", "title", "role", "term"),
    [
        ("da", "sygeplejerske", "frontline", None),
        # a job presented in a sentence is the answer, not a question about managers
        ("en", "I'm head of the elder care department", "manager", None),
        # listen first: a question typed with the job is answered once the level is known
        ("da", "jeg er sygeplejerske, hvad er lean?", "frontline", "lean"),
        ("en", "I'm a nurse in home care, what is lean?", "frontline", "lean"),
        # the job title, not the whole message's likeness to a button's label ('It og digitalisering')
        ("da", "jeg er social- og sundhedshjælper, hvad er en business case?", "frontline", "business_case"),
    ],
)
async def test_onboarding_accepts_a_typed_job_title(request, person, title, role, term):
    chat = request.getfixturevalue(person)
    await chat.send("hej" if person == "da" else "hello")
    reply = await chat.send(title)
    assert content.t(person, "msg.ask_level") in reply
    # the role the title was read as, said at once (a wrong reading is seen before the next step)
    in_sentence = content.lookup(person, f"roles.{role}")["in_sentence"]
    assert content.t(person, "msg.role_understood", role=in_sentence) in reply
    reply = await chat.send("2")
    assert (await chat.users.profile(chat.key))["role"] == role
    if term:
        assert content.lookup(person, f"coaching.glossary.{term}")["text"] in reply


async def test_a_role_picked_by_number_or_name_is_not_repeated_back(da):
    await da.send("hej")
    reply = await da.send("1")
    assert content.t("da", "msg.ask_level") in reply
    assert "noteret dig som" not in reply
    await da.send("start")
    reply = await da.send("borgernær medarbejder")
    assert content.t("da", "msg.ask_level") in reply
    assert "noteret dig som" not in reply


async def test_a_competence_question_answers_that_competence_with_its_stages(en):
    await _onboard(en, role="4", level="2")  # IT, contributes
    reply = await en.send("why does process mapping matter for me")
    assert coaching.competence_name("en", "process_mapping") in reply
    assert content.lookup("en", "coaching.competences.process_mapping.why_role.it") in reply
    more = next(b for b in _buttons(en) if b["data"].get("what") == "stages")
    reply = await en.send(value=more["data"])  # the stages wait behind "More about ..."
    for stage in coaching.STAGES:
        assert content.lookup("en", f"coaching.competences.process_mapping.stages.{stage}") in reply


# -- a goal, proposed and followed up --------------------------------------------------------------
async def test_after_a_check_three_steps_are_offered_and_one_becomes_the_goal(da):
    await _onboard(da, role="1", level="1")  # frontline, uses
    reply = await _check(da, implementation="2", development="4", innovation="1")
    assert "mest at hente" in reply and content.subarea_name("da", "innovation") in reply
    steps = [b for b in _buttons(da) if b["data"].get("do") == "set"]
    assert len(steps) == 3 and {s["data"]["competence"] for s in steps} <= set(content.competence_ids("innovation"))
    reply = await da.send(value=steps[1]["data"])
    assert "Dit mål er sat" in reply and steps[1]["title"] in reply
    await da.send(value=steps[1]["data"])  # a second click sets no second goal
    doc = await da.users.get(da.key)
    assert [goals.goal_title("da", g) for g in doc["goals"]] == [steps[1]["title"]]
    assert doc["goals"][0]["status"] == "open"


async def test_an_own_goal_in_the_persons_words(en):
    await _onboard(en)
    await _check(en)
    own = next(b for b in _buttons(en) if b["data"].get("do") == "own")
    reply = await en.send(value=own["data"])
    assert "Write your goal in one line" in reply
    reply = await en.send("I will ask our system owner how our case system was bought")
    assert "Your goal is set" in reply
    goals = (await en.users.get(en.key))["goals"]
    assert goals[0]["kind"] == "own" and goals[0]["text"].startswith("I will ask our system owner")


async def test_goals_shows_current_and_completed_with_done_keep_drop(da):
    await _onboard(da)
    await _check(da)
    step = next(b for b in _buttons(da) if b["data"].get("do") == "set")
    await da.send(value=step["data"])
    reply = await da.send("mål")
    assert step["title"] in reply
    done = next(b for b in _buttons(da) if b["data"].get("do") == "done")
    assert {b["title"] for b in _buttons(da)} >= {"Det er klaret", "Jeg er stadig i gang", "Drop målet"}
    reply = await da.send(value=done["data"])
    assert "Godt gået" in reply
    reply = await da.send("mål")
    assert "klaret" in reply and step["title"] in reply and "Tidligere mål" in reply
    history = await da.send("historik")
    assert "Dine mål" in history and "Klaret: 1" in history


async def test_the_nudge_names_the_open_goal_and_asks_how_it_went(da):
    from model.domain.nudges import nudge_reply

    await _onboard(da)
    await _check(da)
    step = next(b for b in _buttons(da) if b["data"].get("do") == "set")
    await da.send(value=step["data"])
    reply = nudge_reply("da", await da.users.get(da.key), MONDAY)
    assert step["title"] in reply.text
    assert [b[1].get("do") for b in reply.buttons[:3]] == ["done", "keep", "other"]


# -- over HTTP in Teams shape: the whole loop --------------------------------------------------------
def _cli(args: list[str], data_dir) -> subprocess.CompletedProcess:
    import os
    import sys

    env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "BOT_FSYNC": "0"}
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


@pytest.mark.slow
async def test_check_goal_nudge_done_goals_export_and_delete_over_http(tmp_path, connector: Connector):
    server = BotServer(tmp_path / "data")
    await server.start()
    user = TeamsUser(connector)
    try:
        server.runtime.services.clock = lambda: MONDAY
        await say(server, connector, user.install())
        await say(server, connector, user.message("Leder"))
        await say(server, connector, user.message("3"))
        before = len(connector.activities)
        await say(server, connector, user.message("vurdering"))
        card = next(
            a
            for a in connector.activities[before:]
            if a.get("attachments") and "nonce" in json.dumps(a["attachments"][0]["content"])
        )
        nonce = card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]
        await say(
            server,
            connector,
            user.message(
                value={"kh": "quick", "nonce": nonce, "implementation": "2", "development": "3", "innovation": "2"}
            ),
        )
        before = len(connector.activities)
        await say(server, connector, user.message("nej"))
        step = next(b for b in connector.buttons(before) if b["data"].get("do") == "set")
        reply = await say(server, connector, user.message(value=step["data"]))
        assert "Dit mål er sat" in reply
        for answer in ("påmindelser", "Hver uge", "tirsdag", "09:00"):
            await say(server, connector, user.message(answer))
    finally:
        await server.stop()

    before = len(connector.activities)
    sent = await asyncio.to_thread(_cli, ["send-nudges", "--at", "2026-12-08T09:00:30+01:00"], tmp_path / "data")
    assert '"sent": 1' in sent.stdout, sent.stderr
    nudge = connector.activities[before]
    assert step["title"] in json.dumps(nudge, ensure_ascii=False)
    done = next(b for b in buttons_of(nudge["attachments"][0]["content"]) if b["data"].get("do") == "done")

    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        reply = await say(server, connector, user.message(value=done["data"]))
        assert "Godt gået" in reply
        reply = await say(server, connector, user.message("mål"))
        assert "klaret" in reply and step["title"] in reply
        before = len(connector.activities)
        reply = await say(server, connector, user.message("eksport"))
        assert "Mål: 1" in reply
        await server.post(connector.accept_file(user, before))
        exported = json.loads(next(iter(connector.uploads.values()))[0])
        assert [(goal_title("da", g), g["status"]) for g in exported["goals"]] == [(step["title"], "done")]
        await say(server, connector, user.message("slet mine data"))
        await say(server, connector, user.message("Ja, slet alt"))
    finally:
        await server.stop()
    found = subprocess.run(["grep", "-rlF", step["title"], str(tmp_path / "data")], capture_output=True, text=True)
    assert found.stdout == ""
    found = subprocess.run(["grep", "-rlF", user.aad, str(tmp_path / "data")], capture_output=True, text=True)
    assert found.stdout == ""


async def test_small_talk_and_out_of_scope_are_answered_in_the_language_written(da):
    """A Danish setting and an English message: the pointer and the thank-you in English too,
    as a question's answer already was (they used to come in the setting's language)."""
    await _onboard(da, role="5", level="3")
    reply = await da.send("what's the weather like tomorrow?")
    assert content.t("en", "msg.out_of_scope")[:30] in reply
    assert content.t("en", "msg.thanks") in await da.send("thanks a lot")
    assert content.t("da", "msg.thanks") in await da.send("tusind tak")
