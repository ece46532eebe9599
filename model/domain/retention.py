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

from model import stamps
from model.domain.aggregates import TEAMS
from model.domain.users import DELETING, USERS, Users, key_of
from model.safe_log import without_message
from model.storage.docstore import STATE, Doc, DocStore

log = logging.getLogger("kompetencehjulet.retention")

DEFAULT_DAYS = 730  # two years without a word from the person
WARNING_DAYS = 30  # told this long before, once
QUARANTINE_DAYS = 30  # an unreadable document is kept aside this long, for an operator to look at
OLD_WITH_TIME = (STATE, TEAMS)  # collections whose documents expire by the time they were last written

KEEP, WARN, DELETE = "keep", "warn", "delete"


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _stored_times(doc: Doc) -> list[object]:
    """Every time the person's own actions stored: checks, profile, goals."""
    stored = doc.get("profile")
    profile: dict = stored if isinstance(stored, dict) else {}
    found: list[object] = [a.get("at") for a in _dicts(doc.get("assessments"))]
    found += [profile.get("updated"), profile.get("created")]
    found += [g.get(f) for g in _dicts(doc.get("goals")) for f in ("set", "closed")]
    return found


def seen_unreadable(doc: Doc) -> bool:
    """Is the day last seen stored but unreadable (a disk fault, a hand edit)?"""
    return stamps.unreadable(doc.get("seen"))


def last_activity(doc: Doc) -> date | None:
    """The day the person last wrote (or, for data stored before that was recorded or when
    it cannot be read, the newest readable time anything of theirs was stored)."""
    seen = stamps.day(doc.get("seen"))
    if seen is not None:
        return seen
    newest = stamps.newest(_stored_times(doc))
    return newest.astimezone(timezone.utc).date() if newest else None


def decide(doc: Doc, now: datetime, days: int = DEFAULT_DAYS, warning_days: int = WARNING_DAYS) -> str:
    """keep, warn (once, WARNING_DAYS before the end) or delete. A person whose day last
    seen cannot be read is judged by the newest readable date in their document, and is
    not deleted on that guess before the warning reached them (unless there is no chat to
    warn them in: then, as for anyone unreachable, the date decides)."""
    seen = last_activity(doc)
    if seen is None:
        return KEEP  # nothing dated: never guess; such a document has no content worth a warning either
    silent = (now.astimezone(timezone.utc).date() - seen).days
    warned = bool(doc.get("retention_warned"))
    if silent >= days and (warned or not seen_unreadable(doc) or not doc.get("conversation")):
        return DELETE
    if silent >= days - warning_days and not warned:
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
    unreadable_dates: int = 0  # people whose day last seen could not be read (judged by their newest date)
    skipped: int = 0  # people that could not be acted on (logged by error type only); the run goes on
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
            "unreadable_dates": self.unreadable_dates,
            "skipped": self.skipped,
        }


Warn = Callable[[str, Doc], Awaitable[bool]]  # send the warning; True when it was delivered


class Retention:
    def __init__(self, store: DocStore, users: Users, days: int = DEFAULT_DAYS) -> None:
        self.store = store
        self.users = users
        self.days = days

    async def run(self, now: datetime, warn: Warn | None, dry_run: bool = False, tenant: str | None = None) -> Outcome:
        """One pass over everyone (`tenant`: only that tenant's people, in a store several
        share; what no person's document names is then left to a run over everyone). A dry
        run counts what would happen and changes nothing. One person that cannot be acted
        on is counted and skipped; the run goes on with everyone else."""
        outcome = Outcome()
        if not dry_run and tenant is None:  # first, so what this run sets aside stays its QUARANTINE_DAYS
            outcome.set_aside_removed = await self.store.expire_quarantined(now - timedelta(days=QUARANTINE_DAYS))
        unreadable: list[str] = []
        async for _name, doc in self.store.scan(USERS, unreadable, set_aside=not dry_run):
            key = key_of(doc)
            if tenant is not None and not (key or "").startswith(f"{tenant}|"):
                continue
            outcome.scanned += 1
            try:
                await self._one(doc, key, now, warn, dry_run, outcome)
            except Exception as err:  # noqa: BLE001 - one person's failure must not stop the run
                log.error("retention skipped one person: %s", without_message(err))
                outcome.skipped += 1
        outcome.unreadable = len(unreadable)
        if tenant is None:
            await self._documents_nobody_names(now, outcome, dry_run)
        log.info("retention run: %s", outcome.as_dict())
        return outcome

    async def _one(
        self, doc: Doc, key: str | None, now: datetime, warn: Warn | None, dry_run: bool, outcome: Outcome
    ) -> None:
        if seen_unreadable(doc):
            outcome.unreadable_dates += 1
        action = DELETE if doc.get(DELETING) else decide(doc, now, self.days)  # DELETING: a deletion cut short
        if action == KEEP:
            return
        if key is None:
            log.warning("a document without its key cannot be acted on; skipped")
            outcome.skipped += 1
            return
        if action == DELETE:
            outcome.deleted += 1
            if not dry_run:
                await self.users.delete(key)
            return
        if dry_run:
            outcome.warned += 1
            return
        # Claim before sending, so a crash never sends it twice; release it if it failed.
        if not await self.users.mark_retention_warned(key, now):
            return
        delivered = await warn(key, doc) if warn else False
        if delivered:
            outcome.warned += 1
        else:
            outcome.unreachable += 1
            await self.users.mark_retention_warned(key, None)

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
