"""Reading the dates and times stored in documents, tolerantly.

Everything the bot stores as a time is an ISO string it wrote itself, but a stored file can
be changed by a disk fault, a restore or a hand edit. One changed character must cost at
most that one field: a stamp that cannot be read counts as missing, so that person's views
still work and a background job (retention, nudges) goes on with everyone else. Readers of
a stored date in `model/` go through here, except two that apply the same rule themselves:
the overviews (`aggregates._readable` leaves out a check whose date cannot be read) and the
reminder preferences (`reminders.prefs_of` gives an unreadable field its default).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterable


def instant(value: Any) -> datetime | None:
    """A stored ISO time as an aware datetime (a time stored without an offset is UTC, as
    everything is written in UTC); None when missing or unreadable."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str) and value:
        try:
            found = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            return None
    else:
        return None
    if found.tzinfo is None or found.utcoffset() is None:
        found = found.replace(tzinfo=timezone.utc)
    return found


def day(value: Any) -> date | None:
    """A stored day ("2026-12-01", or the day of a stored time); None when missing or unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        when = instant(value)
        return when.astimezone(timezone.utc).date() if when else None


def unreadable(value: Any) -> bool:
    """Is something stored here that is not a readable time? (Missing is not unreadable.)"""
    return value not in (None, "") and instant(value) is None and day(value) is None


def newest(values: Iterable[Any]) -> datetime | None:
    """The newest readable time among `values` (unreadable ones are left out)."""
    found = [w for w in (instant(v) for v in values) if w is not None]
    return max(found) if found else None
