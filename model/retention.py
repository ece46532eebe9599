"""Retention: a person who has not written for RETENTION_DAYS is deleted, completely, as
`slet mine data` deletes; WARNING_DAYS before that, the bot tells them once, if it still
can reach them. Any message from them resets the clock (Users records the day last seen).

The rules are pure (`decide`); `Retention.run` scans the person documents (a background
job: once a day in the served bot, or `python app.py expire`) and acts through callbacks,
so the model stays free of any bot SDK.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Awaitable, Callable

from .aggregates import TEAMS
from .docstore import Doc, DocStore
from .users import STATE, USERS, Users, key_of

log = logging.getLogger("kompetencehjulet.retention")

DEFAULT_DAYS = 730  # two years without a word from the person
WARNING_DAYS = 30  # told this long before, once
QUARANTINE_DAYS = 30  # an unreadable document is kept aside this long, for an operator to look at
OLD_WITH_TIME = (STATE, TEAMS)  # collections whose documents expire by the time they were last written

KEEP, WARN, DELETE = "keep", "warn", "delete"


def last_activity(doc: Doc) -> date | None:
    """The day the person last wrote (or, for data stored before that was recorded, the
    newest time anything of theirs was stored)."""
    if doc.get("seen"):
        return date.fromisoformat(doc["seen"])
    stamps = [a.get("at") for a in doc.get("assessments") or []] + [(doc.get("profile") or {}).get("updated")]
    found = [datetime.fromisoformat(s).date() for s in stamps if s]
    return max(found) if found else None


def decide(doc: Doc, now: datetime, days: int = DEFAULT_DAYS, warning_days: int = WARNING_DAYS) -> str:
    """keep, warn (once, WARNING_DAYS before the end) or delete."""
    seen = last_activity(doc)
    if seen is None:
        return KEEP  # nothing dated: never guess; such a document has no content worth a warning either
    silent = (now.astimezone(timezone.utc).date() - seen).days
    if silent >= days:
        return DELETE
    if silent >= days - warning_days and not doc.get("retention_warned"):
        return WARN
    return KEEP


@dataclass
class Outcome:
    scanned: int = 0
    warned: int = 0
    deleted: int = 0
    unreachable: int = 0  # due a warning, but no conversation to send it to (or the send failed)
    unreadable: int = 0  # person documents that could not be read: set aside, deleted after QUARANTINE_DAYS
    old_documents: int = 0  # dialog states and team rosters not written for the retention period
    set_aside_removed: int = 0  # unreadable copies older than QUARANTINE_DAYS
    by_action: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "scanned": self.scanned,
            "warned": self.warned,
            "deleted": self.deleted,
            "warning_not_sent": self.unreachable,
            "unreadable_set_aside": self.unreadable,
            "old_dialog_states_and_rosters": self.old_documents,
            "set_aside_copies_removed": self.set_aside_removed,
        }


Warn = Callable[[str, Doc], Awaitable[bool]]  # send the warning; True when it was delivered


class Retention:
    def __init__(self, store: DocStore, users: Users, days: int = DEFAULT_DAYS) -> None:
        self.store = store
        self.users = users
        self.days = days

    async def run(self, now: datetime, warn: Warn | None, dry_run: bool = False) -> Outcome:
        """One pass over everyone. A dry run counts what would happen and changes nothing."""
        outcome = Outcome()
        if not dry_run:  # first, so what this run sets aside stays its QUARANTINE_DAYS
            outcome.set_aside_removed = await self.store.expire_quarantined(now - timedelta(days=QUARANTINE_DAYS))
        unreadable: list[str] = []
        async for _name, doc in self.store.scan(USERS, unreadable, set_aside=not dry_run):
            outcome.scanned += 1
            action = decide(doc, now, self.days)
            if action == KEEP:
                continue
            key = key_of(doc)
            if key is None:
                log.warning("a document without its key cannot be acted on; skipped")
                continue
            if action == DELETE:
                outcome.deleted += 1
                if not dry_run:
                    await self.users.delete(key)
                continue
            if dry_run:
                outcome.warned += 1
                continue
            # Claim before sending, so a crash never sends it twice; release it if it failed.
            if not await self.users.mark_retention_warned(key, now):
                continue
            delivered = await warn(key, doc) if warn else False
            if delivered:
                outcome.warned += 1
            else:
                outcome.unreachable += 1
                await self.users.mark_retention_warned(key, None)
        outcome.unreadable = len(unreadable)
        await self._documents_nobody_names(now, outcome, dry_run)
        log.info("retention run: %s", outcome.as_dict())
        return outcome

    async def _documents_nobody_names(self, now: datetime, outcome: Outcome, dry_run: bool) -> None:
        """What a person's document no longer leads to: the dialog state of a chat silent
        for the whole retention period (also one whose person's document was unreadable),
        and team rosters nobody refreshed in that time."""
        before = now - timedelta(days=self.days)
        for collection in OLD_WITH_TIME:
            names = await self.store.stale(collection, before)
            outcome.old_documents += len(names)
            if not dry_run:
                for name in names:
                    await self.store.delete_named(collection, name)

    def due_date(self, doc: Doc) -> date | None:
        seen = last_activity(doc)
        return seen + timedelta(days=self.days) if seen else None
