"""A message as a bag of character and word n-grams, the heads' view of its spelling.

The sentence model (semantic.py) knows meaning but not our words: "gevinstrealiseringsplan",
"sosu", "miniudbud" are rare pieces to it. Character n-grams see the parts of a Danish compound
and survive typos and a missing æ/ø/å ("vaerdistroem" and "værdistrøm" are folded alike), and
word pairs see the question's form ("hvad betyder", "forskel på", "for mig"). The heads in
semantic.py read both beside the sentence vector.

Weights: tf-idf with a dampened count (1 + log count), the document frequencies of the texts the
heads were trained on, each block scaled to length 1. `Ngrams.fit` makes the vocabulary (pieces in
at least MIN_COUNT training texts), `Ngrams.transform` a message's sparse vector; the vocabulary and
its weights are stored with the heads and nothing is fitted at run time.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

CHAR_SIZES = (2, 3, 4, 5)  # pieces of a word, its edges marked by a space
WORD_SIZES = (1, 2)
MIN_COUNT = 2
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e"})
_WORD = re.compile(r"\w\w+")


def normalised(text: str) -> str:
    """Lower case, æ/ø/å as ae/oe/aa: people without a Danish keyboard are read alike."""
    return text.lower().translate(_FOLD)


def char_pieces(text: str) -> Iterable[str]:
    for word in normalised(text).split():
        padded = f" {word} "
        for n in CHAR_SIZES:
            for i in range(len(padded) - n + 1):
                yield padded[i : i + n]


def word_pieces(text: str) -> Iterable[str]:
    found = _WORD.findall(normalised(text))
    for n in WORD_SIZES:
        for i in range(len(found) - n + 1):
            yield " ".join(found[i : i + n])


BLOCKS = (("c", char_pieces), ("w", word_pieces))


class Ngrams:
    """The vocabulary (piece -> column) and each column's inverse document frequency."""

    def __init__(self, pieces: list[str], idf: np.ndarray):
        self.pieces = pieces
        self.index = {p: i for i, p in enumerate(pieces)}
        self.idf = idf.astype(np.float32)
        # the columns of each block, to scale each block to length 1 on its own
        self.block_of = np.array([ord(p[0]) for p in pieces], dtype=np.int32)

    @property
    def size(self) -> int:
        return len(self.pieces)

    @classmethod
    def fit(cls, texts: list[str]) -> Ngrams:
        seen: Counter[str] = Counter()
        for text in texts:
            seen.update(_keys(text).keys())
        pieces = sorted(p for p, n in seen.items() if n >= MIN_COUNT)
        idf = np.array([math.log((1 + len(texts)) / (1 + seen[p])) + 1 for p in pieces])
        return cls(pieces, idf)

    def transform(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's columns and weights (a sparse row)."""
        columns, weights = [], []
        counts = _keys(text)
        for piece, count in counts.items():
            column = self.index.get(piece)
            if column is not None:
                columns.append(column)
                weights.append((1 + math.log(count)) * self.idf[column])
        cols = np.array(columns, dtype=np.int64)
        vals = np.array(weights, dtype=np.float32)
        if len(cols):
            blocks = self.block_of[cols]
            for block in np.unique(blocks):
                mask = blocks == block
                vals[mask] /= np.linalg.norm(vals[mask])
        return cols, vals


def _keys(text: str) -> Counter[str]:
    """Each piece prefixed by its block ('c' or 'w'), so that a word and a word piece never meet."""
    counts: Counter[str] = Counter()
    for mark, pieces in BLOCKS:
        counts.update(mark + p for p in pieces(text))
    return counts
