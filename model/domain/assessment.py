"""Self-assessments: the 1-5 scale, reading answers, records, progress and the focus areas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from model import content
from model.domain import relevance
from model.domain.users import SCHEMA_VERSION, iso
from model.language.choices import match_choice, plain_answer

SCALE = (1, 2, 3, 4, 5)
NOTE_MAX_CHARS = 280
SKIP, STOP = "skip", "stop"


def scale_label(lang: str, score: int) -> str:
    return content.t(lang, f"scale.{score}")


def scale_phrase(lang: str, score: int) -> str:
    """The label inside a sentence: 'det er nyt for mig', but English keeps its capital 'I'."""
    label = scale_label(lang, score)
    return label if label.startswith("I ") else label[:1].lower() + label[1:]


@lru_cache(maxsize=None)
def _word_options() -> dict[str, list[str]]:
    """Typed answers: skip/stop words and the scale labels, in both languages."""
    opts: dict[str, list[str]] = {SKIP: [], STOP: []}
    for lang in content.LANGUAGES:
        opts[SKIP] += content.lookup(lang, "assessment.skip_words")
        opts[STOP] += content.lookup(lang, "assessment.stop_words")
        for s in SCALE:
            opts.setdefault(str(s), []).append(scale_label(lang, s))
    return opts


def parse_answer(text: str) -> int | str | None:
    """A typed score (1-5, '4/5', a scale label), 'skip', 'stop', or None when unclear."""
    folded = plain_answer(text)
    if not folded:
        return None
    tokens = folded.split()
    if tokens[0].isdigit():
        n = int(tokens[0])
        return n if n in SCALE else None
    options = _word_options()
    for word_id in (SKIP, STOP):
        if folded in {plain_answer(w) for w in options[word_id]}:
            return word_id
    # Skip and stop are short phrases that a command can be part of ('vurdering' is most of
    # 'stop vurdering'): they match the whole answer, typos allowed, never a part of it.
    control = match_choice(text, {w: options[w] for w in (SKIP, STOP)}, min_score=88, partial=False)
    if control:
        return control
    found = match_choice(text, {s: options[s] for s in options if s not in (SKIP, STOP)}, min_score=88)
    return int(found) if found else None


def validate_scores(value: Any, items: list[str], required: int = 1) -> tuple[dict[str, int], list[str]]:
    """Card submit -> (scores, problems). Missing items count as skipped; foreign values are problems."""
    if not isinstance(value, dict):
        return {}, ["format"]
    scores: dict[str, int] = {}
    problems: list[str] = []
    for item in items:
        raw = value.get(item)
        if raw in (None, "", SKIP):
            continue
        try:
            score = int(str(raw).strip())
        except ValueError:
            problems.append(item)
            continue
        if score not in SCALE:
            problems.append(item)
        else:
            scores[item] = score
    if not problems and len(scores) < required:
        problems.append("empty")
    return scores, problems


def clean_note(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    note = " ".join(text.split())[:NOTE_MAX_CHARS]
    return note or None


def record(
    tenant: str | None,
    profile: dict,
    scores: dict[str, int],
    competences: dict[str, int],
    note: str | None,
    lang: str,
    now: datetime,
    check_id: str | None = None,
) -> dict:
    """What is stored for one completed assessment (the person's key is the document's).
    `check_id` is the check's random id: the same check is never stored twice."""
    return {
        "id": check_id,
        "at": iso(now),
        "tenant": tenant,
        "role": profile.get("role"),
        "level": profile.get("level"),
        "scores": dict(scores),
        "competences": dict(competences),
        "note": note,
        "language": lang,
        "schema": SCHEMA_VERSION,
    }


@dataclass(frozen=True)
class Change:
    subarea: str
    latest: int | None
    previous: int | None

    @property
    def arrow(self) -> str:
        if self.latest is None or self.previous is None:
            return ""
        return "↑" if self.latest > self.previous else "↓" if self.latest < self.previous else "="


def progress(assessments: list[dict]) -> list[Change]:
    """Per sub-area: the latest score and the one before it (from earlier assessments)."""
    changes = []
    for sub in content.subarea_ids():
        values = [a["scores"][sub] for a in assessments if isinstance(a.get("scores", {}).get(sub), int)]
        latest = values[-1] if values else None
        previous = values[-2] if len(values) > 1 else None
        changes.append(Change(sub, latest, previous))
    return changes


def latest_scores(assessments: list[dict]) -> dict[str, int | None]:
    return {c.subarea: c.latest for c in progress(assessments)}


GAIN_PER_POINT = 2  # one point lower on the scale outweighs one step of relevance (1-4)


def gain(relevance_score: int, score: int) -> int:
    """How much there is to gain: mostly the distance to 5, then how much it matters."""
    return (SCALE[-1] + 1 - score) * GAIN_PER_POINT + relevance_score


def focus_areas(profile: dict, assessments: list[dict], count: int = 1) -> list[str]:
    """Rated sub-areas, most to gain first; then the ones not rated yet, most relevant first.
    (Nothing is claimed about an unrated sub-area: callers check `latest_scores`.)"""
    scores = latest_scores(assessments)
    ranked = relevance.ranked_subareas(profile.get("role"), profile.get("level"))
    order = {r.subarea: i for i, r in enumerate(ranked)}

    def key(rel: relevance.Relevance) -> tuple:
        score = scores.get(rel.subarea)
        return (score is None, -gain(rel.score, score) if score is not None else 0, order[rel.subarea])

    return [r.subarea for r in sorted(ranked, key=key)][:count]
