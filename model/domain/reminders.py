"""Reminder settings, the due-time index, and the bookkeeping that makes nudges exactly-once.

A person's reminder lives in their user document (`reminder`): the preferences, the last
slot handled, a claimed slot while a send is in flight, a pause reason, and the index
documents that may hold an entry for them (`indexed`). So that the scheduler never reads
everyone's file, an index (collection "schedule", one document per UTC hour and shard) maps
each person to their next due time; a minute's scan reads the buckets that can hold due
nudges. The index is only a hint: the user document decides, so a stale entry costs a
read, never a wrong or double nudge.

Each hour is split into SHARDS documents by the person's key: when a whole municipality
keeps the default Monday-morning slot, changing one person's reminder rewrites a
sixteenth of that hour's entries instead of all of them.

The index never outlives the person:

- an entry is only written if, read under the index document's update, the person's own
  document still exists, is not being deleted and has its next nudge in that document
  (a nudge wave writes its moves in batches after the sends, by which time the person
  may have been deleted or have changed their reminder);
- the person's document lists every index document that may hold an entry for them
  (`indexed`), written before the entry, so deletion removes them all, also an entry a
  killed wave left behind; a listed index document of an hour long past that no longer
  holds them is dropped from the list at their next change;
- deletion marks the document first (no reminder change gets in after that) and writes
  every listed index document even when it holds nothing, so a wave's update that read
  it before the deletion fails on its ETag and looks at the person again.

`progress` in the index collection records the instant of the last completed run (before
the first run: when the first reminder was set): after downtime longer than the catch-up
window the next run scans back to it, so nobody's entry is left behind in hours no scan
reads any more.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from model import stamps
from model.domain import schedule
from model.domain.users import DELETING, USERS, change_part, iso, read_person
from model.storage.docstore import UNCHANGED, CorruptDocument, Doc, DocStore, doc_name

log = logging.getLogger("kompetencehjulet.nudges")

SCHEDULE = "schedule"
PROGRESS = "progress"  # the index's own bookkeeping document (never a bucket: those hold a "/")
SCAN_BACK = schedule.CATCH_UP_MAX_AGE + timedelta(days=1)
CATCH_UP_SCAN_MAX = timedelta(days=400)  # after downtime, a run scans back at most this far
PROGRESS_STEP = timedelta(hours=1)  # how often a run's progress is stored
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


def hour_start(name: str) -> datetime | None:
    """The UTC hour an index document's name stands for (None: not a bucket's name)."""
    try:
        return datetime.strptime(name[:13], "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def parse(stamp: Any) -> datetime | None:
    """A stored time, tolerantly: an unreadable one counts as missing (model.stamps)."""
    return stamps.instant(stamp)


def _reminder(doc: Doc | None) -> Doc:
    part = (doc or {}).get("reminder")
    return part if isinstance(part, dict) else {}


def indexed_names(doc_or_reminder: Doc | None, key: str) -> set[str]:
    """Every index document that may hold an entry for the person: those their document
    lists, and where their next nudge sits (also in the index's layout before sharding)."""
    given = doc_or_reminder or {}
    reminder = given if "indexed" in given else _reminder(given)
    listed = reminder.get("indexed")
    names = {n for n in listed if isinstance(n, str) and hour_start(n)} if isinstance(listed, list) else set()
    nxt = parse(reminder.get("next"))
    if nxt:
        names |= {bucket(nxt, key), hour_of(nxt)}
    return names


def prefs_of(doc: Doc | None) -> schedule.ReminderPrefs:
    """The person's preferences; a stored field that cannot be read takes its default, the
    others are kept (an unknown zone: Danish time; an unreadable frequency: off)."""
    stored = _reminder(doc).get("prefs")
    stored = stored if isinstance(stored, dict) else {}
    try:
        return schedule.ReminderPrefs.from_dict(stored)
    except (ValueError, TypeError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        pass
    kept: dict = {}
    for field, value in stored.items():
        try:
            schedule.ReminderPrefs.from_dict({**kept, field: value})
        except (ValueError, TypeError, KeyError):
            continue
        kept[field] = value
    try:
        return schedule.ReminderPrefs.from_dict(kept)
    except (ValueError, TypeError, KeyError):  # fields readable alone but not together
        return schedule.ReminderPrefs()


def reminders_on(doc: Doc | None) -> bool:
    """Has the person chosen reminders (any frequency but off)?"""
    return prefs_of(doc).frequency != "off"


def last_assessment_at(doc: Doc | None) -> datetime | None:
    """When the newest check was taken (an unreadable time counts as missing)."""
    items = (doc or {}).get("assessments")
    if not isinstance(items, list):
        return None
    return stamps.newest(item.get("at") for item in items if isinstance(item, dict))


def _entries(index: Doc | None) -> dict[str, Any]:
    """An index document's entries (person -> due time); {} when that part is unreadable."""
    due = (index or {}).get("due") if isinstance(index, dict) else None
    return due if isinstance(due, dict) else {}


def _handled(reminder: Doc) -> datetime | None:
    """The last slot handled; when that stamp is unreadable, the newest slot sent or claimed
    (so one changed character never sends a handled nudge again)."""
    raw = reminder.get("last_handled_slot")
    handled = parse(raw)
    if handled is None and stamps.unreadable(raw):
        handled = stamps.newest([reminder.get("last_sent"), reminder.get("claimed_slot")])
    return handled


@dataclass
class Plan:
    """What the sender should do for one person at one instant."""

    key: str
    slot: datetime | None
    send: bool
    reason: str


@dataclass(frozen=True)
class Move:
    """One person's change in the index: out of the `drop` documents, into their new due
    time's document (`when` None: nowhere)."""

    key: str
    drop: frozenset[str]
    when: datetime | None


class Reminders:
    def __init__(self, store: DocStore) -> None:
        self.store = store
        self._empty_hours: set[str] = set()  # see due()
        self._scanned_at: datetime | None = None
        self._through: datetime | None = None  # the last completed run, as far as this process knows
        self._progress_read: datetime | None = None  # when `_through` was last read from the store
        self._since: datetime | None = None  # no run yet: when the first reminder was set
        self._found: dict[str, set[str]] = {}  # the last scan: where each due person's entries were
        self._past: dict[str, frozenset[str]] = {}  # who a settled hour's index document holds
        self.skipped: Counter = Counter()  # what the last scan could not read (reported, never logged)

    # -- settings (called from dialogs) -----------------------------------------------
    async def configure(self, key: str, prefs: schedule.ReminderPrefs, now: datetime) -> datetime | None:
        """Save new preferences; the schedule starts after today. Returns the next nudge."""
        if prefs.anchor is None:
            prefs = schedule.ReminderPrefs.from_dict({**prefs.to_dict(), "anchor": now.date().isoformat()})
        nxt = await self._change(key, now, lambda r: r.update(prefs=prefs.to_dict(), paused=None))
        await self._seed_progress(now)
        return nxt

    async def stop(self, key: str, now: datetime) -> None:
        def off(r: dict) -> None:
            prefs = r.get("prefs")
            r["prefs"] = {**(prefs if isinstance(prefs, dict) else {}), "frequency": "off"}

        await self._change(key, now, off)

    async def snooze(self, key: str, now: datetime) -> datetime | None:
        def later(r: dict) -> None:
            prefs = prefs_of({"reminder": r})
            r["prefs"] = {**prefs.to_dict(), "snoozed_until": iso(schedule.snooze_until(prefs, now))}

        return await self._change(key, now, later)

    async def pause(self, key: str, reason: str, now: datetime) -> None:
        """Bot removed or conversation gone: stop trying until the person writes again."""
        await self._change(key, now, lambda r: r.update(paused=reason))

    async def resume_if_paused(self, key: str, doc: Doc | None, now: datetime) -> None:
        if _reminder(doc).get("paused"):
            await self._change(key, now, lambda r: r.update(paused=None))

    async def next_nudge(self, key: str, doc: Doc | None = None) -> datetime | None:
        if doc is None:
            doc = await read_person(self.store, key)
        return parse(_reminder(doc).get("next"))

    async def _change(
        self, key: str, now: datetime, edit, moves: list | None = None, found: Iterable[str] = ()
    ) -> datetime | None:
        """Edit the reminder, recompute the next slot, and move the index entry (now, or
        later in one batch when `moves` collects them: a nudge wave rewrites each hour
        bucket once instead of once per person). `found`: index documents the scan found
        the person in. None when the person is not stored or is being deleted."""
        gone = await self._not_held(key, indexed_names(await read_person(self.store, key), key), now)
        drop: set[str] = set()

        def change(reminder: Doc, doc: Doc) -> None:
            old = parse(reminder.get("next"))
            edit(reminder)
            nxt = self._next(reminder, now, last_assessment_at(doc))
            reminder["next"] = iso(nxt) if nxt else None
            target = bucket(nxt, key) if nxt else None
            listed = indexed_names({"indexed": reminder.get("indexed")}, key) | set(found)
            if old:
                listed.add(bucket(old, key))
            # Listed before the entry is written, so a deletion always knows where it is.
            reminder["indexed"] = sorted((listed - gone) | ({target} if target else set()))
            drop.clear()
            drop.update(listed | ({hour_of(old)} if old else set()))  # + the layout before sharding
            drop.discard(target or "")

        doc = await change_part(self.store, key, "reminder", change)
        if doc is None:
            return None
        new_next = parse(doc["reminder"]["next"])
        move = Move(key, frozenset(drop), new_next)
        if moves is None:
            await self.reindex_many([move])
        else:
            moves.append(move)
        return new_next

    async def _not_held(self, key: str, names: Iterable[str], now: datetime) -> set[str]:
        """Which of `names`, index documents of hours settled before `now`, do not hold the
        person: they can be dropped from the person's list (nothing adds an entry to an hour
        that has passed, so once absent stays absent; read once per run per document)."""
        settled = now.astimezone(timezone.utc) - SETTLED
        absent: set[str] = set()
        for name in names:
            start = hour_start(name)
            if start is None or start + timedelta(hours=1) > settled:
                continue
            if name not in self._past:
                if len(self._past) > 10_000:
                    self._past.clear()
                try:
                    index, _ = await self.store.read(SCHEDULE, name)
                except CorruptDocument:
                    continue  # not known: keep it listed
                self._past[name] = frozenset(_entries(index))
            if key not in self._past[name]:
                absent.add(name)
        return absent

    @staticmethod
    def _next(reminder: Doc, now: datetime, last_check: datetime | None = None) -> datetime | None:
        """The next slot that will really be sent: after the last one handled, and not in
        the days after a check (a recent check makes a nudge moot), so the date the person
        is told is the date they get."""
        if reminder.get("paused"):
            return None
        prefs = prefs_of({"reminder": reminder})
        handled = _handled(reminder)
        after = max(now, handled) if handled else now
        if last_check is not None:
            after = max(after, last_check + schedule.RECENT_ASSESSMENT)
        return schedule.next_slot(prefs, after)

    # -- index ------------------------------------------------------------------------
    async def reindex(self, key: str, old: datetime | None, new: datetime | None) -> None:
        await self.reindex_many([(key, old, new)])

    async def reindex_many(self, moves: Iterable[Move | tuple[str, datetime | None, datetime | None]]) -> None:
        """Apply index moves with one write per bucket (a nudge wave moves thousands).
        A move may also be (key, old due time, new due time).

        An entry is written only when the person's document, read under the index
        document's update, still has their next nudge there (it may have been deleted or
        changed since the move was made); the entry then holds that document's time."""
        drops: dict[str, set[str]] = {}
        additions: dict[str, set[str]] = {}
        for move in moves:
            if not isinstance(move, Move):
                key, old, new = move
                move = Move(key, frozenset({bucket(old, key), hour_of(old)} if old else ()), new)
            target = bucket(move.when, move.key) if move.when else None
            for name in move.drop:
                if name != target:
                    drops.setdefault(name, set()).add(move.key)
            if target:
                additions.setdefault(target, set()).add(move.key)
        for name in sorted(set(drops) | set(additions)):

            async def change(doc: Doc, name=name) -> Doc | None:
                doc["bucket"] = name  # its own key, so a sweep that finds it by scanning can update it
                due = _entries(doc)
                changed = "due" in doc and due is not doc["due"]  # an unreadable `due` is replaced
                doc["due"] = due
                for key in drops.get(name, ()):
                    if due.pop(key, None) is not None:
                        changed = True
                for key in sorted(additions.get(name, ())):
                    when = await self._belongs(key, name)
                    if when is None:
                        if due.pop(key, None) is not None:
                            changed = True
                    elif due.get(key) != when:
                        due[key] = when
                        changed = True
                return None if changed else UNCHANGED

            await self.store.update(SCHEDULE, name, change)

    async def _belongs(self, key: str, name: str) -> str | None:
        """The person's next due time if their document, read now, has it in index document
        `name`; None when they are gone, being deleted or due elsewhere."""
        try:
            doc, _ = await self.store.read(USERS, key)  # not this turn's copy: it may be gone since
        except CorruptDocument:
            return None
        if not isinstance(doc, dict) or doc.get(DELETING):
            return None
        nxt = parse(_reminder(doc).get("next"))
        return iso(nxt) if nxt and bucket(nxt, key) == name else None

    async def forget(self, key: str, doc: Doc | None) -> None:
        """Deletion: remove the person from the index (the user document goes separately,
        after this, and is marked as being deleted before it). `doc` None: their document
        could not be read, so where they are indexed is not known; every index document is
        looked through (rare: only such a deletion)."""
        self._found.pop(key, None)
        if doc is None:
            await self._sweep(key)
            return

        for name in sorted(indexed_names(doc, key)):

            def drop(index: Doc, name=name) -> Any:
                # A shard's document is written even when it does not hold them: a wave's
                # update that read it before the deletion then fails its ETag and asks again.
                # (Nothing adds to a whole hour's document from before sharding.)
                due = _entries(index)
                if due.pop(key, None) is None and "/" not in name:
                    return UNCHANGED
                index.update(bucket=name, due=due)
                return None

            await self.store.update(SCHEDULE, name, drop)

    async def _sweep(self, key: str) -> None:
        def drop(index: Doc) -> Any:
            due = index.get("due")
            return None if isinstance(due, dict) and due.pop(key, None) is not None else UNCHANGED

        async for name, index in self.store.scan(SCHEDULE):
            due = index.get("due")
            if not isinstance(due, dict) or key not in due:
                continue
            named = index.get("bucket")
            if isinstance(named, str) and doc_name(named) == name:
                await self.store.update(SCHEDULE, named, drop)
            else:  # written before index documents named themselves (or its name was changed)
                due.pop(key)
                await self.store.write_named(SCHEDULE, name, index)

    # -- the due scan -----------------------------------------------------------------
    async def _seed_progress(self, now: datetime) -> None:
        """The first reminder ever set starts the record (`since`), so that downtime before
        the first run is caught up too: every entry is for a slot after it."""
        if self._through is not None or self._since is not None:
            return  # known already: no read per reminder change

        def seed(doc: Doc) -> Any:
            if parse(doc.get("through")) or parse(doc.get("since")):
                return UNCHANGED
            doc["since"] = iso(now)
            return None

        stored = await self.store.update(SCHEDULE, PROGRESS, seed) or {}
        self._since = parse(stored.get("since"))
        self._through = self._through or parse(stored.get("through"))

    async def mark_run(self, now: datetime) -> None:
        """A run at `now` has handled everything due then (its moves are written). Stored
        at most hourly: an hour more of scan after downtime costs less than a write a minute."""
        if self._through is not None and timedelta(0) <= now - self._through < PROGRESS_STEP:
            return

        def advance(doc: Doc) -> Any:
            through = parse(doc.get("through"))
            if through is not None and through >= now:
                return UNCHANGED
            doc["through"] = iso(now)
            return None

        await self.store.update(SCHEDULE, PROGRESS, advance)
        if self._through is None or now > self._through:
            self._through = now

    async def _progress(self, now: datetime) -> datetime | None:
        """The last completed run (read from the store at this process's first scan, and at
        most hourly while it knows no run within the catch-up window: another instance or a
        cron `send-nudges` may have run meanwhile)."""
        stale = self._through is None or self._through < now - SCAN_BACK
        if self._progress_read is None or (stale and abs(now - self._progress_read) >= timedelta(hours=1)):
            self._progress_read = now
            try:
                doc, _ = await self.store.read(SCHEDULE, PROGRESS)
            except CorruptDocument:
                await self.store.quarantine(SCHEDULE, PROGRESS)
                self.skipped["index_documents"] += 1
                doc = None
            stored = parse((doc or {}).get("through"))
            if stored is not None and (self._through is None or stored > self._through):
                self._through = stored
            self._since = parse((doc or {}).get("since"))
        return self._through

    async def _read_index(self, name: str) -> Doc:
        try:
            doc, _ = await self.store.read(SCHEDULE, name)
        except CorruptDocument:
            # Set aside: it costs the people in it their next nudge (their next reminder
            # change indexes them again), nobody else's.
            log.warning("set aside an unreadable nudge index document")
            await self.store.quarantine(SCHEDULE, name)
            self.skipped["index_documents"] += 1
            return {}
        if doc is not None and not isinstance(doc.get("due", {}), dict):  # JSON, but not an index
            log.warning("set aside an unreadable nudge index document")
            await self.store.quarantine(SCHEDULE, name)
            self.skipped["index_documents"] += 1
            return {}
        return doc or {}

    async def due(self, now: datetime) -> list[str]:
        """People whose indexed due time is at or before `now` (within the catch-up window,
        which reaches back to the last completed run after downtime).

        An entry is only ever added for a slot after the writer's "now", so an hour that
        ended a while ago and held nothing stays empty: it is remembered and not read
        again. A minute's scan then reads the last hours and those still holding entries
        (a failed send waits there for its retry), not the whole catch-up window.

        What cannot be read is skipped and counted in `skipped`, never logged: a document
        that is not JSON is set aside; an entry whose time cannot be read puts the person
        in the list (their own document decides, and their next move rewrites the entry)."""
        if self._scanned_at and now < self._scanned_at:
            self._empty_hours.clear()  # the clock went back: what was past may not be
        self._scanned_at = now
        self._found = {}
        self._past = {}
        self.skipped = Counter()
        keys: dict[str, None] = {}  # ordered, and a person listed twice is sent once
        hour = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        settled = hour - SETTLED
        empty: set[str] = set()
        cursor = hour - SCAN_BACK
        through = await self._progress(now)
        if through is not None and through < now:  # after downtime: back to the last run's window
            cursor = min(cursor, through.astimezone(timezone.utc) - SCAN_BACK)
        elif through is None and self._since is not None:  # no run yet: back to the first reminder set
            cursor = min(cursor, self._since.astimezone(timezone.utc))
        cursor = max(cursor, hour - CATCH_UP_SCAN_MAX).replace(minute=0, second=0, microsecond=0)
        while cursor <= hour:
            name = hour_of(cursor)
            if name in self._empty_hours:
                empty.add(name)
            else:
                names = [f"{name}/{shard:02d}" for shard in range(SHARDS)] + [name]  # + before sharding
                held = False
                for n, doc in zip(names, await asyncio.gather(*(self._read_index(n) for n in names)), strict=True):
                    for key, stamp in _entries(doc).items():
                        held = True
                        when = parse(stamp) if isinstance(stamp, str) else None
                        if when is None:
                            self.skipped["index_entries"] += 1
                        if when is None or when <= now:
                            keys[key] = None
                            self._found.setdefault(key, set()).add(n)
                if not held and cursor < settled:
                    empty.add(name)
            cursor += timedelta(hours=1)
        self._empty_hours = empty  # hours that left the window drop out
        return list(keys)

    # -- the exactly-once protocol used by the sender -----------------------------------
    def plan(self, key: str, doc: Doc | None, now: datetime) -> Plan:
        reminder = _reminder(doc)
        if not doc or doc.get(DELETING) or reminder.get("paused"):
            return Plan(key, None, False, "paused" if doc and not doc.get(DELETING) else "gone")
        decision = schedule.decide(prefs_of(doc), now, _handled(reminder), last_assessment_at(doc))
        if decision.send and decision.slot and reminder.get("claimed_slot") == iso(decision.slot):
            # A send of this slot started before a crash and was never recorded. The request
            # most likely reached the connector (measured: sending it again duplicated 13 of
            # 240 nudges after a kill; skipping it lost at most 1), so count it as sent.
            return Plan(key, decision.slot, False, "claimed_before_crash")
        return Plan(key, decision.slot, decision.send, decision.reason)

    async def claim(self, key: str, slot: datetime) -> bool:
        """Mark the slot as being sent; False if it was claimed or handled meanwhile (or the
        person is gone)."""
        won = [False]

        def change(reminder: Doc, _doc: Doc) -> None:
            if iso(slot) in (reminder.get("claimed_slot"), reminder.get("last_handled_slot")) or reminder.get("paused"):
                return
            reminder["claimed_slot"] = iso(slot)
            won[0] = True

        await change_part(self.store, key, "reminder", change)
        return won[0]

    async def unclaim(self, key: str, slot: datetime) -> None:
        """Give the claim on `slot` back: its request was refused and surely not delivered
        (429), so a crash while it waits to retry must not count it as sent."""

        def change(reminder: Doc, _doc: Doc) -> None:
            if reminder.get("claimed_slot") == iso(slot):
                reminder["claimed_slot"] = None

        await change_part(self.store, key, "reminder", change)

    async def settle(
        self, key: str, slot: datetime | None, outcome: str, now: datetime, moves: list | None = None
    ) -> datetime | None:
        """Record how a slot ended and move the person to their next slot in the index.

        outcome: "sent" / "skipped" (slot handled), "failed" (release the claim so a later
        run retries), "gone" (403/404: pause), "noop" (nothing sent: only the index moves).
        A person no longer stored leaves the index documents the scan found them in.
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

        found = self._found.pop(key, set())
        doc = await read_person(self.store, key)
        if doc is None or doc.get(DELETING):  # deleted meanwhile: nothing to record
            if doc is None and found:  # an entry left for nobody (or a changed key) goes
                move = Move(key, frozenset(found), None)
                await (self.reindex_many([move]) if moves is None else _append(moves, move))
            return None
        if outcome == "failed":  # keep the index on this slot, so the next run retries it
            await change_part(self.store, key, "reminder", lambda reminder, _doc: edit(reminder))
            return slot
        return await self._change(key, now, edit, moves, found)


async def _append(moves: list, move: Move) -> None:
    moves.append(move)
