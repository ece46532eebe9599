"""The heads' view of a message's spelling (model/language/ngrams.py)."""

from __future__ import annotations

import numpy as np

from model.language.ngrams import Ngrams

TEXTS = ["værdistrøm i hjemmeplejen", "hvad betyder værdistrøm", "hvad er en business case", "business case i skolen"]


def test_a_word_without_danish_letters_is_read_as_the_same_word():
    """'vaerdistroem' (no Danish keyboard) and 'værdistrøm' give the same pieces and weights."""
    ngrams = Ngrams.fit(TEXTS)
    with_letters, without = ngrams.transform("værdistrøm"), ngrams.transform("VAERDISTROEM")
    assert len(with_letters[0]) > 0
    assert np.array_equal(with_letters[0], without[0]) and np.allclose(with_letters[1], without[1])


def test_each_block_has_length_one_and_unknown_words_give_nothing():
    ngrams = Ngrams.fit(TEXTS)
    columns, values = ngrams.transform("hvad betyder business case")
    blocks = {ngrams.pieces[c][0] for c in columns}
    assert blocks == {"c", "w"}  # word pieces and whole words, kept apart
    for block in blocks:
        mask = np.array([ngrams.pieces[c][0] == block for c in columns])
        assert np.isclose(np.linalg.norm(values[mask]), 1.0)
    assert len(ngrams.transform("zzzz qqqq")[0]) == 0


def test_a_piece_in_only_one_training_text_is_left_out():
    ngrams = Ngrams.fit(TEXTS)
    assert "wskolen" not in ngrams.index  # once only
    assert "wbusiness case" in ngrams.index  # twice
