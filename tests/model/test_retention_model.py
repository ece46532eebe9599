"""Retention rules: silent for RETENTION_DAYS means deleted as `slet mine data` deletes;
30 days before, one warning; a message resets the clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from model.domain import retention
from model.domain.retention import Retention
from model.domain.users import Users, key_of, user_key
from model.storage.memory_store import MemoryStore

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
REFERENCE = {"conversation": {"id": "a:1", "tenantId": "t"}, "user": {"id": "29:1", "aadObjectId": "aad-1"}}


def test_decide_keeps_warns_once_then_deletes():
    doc = {"seen": "2026-12-01"}
    assert retention.decide(doc, START + timedelta(days=100)) == retention.KEEP
    assert retention.decide(doc, START + timedelta(days=700)) == retention.WARN
    assert retention.decide({**doc, "retention_warned": "x"}, START + timedelta(days=710)) == retention.KEEP
    assert retention.decide(doc, START + timedelta(days=730)) == retention.DELETE
    assert retention.decide({}, START + timedelta(days=9999)) == retention.KEEP  # nothing dated: never guess


def test_documents_from_before_seen_was_kept_count_from_their_newest_data():
    doc = {"profile": {"updated": "2025-01-01T10:00:00+00:00"}, "assessments": [{"at": "2025-03-01T10:00:00+00:00"}]}
    assert retention.last_activity(doc).isoformat() == "2025-03-01"


def test_the_key_is_found_in_a_document_even_from_before_it_was_stored():
    assert key_of({"conversation": REFERENCE}) == user_key("t", "aad-1")
    assert key_of({"key": "t|x"}) == "t|x"


async def test_a_run_warns_once_deletes_later_and_a_message_resets_the_clock():
    store = MemoryStore()
    users = Users(store)
    quiet, chatty = user_key("t", "aad-1"), user_key("t", "aad-2")
    for key in (quiet, chatty):
        await users.remember_conversation(key, REFERENCE, None, True, now=START)
    sent: list[str] = []

    async def warn(key, doc):
        sent.append(key)
        return True

    job = Retention(store, users)
    assert (await job.run(START + timedelta(days=100), warn)).as_dict()["deleted"] == 0
    dry = await job.run(START + timedelta(days=705), warn, dry_run=True)
    assert dry.warned == 2 and sent == []  # a dry run counts, sends nothing, names nobody
    await job.run(START + timedelta(days=705), warn)
    await job.run(START + timedelta(days=706), warn)
    assert sorted(sent) == sorted([quiet, chatty])  # once each
    await users.remember_conversation(chatty, REFERENCE, None, True, now=START + timedelta(days=720))
    outcome = await job.run(START + timedelta(days=800), warn)
    assert outcome.deleted == 1 and await users.get(quiet) is None and await users.get(chatty) is not None


async def test_a_warning_that_could_not_be_sent_is_tried_another_day():
    store = MemoryStore()
    users = Users(store)
    key = user_key("t", "aad-1")
    await users.remember_conversation(key, REFERENCE, None, True, now=START)
    attempts = []

    async def unreachable(k, doc):
        attempts.append(k)
        return False

    job = Retention(store, users)
    first = await job.run(START + timedelta(days=701), unreachable)
    await job.run(START + timedelta(days=702), unreachable)
    assert first.unreachable == 1 and len(attempts) == 2


# -- what a person's document no longer leads to ------------------------------------------
def _files_mentioning(root, needle: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


async def test_one_unreadable_person_does_not_stop_retention_and_is_gone_a_month_later(tmp_path):
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store)
    keys = [user_key("t", f"aad-{n}") for n in range(3)]
    for key in keys:
        await users.remember_conversation(key, REFERENCE, None, True, now=START)
    store.path("users", keys[1]).write_bytes(
        b'{"_meta": {"1": {"rev": 3}}, "document": {"1": {"key": "t|aad-1"'
    )  # torn
    outcome = await Retention(store, users).run(START + timedelta(days=800), None)
    assert outcome.deleted == 2 and outcome.unreadable == 1, "the others were handled all the same"
    assert await users.get(keys[0]) is None and await users.get(keys[2]) is None
    assert _files_mentioning(tmp_path / "data", "aad-1"), "set aside for an operator to look at"
    later = datetime.now(timezone.utc) + timedelta(days=retention.QUARANTINE_DAYS + 1)
    assert (await Retention(store, users).run(later, None)).set_aside_removed == 1
    assert not _files_mentioning(tmp_path / "data", "aad-1"), "and deleted a month later"


async def test_deleting_an_unreadable_person_also_takes_them_out_of_the_nudge_index(tmp_path):
    from model.domain import schedule
    from model.domain.reminders import Reminders
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store, on_delete=(Reminders(store).forget,))
    key = user_key("t", "aad-index")
    await users.remember_conversation(key, REFERENCE, None, True, now=START)
    await Reminders(store).configure(key, schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00"), START)
    assert _files_mentioning(tmp_path / "data" / "schedule", key)
    store.path("users", key).write_bytes(b"\x00\x00garbled")
    assert await users.delete(key) is True
    assert not _files_mentioning(tmp_path / "data", "aad-index"), "no file names them any more"


async def test_a_nudge_claimed_after_deletion_does_not_bring_the_person_back():
    from model.domain.reminders import Reminders

    store = MemoryStore()
    users = Users(store)
    key = user_key("t", "aad-gone")
    await users.remember_conversation(key, REFERENCE, None, True, now=START)
    await users.delete(key)
    assert await Reminders(store).claim(key, START + timedelta(days=1)) is False
    assert await users.get(key) is None


async def test_old_dialog_states_and_team_rosters_expire_with_the_retention_period():
    from model.domain.aggregates import TEAMS
    from model.storage.docstore import STATE

    store = MemoryStore()
    await store.write(STATE, "msteams/conversations/a:old", {"DialogState": {}})
    await store.write(TEAMS, "team-1", {"id": "team-1", "members": ["abc"]})
    job = Retention(store, Users(store))
    now = datetime.now(timezone.utc)
    assert (await job.run(now + timedelta(days=100), None)).old_documents == 0
    dry = await job.run(now + timedelta(days=731), None, dry_run=True)
    assert dry.old_documents == 2 and await store.keys(STATE), "a dry run only counts"
    assert (await job.run(now + timedelta(days=731), None)).old_documents == 2
    assert await store.keys(STATE) == [] and await store.keys(TEAMS) == []


async def test_one_unreadable_team_roster_does_not_stop_a_deletion(tmp_path):
    from model.domain.aggregates import TEAMS, Overviews
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store, on_delete=(Overviews(store).forget,))
    key = user_key("t", "aad-roster")
    await users.remember_conversation(key, REFERENCE, None, True, now=START)
    await store.write(TEAMS, "team-1", {"id": "team-1", "members": []})
    store.path(TEAMS, "team-1").write_bytes(b"{garbled")
    assert await users.delete(key) is True
    assert await users.get(key) is None


async def test_a_person_whose_document_was_set_aside_leaves_the_nudge_index_at_once(tmp_path):
    from model.domain import schedule
    from model.domain.reminders import Reminders
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store, on_delete=(Reminders(store).forget,))
    key = user_key("t", "aad-aside")
    await users.remember_conversation(key, REFERENCE, None, True, now=START)
    await Reminders(store).configure(key, schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00"), START)
    store.path("users", key).write_bytes(b"\x00garbled")
    assert await users.load(key) == (None, True)  # their next message: set aside, they start over
    assert not _files_mentioning(tmp_path / "data" / "schedule", "aad-aside"), "no nudge goes to the old settings"


async def test_a_dry_run_changes_no_file_even_when_one_is_unreadable(tmp_path):
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store)
    for n in range(2):
        await users.remember_conversation(user_key("t", f"aad-{n}"), REFERENCE, None, True, now=START)
    store.path("users", user_key("t", "aad-1")).write_bytes(b"{torn")
    before = {p: p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()}
    outcome = await Retention(store, users).run(START + timedelta(days=800), None, dry_run=True)
    assert outcome.deleted == 1 and outcome.unreadable == 1
    assert {p: p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file()} == before


async def test_a_deletion_cut_short_by_a_crash_is_finished_not_undone():
    """`Users.delete` marks the document first; a crash right after leaves the mark. The
    person's next message, or the next retention run, finishes the deletion."""
    from model.domain.users import DELETING

    store = MemoryStore()
    users = Users(store)
    by_message, by_retention = user_key("t", "aad-1"), user_key("t", "aad-2")
    for key in (by_message, by_retention):
        await users.remember_conversation(key, REFERENCE, None, True, now=START)
        await store.update("users", key, lambda d: d.update({DELETING: True}))
    assert await users.load(by_message) == (None, False)
    assert await users.get(by_message) is None
    outcome = await Retention(store, users).run(START + timedelta(days=1), None)
    assert outcome.deleted == 1 and await users.get(by_retention) is None
