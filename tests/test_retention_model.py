"""Retention rules: silent for RETENTION_DAYS means deleted as `slet mine data` deletes;
30 days before, one warning; a message resets the clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from model import retention
from model.memory_store import MemoryStore
from model.retention import Retention
from model.users import Users, key_of, user_key

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
