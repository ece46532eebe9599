"""Scheduling rules for reminder nudges. The clock is always injected."""

import json
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from model.domain import schedule
from model.domain.schedule import (
    FREQUENCIES,
    Decision,
    ReminderPrefs,
    decide,
    format_when,
    is_working_day,
    next_slot,
    snooze_until,
)

UTC = timezone.utc
CPH = ZoneInfo("Europe/Copenhagen")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def cph(*args):
    """Copenhagen wall time as an aware UTC datetime."""
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


def prefs(**kw):
    kw.setdefault("frequency", "weekly")
    kw.setdefault("anchor", date(2026, 1, 1))
    return ReminderPrefs(**kw)


def slots(p, after, n):
    out = []
    for _ in range(n):
        after = next_slot(p, after)
        out.append(after)
    return out


# --- preferences ---------------------------------------------------------------


def test_frequencies():
    assert FREQUENCIES == ("weekly", "biweekly", "monthly", "quarterly", "off")


def test_prefs_round_trip_through_json():
    p = ReminderPrefs(
        "biweekly", 3, "10:30", "Europe/Copenhagen", date(2026, 2, 3), "07:30", "15:00", utc(2026, 2, 4, 9, 0), True
    )
    d = json.loads(json.dumps(p.to_dict()))
    assert d["anchor"] == "2026-02-03"
    assert d["snoozed_until"] == "2026-02-04T09:00:00+00:00"
    assert ReminderPrefs.from_dict(d) == p


def test_prefs_from_dict_is_tolerant():
    assert ReminderPrefs.from_dict({}) == ReminderPrefs()
    assert ReminderPrefs.from_dict(None) == ReminderPrefs()
    p = ReminderPrefs.from_dict(
        {"frequency": "weekly", "weekday": "2", "anchor": None, "snoozed_until": "2026-02-04T09:00:00", "unknown": 1}
    )
    assert (p.frequency, p.weekday, p.time, p.tz) == ("weekly", 2, "09:00", "Europe/Copenhagen")
    assert p.snoozed_until == utc(2026, 2, 4, 9, 0)


@pytest.mark.parametrize(
    "kw",
    [
        {"frequency": "daily"},
        {"weekday": 7},
        {"time": "9"},
        {"tz": "Mars/Olympus"},
        {"work_start": "16:00", "work_end": "08:00"},
        {"snoozed_until": datetime(2026, 1, 1, 9)},  # naive
    ],
)
def test_prefs_reject_bad_values(kw):
    with pytest.raises((ValueError, TypeError, KeyError)):
        ReminderPrefs(**kw)


# --- working days ----------------------------------------------------------------


@pytest.mark.parametrize(
    "d",
    [
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2026, 6, 5),  # Grundlovsdag (a Friday)
        date(2027, 3, 25),
        date(2027, 3, 26),
        date(2027, 3, 29),  # Easter 2027
        date(2027, 5, 6),  # Kristi Himmelfartsdag
        date(2026, 5, 25),  # 2. pinsedag
        date(2023, 5, 5),  # Store Bededag (before abolition)
        date(2026, 3, 7),
        date(2026, 3, 8),  # weekend
    ],
)
def test_closed_days(d):
    assert not is_working_day(d)


@pytest.mark.parametrize(
    "d", [date(2026, 12, 23), date(2026, 12, 28), date(2027, 3, 30), date(2026, 5, 1)]
)  # 1 May is a working day here
def test_working_days(d):
    assert is_working_day(d)


# --- frequencies -------------------------------------------------------------------


def test_weekly():
    p = prefs(weekday=2)  # Wednesday 09:00
    assert slots(p, utc(2026, 3, 1), 3) == [cph(2026, 3, 4, 9), cph(2026, 3, 11, 9), cph(2026, 3, 18, 9)]


def test_next_slot_is_strictly_after():
    p = prefs(weekday=2)
    assert next_slot(p, cph(2026, 3, 4, 9)) == cph(2026, 3, 11, 9)
    assert next_slot(p, cph(2026, 3, 4, 8, 59)) == cph(2026, 3, 4, 9)


def test_slots_only_after_anchor_date():
    p = prefs(weekday=0, anchor=date(2026, 3, 9))  # set on a Monday
    assert next_slot(p, cph(2026, 3, 9, 7)) == cph(2026, 3, 16, 9)
    assert decide(p, cph(2026, 3, 9, 10), None, None).reason == "not_due"


def test_biweekly_counts_from_first_weekday_after_anchor():
    p = prefs(frequency="biweekly", weekday=3, anchor=date(2026, 3, 3))  # Tue -> Thu 5 Mar
    # 2 April 2026 is Skærtorsdag -> Tue 7 April (Fri, weekend and Mon are closed);
    # the rhythm continues from the nominal dates, not from the moved slot.
    assert slots(p, utc(2026, 3, 1), 4) == [
        cph(2026, 3, 5, 9),
        cph(2026, 3, 19, 9),
        cph(2026, 4, 7, 9),
        cph(2026, 4, 16, 9),
    ]


def test_monthly_is_first_weekday_of_month():
    p = prefs(frequency="monthly", weekday=1, anchor=date(2026, 1, 10))  # first Tuesday
    assert slots(p, utc(2026, 1, 10), 3) == [cph(2026, 2, 3, 9), cph(2026, 3, 3, 9), cph(2026, 4, 7, 9)]


def test_monthly_holiday_moves_to_next_working_day():
    p = prefs(frequency="monthly", weekday=4, anchor=date(2026, 12, 1))  # first Friday
    # Fri 1 Jan 2027 is nytårsdag -> Mon 4 Jan.
    assert slots(p, utc(2026, 12, 1), 2) == [cph(2026, 12, 4, 9), cph(2027, 1, 4, 9)]


def test_quarterly_counts_months_from_anchor():
    p = prefs(frequency="quarterly", weekday=0, anchor=date(2026, 1, 20))  # Jan already passed
    # First Monday of April 2026 is 2. påskedag (6 April) -> Tue 7 April.
    assert slots(p, utc(2026, 1, 20), 4) == [
        cph(2026, 4, 7, 9),
        cph(2026, 7, 6, 9),
        cph(2026, 10, 5, 9),
        cph(2027, 1, 4, 9),
    ]


def test_off_and_paused_have_no_slots():
    assert next_slot(prefs(frequency="off"), utc(2026, 3, 1)) is None
    assert next_slot(prefs(paused=True), utc(2026, 3, 1)) is None
    assert decide(prefs(frequency="off"), cph(2026, 3, 4, 10), None, None) == Decision(None, False, "off")
    assert decide(prefs(paused=True), cph(2026, 3, 4, 10), None, None) == Decision(None, False, "paused")


# --- weekends, holidays, working hours -----------------------------------------------


def test_weekend_weekday_moves_to_monday():
    p = prefs(weekday=5)  # Saturday
    assert next_slot(p, cph(2026, 3, 3)) == cph(2026, 3, 9, 9)  # Sat 7 -> Mon 9


def test_christmas_eve_thursday_moves_to_monday_28th():
    p = prefs(weekday=3)
    # 24 Dec 2026 (Thu) -> 25, 26 closed, 27 Sunday -> Mon 28 Dec.
    # 31 Dec (Thu) -> 1 Jan closed, weekend -> Mon 4 Jan.
    assert slots(p, utc(2026, 12, 18), 3) == [cph(2026, 12, 28, 9), cph(2027, 1, 4, 9), cph(2027, 1, 7, 9)]


@pytest.mark.parametrize("weekday", [0, 3, 4])  # Mon 29, Thu 25, Fri 26 March 2027
def test_easter_2027_moves_to_tuesday_30_march(weekday):
    p = prefs(weekday=weekday, anchor=date(2027, 3, 1))
    assert next_slot(p, cph(2027, 3, 24, 16)) == cph(2027, 3, 30, 9)


def test_ascension_day_2027():
    p = prefs(weekday=3, anchor=date(2027, 1, 1))
    assert next_slot(p, cph(2027, 5, 1)) == cph(2027, 5, 7, 9)  # Thu 6 May -> Fri 7 May


def test_grundlovsdag():
    p = prefs(weekday=4)
    assert next_slot(p, cph(2026, 6, 1)) == cph(2026, 6, 8, 9)  # Fri 5 June -> Mon 8 June


def test_before_working_hours_moves_to_start_same_day():
    assert next_slot(prefs(time="07:00"), cph(2026, 3, 1)) == cph(2026, 3, 2, 8)


def test_after_working_hours_moves_to_next_working_day_start():
    assert next_slot(prefs(time="17:00"), cph(2026, 3, 1)) == cph(2026, 3, 3, 8)  # Mon -> Tue
    assert next_slot(prefs(time="17:00", weekday=4), cph(2026, 3, 3)) == cph(2026, 3, 9, 8)  # Fri -> Mon
    assert next_slot(prefs(time="16:00"), cph(2026, 3, 1)) == cph(2026, 3, 2, 16)  # end is inclusive


def test_custom_working_hours():
    p = prefs(time="09:00", work_start="09:30", work_end="14:00")
    assert next_slot(p, cph(2026, 3, 1)) == cph(2026, 3, 2, 9, 30)
    p = prefs(time="14:30", work_start="09:30", work_end="14:00")
    assert next_slot(p, cph(2026, 3, 1)) == cph(2026, 3, 3, 9, 30)


# --- daylight saving time -------------------------------------------------------------


@pytest.mark.parametrize(
    "after, expected",
    [
        # 2026: CEST from Sun 29 March, CET again from Sun 25 October.
        (utc(2026, 3, 22), utc(2026, 3, 23, 8)),
        (utc(2026, 3, 24), utc(2026, 3, 30, 7)),
        (utc(2026, 10, 18), utc(2026, 10, 19, 7)),
        (utc(2026, 10, 20), utc(2026, 10, 26, 8)),
        # 2027: CEST from Sun 28 March (Mon 29 is 2. påskedag -> Tue 30), CET from Sun 31 October.
        (utc(2027, 3, 21), utc(2027, 3, 22, 8)),
        (utc(2027, 3, 23), utc(2027, 3, 30, 7)),
        (utc(2027, 10, 24), utc(2027, 10, 25, 7)),
        (utc(2027, 10, 26), utc(2027, 11, 1, 8)),
    ],
)
def test_nine_oclock_local_across_dst(after, expected):
    p = prefs(weekday=0)
    got = next_slot(p, after)
    assert got == expected
    assert got.astimezone(CPH).strftime("%H:%M") == "09:00"


def test_decide_across_spring_forward():
    p = prefs(weekday=0)
    last = utc(2026, 3, 23, 8)
    assert decide(p, utc(2026, 3, 30, 6, 59), last, None).reason == "not_due"
    assert decide(p, utc(2026, 3, 30, 7, 0), last, None) == Decision(utc(2026, 3, 30, 7), True, "due")


def test_nonexistent_and_ambiguous_local_times_are_safe():
    # Copenhagen: 02:30 does not exist on 29 March 2026 and happens twice on 25 October.
    assert schedule._local_to_utc(datetime(2026, 3, 29, 2, 30), CPH) == utc(2026, 3, 29, 1, 30)
    assert schedule._local_to_utc(datetime(2026, 10, 25, 2, 30), CPH) == utc(2026, 10, 25, 0, 30)
    # Cairo changes clocks on working days: Fri 24 April 2026 00:00 -> 01:00,
    # Thu 29 October 2026 24:00 -> 23:00.
    gap = prefs(weekday=4, time="00:30", tz="Africa/Cairo", work_start="00:00", work_end="23:59")
    assert next_slot(gap, utc(2026, 4, 20)) == utc(2026, 4, 23, 22, 30)  # = 01:30 summer time
    twice = prefs(weekday=3, time="23:30", tz="Africa/Cairo", work_start="00:00", work_end="23:59")
    assert next_slot(twice, utc(2026, 10, 26)) == utc(2026, 10, 29, 20, 30)  # first 23:30


# --- snooze ---------------------------------------------------------------------------


def test_snooze_is_tomorrow_at_preferred_time():
    p = prefs()
    assert snooze_until(p, cph(2026, 3, 4, 10)) == cph(2026, 3, 5, 9)
    assert snooze_until(p, cph(2026, 3, 6, 10)) == cph(2026, 3, 9, 9)  # Friday -> Monday
    assert snooze_until(p, cph(2026, 12, 23, 10)) == cph(2026, 12, 28, 9)  # over Christmas
    assert snooze_until(p, cph(2026, 3, 4, 23, 30)) == cph(2026, 3, 5, 9)  # local "tomorrow"
    assert snooze_until(prefs(time="17:00"), cph(2026, 3, 4, 10)) == cph(2026, 3, 6, 8)


def test_snooze_replaces_regular_slot_before_it():
    base = prefs(weekday=1)  # Tuesday
    sent = cph(2026, 3, 3, 9)
    p = ReminderPrefs.from_dict({**base.to_dict(), "snoozed_until": cph(2026, 3, 11, 9).isoformat()})
    assert next_slot(p, sent) == cph(2026, 3, 11, 9)  # not Tue 10 March
    assert next_slot(p, cph(2026, 3, 11, 9)) == cph(2026, 3, 17, 9)
    assert decide(p, cph(2026, 3, 10, 10), sent, None).reason == "not_due"
    d = decide(p, cph(2026, 3, 11, 9, 5), sent, None)
    assert d == Decision(cph(2026, 3, 11, 9), True, "due")
    assert decide(p, cph(2026, 3, 11, 9, 6), d.slot, None).reason == "not_due"
    # A stale snooze (already handled) changes nothing.
    assert decide(p, cph(2026, 3, 17, 9), d.slot, None) == Decision(cph(2026, 3, 17, 9), True, "due")


def test_remind_me_tomorrow_flow():
    p = prefs(weekday=0)
    first = decide(p, cph(2026, 3, 9, 9, 1), None, None)
    assert first.send and first.slot == cph(2026, 3, 9, 9)
    p = ReminderPrefs.from_dict({**p.to_dict(), "snoozed_until": snooze_until(p, cph(2026, 3, 9, 9, 30)).isoformat()})
    assert decide(p, cph(2026, 3, 9, 15), first.slot, None).reason == "not_due"
    again = decide(p, cph(2026, 3, 10, 9), first.slot, None)
    assert again == Decision(cph(2026, 3, 10, 9), True, "due")


# --- decide: skip, catch-up, idempotency ------------------------------------------------


def test_due_and_repeat_is_not_due():
    p = prefs(weekday=0)
    d = decide(p, cph(2026, 3, 9, 9), cph(2026, 3, 2, 9), None)
    assert d == Decision(cph(2026, 3, 9, 9), True, "due")
    assert decide(p, cph(2026, 3, 9, 9, 10), d.slot, None) == Decision(None, False, "not_due")


def test_before_first_slot_is_not_due():
    assert decide(prefs(weekday=0), cph(2026, 3, 9, 8, 59), cph(2026, 3, 2, 9), None).reason == "not_due"


def test_recent_assessment_skips_the_slot():
    p = prefs(weekday=0)
    now, last = cph(2026, 3, 9, 9, 1), cph(2026, 3, 2, 9)
    skip = Decision(cph(2026, 3, 9, 9), False, "skipped_recent_assessment")
    assert decide(p, now, last, cph(2026, 3, 7, 12)) == skip  # 2 days before
    assert decide(p, now, last, cph(2026, 3, 6, 9, 1)) == skip  # just under 3 days
    assert decide(p, now, last, cph(2026, 3, 9, 9)) == skip  # done at the slot itself
    assert decide(p, now, last, cph(2026, 3, 6, 8, 59)).reason == "due"  # just over 3 days
    assert decide(p, now, last, cph(2026, 2, 1)).reason == "due"
    # The skipped slot is recorded; the following one is a normal nudge.
    assert decide(p, cph(2026, 3, 16, 9), skip.slot, cph(2026, 3, 7, 12)).reason == "due"


def test_assessment_during_downtime_skips_the_overdue_slot():
    p = prefs(weekday=0)
    d = decide(p, cph(2026, 3, 11, 12), cph(2026, 3, 2, 9), cph(2026, 3, 10, 10))
    assert d == Decision(cph(2026, 3, 9, 9), False, "skipped_recent_assessment")


def test_catch_up_sends_only_most_recent_missed_slot():
    p = prefs(weekday=0)
    # Slots 9, 16 and 23 March were all missed.
    d = decide(p, cph(2026, 3, 25, 12), cph(2026, 3, 2, 9), None)
    assert d == Decision(cph(2026, 3, 23, 9), True, "due")
    assert decide(p, cph(2026, 3, 25, 12, 1), d.slot, None).reason == "not_due"


def test_catch_up_after_ten_days_down_picks_the_one_day_old_slot():
    p = prefs(weekday=0)
    # Down from 7 to 17 March: slots on 9 March (8 days ago) and 16 March (1 day ago).
    d = decide(p, cph(2026, 3, 17, 10), cph(2026, 3, 2, 9), None)
    assert d == Decision(cph(2026, 3, 16, 9), True, "due")


def test_catch_up_limit_is_seven_days():
    p = prefs(frequency="biweekly", weekday=0, anchor=date(2026, 3, 1))  # 2, 16, 30 March
    assert decide(p, cph(2026, 3, 9, 9), cph(2026, 2, 1), None) == Decision(cph(2026, 3, 2, 9), True, "due")


def test_only_a_nine_day_old_slot_is_too_old():
    p = prefs(frequency="biweekly", weekday=0, anchor=date(2026, 3, 1))  # 2, 16 March
    d = decide(p, cph(2026, 3, 11, 9), None, None)
    assert d == Decision(cph(2026, 3, 2, 9), False, "too_old")
    assert decide(p, cph(2026, 3, 11, 9, 5), d.slot, None) == Decision(None, False, "not_due")
    assert decide(p, cph(2026, 3, 16, 9), d.slot, None).reason == "due"


def test_decide_does_not_walk_from_an_old_anchor(monkeypatch):
    calls = []
    real = schedule.is_working_day
    monkeypatch.setattr(schedule, "is_working_day", lambda d: calls.append(d) or real(d))
    p = prefs(frequency="biweekly", weekday=2, anchor=date(2001, 1, 3))
    d = decide(p, cph(2026, 3, 11, 12), None, None)
    assert d.reason in {"due", "too_old"}
    assert len(calls) < 30


def test_decide_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        decide(prefs(), datetime(2026, 3, 9, 9), None, None)


# --- formatting ---------------------------------------------------------------------------

DA = {
    "weekdays": ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"],
    "months": [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "format": "{weekday} d. {day}. {month} {year} kl. {time}",
}
EN = {
    "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "months": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "format": "{weekday} {day} {month} {year} at {time}",
}


def test_format_when_danish_and_english_in_local_time():
    assert format_when(utc(2026, 3, 30, 7), "Europe/Copenhagen", DA) == "mandag d. 30. marts 2026 kl. 09:00"
    assert format_when(utc(2026, 12, 28, 8), "Europe/Copenhagen", DA) == "mandag d. 28. december 2026 kl. 09:00"
    assert format_when(utc(2026, 3, 30, 7), "Europe/Copenhagen", EN) == "Monday 30 March 2026 at 09:00"
