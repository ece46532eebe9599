"""Coaching content and rules: every competence has its answer in both languages, steps fit
the person's stage, the goal goes where there is most to gain, terms point to competences,
and the municipality's own offers take the place of the general ones."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from model import content
from model.domain import coaching, goals
from model.domain.resources import Resource, Resources, ResourcesError, load
from model.domain.users import Users
from model.language.readability import is_label, lix
from model.storage.memory_store import MemoryStore

COMPETENCES = [c for _, c in content.all_competences()]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _check(implementation=None, development=None, innovation=None, competences=None, at="2026-11-30T10:00:00+00:00"):
    scores = {
        k: v
        for k, v in (("implementation", implementation), ("development", development), ("innovation", innovation))
        if v is not None
    }
    return {"id": at, "at": at, "scores": scores, "competences": competences or {}, "role": "frontline", "level": "use"}


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_competence_has_a_full_answer_and_three_kinds_of_step_per_stage(lang):
    for competence in COMPETENCES:
        entry = content.lookup(lang, f"coaching.competences.{competence}")
        assert entry["plain"] and set(entry["why_level"]) == {"use", "contribute", "steer"}
        assert set(entry["why_role"]) == {"frontline", "administrative", "specialist", "it", "manager", "project_lead"}
        assert set(entry["stages"]) == set(coaching.STAGES)
        assert len(entry["button"]) <= 28
        for stage in coaching.STAGES:
            found = coaching.steps(lang, competence, stage)
            assert [s.kind for s in found] == ["job", "others", "course"]
            assert all(len(s.title) <= 28 and s.text for s in found)


def test_the_glossary_has_at_least_thirty_terms_in_both_languages():
    for lang in content.LANGUAGES:
        glossary = content.lookup(lang, "coaching.glossary")
        assert len(glossary) >= 30
        for entry in glossary.values():
            sentences = [s for s in entry["text"].replace("!", ".").split(". ") if s.strip()]
            assert entry["term"] and 2 <= len(sentences) <= 4, entry["term"]
    assert set(content.lookup("da", "coaching.glossary")) == set(content.lookup("en", "coaching.glossary"))


def test_every_danish_coaching_text_is_plain():
    def texts(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from texts(v)
        elif isinstance(node, list):
            for v in node:
                yield from texts(v)
        elif isinstance(node, str):
            yield node

    hard = [(round(lix(t)), t) for t in texts(content.lookup("da", "coaching")) if not is_label(t) and lix(t) > 40]
    assert not hard


def test_stages_follow_the_scale():
    assert [coaching.stage_of(s) for s in (None, 1, 2, 3, 4, 5)] == [
        "beginner",
        "beginner",
        "beginner",
        "practised",
        "practised",
        "expert",
    ]


def test_a_competence_score_comes_from_the_deeper_round_else_its_sub_area():
    checks = [
        _check(implementation=2),
        _check(implementation=4, competences={"procurement": 1}, at="2026-12-01T10:00:00+00:00"),
    ]
    assert coaching.competence_score(checks, "procurement") == 1
    assert coaching.competence_score(checks, "expertise_across") == 4
    assert coaching.competence_score(checks, "trends") is None


def test_improve_gives_the_steps_for_where_the_person_stands():
    beginner = coaching.improve_reply(
        "da", "business_cases", {"role": "manager", "level": "steer"}, [_check(development=1)]
    )
    expert = coaching.improve_reply(
        "da", "business_cases", {"role": "manager", "level": "steer"}, [_check(development=5)]
    )
    first = coaching.steps("da", "business_cases", "beginner", audience="steer")[0].title
    assert first in beginner.text and first not in expert.text
    assert coaching.steps("da", "business_cases", "expert", audience="steer")[0].title in expert.text
    assert "1 ud af 5" in beginner.text
    assert [b[1]["do"] for b in beginner.buttons[:3]] == ["set", "set", "set"]


def test_the_goal_goes_where_relevance_and_score_leave_most_to_gain():
    profile = {"role": "frontline", "level": "use"}
    found = coaching.most_to_gain(profile, [_check(implementation=2, development=4, innovation=1)])
    assert coaching.subarea_of(found.competence) == "innovation" and found.score == 1 and not found.written
    # nothing is said about what was not rated
    only_one = coaching.most_to_gain(profile, [_check(development=4)])
    assert coaching.subarea_of(only_one.competence) == "development"
    assert coaching.most_to_gain(profile, []) is None


def test_a_term_answer_points_to_its_competence_and_sub_area():
    reply = coaching.term_reply("da", "gevinstrealisering", "business_cases")
    assert "Gevinstrealisering" in reply.text and content.subarea_name("da", "development") in reply.text
    assert reply.buttons[0][1] == {"kh": "ask", "intent": "question", "competence": "business_cases"}


def test_a_role_answer_names_what_matters_most_and_offers_to_save_the_role():
    reply = coaching.role_reply("da", "frontline", None)
    assert reply.text.startswith("Når du er borgernær medarbejder")
    assert reply.buttons[0] == ("Gem som min rolle", {"kh": "role", "role": "frontline"})
    saved = coaching.role_reply("da", "frontline", {"role": "frontline", "level": "use"})
    assert all(b[1] != {"kh": "role", "role": "frontline"} for b in saved.buttons)


def test_the_municipalitys_offers_replace_the_general_course_and_network_steps():
    offers = Resources(
        [
            Resource("procurement", "Kursus i indkøb", "En halv dag.", "https://intra.example.dk/k", "course"),
            Resource("procurement", "Indkøbsteamet", "Spørg dem.", None, "contact"),
        ]
    )
    found = coaching.steps("da", "procurement", "beginner", offers)
    assert [s.title for s in found][1:] == ["Indkøbsteamet", "Kursus i indkøb"]
    assert found[2].url == "https://intra.example.dk/k" and found[2].own
    assert "https://intra.example.dk/k" in coaching.improve_reply("da", "procurement", None, [], offers).text


def test_no_link_is_invented_without_a_resources_file():
    for competence in COMPETENCES:
        for stage in coaching.STAGES:
            for step in coaching.steps("da", competence, stage, Resources()):
                assert step.url is None and "http" not in step.text


# -- RESOURCES_FILE ---------------------------------------------------------------------------------
def test_the_example_resources_file_loads():
    found = load("docs/resources.example.yaml")
    assert len(found) == 4 and found.for_competence("trends")[0].kind == "elearning"


@pytest.mark.parametrize(
    "text,line,words",
    [
        ("procurement:\n  - title: Kursus\n\ttext: Godt.\n", 3, "not valid YAML"),
        ("procurement:\n  - title: Kursus\n    text: Godt.\n    url: http://x.dk\n", 4, "https"),
        ("cooking:\n  - title: Kursus\n    text: Godt.\n", 1, "unknown competence"),
        ("procurement:\n  - title: Et alt for langt navn på et kursus om indkøb\n    text: Godt.\n", 2, "28"),
        ("procurement:\n  - text: Godt.\n", 2, "needs a title"),
        ("procurement:\n  - title: K\n    text: T\n    colour: red\n", 4, "unknown field"),
    ],
)
def test_a_malformed_resources_file_names_the_line(tmp_path, text, line, words):
    path = tmp_path / "offers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ResourcesError) as caught:
        load(path)
    assert f"line {line}" in str(caught.value) and words in str(caught.value)


def test_a_json_resources_file_works_and_its_syntax_errors_name_the_line(tmp_path):
    good = tmp_path / "offers.json"
    good.write_text(json.dumps({"trends": [{"title": "AI-kursus", "text": "En time."}]}), encoding="utf-8")
    assert load(good).for_competence("trends")[0].title == "AI-kursus"
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "trends": [\n    {"title": "x",}\n  ]\n}', encoding="utf-8")
    with pytest.raises(ResourcesError, match="line 3"):
        load(bad)


# -- goals ---------------------------------------------------------------------------------------
async def test_a_goal_clicked_while_a_deletion_runs_is_not_added():
    """A deletion marks the person's document first; a goal button clicked in that moment
    adds nothing the deletion's later steps could miss."""
    from model.domain.users import DELETING, USERS

    store = MemoryStore()
    users, store_goals = Users(store), goals.Goals(store)
    key = "t|p"
    await users.save_profile(key, NOW, role="frontline", level="use")

    def mark(doc: dict) -> None:
        doc[DELETING] = True

    await store.update(USERS, key, mark)
    goal, _ = await store_goals.add(key, {"competence": None, "kind": "own", "text": "Lære noget"}, NOW)
    assert goal is None
    assert not (await users.get(key)).get("goals")


async def test_goals_are_set_once_closed_once_and_kept_to_three_open():
    store = MemoryStore()
    users, store_goals = Users(store), goals.Goals(store)
    key = "t|p"
    await users.save_profile(key, NOW, role="it", level="use")
    step = {"competence": "trends", "kind": "course", "stage": "beginner", "audience": "use"}
    first, _ = await store_goals.add(key, step, NOW)
    again, _ = await store_goals.add(key, step, NOW)
    assert again["id"] == first["id"]  # a double click sets one goal
    for text in ("To", "Tre"):
        await store_goals.add(key, {"competence": "trends", "kind": "own", "text": text}, NOW)
    _, dropped = await store_goals.add(key, {"competence": None, "kind": "own", "text": "Fire"}, NOW)
    assert dropped["id"] == first["id"]
    doc = await users.get(key)
    assert [goals.goal_title("da", g) for g in goals.open_goals(doc)] == ["To", "Tre", "Fire"]
    fire = goals.current_goal(doc)
    assert (await store_goals.close(key, fire["id"], goals.DONE, NOW))["status"] == "done"
    assert await store_goals.close(key, fire["id"], goals.DONE, NOW) is None
    assert "Fire: klaret 1. december 2026" in goals.goal_line("da", goals.closed_goals(await users.get(key))[-1])


def test_a_note_is_read_by_its_words_alone_and_never_asks_the_model(monkeypatch):
    """The nudge and `historik` read the note again for every person: the semantic model
    (5-50 ms a message) must not run there, and a note is credited only with what its
    words name."""
    from model.language import semantic

    def no_model():
        raise AssertionError("the semantic model was asked for a note")

    monkeypatch.setattr(semantic, "get", no_model)
    assert coaching.pointed_competence("Jeg vil lave en business case for vores nye app") == "business_cases"
    assert coaching.pointed_competence("mere tid til borgerne", "frontline", "use") is None
