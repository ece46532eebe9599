"""What dialogs may use, built once at start-up: the owners of the stored data and the one clock.

Every "now" in the bot comes from `Services.now()`, so tests move time by giving a clock
and nothing reads the system time behind their back. Model functions take `now` as an
argument instead of reading a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from model.domain.aggregates import Overviews, counted
from model.domain.goals import Goals
from model.domain.reminders import Reminders
from model.domain.resources import Resources
from model.domain.users import Users
from model.storage.docstore import DocStore

from .recent import RecentTopics

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    store: DocStore
    users: Users
    reminders: Reminders
    goals: Goals
    resources: Resources  # the municipality's own offers (RESOURCES_FILE); empty by default
    overviews: Overviews  # the anonymous group overviews (AGGREGATES)
    clock: Clock = system_clock
    retention_days: int = 730  # RETENTION_DAYS: what the bot tells people about how long it keeps data
    recent: RecentTopics = field(default_factory=RecentTopics)  # each chat's last answer, in memory only

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        return self.clock()

    async def export(self, key: str) -> dict:
        """Everything stored about a person, and whether they count in overviews: what the
        person's own `eksport` shows and what `python app.py export-user` prints."""
        data = await self.users.export(key, self.now())
        doc = await self.users.get(key) or {}
        data["counted_in_overviews"] = counted(doc, self.overviews.mode)
        return data

    @classmethod
    def create(
        cls,
        store: DocStore,
        clock: Clock | None = None,
        resources: Resources | None = None,
        overviews: Overviews | None = None,
        retention_days: int = 730,
    ) -> "Services":
        reminders = Reminders(store)
        overviews = overviews or Overviews(store)
        recent = RecentTopics()
        # deletion also clears the schedule index, every overview's ledger and rosters, and
        # what the person's chats last talked about
        users = Users(store, on_delete=(reminders.forget, overviews.forget, recent.forget))
        return cls(
            store=store,
            users=users,
            reminders=reminders,
            goals=Goals(store),
            resources=resources or Resources(),
            overviews=overviews,
            clock=clock or system_clock,
            retention_days=retention_days,
            recent=recent,
        )
