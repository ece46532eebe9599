"""Pure scheduling rules for reminder nudges.

No Bot Framework, no I/O, no sleeping: every function takes the current time as
an argument so the caller (and the tests) own the clock.  All datetimes passed
in and returned are timezone-aware; returned ones are in UTC.

Rules, in one place:

* A *regular slot* comes from a *nominal date* (below) at the preferred time of
  day, in the person's local wall-clock time.
    - weekly:    every chosen weekday strictly after the anchor date.
    - biweekly:  the first chosen weekday strictly after the anchor, then every
                 14 days from it.
    - monthly:   the first chosen weekday of every month (e.g. "first Tuesday").
    - quarterly: the first chosen weekday of the anchor month and every third
                 month after it (anchor in Jan -> Jan, Apr, Jul, Oct).
  Only nominal dates strictly after the anchor count, so setting a schedule
  never triggers an immediate catch-up nudge for earlier that day.
* The local time is then moved to the next allowed time: before work start ->
  work start the same day; after work end -> next day at work start; a
  non-working day (weekend, Danish public holiday, EXTRA_CLOSED_DAYS) -> the
  next working day at the same (already clamped) time of day, so a 09:00
  person still gets 09:00 after Easter.
* Local wall time is converted to UTC with zoneinfo, so 09:00 stays 09:00 on
  both sides of a DST change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# --- data ------------------------------------------------------------------

FREQUENCIES = ("weekly", "biweekly", "monthly", "quarterly", "off")

# (month, day) that are never working days, on top of `holidays`' DK set.
# holidays 0.109 lists only the statutory days (1 Jan, Easter, Ascension,
# Whitsun, 25/26 Dec); 24 Dec, 31 Dec and Grundlovsdag are only in its
# "optional" category, which also adds 1 May - not a day off for everyone.
EXTRA_CLOSED_DAYS = (
    (1, 1),  # nytårsdag
    (6, 5),  # grundlovsdag
    (12, 24),  # juleaftensdag
    (12, 25),  # juledag
    (12, 26),  # 2. juledag
    (12, 31),  # nytårsaftensdag
)

DEFAULT_TZ = "Europe/Copenhagen"
WORK_START, WORK_END = "08:00", "16:00"  # nudges only inside working hours (16:00 included)
WORKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday: the weekdays a person can choose
CATCH_UP_MAX_AGE = timedelta(days=7)  # older missed slots are not sent
RECENT_ASSESSMENT = timedelta(days=3)  # a recent assessment makes a nudge moot
# Upper bound on how far the allowed-time adjustment can push a slot
# (after-hours roll + the longest run of closed days, e.g. Easter Thu-Mon).
_MAX_SHIFT_DAYS = 10
# decide() looks at nominal dates this far back: every slot not older than
# CATCH_UP_MAX_AGE is found, and a slightly older one is reported as too_old.
_LOOKBACK_DAYS = CATCH_UP_MAX_AGE.days + 1 + _MAX_SHIFT_DAYS
# next_slot() gives up after this many days (quarterly needs ~100).
_LOOKAHEAD_DAYS = 400
# Parity origin for schedules saved without an anchor (a Monday, 1 January).
_DEFAULT_ANCHOR = date(2024, 1, 1)

_DK_HOLIDAYS = holidays.country_holidays("DK")
UTC = timezone.utc


# Windows time zone names, as Teams on Windows may send them in `localTimezone`, for the
# zones of the people who use the bot and their neighbours (Windows' own names; the IANA
# zone is the one Windows maps them to, except Romance Standard Time: Copenhagen is in it).
WINDOWS_ZONES = {
    "Romance Standard Time": "Europe/Copenhagen",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "Greenland Standard Time": "America/Nuuk",
    "FLE Standard Time": "Europe/Helsinki",
    "E. Europe Standard Time": "Europe/Chisinau",
    "GTB Standard Time": "Europe/Bucharest",
    "Russian Standard Time": "Europe/Moscow",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
}
# "UTC+01:00", "UTC-5", "GMT+2", or a Windows display name "(UTC+01:00) Brussels, Copenhagen, ...".
_OFFSET_ZONE = re.compile(r"^\(?(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\)?(?:\s.*)?$", re.IGNORECASE)


def resolve_zone(name: object) -> tuple[str, bool]:
    """The IANA zone for what a client sent as its time zone, and whether it was understood:
    an IANA name, a Windows name, or a whole-hour UTC offset (a fixed zone, without daylight
    saving, as the client said). Anything else: Europe/Copenhagen, and False (tell the person)."""
    if not isinstance(name, str) or not name.strip():
        return DEFAULT_TZ, False
    name = name.strip()
    if name in WINDOWS_ZONES:
        return WINDOWS_ZONES[name], True
    match = _OFFSET_ZONE.match(name)
    if match:
        sign, hours, minutes = match.groups()
        if not sign or (int(hours) == 0 and not int(minutes or 0)):
            return "UTC", True
        if int(minutes or 0) == 0 and int(hours) <= 14:
            # Etc/GMT zones count the other way round: UTC+01:00 is Etc/GMT-1.
            return f"Etc/GMT{'-' if sign == '+' else '+'}{int(hours)}", True
        return DEFAULT_TZ, False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return DEFAULT_TZ, False
    return name, True


# --- preferences -----------------------------------------------------------


def _parse_hhmm(value: str) -> time:
    """'HH:MM' -> time; strict enough to catch typos in stored data."""
    hours, sep, minutes = str(value).strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"time must be 'HH:MM', got {value!r}")
    return time(int(hours), int(minutes))


def _as_utc(dt: datetime, name: str) -> datetime:
    """Reject naive datetimes: guessing their zone is how nudges drift."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class ReminderPrefs:
    """One person's reminder choices, as stored with their conversation."""

    frequency: str = "off"
    weekday: int = 0  # 0 = Monday .. 6 = Sunday
    time: str = "09:00"  # local time of day
    tz: str = DEFAULT_TZ  # IANA zone name
    anchor: date | None = None  # date the schedule was set
    work_start: str = WORK_START
    work_end: str = WORK_END  # inclusive: 16:00 is still allowed
    snoozed_until: datetime | None = None
    paused: bool = False

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}")
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) .. 6 (Sunday)")
        _parse_hhmm(self.time)
        if _parse_hhmm(self.work_start) >= _parse_hhmm(self.work_end):
            raise ValueError("work_start must be before work_end")
        ZoneInfo(self.tz)  # raises for unknown zones
        if self.snoozed_until is not None:
            _as_utc(self.snoozed_until, "snoozed_until")

    def to_dict(self) -> dict:
        """JSON-safe dict (ISO strings), the inverse of from_dict."""
        return {
            "frequency": self.frequency,
            "weekday": self.weekday,
            "time": self.time,
            "tz": self.tz,
            "anchor": self.anchor.isoformat() if self.anchor else None,
            "work_start": self.work_start,
            "work_end": self.work_end,
            "snoozed_until": (_as_utc(self.snoozed_until, "snoozed_until").isoformat() if self.snoozed_until else None),
            "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> "ReminderPrefs":
        """Build from stored data; missing/None keys take defaults, unknown keys
        are ignored (older or newer records still load)."""
        d = {k: v for k, v in (d or {}).items() if v is not None}
        kwargs: dict = {}
        for key in ("frequency", "time", "tz", "work_start", "work_end"):
            if key in d:
                kwargs[key] = str(d[key])
        if "weekday" in d:
            kwargs["weekday"] = int(d["weekday"])
        if "paused" in d:
            kwargs["paused"] = bool(d["paused"])
        if "anchor" in d:
            a = d["anchor"]
            kwargs["anchor"] = a if isinstance(a, date) else date.fromisoformat(a)
        if "snoozed_until" in d:
            s = d["snoozed_until"]
            s = s if isinstance(s, datetime) else datetime.fromisoformat(s)
            kwargs["snoozed_until"] = s if s.tzinfo else s.replace(tzinfo=UTC)
        return cls(**kwargs)


# --- calendar rules --------------------------------------------------------


def is_working_day(d: date) -> bool:
    """Mon-Fri and neither a Danish public holiday nor an extra closed day."""
    return d.weekday() < 5 and (d.month, d.day) not in EXTRA_CLOSED_DAYS and d not in _DK_HOLIDAYS


def _local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Naive local wall time -> aware UTC.

    fold=0 makes this total: a nonexistent time (spring-forward gap) gets the
    pre-transition offset and so lands just after the gap (02:30 -> 03:30
    summer time); an ambiguous time (autumn) takes its first occurrence.
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _allowed_local(d: date, t: time, prefs: ReminderPrefs) -> datetime:
    """First allowed local wall time at or after (d, t)."""
    start, end = _parse_hhmm(prefs.work_start), _parse_hhmm(prefs.work_end)
    if t < start:
        t = start
    elif t > end:
        d, t = d + timedelta(days=1), start
    while not is_working_day(d):
        d += timedelta(days=1)
    return datetime.combine(d, t)


def _allowed_utc(dt: datetime, prefs: ReminderPrefs) -> datetime:
    """Move an arbitrary aware instant to the next allowed time (UTC)."""
    zone = ZoneInfo(prefs.tz)
    local = _as_utc(dt, "datetime").astimezone(zone)
    t = local.time().replace(tzinfo=None)
    return _local_to_utc(_allowed_local(local.date(), t, prefs), zone)


def _anchor(prefs: ReminderPrefs) -> date:
    return prefs.anchor or _DEFAULT_ANCHOR


def _is_nominal(prefs: ReminderPrefs, d: date) -> bool:
    """Is d a scheduled date before working-day adjustment? (rules: module doc)"""
    anchor = _anchor(prefs)
    if d <= anchor or d.weekday() != prefs.weekday:
        return False
    if prefs.frequency == "weekly":
        return True
    if prefs.frequency == "biweekly":
        first = anchor + timedelta(days=(prefs.weekday - anchor.weekday() - 1) % 7 + 1)
        return (d - first).days % 14 == 0
    if prefs.frequency == "monthly":
        return d.day <= 7
    if prefs.frequency == "quarterly":
        months = (d.year - anchor.year) * 12 + d.month - anchor.month
        return d.day <= 7 and months % 3 == 0
    return False  # "off"


def _slot_for(prefs: ReminderPrefs, d: date, zone: ZoneInfo) -> datetime:
    """Regular slot (UTC) for nominal date d."""
    return _local_to_utc(_allowed_local(d, _parse_hhmm(prefs.time), prefs), zone)


def _regular_slots(prefs: ReminderPrefs, first: date, last: date) -> list[datetime]:
    """Regular slots whose nominal date is in [first, last], ascending."""
    return list(_slots_from(prefs, first, last))


def _slots_from(prefs: ReminderPrefs, first: date, last: date) -> Iterator[datetime]:
    """The same, one at a time, so a caller that needs only the next one stops there
    (a wave of 50,000 nudges asks each person's next slot).

    The adjustment is monotone, so they come sorted; duplicates (two nominal dates
    pushed onto the same day) are dropped.
    """
    zone = ZoneInfo(prefs.tz)
    previous: datetime | None = None
    d = first
    while d <= last:
        if _is_nominal(prefs, d):
            s = _slot_for(prefs, d, zone)
            if previous is None or s > previous:
                previous = s
                yield s
        d += timedelta(days=1)


def _snooze_slot(prefs: ReminderPrefs) -> datetime | None:
    if prefs.snoozed_until is None:
        return None
    return _allowed_utc(prefs.snoozed_until, prefs)


# --- public API --------------------------------------------------------------


def next_slot(prefs: ReminderPrefs, after: datetime) -> datetime | None:
    """First slot strictly after `after` (UTC), or None when off/paused.

    A pending snooze replaces the regular slots before it: if the snooze time
    is after `after`, it is the next slot.  Used to tell people when the next
    nudge comes and to let the caller sleep until then.
    """
    after = _as_utc(after, "after")
    if prefs.frequency == "off" or prefs.paused:
        return None
    snooze = _snooze_slot(prefs)
    if snooze is not None and snooze > after:
        return snooze
    local_day = after.astimezone(ZoneInfo(prefs.tz)).date()
    first = local_day - timedelta(days=_MAX_SHIFT_DAYS)
    for s in _slots_from(prefs, first, local_day + timedelta(days=_LOOKAHEAD_DAYS)):
        if s > after:
            return s
    return None


@dataclass(frozen=True)
class Decision:
    """What to do now. `slot` is the slot to record as handled (when given),
    whether or not a nudge is sent - that is what makes sending idempotent."""

    slot: datetime | None
    send: bool
    reason: str  # "due", "not_due", "skipped_recent_assessment", "too_old", "off", "paused"


def decide(
    prefs: ReminderPrefs, now: datetime, last_handled_slot: datetime | None, last_assessment_at: datetime | None
) -> Decision:
    """Should this person get a nudge now, and for which slot?

    Takes the latest slot <= now that is after `last_handled_slot` (slots on
    or before the anchor date never count).  Only that one is considered, so
    catching up after downtime sends at most one nudge; it is not sent if it
    is older than CATCH_UP_MAX_AGE ("too_old") or if an assessment was
    completed within RECENT_ASSESSMENT before the slot, or since it
    ("skipped_recent_assessment").  Both return the slot so the caller
    records it and moves on.  Only nominal dates in the last _LOOKBACK_DAYS
    are examined, so the cost does not grow with the age of the anchor; a
    missed slot older than that is simply not found ("not_due"), which is
    equally safe since it would not be sent anyway.
    """
    now = _as_utc(now, "now")
    handled = _as_utc(last_handled_slot, "last_handled_slot") if last_handled_slot else None
    if prefs.frequency == "off":
        return Decision(None, False, "off")
    if prefs.paused:
        return Decision(None, False, "paused")

    today = now.astimezone(ZoneInfo(prefs.tz)).date()
    candidates = _regular_slots(prefs, today - timedelta(days=_LOOKBACK_DAYS), today)
    snooze = _snooze_slot(prefs)
    if snooze is not None and (handled is None or snooze > handled):
        # A pending snooze replaces the regular slots before it.
        candidates = [s for s in candidates if s >= snooze] + [snooze]
    due = [s for s in candidates if s <= now and (handled is None or s > handled)]
    if not due:
        return Decision(None, False, "not_due")
    slot = max(due)
    if now - slot > CATCH_UP_MAX_AGE:
        return Decision(slot, False, "too_old")
    if last_assessment_at is not None:
        done = _as_utc(last_assessment_at, "last_assessment_at")
        if done > slot - RECENT_ASSESSMENT:
            return Decision(slot, False, "skipped_recent_assessment")
    return Decision(slot, True, "due")


def snooze_until(prefs: ReminderPrefs, now: datetime) -> datetime:
    """ "Remind me tomorrow": tomorrow (local) at the preferred time, moved to
    the next allowed time if that is off hours or a closed day."""
    zone = ZoneInfo(prefs.tz)
    tomorrow = _as_utc(now, "now").astimezone(zone).date() + timedelta(days=1)
    return _local_to_utc(_allowed_local(tomorrow, _parse_hhmm(prefs.time), prefs), zone)


def format_when(dt_utc: datetime, tz: str, calendar: dict) -> str:
    """Human date for a slot in the person's zone.

    All words (weekday/month names, the pattern with e.g. "kl.") come from
    `calendar`, supplied from the language content file.
    """
    local = _as_utc(dt_utc, "dt_utc").astimezone(ZoneInfo(tz))
    return calendar["format"].format(
        weekday=calendar["weekdays"][local.weekday()],
        day=local.day,
        month=calendar["months"][local.month - 1],
        year=local.year,
        time=f"{local.hour:02d}:{local.minute:02d}",
    )
