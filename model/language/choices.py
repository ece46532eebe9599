"""Matching a typed answer to one of a few options: numbers, labels, typos, no æøå."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def plain_answer(text: str) -> str:
    """A typed answer made comparable to an option's label: lower-case, æøå spelled out
    (æ -> ae), accents and punctuation gone, spaces squeezed. (Question understanding folds
    differently, æ and ae both to a: model.language.understanding.fold.)"""
    text = (text or "").lower().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


PART_WORDS = 0.75  # the share of one side's words the other must hold for a partial match


def _words_found(these: str, among: str) -> float:
    """The share of the words of `these` that `among` holds (each allowing a typo)."""
    words = these.split()
    held = among.split()
    return sum(any(fuzz.ratio(w, h) >= 80 for h in held) for w in words) / len(words)


def match_choice(text: str, options: dict[str, list[str]], min_score: float = 80.0, partial: bool = True) -> str | None:
    """The option id the text means, or None.

    `options` maps an id to its labels (in any language; the first is what was shown).
    A number picks by position in the dict's order.
    """
    folded = plain_answer(text)
    if not folded:
        return None
    ids = list(options)
    if folded.isdigit():
        n = int(folded)
        return ids[n - 1] if 1 <= n <= len(ids) else None
    best, best_score = None, 0.0
    for oid, labels in options.items():
        for label in labels:
            lab = plain_answer(label)
            if not lab:
                continue
            if folded == lab:
                return oid
            # Partial matches only when the answer is a real part of the label, so "hjælp"
            # is not read as "jeg kan med lidt hjælp", or the label a part of the answer ("I
            # contribute my knowledge"); never for a message that merely shares a word or two
            # with a label ("jeg ved ikke hvad jeg skal svare").
            part = (
                partial
                and len(folded) >= 4
                and len(folded) >= 0.4 * len(lab)
                and max(_words_found(folded, lab), _words_found(lab, folded)) >= PART_WORDS
            )
            score = fuzz.WRatio(folded, lab) if part else fuzz.ratio(folded, lab)
            if score > best_score:
                best, best_score = oid, score
    return best if best_score >= min_score else None
