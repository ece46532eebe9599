"""A person's development goals: set from a suggested step or in their own words, followed
up in the reminder nudges, marked done, kept or dropped.

Goals are the `goals` part of the person's document (a list, newest last); this module is
its only writer. A suggested step is kept as what it is (competence, stage, audience, kind),
so it is shown in the language in use when it is shown; an own goal keeps the person's words,
filed under the competence they point to, or none:

    {"id": "g-…", "competence": id | None, "kind": "job"|"others"|"course"|"own",
     "stage": "beginner"|"practised"|"expert", "audience": "use"|"contribute"|"steer",  # a suggested step
     "title": str,          # the municipality's own offer only (it is in one language)
     "text": str,           # an own goal's words; an offer's text
     "set": ISO time, "status": "open"|"done"|"dropped", "closed": ISO time | None,
     "asked": ISO time | None}   # when a nudge last asked how it went

Goals stored before steps had ids hold `title` and `text` as the person saw them; they are
shown as stored.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from model import content
from model.clicks import Button, Goal
from model.domain.users import DELETING, USERS, iso
from model.storage.docstore import UNCHANGED, Doc, DocStore

GOALS = "goals"
OPEN, DONE, DROPPED = "open", "done", "dropped"
OPEN_MAX = 3  # open goals at a time: more is a to-do list, not a goal
TEXT_MAX = 280  # an own goal is one line
GOAL_FIELDS = ("competence", "kind", "stage", "audience", "title", "text")  # what a goal is


def open_goals(doc: Doc | None) -> list[Doc]:
    return [g for g in (doc or {}).get(GOALS) or [] if g.get("status") == OPEN]


def closed_goals(doc: Doc | None) -> list[Doc]:
    return [g for g in (doc or {}).get(GOALS) or [] if g.get("status") != OPEN]


def current_goal(doc: Doc | None) -> Doc | None:
    """The goal a nudge follows up: the newest open one."""
    found = open_goals(doc)
    return found[-1] if found else None


def goal_title(lang: str, goal: Doc) -> str:
    """A goal's title in this language: a suggested step's from the content; an own goal is
    its words; an offer or an older goal as stored."""
    from model.domain.coaching import step_of_goal

    step = step_of_goal(lang, goal)
    if step is not None:
        return step.title
    return str(goal.get("title") or goal.get("text") or "")


def goal_text(lang: str, goal: Doc) -> str:
    """What to do, when it says more than the title ("" for an own goal: its words are its title)."""
    from model.domain.coaching import step_of_goal

    step = step_of_goal(lang, goal)
    text = step.text if step is not None else str(goal.get("text") or "")
    return "" if text == goal_title(lang, goal) else text


def goal_line(lang: str, goal: Doc) -> str:
    """One goal as a list line: open with the date it was set, done or dropped with that date."""
    from model.domain.coaching import competence_name

    when = content.format_date(lang, goal.get("closed") or goal.get("set"))  # unreadable: "ukendt dato"
    key = {OPEN: "goals.open_line", DONE: "goals.done_line"}.get(goal.get("status", ""), "goals.dropped_line")
    filed = goal.get("competence") in {c for _, c in content.all_competences()}
    if key == "goals.open_line" and not filed:
        key = "goals.open_line_own"  # an own goal of its own, under no competence
    name = competence_name(lang, goal["competence"]) if filed else ""
    return content.t(lang, key, title=goal_title(lang, goal), date=when, competence=name)


def progress_buttons(lang: str, goal: Doc, dos: tuple[str, ...]) -> list[Button]:
    """An open goal's buttons ("done", "keep", "drop", "other"), as `goals` and the nudge show them."""
    return [(content.t(lang, f"goals.{do}_button"), Goal(do=do, id=goal["id"]).data()) for do in dos]


def summary_lines(lang: str, goal_list: list[Doc], last: int = 5) -> list[str]:
    """For `historik` and the MUS summary: how many were set and done, and the latest."""
    if not goal_list:
        return []
    done = sum(1 for g in goal_list if g.get("status") == DONE)
    lines = [content.t(lang, "goals.history_counts", set=len(goal_list), done=done)]
    return lines + [goal_line(lang, g) for g in goal_list[-last:]]


def clean_text(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    cleaned = " ".join(text.split())[:TEXT_MAX]
    return cleaned or None


def _same(goal: Doc, fields: Doc) -> bool:
    """The same goal: the same suggested step, or the same words."""
    return all(goal.get(k) == fields.get(k) for k in GOAL_FIELDS)


class Goals:
    def __init__(self, store: DocStore) -> None:
        self.store = store

    async def add(self, key: str, what: Doc, now: datetime) -> tuple[Doc | None, Doc | None]:
        """Set a goal: `what` holds `competence` (or None) and `kind`, and a suggested step's
        `stage` and `audience`, or the words (`text`, an offer's `title`). The same goal still
        open is kept, not doubled (a button clicked twice). When OPEN_MAX are open, the
        oldest open one is dropped. Returns (the goal, the one dropped to make room)."""
        made: dict[str, Doc | None] = {"goal": None, "dropped": None}
        fields: Doc = {k: what[k] for k in GOAL_FIELDS if k in what}

        def change(doc: Doc) -> Any:
            if not doc:
                return None  # no person: nothing to attach a goal to
            if doc.get(DELETING):
                return UNCHANGED  # a deletion has begun: nothing is added after it
            goals = doc.setdefault(GOALS, [])
            same = next((g for g in goals if g.get("status") == OPEN and _same(g, fields)), None)
            if same:
                made["goal"] = same
                return UNCHANGED
            still_open = [g for g in goals if g.get("status") == OPEN]
            if len(still_open) >= OPEN_MAX:
                oldest = still_open[0]
                oldest.update(status=DROPPED, closed=iso(now))
                made["dropped"] = oldest
            goal = {
                "id": f"g-{secrets.token_hex(6)}",
                **fields,
                "set": iso(now),
                "status": OPEN,
                "closed": None,
                "asked": None,
            }
            goals.append(goal)
            made["goal"] = goal
            return None

        await self.store.update(USERS, key, change)
        return made["goal"], made["dropped"]

    async def close(self, key: str, goal_id: str, status: str, now: datetime) -> Doc | None:
        """Mark an open goal done or dropped; None when there is no such open goal (a stale
        card, a second click)."""
        if status not in (DONE, DROPPED):
            raise ValueError(status)
        closed: list[Doc] = []

        def change(doc: Doc) -> Any:
            goal = next((g for g in doc.get(GOALS) or [] if g.get("id") == goal_id and g.get("status") == OPEN), None)
            if goal is None:
                return UNCHANGED
            goal.update(status=status, closed=iso(now))
            closed.append(goal)
            return None

        await self.store.update(USERS, key, change)
        return closed[0] if closed else None

    async def mark_asked(self, key: str, goal_id: str, now: datetime) -> None:
        """A nudge asked how the goal is going (so the person can see it was followed up)."""

        def change(doc: Doc) -> Any:
            goal = next((g for g in doc.get(GOALS) or [] if g.get("id") == goal_id), None)
            if goal is None:
                return UNCHANGED
            goal["asked"] = iso(now)
            return None

        await self.store.update(USERS, key, change)
