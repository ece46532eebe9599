"""Self-assessment rules as a person meets them: answers, validation, progress, advice."""

import pytest

from model.domain import answers, assessment, history


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("3", 3),
        ("4/5", 4),
        (" 5 ", 5),
        ("6", None),
        ("0", None),
        ("hjælp", None),
        ("banan", None),
        ("spring over", "skip"),
        ("SKIP", "skip"),
        ("stop", "stop"),
        ("jeg kan selv", 4),
        ("I can help others", 5),
        ("spring ovr", "skip"),
    ],
)
def test_typed_answers(typed, expected):
    assert assessment.parse_answer(typed) == expected


def test_card_submit_validation():
    items = ["implementation", "development", "innovation"]
    assert assessment.validate_scores({"implementation": "4", "development": "2"}, items) == (
        {"implementation": 4, "development": 2},
        [],
    )
    assert assessment.validate_scores({"implementation": "9"}, items)[1] == ["implementation"]
    assert assessment.validate_scores({"implementation": "<script>"}, items)[1] == ["implementation"]
    assert assessment.validate_scores({}, items)[1] == ["empty"]
    assert assessment.validate_scores("nonsense", items)[1] == ["format"]


def test_progress_arrows_compare_with_the_previous_check():
    items = [
        {"scores": {"implementation": 2, "development": 4}},
        {"scores": {"implementation": 3, "development": 4, "innovation": 2}},
        {"scores": {"implementation": 3, "development": 3}},
    ]
    by = {c.subarea: c for c in assessment.progress(items)}
    assert (by["implementation"].latest, by["implementation"].arrow) == (3, "=")
    assert (by["development"].latest, by["development"].previous, by["development"].arrow) == (3, 4, "↓")
    assert (by["innovation"].latest, by["innovation"].arrow) == (2, "")


def test_focus_targets_high_relevance_low_score():
    profile = {"role": "manager", "level": "steer"}
    items = [{"scores": {"implementation": 5, "development": 5, "innovation": 1}}]
    sub = assessment.focus_areas(profile, items)[0]
    comps = answers.focus_competences(sub, profile["role"], profile["level"])
    assert sub == "innovation" and set(comps) & {"drive_change", "see_possibilities", "trends"}
    items = [{"scores": {"implementation": 1, "development": 5, "innovation": 5}}]
    assert assessment.focus_areas(profile, items)[0] == "implementation"


def test_history_text_shows_dates_scores_changes_and_a_suggestion():
    profile = {"role": "manager", "level": "steer"}
    items = [
        {"at": "2026-10-01T10:00:00+00:00", "scores": {"implementation": 2}},
        {"at": "2026-11-01T10:00:00+00:00", "scores": {"implementation": 4, "innovation": 1}},
    ]
    text = history.history_text("da", profile, items)
    assert "1. november 2026" in text and "1. oktober 2026" in text
    assert "4/5 ↑ (før 2)" in text
    assert "Forslag" in text
    mus = history.mus_summary("en", profile, [dict(items[0], note="learn business cases"), items[1]])
    assert "learn business cases" in mus and "Suggested focus points" in mus
