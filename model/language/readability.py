"""LIX, the Scandinavian readability index, so every Danish text can be checked for plain language.

LIX = words per sentence + percentage of long words (more than six letters). Texts for
everyone should stay at 40 or below (LIX 30-40 reads like a newspaper for the general
public; the source text scores 57-60). Markdown, list bullets and {placeholders} are not
words; a line break, like . : ! and ?, ends a sentence, because a bullet or a line in a
chat message is read as one.
"""

from __future__ import annotations

import re

PLAIN_LIMIT = 40
LONG_WORD = 6  # letters; a word with more is "long"
LABEL_WORDS = 3  # a text of this many words or fewer is a label, not prose

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_MARKUP = re.compile(r"[*_`#>]+")
_SENTENCE_END = re.compile(r"[.!?:;]+(?=\s|$)|\n+")
_WORD = re.compile(r"[A-Za-zÆØÅæøåÉéÜüÖöÄä]+(?:[-'][A-Za-zÆØÅæøåÉéÜüÖöÄä]+)*")


def words(text: str) -> list[str]:
    return _WORD.findall(_MARKUP.sub(" ", _PLACEHOLDER.sub(" ", text)))


def sentences(text: str) -> int:
    cleaned = _MARKUP.sub(" ", _PLACEHOLDER.sub(" ", text))
    parts = [p for p in _SENTENCE_END.split(cleaned) if _WORD.search(p)]
    return max(1, len(parts))


def lix(text: str) -> float:
    """The LIX of one text (0 for a text without words)."""
    found = words(text)
    if not found:
        return 0.0
    long_words = sum(1 for w in found if len(w.replace("-", "")) > LONG_WORD)
    return len(found) / sentences(text) + 100 * long_words / len(found)


def is_label(text: str) -> bool:
    """A button title or a name of one to three words: LIX says nothing about those."""
    return len(words(text)) <= LABEL_WORDS
