"""The due-time index behind nudges: flat when everyone keeps the same slot, and readable
when it was written before the index was sharded."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from model.domain import schedule
from model.domain.reminders import SCHEDULE, SHARDS, Reminders, hour_of
from model.domain.users import USERS, Users, iso
from model.storage.tinydb_store import TinyDBStore

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
TUESDAY_NINE = datetime(2026, 12, 1, 8, 0, 30, tzinfo=timezone.utc)  # 09:00:30 in Copenhagen
WEEKLY = schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00")
PEOPLE = 160


@pytest.fixture
async def store(tmp_path):
    return TinyDBStore(tmp_path / "data", fsync=False)


async def _everyone_on_tuesday_nine(reminders: Reminders) -> list[str]:
    keys = [f"tenant-1|person-{n}" for n in range(PEOPLE)]
    users = Users(reminders.store)
    for key in keys:
        await users.save_profile(key, MONDAY, role="it", level="use")  # reminders belong to stored people
        await reminders.configure(key, WEEKLY, MONDAY)
    return keys


def _schedule_writes(store, monkeypatch) -> list[int]:
    """The number of entries in every schedule document written from now on."""
    sizes: list[int] = []
    write = store.write

    async def counting(collection, key, doc, *args, **kwargs):
        if collection == SCHEDULE:
            sizes.append(len(doc.get("due", {})))
        return await write(collection, key, doc, *args, **kwargs)

    monkeypatch.setattr(store, "write", counting)
    return sizes


async def test_one_persons_change_rewrites_only_their_share_of_a_busy_hour(store, monkeypatch):
    reminders = Reminders(store)
    keys = await _everyone_on_tuesday_nine(reminders)
    sizes = _schedule_writes(store, monkeypatch)

    await reminders.configure(keys[0], schedule.ReminderPrefs(frequency="weekly", weekday=1, time="10:00"), MONDAY)

    assert sizes, "the move was written to the index"
    assert max(sizes) < PEOPLE / 4  # a shard of the hour, not all 160 people in it
    assert sorted(await reminders.due(TUESDAY_NINE)) == sorted(keys[1:])  # and nobody got lost


async def test_everyone_due_in_the_same_hour_is_found_once(store):
    reminders = Reminders(store)
    keys = await _everyone_on_tuesday_nine(reminders)
    due = await reminders.due(TUESDAY_NINE)
    assert sorted(due) == sorted(keys)
    assert await reminders.due(MONDAY) == []
    shards = {json.dumps(sorted(doc["due"])) for doc in await _schedule_docs(store)}
    assert 1 < len(shards) <= SHARDS


async def test_an_index_written_before_sharding_is_still_read_and_cleaned(store):
    """Data from the earlier layout (one document per hour) keeps working after an upgrade:
    the person is still nudged, and deleting them leaves no trace in the old document."""
    reminders = Reminders(store)
    old, stays = "tenant-1|before-upgrade", "tenant-1|also-before"
    slot = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    await store.write(SCHEDULE, hour_of(slot), {"due": {old: iso(slot), stays: iso(slot)}})
    await store.write(USERS, old, {"reminder": {"prefs": WEEKLY.to_dict(), "next": iso(slot)}})

    assert sorted(await reminders.due(TUESDAY_NINE)) == sorted([old, stays])

    await reminders.forget(old, (await store.read(USERS, old))[0])
    assert await reminders.due(TUESDAY_NINE) == [stays]
    assert not any(old in json.dumps(doc) for doc in await _schedule_docs(store))


async def test_a_move_that_changes_nothing_writes_nothing(store, monkeypatch):
    reminders = Reminders(store)
    slot = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    await store.write(SCHEDULE, hour_of(slot), {"due": {"someone-else": iso(slot)}})
    sizes = _schedule_writes(store, monkeypatch)
    # removing a person who is not in the old hour document must not rewrite it
    await reminders.reindex("tenant-1|not-there", slot, None)
    assert sizes == []


def _count_reads(store, monkeypatch) -> list[str]:
    names: list[str] = []
    read = store.read

    async def counting(collection, key):
        if collection == SCHEDULE:
            names.append(key)
        return await read(collection, key)

    monkeypatch.setattr(store, "read", counting)
    return names


async def test_each_minute_reads_the_last_hours_and_those_still_holding_someone(store, monkeypatch):
    """A send that failed three days ago waits in its hour for a retry: every scan finds
    it. Hours that ended empty are not read again, so a minute's scan stays small."""
    reminders = Reminders(store)
    failed = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
    await store.write(SCHEDULE, f"{hour_of(failed)}/00", {"due": {"tenant-1|waiting": iso(failed)}})
    assert await reminders.due(MONDAY) == ["tenant-1|waiting"]

    reads = _count_reads(store, monkeypatch)
    assert await reminders.due(MONDAY.replace(minute=1)) == ["tenant-1|waiting"]
    hours_read = {name.split("/")[0] for name in reads}
    assert hour_of(failed) in hours_read
    assert len(hours_read) <= 4  # the waiting hour and the last hours, not all 193 of the window


async def test_a_clock_that_goes_back_reads_everything_again(store):
    reminders = Reminders(store)
    assert await reminders.due(MONDAY) == []
    earlier = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)  # five hours before: settled then
    await store.write(SCHEDULE, f"{hour_of(earlier)}/03", {"due": {"tenant-1|late": iso(earlier)}})
    assert await reminders.due(datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)) == ["tenant-1|late"]


async def _schedule_docs(store) -> list[dict]:
    docs = []
    for path in (store.root / SCHEDULE).glob("*/*.json"):
        doc = json.loads(path.read_text())["document"]["1"]
        if "bucket" in doc or "due" in doc:  # the index's hour documents, not its run record
            docs.append(doc)
    return docs
