"""Button payloads (model/clicks.py): every payload a button carries reads back as the click
it stands for, a payload our buttons never send reads as nothing, and an open goal's buttons
are the same wherever they are shown."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from model import clicks, content
from model.domain import answers, coaching, goals, nudges

COMPETENCES = [c for _, c in content.all_competences()]


def _payloads(reply: answers.Reply) -> list[dict]:
    return [value for _, value in reply.buttons if isinstance(value, dict)]


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_payload_the_model_builds_reads_back_as_its_click(lang):
    profile = {"role": "frontline", "level": "use"}
    replies = [
        coaching.competence_reply(lang, COMPETENCES[0], profile, []),
        coaching.more_reply(lang, "steps", COMPETENCES[0], profile, []),
        coaching.role_reply(lang, "frontline", None),
        coaching.term_reply(lang, "gevinstrealisering", "business_cases"),
        answers.topic_reply(lang, "overview", profile),
        answers.topic_reply(lang, content.subarea_ids()[0], profile),
    ]
    found = [p for reply in replies for p in _payloads(reply)]
    assert {p["kh"] for p in found} >= {"goal", "ask", "more", "role"}
    for payload in found:
        click = clicks.parse(payload)
        assert click is not None, payload
        assert click.data() == payload  # one module reads and writes the same fields


@pytest.mark.parametrize(
    "payload",
    [
        {"kh": "goal", "step": True},
        {"kh": "goal", "do": ["set"]},
        {"kh": "ask", "competence": 7},
        {"kh": "more", "shown": "innovation"},
        {"kh": "role", "role": {"id": "it"}},
        {"kh": "say"},
        {"kh": "say", "text": ["hjælp"]},
        {"kh": "quick", "nonce": 5},
        {"kh": "explode"},
        ["kh", "goal"],
        None,
    ],
)
def test_a_payload_our_buttons_never_send_is_no_click(payload):
    assert clicks.parse(payload) is None


def test_a_submit_keeps_the_cards_inputs_beside_its_nonce():
    click = clicks.parse({"kh": "quick", "nonce": "n1", "implementation": "3", "note": "mere"})
    assert click == clicks.QuickSubmit(nonce="n1", answers={"implementation": "3", "note": "mere"})
    assert click.data() == {"kh": "quick", "nonce": "n1"}


def test_an_open_goals_buttons_are_built_once_for_the_goal_list_and_the_nudge():
    goal = {"id": "g1", "competence": COMPETENCES[0], "kind": "own", "text": "Skriv notater", "status": "open"}
    doc = {"goals": [goal]}
    nudge = nudges.nudge_reply("da", doc, datetime(2026, 12, 1, 9, tzinfo=timezone.utc))
    expected = goals.progress_buttons("da", goal, ("done", "keep", "other"))
    assert nudge.buttons[:3] == expected
    assert [clicks.parse(v) for _, v in expected] == [clicks.Goal(do=d, id="g1") for d in ("done", "keep", "other")]
