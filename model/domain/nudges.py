"""What a nudge says: short, varied, in the person's language. With an open goal it names
the goal and asks how it went (done / still working on it / pick another); otherwise it
points at the competence with most to gain, by the same rule as the goal offer and
`historik` (model/domain/coaching.py `gain_order`), or at a sub-area they have not rated yet."""

from __future__ import annotations

import hashlib
from datetime import datetime

from model import content
from model.clicks import Button
from model.domain import assessment, goals
from model.domain.answers import Reply, focus_competences
from model.domain.coaching import most_to_gain, subarea_of


def nudge_reply(lang: str, doc: dict, slot: datetime) -> Reply:
    goal = goals.current_goal(doc)
    if goal is not None:
        return Reply(
            content.t(lang, "goals.nudge", title=goals.goal_title(lang, goal)),
            [
                *goals.progress_buttons(lang, goal, ("done", "keep", "other")),
                (content.t(lang, "nudges.stop_button"), content.t(lang, "nudges.stop_value")),
            ],
        )
    profile = doc.get("profile") or {}
    items = doc.get("assessments") or []
    scores = assessment.latest_scores(items)
    unrated = [s for s in content.subarea_ids() if scores.get(s) is None]
    if profile.get("role") and profile.get("level"):
        target = assessment.focus_areas(profile, items)[0]
    else:
        target = content.subarea_ids()[0]
    pool = "gap"
    found = None if unrated else most_to_gain(profile, items, doc.get("goals") or [])
    if unrated:
        pool, target = "unassessed", (target if target in unrated else unrated[0])
    if found is not None:
        target, competence = subarea_of(found.competence), found.competence
    else:
        competence = focus_competences(target, profile.get("role"), profile.get("level"))[0]
    variants = content.lookup(lang, f"nudges.{pool}")
    # Varied but stable for a slot: a re-sent slot would say the same thing.
    pick = int(hashlib.sha256(slot.isoformat().encode()).hexdigest(), 16) % len(variants)
    text = variants[pick].format(
        subarea=content.subarea_name(lang, target), competence=content.competence_name(lang, target, competence)
    )
    buttons: list[Button] = [
        (content.t(lang, f"nudges.{b}_button"), content.t(lang, f"nudges.{b}_value"))
        for b in ("check", "snooze", "stop")
    ]
    return Reply(text, buttons)
