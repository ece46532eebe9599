"""Loads the bot's words and the wheel's structure from the JSON files in model/content.

Texts live in one file per language so translators never touch code; this module is the
only place that knows the layout of da.json, en.json, wheel.json and relevance.json. The
vocabulary (terms.json, job_titles.json) is read by `model/language/understanding.py`,
which owns its layout; terminology.json (the chosen terms) only by tests/model/test_terminology.py.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

CONTENT_DIR = Path(__file__).parent / "content"
LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"


def _load(name: str) -> dict[str, Any]:
    with open(CONTENT_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def texts(lang: str) -> dict[str, Any]:
    """All user-facing texts for one language (unknown languages fall back to Danish)."""
    return _load(f"{normalise_language(lang)}.json")


@lru_cache(maxsize=None)
def wheel() -> dict[str, Any]:
    return _load("wheel.json")


@lru_cache(maxsize=None)
def relevance_table() -> dict[str, Any]:
    return _load("relevance.json")


def normalise_language(lang: str | None) -> str:
    """'da-DK', 'DA', 'da' -> 'da'; anything that is not Danish is English, as the brief says."""
    if not lang:
        return DEFAULT_LANGUAGE
    code = lang.strip().lower()[:2]
    return code if code in LANGUAGES else "en"


def lookup(lang: str, key: str) -> Any:
    """Dotted-path lookup into a language file; KeyError names the missing key."""
    node: Any = texts(lang)
    for part in key.split("."):
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node[part]
    return node


class _Blank(dict):
    def __missing__(self, key: str) -> str:  # a missing placeholder must never crash a turn
        return ""


def t(lang: str, key: str, **values: Any) -> str:
    """One text, with {placeholders} filled; lists of lines are joined."""
    raw = lookup(lang, key)
    if isinstance(raw, list):
        raw = "\n".join(raw)
    return str(raw).format_map(_Blank(values))


def format_date(lang: str, when: datetime | str | None) -> str:
    """A date as people write it ("1. december 2026"), from a datetime or a stored ISO time;
    the one date format the bot shows. A stored time that cannot be read shows as "ukendt
    dato": one changed character costs that date, not the person's whole view."""
    from model.stamps import instant

    found = instant(when)
    if found is None:
        return t(lang, "calendar.date_unknown")
    when = found
    cal = lookup(lang, "calendar")
    return cal["date_format"].format(day=when.day, month=cal["months"][when.month - 1], year=when.year)


def covered_areas() -> list[dict[str, Any]]:
    return [a for a in wheel()["areas"] if a.get("covered")]


def subarea_ids() -> list[str]:
    """Sub-areas the bot has content for, in the wheel's order."""
    return [s["id"] for a in covered_areas() for s in a["subareas"]]


def competence_ids(subarea: str) -> list[str]:
    for area in covered_areas():
        for sub in area["subareas"]:
            if sub["id"] == subarea:
                return list(sub["competences"])
    raise KeyError(subarea)


def all_competences() -> list[tuple[str, str]]:
    """(sub-area id, competence id) for every example competence."""
    return [(s, c) for s in subarea_ids() for c in competence_ids(s)]


def subarea_of(competence: str) -> str:
    """The sub-area id an example competence belongs to."""
    return next(s for s, c in all_competences() if c == competence)


def subarea_name(lang: str, subarea: str) -> str:
    return lookup(lang, f"subareas.{subarea}.name")


def competence_name(lang: str, subarea: str, competence: str) -> str:
    return lookup(lang, f"subareas.{subarea}.competences.{competence}.name")
