"""The nudge job under attack (issue 23): a deletion during a wave, a wave that dies before
its index moves are written, a garbled index document and weeks without a run. The real
bot's nudge sender over the stand-in connector, on TinyDB files, with an injected clock;
what is left is read back from the files byte by byte."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from conftest import BotServer, TeamsUser

from model.domain import schedule
from model.domain.reminders import SCHEDULE, Reminders, bucket, hour_of
from model.domain.retention import Retention
from model.domain.users import Users

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
TUESDAY_NINE = datetime(2026, 12, 1, 8, 0, 30, tzinfo=timezone.utc)  # 09:00:30 in Copenhagen
WEEKLY = schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00")
MONTHLY = schedule.ReminderPrefs(frequency="monthly", weekday=1, time="09:00")


def index_mentions(server: BotServer, *people: TeamsUser) -> list[str]:
    """Every nudge-index file that holds one of these people's keys."""
    found = []
    for path in (server.data_dir / SCHEDULE).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {p.name}" for p in people if p.key.encode() in data]
    return found


def nudges_to(connector, user: TeamsUser) -> int:
    return sum(1 for a in connector.activities if a["_path"] == f"/v3/conversations/{user.conversation_id}/activities")


async def due_people(server: BotServer, connector, count: int, prefs=WEEKLY) -> list[TeamsUser]:
    people = []
    for n in range(count):
        person = TeamsUser(connector, name=f"p{n}")
        await person.store_as_due_candidate(server.runtime.store, prefs, MONDAY)
        people.append(person)
    return people


def during_the_wave(server: BotServer, monkeypatch, after_settle) -> None:
    """Run `after_settle(key)` right after each person's nudge is recorded, before the wave
    writes its index moves (which it does in batches, after the sends)."""
    reminders = server.runtime.services.reminders
    settle = reminders.settle

    async def settle_then(key, *args, **kwargs):
        result = await settle(key, *args, **kwargs)
        await after_settle(key)
        return result

    monkeypatch.setattr(reminders, "settle", settle_then)


@pytest.mark.parametrize("deleter", ["slet mine data", "retention"])
async def test_a_person_deleted_during_a_nudge_wave_leaves_no_trace_in_the_index(
    server, connector, monkeypatch, deleter
):
    people = await due_people(server, connector, 4)
    gone, stays = people[0], people[1:]
    services = server.runtime.services

    async def delete(key: str) -> None:
        if key != gone.key:
            return
        if deleter == "slet mine data":
            await services.users.delete(key)
        else:  # retention's daily run, with the clock far on for this one person
            await services.store.update("users", key, lambda d: d.update(seen="2024-01-01"))
            await Retention(services.store, services.users).run(TUESDAY_NINE, None)

    during_the_wave(server, monkeypatch, delete)
    report = await server.runtime.nudges.run(TUESDAY_NINE)

    assert report.outcomes["sent"] == 4 and await services.users.get(gone.key) is None
    assert index_mentions(server, gone) == [], "the wave's index moves brought the deleted person back"
    next_week = TUESDAY_NINE + timedelta(days=7)
    assert sorted(await services.reminders.due(next_week)) == sorted(p.key for p in stays)


async def test_deleted_while_changing_their_reminder_leaves_no_trace_in_the_index(server, connector, monkeypatch):
    """`forget` (or `slet mine data`) between the reminder's change in the person's document
    and the index write that follows it."""
    (person,) = await due_people(server, connector, 1)
    services = server.runtime.services
    reindex_many = services.reminders.reindex_many

    async def deleted_first(moves):
        await services.users.delete(person.key)
        await reindex_many(moves)

    monkeypatch.setattr(services.reminders, "reindex_many", deleted_first)
    await services.reminders.configure(person.key, schedule.ReminderPrefs(frequency="weekly", weekday=3), MONDAY)
    assert index_mentions(server, person) == []


async def test_a_wave_killed_before_its_index_moves_leaves_nothing_that_outlives_the_person(
    server, connector, monkeypatch
):
    people = await due_people(server, connector, 3)
    services = server.runtime.services
    reindex_many = services.reminders.reindex_many

    async def killed(moves):  # the process died with the moves still in memory
        if moves:
            return

    monkeypatch.setattr(services.reminders, "reindex_many", killed)
    report = await server.runtime.nudges.run(TUESDAY_NINE)
    assert report.outcomes["sent"] == 3
    monkeypatch.setattr(services.reminders, "reindex_many", reindex_many)
    assert index_mentions(server, people[0]), "the stale entry the kill left"

    await services.users.delete(people[0].key)  # deleted later, e.g. with `forget`
    assert index_mentions(server, people[0]) == []

    # The next run tidies the others' stale entries and nudges them once the next week.
    await server.runtime.nudges.run(TUESDAY_NINE + timedelta(minutes=1))
    docs = [json.loads(p.read_text()) for p in (server.data_dir / SCHEDULE).rglob("*.json")]
    stale_hour = [d for d in docs if d["document"]["1"].get("bucket", "").startswith(hour_of(TUESDAY_NINE))]
    assert all(not d["document"]["1"]["due"] for d in stale_hour)
    await server.runtime.nudges.run(TUESDAY_NINE + timedelta(days=7))
    assert [nudges_to(connector, p) for p in people[1:]] == [2, 2]
    for person in people[1:]:
        await services.users.delete(person.key)
    assert index_mentions(server, *people) == []


@pytest.mark.parametrize(
    "garble, counted, still_nudged",
    [
        (lambda key, due: {**due, key: due[key][:-1] + "x"}, 1, True),  # one changed character in a time
        (lambda key, due: {**due, key: 5}, 1, True),  # not a time at all
        (lambda key, due: {**due, key: due[key][:19]}, 0, True),  # a time without its offset: UTC, as written
        (lambda key, due: {(k.replace("|", "!") if k == key else k): v for k, v in due.items()}, 0, False),
        (lambda key, due: ["not", "a", "map"], 1, False),
    ],
    ids=["bad-character", "number", "no-offset", "changed-key", "not-a-map"],
)
async def test_one_garbled_index_document_costs_nobody_else_their_nudge(
    server, connector, garble, counted, still_nudged
):
    people = await due_people(server, connector, 6)
    store = server.runtime.store
    name = bucket(TUESDAY_NINE.replace(second=0), people[0].key)
    index, _ = await store.read(SCHEDULE, name)
    others = [p for p in people if p.key not in index["due"]]  # the people in other index documents
    index["due"] = garble(people[0].key, dict(index["due"]))
    await store.write(SCHEDULE, name, index)  # one changed byte: still valid JSON

    report = await server.runtime.nudges.run(TUESDAY_NINE)

    assert [nudges_to(connector, p) for p in others] == [1] * len(others), report.as_dict()
    assert nudges_to(connector, people[0]) == (1 if still_nudged else 0)  # their own document decides
    unreadable = sum(v for k, v in report.as_dict().items() if k.startswith("unreadable_"))
    assert unreadable == counted, report.as_dict()  # counted, never logged
    again = await server.runtime.nudges.run(TUESDAY_NINE + timedelta(days=7))
    assert again.outcomes["sent"] >= len(others) and not any(k.startswith("unreadable_") for k in again.as_dict())


async def test_after_weeks_without_a_run_everyone_gets_one_overdue_nudge_and_moves_on(server, connector):
    weekly = await due_people(server, connector, 3)
    monthly = await due_people(server, connector, 2, prefs=MONTHLY)
    nudges = server.runtime.nudges
    first = await nudges.run(TUESDAY_NINE)  # Tuesday 1 December: everyone's first slot
    assert first.outcomes["sent"] == 5

    # Holiday shutdown: no run for 50 days. The monthly slot of 5 January is too old by
    # then (docs/nudges.md: none older than 7 days); the weekly one of Tuesday 19 January is not.
    back = datetime(2027, 1, 20, 12, 0, tzinfo=timezone.utc)
    report = await nudges.run(back)
    assert [nudges_to(connector, p) for p in weekly] == [2, 2, 2]  # exactly one overdue nudge each
    assert [nudges_to(connector, p) for p in monthly] == [1, 1]
    assert report.outcomes["too_old"] + report.outcomes["not_due"] == 2
    assert (await nudges.run(back + timedelta(minutes=1))).outcomes["sent"] == 0

    # Everyone was moved to their next slot: the weekly ones on 26 January, the monthly
    # ones on the first Tuesday of February.
    await nudges.run(datetime(2027, 1, 26, 8, 0, 30, tzinfo=timezone.utc))
    assert [nudges_to(connector, p) for p in weekly] == [3, 3, 3]
    await nudges.run(datetime(2027, 2, 2, 8, 0, 30, tzinfo=timezone.utc))
    assert [nudges_to(connector, p) for p in monthly] == [2, 2]


async def test_a_new_process_after_the_downtime_also_finds_them(tmp_path, connector):
    """Cron `send-nudges` starts a fresh process each time: the last run is read from the store."""
    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        people = await due_people(server, connector, 2)
        await server.runtime.nudges.run(TUESDAY_NINE)
    finally:
        await server.stop()
    restarted = BotServer(tmp_path / "data")
    await restarted.start()
    try:
        await restarted.runtime.nudges.run(TUESDAY_NINE + timedelta(days=20))
    finally:
        await restarted.stop()
    assert [nudges_to(connector, p) for p in people] == [2, 2]


async def test_reminders_set_and_never_run_are_caught_up_after_downtime(tmp_path):
    """No run at all since the reminder was set (a broken cron from day one)."""
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    key = "tenant-1|set-then-silence"
    await Users(store).save_profile(key, MONDAY, role="it", level="use")
    await Reminders(store).configure(key, WEEKLY, MONDAY)
    assert await Reminders(store).due(MONDAY + timedelta(days=30)) == [key]


async def test_the_person_lists_where_they_are_indexed_and_the_list_stays_short(tmp_path):
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    reminders = Reminders(store)
    key = "tenant-1|weekly"
    await Users(store).save_profile(key, MONDAY, role="it", level="use")
    await reminders.configure(key, WEEKLY, MONDAY)
    for week in range(6):
        now = TUESDAY_NINE + timedelta(days=7 * week)
        assert await reminders.due(now) == [key]
        plan = reminders.plan(key, await Users(store).get(key), now)
        await reminders.settle(key, plan.slot, "sent", now)
    reminder = (await Users(store).get(key))["reminder"]
    assert len(reminder["indexed"]) <= 2
    assert bucket(datetime.fromisoformat(reminder["next"]), key) in reminder["indexed"]


async def test_one_garbled_field_in_a_persons_document_costs_that_field_only(server, connector):
    people = await due_people(server, connector, 4)
    zone, reference, handled, fine = people
    store = server.runtime.store
    await store.update("users", zone.key, lambda d: d["reminder"]["prefs"].update(tz="Mars/Olympus", weekday=1))
    await store.update("users", reference.key, lambda d: d.update(conversation="garbled"))

    report = await server.runtime.nudges.run(TUESDAY_NINE)
    assert [nudges_to(connector, p) for p in people] == [1, 0, 1, 1], report.as_dict()
    assert report.outcomes["no_conversation"] == 1 and report.outcomes["error"] == 0

    # A changed character in the slot last handled never sends that nudge again.
    await store.update("users", handled.key, lambda d: d["reminder"].update(last_handled_slot="2026-12-0x"))
    reminders = server.runtime.services.reminders
    plan = reminders.plan(handled.key, await server.runtime.services.users.get(handled.key), TUESDAY_NINE)
    assert not plan.send
    await server.runtime.nudges.run(TUESDAY_NINE + timedelta(days=7))
    assert [nudges_to(connector, p) for p in (zone, handled, fine)] == [2, 2, 2]
