"""Typed answers to a few options (model/language/choices.py): what a person types at a
prompt picks an option only when it says that option, never when it merely shares a word."""

from __future__ import annotations

import pytest

from model.language.choices import match_choice

LEVELS = {
    "use": [
        "Jeg bruger løsningerne og er med til at drive forandringen",
        "Jeg bruger løsningerne",
        "I use the solutions",
    ],
    "contribute": ["Jeg bidrager med min viden fra faget", "Jeg bidrager med viden", "I contribute knowledge"],
    "steer": ["Jeg styrer arbejdet, når nye løsninger bliver udviklet", "Jeg styrer arbejdet", "I steer the work"],
}


@pytest.mark.parametrize(
    ("said", "option"),
    [
        ("2", "contribute"),
        ("bruger løsningerne", "use"),  # a part of a label
        ("brugr løsningerne", "use"),  # with a typo
        ("I contribute my knowledge, Brimsley", "contribute"),  # a label inside a longer answer
        ("jeg styrer arbejdet", "steer"),
    ],
)
def test_an_answer_that_says_an_option_picks_it(said, option):
    assert match_choice(said, LEVELS) == option


@pytest.mark.parametrize(
    "said", ["jeg ved ikke hvad jeg skal svare", "I am not sure what you mean", "what is the difference between these"]
)
def test_a_message_that_shares_a_word_with_a_label_picks_nothing(said):
    assert match_choice(said, LEVELS) is None
