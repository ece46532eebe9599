"""What dialogs may use, built once at start-up: the owners of the stored data and the one clock.

Every "now" in the bot comes from `Services.now()`, so tests move time by giving a clock
and nothing reads the system time behind their back. Model functions take `now` as an
argument instead of reading a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from model.docstore import DocStore
from model.goals import Goals
from model.reminders import Reminders
from model.resources import Resources
from model.users import Users

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
    clock: Clock = system_clock

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        return self.clock()

    @classmethod
    def create(cls, store: DocStore, clock: Clock | None = None, resources: Resources | None = None) -> "Services":
        reminders = Reminders(store)
        users = Users(store, on_delete=(reminders.forget,))  # deletion also clears the schedule index
        return cls(
            store=store,
            users=users,
            reminders=reminders,
            goals=Goals(store),
            resources=resources or Resources(),
            clock=clock or system_clock,
        )
