"""The content reaches the user complete, in both languages, and in our own words."""

import re
from pathlib import Path

import pytest

from model import content
from model.domain import answers, relevance
from model.language.understanding import AREA_QUESTIONS

_SEED = Path("shared") / "seed" / "000_afbf79d9b71c0bba.txt"
# the source text sits beside the checkout (/work/shared next to /work/main), or beside the
# folder of worktrees (/work/shared next to /work/wt/NAME)
SOURCE = next(
    (p / _SEED for p in Path(__file__).resolve().parents[2:5] if (p / _SEED).exists()),
    Path(__file__).resolve().parents[3] / _SEED,
)


def _keys(node, prefix=""):
    if isinstance(node, dict):
        out = set()
        for k, v in node.items():
            out |= _keys(v, f"{prefix}.{k}")
        return out
    if isinstance(node, list):  # word lists may differ in length between languages
        return {f"{prefix}[]"}
    return {prefix}


def test_both_languages_have_the_same_texts():
    assert _keys(content.texts("da")) == _keys(content.texts("en"))
    for key in ["overview.details"] + [f"subareas.{s}.details" for s in content.subarea_ids()]:
        assert len(content.lookup("da", key)) == len(content.lookup("en", key)), key


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_subarea_has_text_and_all_eleven_examples(lang):
    assert content.subarea_ids() == ["implementation", "development", "innovation"]
    total = 0
    for sub in content.subarea_ids():
        data = content.lookup(lang, f"subareas.{sub}")
        assert data["name"] and data["short"] and len(data["details"]) >= 4
        for comp in content.competence_ids(sub):
            assert content.competence_name(lang, sub, comp)
            assert data["competences"][comp]["example"]
            total += 1
    assert total == 11
    assert len(content.lookup(lang, "overview.details")) >= 6


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_fact_reaches_the_user_through_read_more(lang):
    """'mere om X' shows every detail and every example of X; the overview shows the area's facts."""
    for sub in content.subarea_ids():
        text = answers.subarea_details(lang, sub).text
        for fact in content.lookup(lang, f"subareas.{sub}.details"):
            assert fact in text
        for comp in content.competence_ids(sub):
            assert content.competence_name(lang, sub, comp) in text
    overview = answers.overview_details(lang).text
    for fact in content.lookup(lang, "overview.details"):
        assert fact in overview


def _words(text):
    return re.findall(r"[a-zæøå]+", text.lower())


@pytest.mark.skipif(not SOURCE.exists(), reason="source text not found beside the repo")
def test_texts_are_our_own_words_not_the_sources_sentences():
    source = _words(SOURCE.read_text(encoding="utf-8"))
    grams = {tuple(source[i : i + 8]) for i in range(len(source) - 7)}
    ours = _words(" ".join(str(v) for v in _flatten(content.texts("da"))))
    copied = [" ".join(ours[i : i + 8]) for i in range(len(ours) - 7) if tuple(ours[i : i + 8]) in grams]
    assert not copied, copied[:3]


def _flatten(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _flatten(v)
    elif isinstance(node, list):
        for v in node:
            yield from _flatten(v)
    else:
        yield node


def test_wheel_knows_four_areas_and_says_honestly_what_it_covers():
    assert len(content.wheel()["areas"]) == 4
    text = answers.coverage_text("en")
    assert "Development and implementation" in text and "not included yet" in text


def test_relevance_table_is_total_and_ordered():
    for level in relevance.levels():
        for role in relevance.roles():
            ranked = relevance.ranked_subareas(role, level)
            assert sorted(r.subarea for r in ranked) == sorted(content.subarea_ids())
            scores = [r.score for r in ranked]
            assert scores == sorted(scores, reverse=True)
            for rel in ranked:
                for lang in content.LANGUAGES:
                    assert relevance.reason_text(lang, rel)


def test_steering_puts_procurement_first_and_says_why():
    top = relevance.ranked_subareas("manager", "steer")[0]
    assert top.subarea == "implementation"
    assert "indkøbsprocesser" in relevance.reason_text("da", top)
    assert "procurement processes" in relevance.reason_text("en", top)


def test_contributing_specialist_gets_development_first():
    assert relevance.ranked_subareas("specialist", "contribute")[0].subarea == "development"
    assert relevance.ranked_subareas("frontline", "use")[0].subarea == "innovation"


def test_the_texts_say_what_the_source_says_where_the_review_found_drift():
    """Key term kept and explained; a benefits plan is not a business case; knowing your field is a need."""
    impl = " ".join(content.lookup("da", "subareas.implementation.details"))
    assert "på faglighedens præmisser" in impl and "fagets viden og behov" in impl
    for lang, plan, how, need in [
        ("da", "gevinstplan", "hvordan gevinsterne bliver hentet hjem", "brug for at vide"),
        ("en", "benefits plan", "how the gains will be realised", "need to know"),
    ]:
        assert plan in content.t(lang, "subareas.development.competences.business_cases.example")
        assert how in " ".join(content.lookup(lang, "subareas.development.details"))
        assert need in " ".join(content.lookup(lang, "subareas.innovation.details"))
        overview = " ".join(content.lookup(lang, "overview.details")).lower()
        assert "driv" not in overview  # everyone can contribute to the change; nobody is told to drive it


def test_the_glossary_is_right_about_framework_agreements_and_welfare_technology():
    for lang, tender, mini, areas in [
        ("da", "udbud", "miniudbud", ("pleje", "sundhed", "sociale")),
        ("en", "tender", "mini-tender", ("care", "health", "social")),
    ]:
        framework = content.t(lang, "coaching.glossary.rammeaftale.text")
        assert tender in framework.split(".")[0] and mini in framework  # itself the result of a tender
        welfare = content.t(lang, "coaching.glossary.velfaerdsteknologi.text")
        first = welfare.split(".")[0].lower()
        assert all(a in first for a in areas) and "skole" not in first and "school" not in first


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_the_stage_shown_for_a_score_does_not_claim_more_than_the_scale(lang):
    """A 3 ('with a little help') is not shown under a name that says the person manages alone."""
    from model.domain import coaching

    names = content.lookup(lang, "coaching.stage_names")
    shown_for_3 = names[coaching.stage_of(3)].lower()
    assert not set(_words(shown_for_3)) & {"øvet", "selv", "erfaren", "practised", "own", "experienced"}
    assert names[coaching.stage_of(5)].lower() in content.t(lang, "scale.5").lower()


@pytest.mark.parametrize("lang", content.LANGUAGES)
def test_every_answer_about_the_area_has_button_titles_teams_shows_whole(lang):
    """Teams cuts a button title after about 28 characters: "Mere om Udvikling og
    implementering" (35) and "More about Development and implementation" (41) were cut."""
    profiles = [None, {"role": "frontline", "level": "use"}, {"role": "manager", "level": "steer"}]
    replies = [answers.overview_details(lang)]
    replies += [answers.overview_reply(lang, p["role"], p["level"]) for p in profiles if p]
    replies += [answers.topic_reply(lang, t, p) for t in ("overview", *content.subarea_ids()) for p in profiles]
    replies += [answers.area_reply(lang, q, p) for q in AREA_QUESTIONS for p in profiles]
    titles = [b[0] for r in replies for b in r.buttons]
    assert titles and all(len(t) <= 28 for t in titles), [t for t in titles if len(t) > 28]


@pytest.mark.parametrize(("lang", "four"), [("da", "fire områder"), ("en", "four areas")])
def test_the_wheel_answer_counts_its_four_areas_once(lang, four):
    """The list of the four areas is right above the line that says which one the bot covers."""
    text = answers.area_reply(lang, "wheel").text
    assert text.count(four) == 1 and all(
        content.lookup(lang, f"wheel.areas.{a['id']}.name") in text for a in content.wheel()["areas"]
    )
