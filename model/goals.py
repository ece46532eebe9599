"""A person's development goals: set from a suggested step or in their own words, followed
up in the reminder nudges, marked done, kept or dropped.

Goals are the `goals` part of the person's document (a list, newest last); this module is
its only writer. A goal keeps what the person saw when they chose it (title and text), so
a later change in the content files never rewrites someone's goal.

    {"id": "g-…", "competence": id, "title": str, "text": str, "kind": "job"|"others"|"course"|"own",
     "set": ISO time, "status": "open"|"done"|"dropped", "closed": ISO time | None,
     "asked": ISO time | None}   # when a nudge last asked how it went
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from . import content
from .docstore import UNCHANGED, Doc, DocStore
from .users import USERS, iso

GOALS = "goals"
OPEN, DONE, DROPPED = "open", "done", "dropped"
OPEN_MAX = 3  # open goals at a time: more is a to-do list, not a goal
TEXT_MAX = 280  # an own goal is one line


def open_goals(doc: Doc | None) -> list[Doc]:
    return [g for g in (doc or {}).get(GOALS) or [] if g.get("status") == OPEN]


def closed_goals(doc: Doc | None) -> list[Doc]:
    return [g for g in (doc or {}).get(GOALS) or [] if g.get("status") != OPEN]


def current_goal(doc: Doc | None) -> Doc | None:
    """The goal a nudge follows up: the newest open one."""
    found = open_goals(doc)
    return found[-1] if found else None


def goal_line(lang: str, goal: Doc) -> str:
    """One goal as a list line: open with the date it was set, done or dropped with that date."""
    from .coaching import competence_name

    when = content.format_date(lang, goal.get("closed") or goal.get("set"))  # unreadable: "ukendt dato"
    key = {OPEN: "goals.open_line", DONE: "goals.done_line"}.get(goal.get("status", ""), "goals.dropped_line")
    return content.t(lang, key, title=goal["title"], date=when, competence=competence_name(lang, goal["competence"]))


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


class Goals:
    def __init__(self, store: DocStore) -> None:
        self.store = store

    async def add(
        self, key: str, competence: str, title: str, text: str, kind: str, now: datetime
    ) -> tuple[Doc | None, Doc | None]:
        """Set a goal; a goal with the same title that is still open is kept, not doubled (a
        button clicked twice). When OPEN_MAX are open, the oldest open one is dropped.
        Returns (the goal, the one dropped to make room)."""
        made: dict[str, Doc | None] = {"goal": None, "dropped": None}

        def change(doc: Doc) -> Any:
            if not doc:
                return None  # no person: nothing to attach a goal to
            goals = doc.setdefault(GOALS, [])
            same = next((g for g in goals if g.get("status") == OPEN and g.get("title") == title), None)
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
                "competence": competence,
                "title": title,
                "text": text,
                "kind": kind,
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
