"""One changed character in one stored date (issue 23, finding 8): it costs that date, shown
as "ukendt dato", never the person's `historik`, `eksport`, `mål`, `profil` or
`påmindelser`, and never a retention run for everyone else."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from model import content, stamps
from model.domain import retention
from model.domain.retention import Retention
from model.domain.users import USERS, Users, user_key
from model.storage.memory_store import MemoryStore

APOLOGY = "noget gik galt"
COMPETENCE = content.all_competences()[0][1]
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def test_a_stored_time_that_cannot_be_read_counts_as_missing():
    assert stamps.instant("2026-12-01T09:00:00+00:00") == START
    assert stamps.instant("2026-12-01T09:00:00") == START  # written in UTC
    for bad in ("2026-12-01T09:00:0x+00:00", "2026-13-01", "", None, 5, ["x"], {"a": 1}):
        assert stamps.instant(bad) is None
    assert stamps.day("2026-12-01") == START.date() and stamps.day("2026-1x-01") is None
    assert stamps.unreadable("2026-1x-01") and not stamps.unreadable(None)
    assert stamps.newest(["2026-12-01T09:00:00+00:00", "garbled", None]) == START


async def _garble(chat, **changes) -> None:
    def change(doc: dict) -> None:
        doc["seen"] = "2026-1x-01"
        doc["profile"].update(created="2026-12-0x", updated="x2026-12-01T09:00:00+00:00")
        for item in doc.get("assessments", []):
            item["at"] = item["at"].replace("T", "X")
        doc.setdefault("goals", []).append(
            {"id": "g-1", "competence": COMPETENCE, "title": "Et mål", "text": "", "kind": "own", "set": "2026-12-3x"}
        )
        doc["goals"].append(
            {"id": "g-2", "competence": COMPETENCE, "title": "Et andet", "status": "done", "set": "?", "closed": "?"}
        )
        doc["goals"][0]["status"] = "open"
        doc["reminder"] = {
            "prefs": {"frequency": "weekly", "weekday": 1, "time": "09:00", "tz": "Romance Standard Time"},
            "next": "2026-12-08T08:00:00+0x:00",
            "last_sent": "garbled",
        }

    await chat.store.update(USERS, chat.key, change)


async def test_a_person_with_bad_dates_still_gets_every_view(da):
    await da.send("hej")
    await da.send("Leder")
    await da.send("Jeg styrer udvikling og implementering")
    await da.submit_check("3", "4", "2")
    await _garble(da)
    for command in ("historik", "eksport", "mål", "profil", "påmindelser", "udsæt", "mus"):
        reply = await da.send(command)
        assert APOLOGY not in reply, (command, reply)
        assert reply.strip(), command
    assert "ukendt dato" in await da.send("historik")
    assert "ukendt dato" in await da.send("mål")


REFERENCE = {"conversation": {"id": "a:1", "tenantId": "t"}, "user": {"id": "29:1", "aadObjectId": "aad-1"}}


async def _people(store: MemoryStore, count: int, tenant: str = "t") -> list[str]:
    users = Users(store)
    keys = []
    for n in range(count):
        key = user_key(tenant, f"aad-{n}")
        await users.remember_conversation(key, REFERENCE, None, True, now=START)
        keys.append(key)
    return keys


async def test_one_bad_seen_does_not_stop_retention_for_everyone_else():
    store = MemoryStore()
    users = Users(store)
    keys = await _people(store, 20)
    bad = keys[7]
    await store.update(USERS, bad, lambda d: d.update(seen="2026-12-0l"))  # one changed character
    later = START + timedelta(days=retention.DEFAULT_DAYS + 10)

    outcome = await Retention(store, users).run(later, None)

    assert outcome.deleted == 19 and outcome.unreadable_dates == 1
    assert [k for k in keys if await users.get(k) is not None] == [bad]


async def test_a_bad_seen_is_judged_by_the_newest_readable_date_and_warned_before_deletion():
    store = MemoryStore()
    users = Users(store)
    old, recent = await _people(store, 2)
    check_at = (START - timedelta(days=100)).isoformat()
    await store.update(USERS, old, lambda d: d.update(seen="garbled", assessments=[{"at": check_at}]))
    await store.update(
        USERS, recent, lambda d: d.update(seen="garbled", assessments=[{"at": "?"}, {"at": START.isoformat()}])
    )
    told: list[str] = []

    async def warn(key, doc):
        told.append(key)
        return True

    job = Retention(store, users)
    at_700 = START + timedelta(days=700)  # 800 days after the old one's last check, 700 after the recent one's
    first = await job.run(at_700, warn)
    assert first.deleted == 0 and sorted(told) == sorted(
        [old, recent]
    )  # a guessed date is never deleted on without a warning
    assert (await job.run(at_700 + timedelta(days=1), warn)).deleted == 1
    assert await users.get(old) is None and await users.get(recent) is not None
    assert retention.last_activity(await users.get(recent)) == START.date()


async def test_one_person_that_cannot_be_acted_on_costs_nobody_else():
    store = MemoryStore()
    users = Users(store)
    keys = await _people(store, 3)
    await store.update(USERS, keys[1], lambda d: d.update(conversation=["not", "a", "reference"], key=None))
    later = START + timedelta(days=retention.DEFAULT_DAYS + 10)
    outcome = await Retention(store, users).run(later, None)
    assert outcome.deleted == 2 and outcome.skipped == 1


async def test_expire_for_one_tenant_leaves_the_other_tenants_alone():
    store = MemoryStore()
    users = Users(store)
    ours = await _people(store, 2, tenant="kommune-a")
    theirs = await _people(store, 2, tenant="kommune-b")
    later = START + timedelta(days=retention.DEFAULT_DAYS + 10)

    outcome = await Retention(store, users).run(later, None, tenant="kommune-a")

    assert (outcome.scanned, outcome.deleted) == (2, 2)
    assert [await users.get(ours[0]), await users.get(ours[1])] == [None, None]
    assert await users.get(theirs[0]) and await users.get(theirs[1])
    assert (await Retention(store, users).run(later, None)).deleted == 2  # without --tenant: everyone
