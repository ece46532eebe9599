"""Reminder settings, the due-time index, and the bookkeeping that makes nudges exactly-once.

A person's reminder lives in their user document (`reminder`): the preferences, the last
slot handled, a claimed slot while a send is in flight, and a pause reason. So that the
scheduler never reads everyone's file, an index (collection "schedule", one document per
UTC hour and shard) maps each person to their next due time; a minute's scan reads the
buckets that can hold due nudges. The index is only a hint: the user document decides,
so a stale entry costs a read, never a wrong or double nudge.

Each hour is split into SHARDS documents by the person's key: when a whole municipality
keeps the default Monday-morning slot, changing one person's reminder rewrites a
sixteenth of that hour's entries instead of all of them.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from . import schedule
from .docstore import UNCHANGED, Doc, DocStore
from .users import change_part, iso, read_person

SCHEDULE = "schedule"
SCAN_BACK = schedule.CATCH_UP_MAX_AGE + timedelta(days=1)
SETTLED = timedelta(hours=2)  # an hour this long past gains no entries (clocks agree within it)
SHARDS = 16  # a person's shard comes from their key: changing this orphans index entries


def hour_of(when: datetime) -> str:
    """The hour's name; also the whole hour's document in indexes written before sharding."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")


def shard_of(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") % SHARDS


def bucket(when: datetime, key: str) -> str:
    """The index document that holds `key`'s entry for a due time `when`."""
    return f"{hour_of(when)}/{shard_of(key):02d}"


def parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp) if stamp else None


def prefs_of(doc: Doc | None) -> schedule.ReminderPrefs:
    try:
        return schedule.ReminderPrefs.from_dict(((doc or {}).get("reminder") or {}).get("prefs") or {})
    except ValueError:
        return schedule.ReminderPrefs()


def reminders_on(doc: Doc | None) -> bool:
    """Has the person chosen reminders (any frequency but off)?"""
    return prefs_of(doc).frequency != "off"


def last_assessment_at(doc: Doc | None) -> datetime | None:
    items = (doc or {}).get("assessments") or []
    return parse(items[-1]["at"]) if items and items[-1].get("at") else None


@dataclass
class Plan:
    """What the sender should do for one person at one instant."""

    key: str
    slot: datetime | None
    send: bool
    reason: str


class Reminders:
    def __init__(self, store: DocStore) -> None:
        self.store = store
        self._empty_hours: set[str] = set()  # see due()
        self._scanned_at: datetime | None = None

    # -- settings (called from dialogs) -----------------------------------------------
    async def configure(self, key: str, prefs: schedule.ReminderPrefs, now: datetime) -> datetime | None:
        """Save new preferences; the schedule starts after today. Returns the next nudge."""
        if prefs.anchor is None:
            prefs = schedule.ReminderPrefs.from_dict({**prefs.to_dict(), "anchor": now.date().isoformat()})
        return await self._change(key, now, lambda r: r.update(prefs=prefs.to_dict(), paused=None))

    async def stop(self, key: str, now: datetime) -> None:
        def off(r: dict) -> None:
            r["prefs"] = {**r.get("prefs", {}), "frequency": "off"}

        await self._change(key, now, off)

    async def snooze(self, key: str, now: datetime) -> datetime | None:
        def later(r: dict) -> None:
            prefs = schedule.ReminderPrefs.from_dict(r.get("prefs") or {})
            r["prefs"] = {**prefs.to_dict(), "snoozed_until": iso(schedule.snooze_until(prefs, now))}

        return await self._change(key, now, later)

    async def pause(self, key: str, reason: str, now: datetime) -> None:
        """Bot removed or conversation gone: stop trying until the person writes again."""
        await self._change(key, now, lambda r: r.update(paused=reason))

    async def resume_if_paused(self, key: str, doc: Doc | None, now: datetime) -> None:
        if ((doc or {}).get("reminder") or {}).get("paused"):
            await self._change(key, now, lambda r: r.update(paused=None))

    async def next_nudge(self, key: str, doc: Doc | None = None) -> datetime | None:
        if doc is None:
            doc = await read_person(self.store, key)
        return parse(((doc or {}).get("reminder") or {}).get("next"))

    async def _change(self, key: str, now: datetime, edit, moves: list | None = None) -> datetime | None:
        """Edit the reminder, recompute the next slot, and move the index entry (now, or
        later in one batch when `moves` collects them: a nudge wave rewrites each hour
        bucket once instead of once per person)."""
        old_next: list[str | None] = [None]

        def change(reminder: Doc, doc: Doc) -> None:
            old_next[0] = reminder.get("next")
            edit(reminder)
            nxt = self._next(reminder, now, last_assessment_at(doc))
            reminder["next"] = iso(nxt) if nxt else None

        doc = await change_part(self.store, key, "reminder", change)
        new_next = doc["reminder"]["next"] if doc else None
        if moves is None:
            await self.reindex(key, parse(old_next[0]), parse(new_next))
        else:
            moves.append((key, parse(old_next[0]), parse(new_next)))
        return parse(new_next)

    @staticmethod
    def _next(reminder: Doc, now: datetime, last_check: datetime | None = None) -> datetime | None:
        """The next slot that will really be sent: after the last one handled, and not in
        the days after a check (a recent check makes a nudge moot), so the date the person
        is told is the date they get."""
        if reminder.get("paused"):
            return None
        prefs = prefs_of({"reminder": reminder})
        handled = parse(reminder.get("last_handled_slot"))
        after = max(now, handled) if handled else now
        if last_check is not None:
            after = max(after, last_check + schedule.RECENT_ASSESSMENT)
        return schedule.next_slot(prefs, after)

    # -- index ------------------------------------------------------------------------
    async def reindex(self, key: str, old: datetime | None, new: datetime | None) -> None:
        await self.reindex_many([(key, old, new)])

    async def reindex_many(self, moves: list[tuple[str, datetime | None, datetime | None]]) -> None:
        """Apply index moves with one write per bucket (a nudge wave moves thousands)."""
        removals: dict[str, set[str]] = {}
        additions: dict[str, dict[str, str]] = {}
        for key, old, new in moves:
            if old:
                removals.setdefault(bucket(old, key), set()).add(key)
                # An entry from before the index was sharded sits in the whole hour's
                # document; it goes too (reading a missing document costs no write).
                removals.setdefault(hour_of(old), set()).add(key)
            if new:
                additions.setdefault(bucket(new, key), {})[key] = iso(new)
        for name in sorted(set(removals) | set(additions)):

            def change(doc: Doc, name=name) -> Doc | None:
                doc["bucket"] = name  # its own key, so a sweep that finds it by scanning can update it
                due = doc.setdefault("due", {})
                adding = additions.get(name, {})
                changed = False
                for key in removals.get(name, ()):
                    if key not in adding and due.pop(key, None) is not None:
                        changed = True
                for key, when in adding.items():
                    if due.get(key) != when:
                        due[key] = when
                        changed = True
                return None if changed else UNCHANGED

            await self.store.update(SCHEDULE, name, change)

    async def forget(self, key: str, doc: Doc | None) -> None:
        """Deletion: remove the person from the index (the user document goes separately).
        `doc` None: their document could not be read, so where they are indexed is not
        known; every index document is looked through (rare: only such a deletion)."""
        if doc is None:
            await self._sweep(key)
            return
        nxt = parse((doc.get("reminder") or {}).get("next"))
        if nxt:
            await self.reindex(key, nxt, None)

    async def _sweep(self, key: str) -> None:
        def drop(index: Doc) -> Any:
            return None if index.get("due", {}).pop(key, None) is not None else UNCHANGED

        async for name, index in self.store.scan(SCHEDULE):
            if key not in index.get("due", {}):
                continue
            if index.get("bucket"):
                await self.store.update(SCHEDULE, index["bucket"], drop)
            else:  # written before index documents named themselves
                index["due"].pop(key)
                await self.store.write_named(SCHEDULE, name, index)

    async def due(self, now: datetime) -> list[str]:
        """People whose indexed due time is at or before `now` (within the catch-up window).

        An entry is only ever added for a slot after the writer's "now", so an hour that
        ended a while ago and held nothing stays empty: it is remembered and not read
        again. A minute's scan then reads the last hours and those still holding entries
        (a failed send waits there for its retry), not the whole catch-up window."""
        if self._scanned_at and now < self._scanned_at:
            self._empty_hours.clear()  # the clock went back: what was past may not be
        self._scanned_at = now
        keys: dict[str, None] = {}  # ordered, and a person listed twice is sent once
        hour = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        settled = hour - SETTLED
        empty: set[str] = set()
        cursor = hour - SCAN_BACK
        while cursor <= hour:
            name = hour_of(cursor)
            if name in self._empty_hours:
                empty.add(name)
            else:
                names = [f"{name}/{shard:02d}" for shard in range(SHARDS)] + [name]  # + before sharding
                held = False
                # An unreadable index document is set aside: it costs the people in it their
                # next nudge (their next reminder change indexes them again), nobody else's.
                for doc, _ in await asyncio.gather(*(self.store.read_or_quarantine(SCHEDULE, n) for n in names)):
                    for key, stamp in ((doc or {}).get("due") or {}).items():
                        held = True
                        when = parse(stamp)
                        if when is not None and when <= now:
                            keys[key] = None
                if not held and cursor < settled:
                    empty.add(name)
            cursor += timedelta(hours=1)
        self._empty_hours = empty  # hours that left the window drop out
        return list(keys)

    # -- the exactly-once protocol used by the sender -----------------------------------
    def plan(self, key: str, doc: Doc | None, now: datetime) -> Plan:
        reminder = (doc or {}).get("reminder") or {}
        if not doc or reminder.get("paused"):
            return Plan(key, None, False, "paused" if doc else "gone")
        decision = schedule.decide(
            prefs_of(doc), now, parse(reminder.get("last_handled_slot")), last_assessment_at(doc)
        )
        if decision.send and decision.slot and reminder.get("claimed_slot") == iso(decision.slot):
            # A send of this slot started before a crash and was never recorded. The request
            # most likely reached the connector (measured: sending it again duplicated 13 of
            # 240 nudges after a kill; skipping it lost at most 1), so count it as sent.
            return Plan(key, decision.slot, False, "claimed_before_crash")
        return Plan(key, decision.slot, decision.send, decision.reason)

    async def claim(self, key: str, slot: datetime) -> bool:
        """Mark the slot as being sent; False if it was claimed or handled meanwhile."""
        won = [False]

        def change(reminder: Doc, _doc: Doc) -> None:
            if iso(slot) in (reminder.get("claimed_slot"), reminder.get("last_handled_slot")) or reminder.get("paused"):
                return
            reminder["claimed_slot"] = iso(slot)
            won[0] = True

        await change_part(self.store, key, "reminder", change)
        return won[0]

    async def settle(
        self, key: str, slot: datetime | None, outcome: str, now: datetime, moves: list | None = None
    ) -> datetime | None:
        """Record how a slot ended and move the person to their next slot in the index.

        outcome: "sent" / "skipped" (slot handled), "failed" (release the claim so a later
        run retries), "gone" (403/404: pause).
        """

        def edit(reminder: dict) -> None:
            if outcome in ("sent", "skipped") and slot:
                reminder["last_handled_slot"] = iso(slot)
                reminder["claimed_slot"] = None
                if outcome == "sent":
                    reminder["last_sent"] = iso(slot)
            elif outcome == "failed":
                reminder["claimed_slot"] = None
            elif outcome == "gone":
                reminder["claimed_slot"] = None
                reminder["paused"] = "unreachable"

        if await read_person(self.store, key) is None:  # deleted meanwhile: nothing to record
            return None
        if outcome == "failed":  # keep the index on this slot, so the next run retries it
            await change_part(self.store, key, "reminder", lambda reminder, _doc: edit(reminder))
            return slot
        return await self._change(key, now, edit, moves)
