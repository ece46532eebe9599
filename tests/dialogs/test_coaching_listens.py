"""Coaching that listens (issue 25): the next step starts from what the person wrote and
their job, one rule decides "most to gain" everywhere, steps fit the role, own goals are
filed where their words belong, nothing done or open is offered again, goals show in the
language in use, and the first answer about a competence is short with more on request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from chat import Chat

from model import content
from model.domain import coaching, goals, history, relevance
from model.domain.answers import topic_reply
from model.domain.nudges import nudge_reply

COMPETENCES = [c for _, c in content.all_competences()]
SLOT = datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc)


def _check(role, level, implementation=3, development=3, innovation=3, competences=None, note=None, at=None):
    return {
        "at": at or "2026-11-30T10:00:00+00:00",
        "role": role,
        "level": level,
        "scores": {"implementation": implementation, "development": development, "innovation": innovation},
        "competences": competences or {},
        "note": note,
    }


def _offered(reply) -> set[str]:
    return {b[1]["competence"] for b in reply.buttons if isinstance(b[1], dict) and b[1].get("do") == "set"}


# -- the note steers the offer -----------------------------------------------------------------
NOTES = [
    # (language, role, level, note, the competence it points to)
    (
        "da",
        "frontline",
        "use",
        "Jeg vil gerne blive bedre til at bruge velfærdsteknologi og tablets med borgerne",
        "see_possibilities",
    ),
    ("da", "frontline", "use", "bedre til brugerinddragelse", "user_perspectives"),
    ("da", "frontline", "use", "Mere viden om kunstig intelligens", "trends"),
    ("da", "administrative", "use", "Blive bedre til at tegne vores arbejdsgange", "process_mapping"),
    ("da", "administrative", "contribute", "samarbejde med andre faggrupper", "cross_disciplinary"),
    ("da", "manager", "steer", "Jeg vil gerne lave en business case", "business_cases"),
    ("da", "it", "contribute", "Jeg vil gerne vide mere om indkøb", "procurement"),
    ("da", "frontline", "use", "jeg vil lære om innovation", "see_possibilities"),
    ("en", "frontline", "use", "I want to get better at using welfare technology with citizens", "see_possibilities"),
    ("en", "frontline", "use", "I would like to understand how we buy new systems", "procurement"),
    ("en", "specialist", "contribute", "Learn to map our work processes", "process_mapping"),
    ("en", "manager", "steer", "I want to lead the change in my team", "drive_change"),
    ("en", "it", "contribute", "Keep up with AI and new technology", "trends"),
    ("en", "project_lead", "contribute", "I want to learn about service design", "service_design"),
]


@pytest.mark.parametrize("lang,role,level,note,pointed", NOTES)
def test_a_note_puts_its_competence_first_in_the_goal_offer(lang, role, level, note, pointed):
    profile = {"role": role, "level": level}
    checks = [_check(role, level, implementation=2, development=2, innovation=2, note=note)]
    reply = coaching.goal_offer(lang, profile, checks)
    assert _offered(reply) == {pointed}
    wish = content.t(lang, f"coaching.wishes.{pointed}")
    assert content.t(lang, "coaching.goal_offer_written", wish=wish).split("**")[-1].strip() in reply.text
    assert note not in reply.text  # said back in our words, never echoed
    found = coaching.most_to_gain(profile, checks)
    assert found.competence == pointed and found.written


def test_a_note_that_points_at_nothing_leaves_the_rule_to_role_and_scores():
    profile = {"role": "frontline", "level": "use"}
    with_note = [_check("frontline", "use", 2, 4, 1, note="mere tid til borgerne")]
    without = [_check("frontline", "use", 2, 4, 1)]
    assert coaching.most_to_gain(profile, with_note) == coaching.most_to_gain(profile, without)
    assert not coaching.most_to_gain(profile, with_note).written


def test_an_older_own_goal_steers_too_and_the_newest_writing_wins():
    profile = {"role": "frontline", "level": "use"}
    own = [{"kind": "own", "competence": "trends", "text": "x", "status": "done", "set": "2026-11-01T10:00:00+00:00"}]
    checks = [_check("frontline", "use", 2, 2, 2)]
    assert coaching.most_to_gain(profile, checks, own).competence == "trends"
    noted = [_check("frontline", "use", 2, 2, 2, note="bedre til brugerinddragelse", at="2026-12-01T10:00:00+00:00")]
    assert coaching.most_to_gain(profile, noted, own).competence == "user_perspectives"
    dropped = [{**own[0], "status": "dropped"}]
    assert not coaching.most_to_gain(profile, checks, dropped).written


# -- relevance before scores ---------------------------------------------------------------------
def test_a_care_worker_is_not_sent_to_procurement_unless_she_rated_or_wrote_about_buying():
    profile = {"role": "frontline", "level": "use"}
    deep = {c: 3 for c in COMPETENCES} | {"procurement": 1}
    # the deeper round rated procurement lowest: her focus competences still come first
    found = coaching.most_to_gain(profile, [_check("frontline", "use", 3, 3, 3, competences=deep)])
    assert found.competence != "procurement"
    # implementation rated alone (no deeper round): its example for her, never procurement
    only = [_check("frontline", "use", 1, None, None)]
    only[0]["scores"] = {"implementation": 1}
    assert coaching.most_to_gain(profile, only).competence == "citizen_experience"
    assert "procurement" not in [g.competence for g in coaching.gain_order(profile, only)]
    # ... unless she wrote about buying
    noted = [_check("frontline", "use", 3, 3, 3, note="jeg vil gerne vide mere om indkøb")]
    assert coaching.most_to_gain(profile, noted).competence == "procurement"


@pytest.mark.parametrize(
    "role,level,expected_sub",
    [
        ("frontline", "use", "innovation"),  # care worker: seeing possibilities with citizens
        ("administrative", "use", "development"),  # caseworker: work processes
        ("manager", "steer", "development"),  # a manager who steers: business cases
        ("it", "contribute", "development"),  # IT: processes and systems
    ],
)
def test_personas_get_a_competence_of_their_job(role, level, expected_sub):
    checks = [_check(role, level, 3, 2, 3)] if expected_sub == "development" else [_check(role, level, 3, 3, 2)]
    found = coaching.most_to_gain({"role": role, "level": level}, checks)
    assert coaching.subarea_of(found.competence) == expected_sub
    focus = content.relevance_table()["focus"]
    assert found.competence in focus["roles"][role] + focus["levels"][level]


PERSONAS = [
    ({"role": "frontline", "level": "use"}, _check("frontline", "use", 3, 2, 4, note="velfærdsteknologi og tablets")),
    ({"role": "frontline", "level": "use"}, _check("frontline", "use", 2, 4, 1)),
    ({"role": "administrative", "level": "use"}, _check("administrative", "use", 4, 2, 3)),
    ({"role": "manager", "level": "steer"}, _check("manager", "steer", 2, 3, 4, note="business cases")),
    ({"role": "it", "level": "contribute"}, _check("it", "contribute", 1, 3, 3)),
    (
        {"role": "specialist", "level": "contribute"},
        _check("specialist", "contribute", 4, 4, 2, competences={"trends": 1}),
    ),
]


@pytest.mark.parametrize("lang", content.LANGUAGES)
@pytest.mark.parametrize("profile,check", PERSONAS)
def test_the_goal_offer_historik_and_the_nudge_agree(lang, profile, check):
    doc = {"profile": profile, "assessments": [check], "goals": []}
    found = coaching.most_to_gain(profile, [check])
    assert _offered(coaching.goal_offer(lang, profile, [check])) == {found.competence}
    sub = coaching.subarea_of(found.competence)
    suggestion = history.suggestion_text(lang, profile, [check])
    assert coaching.competence_name(lang, found.competence) in suggestion
    assert history.suggestion_text(lang, profile, [check]) in history.history_text(lang, profile, [check])
    others = [coaching.competence_name(lang, c) for c in COMPETENCES if c != found.competence]
    for hours in range(12):  # every wording of the nudge: the same sub-area, never another competence
        text = nudge_reply(lang, doc, SLOT + timedelta(hours=hours)).text
        assert content.subarea_name(lang, sub) in text
        assert not any(f'"{name}"' in text for name in others)
    mus = history.mus_summary(lang, profile, [check])
    focus = mus.split(content.t(lang, "history.mus_focus_title"))[1]
    assert coaching.competence_name(lang, found.competence) in focus.splitlines()[1]


# -- steps per role ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role,level,audience",
    [
        ("manager", "steer", "steer"),
        ("manager", "use", "steer"),
        ("frontline", "use", "use"),
        ("it", "use", "contribute"),
    ],
)
def test_every_place_that_offers_steps_chooses_them_for_the_role(role, level, audience):
    profile = {"role": role, "level": level}
    checks = [_check(role, level, 2, 2, 2)]
    replies = [
        coaching.competence_reply("da", "business_cases", profile, checks),
        coaching.improve_reply("da", "business_cases", profile, checks),
        coaching.more_reply("da", "steps", "business_cases", profile, checks),
        coaching.goal_offer("da", profile, checks),
    ]
    for reply in replies:
        sets = [b[1] for b in reply.buttons if isinstance(b[1], dict) and b[1].get("do") == "set"]
        assert sets and {s["audience"] for s in sets} == {audience}
    step = coaching.steps("da", "business_cases", "beginner", audience=audience)[0]
    assert step.title in replies[1].text


# -- never a step that is done or open -----------------------------------------------------------
def test_new_goal_offers_neither_a_done_nor_an_open_step_but_the_next_stage_or_competence():
    profile = {"role": "frontline", "level": "use"}
    checks = [_check("frontline", "use", 2, 4, 1)]
    first = coaching.goal_offer("da", profile, checks)
    competence = next(iter(_offered(first)))
    taken = [
        {"competence": competence, "stage": "beginner", "audience": "use", "kind": "job", "status": "done"},
        {"competence": competence, "stage": "beginner", "audience": "use", "kind": "others", "status": "open"},
    ]
    kinds = {
        b[1]["step"]
        for b in coaching.goal_offer("da", profile, checks, goal_list=taken).buttons
        if b[1].get("do") == "set"
    }
    assert kinds == {2}
    taken.append({"competence": competence, "stage": "beginner", "audience": "use", "kind": "course", "status": "done"})
    nxt = coaching.goal_offer("da", profile, checks, goal_list=taken)
    sets = [b[1] for b in nxt.buttons if b[1].get("do") == "set"]
    assert {s["competence"] for s in sets} == {competence} and {s["stage"] for s in sets} == {"practised"}
    names = {
        "name": coaching.competence_name("da", competence),
        "subarea": content.subarea_name("da", coaching.subarea_of(competence)),
    }
    assert content.t("da", "coaching.goal_offer_next", **names) in nxt.text
    # a goal stored before steps had ids (title only) counts too
    old = [
        {"competence": competence, "title": s.title, "status": "open"}
        for s in coaching.steps("da", competence, "beginner")
    ]
    assert {
        b[1]["stage"]
        for b in coaching.goal_offer("da", profile, checks, goal_list=old).buttons
        if b[1].get("do") == "set"
    } == {"practised"}


# -- goals in the language in use ----------------------------------------------------------------
def test_a_suggested_step_shows_in_the_language_in_use_and_older_goals_still_show():
    goal = {
        "id": "g-1",
        "competence": "trends",
        "kind": "job",
        "stage": "beginner",
        "audience": "use",
        "set": "2026-12-01T10:00:00+00:00",
        "status": "open",
        "closed": None,
    }
    for lang in content.LANGUAGES:
        title = coaching.steps(lang, "trends", "beginner")[0].title
        assert goals.goal_title(lang, goal) == title and title in goals.goal_line(lang, goal)
        assert title in nudge_reply(lang, {"goals": [goal]}, SLOT).text
        assert title in history.mus_summary(lang, {}, [_check("it", "use")], [goal])
    assert goals.goal_title("da", goal) != goals.goal_title("en", goal)
    old = {**goal, "title": "Læs om AI", "text": "Læs en artikel."}
    del old["stage"]
    assert goals.goal_title("en", old) == "Læs om AI" and goals.goal_text("en", old) == "Læs en artikel."
    own = {**goal, "kind": "own", "competence": None, "text": "Lære at dokumentere på tablet hos borgeren"}
    del own["stage"]
    line = goals.goal_line("en", own)
    assert line.count("Lære at dokumentere") == 1 and goals.goal_text("en", own) == ""
    assert "Lære at dokumentere" in history.history_text("da", {}, [_check("it", "use")], goal_list=[own])


# -- short answers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_the_first_answer_about_a_competence_is_at_most_90_words(lang):
    profiles = [{"role": r, "level": lv} for r in relevance.roles() for lv in relevance.levels()] + [None]
    for competence in COMPETENCES:
        for profile in profiles:
            reply = coaching.competence_reply(lang, competence, profile, [])
            assert len(reply.text.split()) <= coaching.FIRST_ANSWER_WORDS, (competence, profile)
            kinds = [b[1].get("what") or b[1].get("do") for b in reply.buttons]
            assert kinds == ["set", "steps", "stages"]
            assert all(len(b[0]) <= 28 for b in reply.buttons)


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_more_steps_and_more_about_say_what_the_first_answer_did_not(lang):
    profile = {"role": "frontline", "level": "use"}
    first = coaching.competence_reply(lang, "process_mapping", profile, [])
    steps = coaching.steps(lang, "process_mapping", "beginner")
    more_steps = coaching.more_reply(lang, "steps", "process_mapping", profile, [])
    assert steps[0].text in first.text and steps[0].text not in more_steps.text
    assert steps[1].text in more_steps.text and steps[2].text in more_steps.text
    more = coaching.more_reply(lang, "stages", "process_mapping", profile, [])
    for stage in coaching.STAGES:
        assert content.t(lang, f"coaching.competences.process_mapping.stages.{stage}") in more.text
        assert content.t(lang, f"coaching.competences.process_mapping.stages.{stage}") not in first.text
    assert not set(first.text.splitlines()[1:]) & set(more.text.splitlines())


def test_read_more_after_a_topic_answer_does_not_list_its_competences_again():
    from model.domain.answers import subarea_details

    profile = {"role": "frontline", "level": "use"}
    reply = topic_reply("da", "innovation", profile)
    more = next(b[1] for b in reply.buttons if isinstance(b[1], dict) and b[1].get("what") == "subarea")
    details = subarea_details("da", "innovation", "frontline", "use", shown=more["shown"])
    for line in reply.text.split("\n\n")[1:]:
        assert line not in details.text
    for competence in content.competence_ids("innovation"):
        assert content.competence_name("da", "innovation", competence) not in details.text


# -- in the conversation -------------------------------------------------------------------------------
async def _check_with_note(chat: Chat, note: str, scores=("2", "3", "3")) -> str:
    _, saved = await chat.submit_check(*scores, note=note)
    return saved + "\n" + await chat.send("nej" if chat.locale.startswith("da") else "no")


def _buttons(chat: Chat) -> list[dict]:
    return chat.buttons()


@pytest.mark.parametrize("locale", ["da-DK", "en-US"])
async def test_a_care_workers_note_is_acknowledged_and_steers_the_offer(tmp_path, locale):
    from chat import _onboard

    chat = Chat(tmp_path, locale=locale)
    lang = locale[:2]
    await _onboard(chat, role="1", level="1")  # frontline, uses
    note = (
        "Jeg vil gerne bruge velfærdsteknologi og tablets sammen med borgerne"
        if lang == "da"
        else "I want to get better at using welfare technology and tablets with citizens"
    )
    reply = await _check_with_note(chat, note, scores=("1", "3", "3"))
    wish = content.t(lang, "coaching.wishes.see_possibilities")
    # a paragraph of its own: in Web Chat and Teams a line right under the scores' list reads
    # as part of its last item
    assert "\n\n" + content.t(lang, "coaching.note_thanks_competence", wish=wish) in reply
    assert content.t(lang, "coaching.goal_offer_written", wish=wish).replace("**", "") in reply.replace("**", "")
    assert {b["data"]["competence"] for b in _buttons(chat) if b["data"].get("do") == "set"} == {"see_possibilities"}
    assert coaching.competence_name(lang, "procurement") not in reply
    history_reply = await chat.send("historik" if lang == "da" else "history")
    assert coaching.competence_name(lang, "see_possibilities") in history_reply


@pytest.mark.parametrize(
    ("locale", "question", "own_question"),
    [
        ("da-DK", "hvad betyder udvikling for en pædagog?", "hvad betyder udvikling for mig?"),
        ("en-US", "what does development mean for a nurse?", "what does development mean for me?"),
    ],
)
async def test_a_question_about_another_job_is_answered_for_that_job_not_as_the_askers_own(
    tmp_path, locale, question, own_question
):
    """A manager asks about a care job: the answer is that job's, without 'you are a frontline
    employee and you steer …' (the manager's level is not the job's) and without the invitation
    to build a profile they already have. Their own question still gets their own answer."""
    from chat import _onboard

    chat = Chat(tmp_path, locale=locale)
    lang = locale[:2]
    await _onboard(chat, role="5", level="3")  # manager, steers
    reply = await chat.send(question)
    name = content.subarea_name(lang, "development")
    job = content.lookup(lang, "roles.frontline.in_sentence")
    assert content.t(lang, "msg.answer_job_intro", role=job, name=name) in reply
    assert content.lookup(lang, "levels.steer.short") not in reply
    assert content.t(lang, "msg.answer_next_step_profile") not in reply
    for competence in coaching.role_competences("frontline", None):  # the job's top one is listed
        if competence in content.competence_ids("development"):
            assert coaching.competence_name(lang, competence) in reply
            break
    # a follow-up with nothing but 'and for me?': the same sub-area, for the person's own job
    follow_up = await chat.send("og hvad betyder det for mig?" if lang == "da" else "and what does it mean for me?")
    assert content.lookup(lang, "roles.manager.in_sentence") in follow_up
    assert content.lookup(lang, "levels.steer.short") in follow_up
    assert f"**{name}**" in follow_up
    own = await chat.send(own_question)
    assert content.lookup(lang, "roles.manager.in_sentence") in own
    assert content.lookup(lang, "levels.steer.short") in own


async def test_an_own_goal_is_filed_where_its_words_belong_and_shown_once(da):
    from chat import _onboard

    await _onboard(da, role="1", level="1")
    await _check_with_note(da, "")
    own = next(b for b in _buttons(da) if b["data"].get("do") == "own")
    prompt = await da.send(value=own["data"])
    assert "skal handle om" not in prompt
    reply = await da.send("Jeg vil lave en business case for vores nye app")
    assert coaching.competence_name("da", "business_cases") in reply
    await da.send(value={"kh": "goal", "do": "own"})
    await da.send("Lære at dokumentere på tablet hos borgeren")
    stored = (await da.users.get(da.key))["goals"]
    assert [g.get("competence") for g in stored] == ["business_cases", None] and "title" not in stored[1]
    shown = await da.send("mål")
    assert shown.count("Lære at dokumentere på tablet hos borgeren") == 1
    assert "Lære at dokumentere" in await da.send("historik")


async def test_done_then_new_goal_never_offers_the_step_just_done(en):
    from chat import _onboard

    await _onboard(en, role="1", level="1")
    await _check_with_note(en, "")
    step = next(b for b in _buttons(en) if b["data"].get("do") == "set")
    await en.send(value=step["data"])
    await en.send("goals")
    await en.send(value=next(b for b in _buttons(en) if b["data"].get("do") == "done")["data"])
    await en.send(value=next(b for b in _buttons(en) if b["data"].get("do") == "offer")["data"])
    offered = [b for b in _buttons(en) if b["data"].get("do") == "set"]
    assert offered and all(b["data"] != step["data"] for b in offered)
    assert step["title"] not in [b["title"] for b in offered]


async def test_goals_follow_the_language_in_use(da):
    from chat import _onboard

    await _onboard(da)
    await _check_with_note(da, "")
    step = next(b for b in _buttons(da) if b["data"].get("do") == "set")
    await da.send(value=step["data"])
    await da.send("english")
    reply = await da.send("goals")
    english = coaching.steps("en", step["data"]["competence"], step["data"]["stage"], audience=step["data"]["audience"])
    assert english[step["data"]["step"]].title in reply and step["title"] not in reply


async def test_more_buttons_answer_in_the_conversation(en):
    await en.send("why does process mapping matter for me")
    more = next(b for b in _buttons(en) if b["data"].get("what") == "steps")
    assert more["type"] == "Action.Submit"
    reply = await en.send(value=more["data"])
    assert coaching.steps("en", "process_mapping", "beginner")[1].title in reply
    reply = await en.send(value={"kh": "more", "what": "steps", "competence": "cooking"})
    assert content.t("en", "msg.stale_card") in reply


@pytest.mark.parametrize("role,level,audience", [("manager", "steer", "steer"), ("frontline", "use", "use")])
async def test_ask_chooses_the_steps_written_for_the_role(monkeypatch, role, level, audience):
    """`python app.py ask --role manager --level steer "..."` shows the steer steps (the
    content key chosen; the wording is the content's)."""
    from bot.ops import offline

    chosen: list[str] = []
    original = coaching.steps

    def recording(lang, competence, stage, resources=None, audience="use"):
        chosen.append(audience)
        return original(lang, competence, stage, resources, audience)

    monkeypatch.setattr(coaching, "steps", recording)
    question = "hvordan bliver jeg bedre til business cases?"
    [result] = await offline.answer_all([question], None, {"role": role, "level": level})
    assert chosen and set(chosen) == {audience}
    assert original("da", "business_cases", "beginner", None, audience)[0].title in result["answer"]


async def test_pick_another_goal_does_not_offer_the_step_just_dropped(da):
    from chat import _onboard

    await _onboard(da, role="1", level="1")
    await _check_with_note(da, "")
    step = next(b for b in _buttons(da) if b["data"].get("do") == "set")
    await da.send(value=step["data"])
    goal = (await da.users.get(da.key))["goals"][0]
    await da.send(value={"kh": "goal", "do": "other", "id": goal["id"]})  # the nudge's "Vælg et andet mål"
    offered = [b["data"] for b in _buttons(da) if b["data"].get("do") == "set"]
    assert offered and step["data"] not in offered


# -- over HTTP in Teams shape ------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("locale", ["da-DK", "en-US"])
async def test_a_note_steers_the_offer_and_more_works_over_http(tmp_path, connector, locale):
    import json

    from conftest import BotServer, TeamsUser, say

    lang = locale[:2]
    server = BotServer(tmp_path / "data")
    await server.start()
    user = TeamsUser(connector, locale=locale)
    try:
        await say(server, connector, user.install())
        await say(server, connector, user.message("1"))  # frontline
        await say(server, connector, user.message("1"))  # uses the solutions
        before = len(connector.activities)
        await say(server, connector, user.message("vurdering" if lang == "da" else "check"))
        nonce = next(
            b["data"]["nonce"]
            for b in connector.buttons(before)
            if isinstance(b.get("data"), dict) and "nonce" in b["data"]
        )
        note = (
            "Velfærdsteknologi og tablets hos borgerne"
            if lang == "da"
            else "Welfare technology and tablets with citizens"
        )
        value = {
            "kh": "quick",
            "nonce": nonce,
            "implementation": "1",
            "development": "3",
            "innovation": "3",
            "note": note,
        }
        saved = await say(server, connector, user.message(value=value))
        assert content.t(lang, "coaching.wishes.see_possibilities") in saved
        before = len(connector.activities)
        offer = await say(server, connector, user.message("nej" if lang == "da" else "no"))
        steps = [b for b in connector.buttons(before) if b["data"].get("do") == "set"]
        assert steps and {b["data"]["competence"] for b in steps} == {"see_possibilities"}
        assert all(b["type"] == "Action.Submit" for b in steps)
        assert coaching.competence_name(lang, "procurement") not in offer
        before = len(connector.activities)
        question = (
            "hvad er procesoptimering og arbejdsgange" if lang == "da" else "why does process mapping matter for me"
        )
        first = await say(server, connector, user.message(question))
        assert len(first.split()) <= coaching.FIRST_ANSWER_WORDS + 10  # the card's text (and a caption at most)
        more = next(b for b in connector.buttons(before) if b["data"].get("what") == "stages")
        reply = await say(server, connector, user.message(value=more["data"]))
        assert content.t(lang, "coaching.competences.process_mapping.stages.beginner") in reply
    finally:
        await server.stop()
    stored = json.dumps([a for a in connector.activities], ensure_ascii=False)
    assert stored.count(note) == 0  # the note is said back in the bot's words, never echoed


async def test_goals_before_any_check_offer_the_check_and_an_own_goal(da):
    """A manager who asked about business cases and types `mål` before any check can still
    write a goal of their own there and then."""
    from chat import _onboard

    await _onboard(da, role="5", level="3")
    reply = await da.send("mål")
    assert content.t("da", "goals.need_a_check") in reply
    own = next(b for b in _buttons(da) if b["data"].get("do") == "own")
    prompt = await da.send(value=own["data"])
    assert content.t("da", "goals.ask_own_free") in prompt
    await da.send("Bed om en business case i næste projekt")
    stored = (await da.users.get(da.key))["goals"]
    assert [g["competence"] for g in stored] == ["business_cases"]


async def test_a_note_that_names_nothing_is_thanked_without_a_promise_the_offer_cannot_keep(da):
    """'Jeg bruger den, når jeg foreslår et mål' followed by an offer that ignored the note
    read as a broken promise: the thanks for such a note promises nothing, and the offer
    does not claim 'Du skrev …'."""
    from chat import _onboard

    await _onboard(da, role="1", level="1")
    reply = await _check_with_note(da, "mere tid til borgerne")
    assert content.t("da", "coaching.note_thanks") in reply
    assert "foreslår et mål" not in content.t("da", "coaching.note_thanks")
    assert "Du skrev" not in reply


async def test_what_should_i_start_with_names_one_competence_and_its_steps(da):
    """'Hvad skal jeg starte med?' is a how-to about the whole area, never the 'start' command
    (that would ask the two questions again): one competence to begin with, and its steps."""
    from chat import _onboard

    await _onboard(da)
    reply = await da.send("hvad skal jeg starte med?")
    profile = (await da.users.get(da.key))["profile"]
    first = coaching.role_competences(profile["role"], profile["level"])[0]
    assert content.t("da", "coaching.start_here") in reply
    assert content.t("da", "coaching.improve_title", name=coaching.competence_name("da", first)) in reply
    assert (await da.users.get(da.key))["profile"] == profile  # nothing was asked again
    await da.submit_check("2", "4", "4")
    reply = await da.send("what should I start with?")
    assert content.t("en", "coaching.start_here_scored") in reply


async def test_a_command_word_in_passing_keeps_the_language_and_answers_the_question(da):
    """'sprog' inside a long question about a mixed project group is a word, not the `sprog`
    command: the chat stays Danish and the person gets working across professions."""
    from chat import _onboard

    await _onboard(da)
    reply = await da.send(
        "hvordan bliver jeg bedre til at arbejde sammen med udviklere, når jeg ikke forstår deres sprog?"
    )
    # answered, or offered first among the closest ("Mente du …?"): working across professions
    lines = [line for line in reply.split("\n") if line]
    if content.t("da", "msg.did_you_mean") in reply:
        assert "tværs af fag" in lines[2], lines  # after the question and "Eller skriv …"
    else:
        assert coaching.competence_name("da", "cross_disciplinary") in reply
    assert content.t("da", "msg.language_choice") not in reply
    assert "Jeg kan hjælpe dig" in await da.send("hjælp")  # still Danish: no language was switched


# -- a score is said as what the person rated ---------------------------------------------------
@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_a_sub_area_s_score_is_not_said_as_the_competence_s_own(lang):
    """Rated Innovation 2 as a whole and one procurement item 1 in the deeper round: the offer
    points to an Innovation competence, and says the 2 was given to Innovation as a whole (a
    walk read "du gav dig selv 2 ud af 5" for a competence left blank)."""
    profile = {"role": "frontline", "level": "use"}
    check = _check("frontline", "use", 3, 3, 2, competences={"procurement": 1})
    found = coaching.most_to_gain(profile, [check])
    assert coaching.subarea_of(found.competence) == "innovation" and not found.rated
    text = coaching.goal_offer(lang, profile, [check]).text
    innovation = content.subarea_name(lang, "innovation")
    said = content.t(
        lang,
        "coaching.goal_offer_area",
        name=coaching.competence_name(lang, found.competence),
        subarea=innovation,
        score=2,
    )
    assert said in text
    assert content.t(lang, "coaching.goal_offer", name="x", subarea="y", score=2).split(",")[-1] not in text
    where = coaching.improve_reply(lang, found.competence, profile, [check]).text
    assert f"{innovation} " in where.split("\n")[1] and "2" in where.split("\n")[1]


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_a_competence_rated_on_its_own_is_said_as_the_person_s_score(lang):
    profile = {"role": "frontline", "level": "use"}
    check = _check("frontline", "use", 3, 3, 4, competences={"see_possibilities": 2})
    found = coaching.most_to_gain(profile, [check])
    assert (found.competence, found.score, found.rated) == ("see_possibilities", 2, True)
    name = coaching.competence_name(lang, "see_possibilities")
    said = content.t(lang, "coaching.goal_offer", name=name, subarea=content.subarea_name(lang, "innovation"), score=2)
    assert said in coaching.goal_offer(lang, profile, [check]).text
