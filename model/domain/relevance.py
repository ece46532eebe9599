"""Which sub-areas matter most for a person, and why.

The rule is data (content/relevance.json): a base from the involvement level plus a
bonus from the role. Every part that adds relevance carries a reason text, so the bot
can always explain its order.
"""

from __future__ import annotations

from dataclasses import dataclass

from model import content


@dataclass(frozen=True)
class Relevance:
    subarea: str
    score: int
    band: str
    reasons: tuple[str, ...]  # text keys, most important first


def roles() -> list[str]:
    return list(content.relevance_table()["role_order"])


def levels() -> list[str]:
    return list(content.relevance_table()["level_order"])


def _band(score: int, top: int, first: bool) -> str:
    """Relative, never absolute: the first is the most important for this person; the others
    are just as important, important, or also important (content/relevance.json)."""
    if first:
        return "high"
    for rule in content.relevance_table()["bands"]:
        if top - score <= rule["below_top"]:
            return rule["band"]
    return "low"


def ranked_subareas(role: str | None, level: str | None) -> list[Relevance]:
    """Sub-areas, most relevant first. Without a profile: the wheel's own order, no reasons."""
    table = content.relevance_table()
    ids = content.subarea_ids()
    if level not in table["levels"]:
        return [Relevance(s, 0, "medium", ()) for s in ids]
    lvl = table["levels"][level]
    bonus = table["roles"].get(role or "", {}).get("bonus", {})
    order = lvl["order"] + [s for s in ids if s not in lvl["order"]]
    result = []
    for sub in ids:
        base = lvl["base"].get(sub, 1)
        extra = bonus.get(sub, 0)
        reasons = [f"reasons.level.{level}.{sub}"]
        if extra:
            reasons.insert(0 if extra >= base else 1, f"reasons.role.{role}.{sub}")
        result.append(Relevance(sub, base + extra, "", tuple(reasons)))
    ranked = sorted(result, key=lambda r: (-r.score, order.index(r.subarea)))
    top = ranked[0].score
    return [Relevance(r.subarea, r.score, _band(r.score, top, i == 0), r.reasons) for i, r in enumerate(ranked)]


def relevance_of(role: str | None, level: str | None, subarea: str) -> Relevance:
    return next(r for r in ranked_subareas(role, level) if r.subarea == subarea)


def reason_text(lang: str, rel: Relevance) -> str:
    """Why it matters: the level's reason, and the role's when it adds to it, each its own
    short sentence (the first continues the text before it, the next starts with a capital)."""
    parts = [content.t(lang, key) for key in rel.reasons]
    return ". ".join([parts[0], *(p[:1].upper() + p[1:] for p in parts[1:])]) if parts else ""


def role_name(lang: str, role: str | None) -> str:
    return content.lookup(lang, f"roles.{role}.name") if role else ""


def level_name(lang: str, level: str | None) -> str:
    return content.lookup(lang, f"levels.{level}.name") if level else ""
