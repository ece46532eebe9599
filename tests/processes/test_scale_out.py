"""Several bot instances sharing Azure Blob Storage (Azurite): one conversation across
instances, a nudge wave shared by two instances (each nudge once, one instance killed
mid-wave), a clean stop (SIGTERM) mid-wave, takeover when the `send-nudges` leader dies,
and the TinyDB -> Blob migration."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from conftest import ROOT, BotServer, TeamsUser, say
from processes import free_port

from model.domain import schedule
from model.storage.claims import CLAIMS
from model.storage.wave_shares import MEMBERS


@pytest.fixture
def container():
    return f"scale-{uuid.uuid4().hex[:12]}"


def blob_config(azurite, container) -> dict:
    return {
        "STORAGE": "azure-blob",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AZURE_STORAGE_CONTAINER": container,
    }


async def test_a_conversation_alternating_between_two_instances_keeps_its_dialog(
    tmp_path, azurite, container, connector
):
    a = BotServer(tmp_path / "a", **blob_config(azurite, container))
    b = BotServer(tmp_path / "b", **blob_config(azurite, container))
    await a.start()
    await b.start()
    try:
        user = TeamsUser(connector, locale="en-US")
        assert "What kind of work do you do" in await say(a, connector, user.install())
        assert "How are you usually involved" in await say(b, connector, user.message("Manager"))
        reply = await say(a, connector, user.message("3"))
        assert "You are a manager, and you steer" in reply
        assert "Manager" in await say(b, connector, user.message("profile"))
        await asyncio.gather(*(say(x, connector, user.message("what is innovation?")) for x in (a, b, a, b)))
        assert not list((tmp_path / "a").rglob("*.json")) and not list((tmp_path / "b").rglob("*.json"))
    finally:
        await a.stop()
        await b.stop()


async def test_on_blob_a_question_reads_the_person_once_and_writes_nothing(tmp_path, azurite, container, connector):
    """Each storage request is an HTTP round trip (and CPU on both sides): a turn that
    changes nothing must only read, once per document, and with no dialog waiting only the
    person's document (their `open_dialogs` list says the chat's dialog state is empty)."""
    bot = BotServer(tmp_path / "a", **blob_config(azurite, container))
    await bot.start()
    try:
        store = bot.runtime.services.store
        user = TeamsUser(connector, locale="en-US")
        for text in ("hi", "Manager", "3"):
            await say(bot, connector, user.message(text))
        requests: list[tuple[str, str]] = []
        read_named, write, delete = store.read_named, store._write, store.delete

        async def counted_read(collection, name):
            requests.append(("read", collection))
            return await read_named(collection, name)

        async def counted_write(blob_name, *args):
            requests.append(("write", blob_name.split("/")[0]))
            return await write(blob_name, *args)

        async def counted_delete(collection, key):
            requests.append(("delete", collection))
            return await delete(collection, key)

        store.read_named, store._write, store.delete = counted_read, counted_write, counted_delete
        for question in ("what is innovation?", "how do I get better at business cases?", "profile"):
            requests.clear()
            assert await say(bot, connector, user.message(question))
            assert requests == [("read", "users")], (question, requests)
        requests.clear()
        await say(bot, connector, user.message("assessment"))  # a check begins: its dialog is written, once,
        assert [r for r in requests if r[0] != "read"] == [("write", "users"), ("write", "state")]  # listed first
        requests.clear()
        await say(bot, connector, user.message("what is innovation?"))  # mid-check: the waiting dialog is read
        assert sorted(r for r in requests if r[0] == "read") == [("read", "state"), ("read", "users")]
    finally:
        await bot.stop()


async def _due_people(store, connector, count: int, now: datetime, tenants: int = 1) -> list[TeamsUser]:
    """People whose weekly 08:00 slot fell in the last few days, so they are due `now`,
    spread over `tenants` tenants."""
    due = []
    for i in range(count):
        person = TeamsUser(connector, tenant=f"tenant-{i % tenants + 1}")
        prefs = schedule.ReminderPrefs(frequency="weekly", weekday=i % 5, time="08:00")
        set_at = now - timedelta(days=6)
        anchored = schedule.ReminderPrefs.from_dict({**prefs.to_dict(), "anchor": set_at.date().isoformat()})
        if not schedule.decide(anchored, now, None, None).send:
            continue  # e.g. that weekday's slot is still ahead today, or a holiday moved it
        await person.store_as_due_candidate(store, anchored, set_at, language="en")
        due.append(person)
    return due


def _env(azurite, container, **extra) -> dict:
    return {
        **os.environ,
        "STORAGE": "azure-blob",
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "AZURE_STORAGE_CONTAINER": container,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _nudges(connector, people) -> list[int]:
    counts = Counter(a["_path"] for a in connector.activities)
    return [counts[f"/v3/conversations/{p.conversation_id}/activities"] for p in people]


async def _wait_until(predicate, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def _start_senders(azurite, container, logs, **extra) -> list[subprocess.Popen]:
    """Bot instances with the in-process nudge scheduler on, each logging to a file."""
    procs = []
    for log in logs:
        env = _env(
            azurite,
            container,
            PORT=str(free_port()),
            NUDGES="on",
            NUDGE_INTERVAL_SECONDS="0.5",
            LOG_LEVEL="INFO",
            BOT_DATA_DIR=str(ROOT / "build" / f"unused-{uuid.uuid4().hex[:6]}"),
            **extra,
        )
        with open(log, "w") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
                )
            )
    return procs


async def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    await _wait_until(lambda: all(p.poll() is not None for p in procs), 15)
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sent_by(log) -> int:
    """Nudges an instance sent, from its "nudge run: {...}" log lines (counts, no content)."""
    return _counted(log, "sent")


def _counted(log, outcome: str) -> int:
    return sum(int(n) for n in re.findall(rf"nudge run: \{{[^}}]*'{outcome}': (\d+)", log.read_text()))


async def test_two_instances_with_nudges_on_share_the_wave_and_send_each_due_nudge_once(
    tmp_path, azurite, container, connector
):
    from model.storage.blob_store import BlobStore

    store = BlobStore(azurite.connection_string, container)
    people = await _due_people(store, connector, 60, datetime.now(timezone.utc), tenants=12)
    # As after earlier rounds: the roll lists another instance seen lately, so neither of
    # the two takes every share in its first batch (an instance alone would).
    await store.write(CLAIMS, MEMBERS, {"until": {"seen-lately": time.time() + 300}})
    await store.close()
    assert len(people) >= 10
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    procs = _start_senders(azurite, container, logs, NUDGE_RATE_PER_SECOND="2")  # slow: the wave lasts a while
    try:
        await _wait_until(lambda: min(_nudges(connector, people)) >= 1, 60)
        await asyncio.sleep(2.0)  # several more scheduler rounds on both instances
    finally:
        await _stop(procs)
    assert _nudges(connector, people) == [1] * len(people)
    sent = [_sent_by(log) for log in logs]
    assert sum(sent) == len(people) and min(sent) > 0, f"both instances took a share: {sent}"


async def test_killing_one_of_two_sharing_instances_mid_wave_loses_and_duplicates_nobody(
    tmp_path, azurite, container, connector
):
    from model.storage.blob_store import BlobStore

    store = BlobStore(azurite.connection_string, container)
    people = await _due_people(store, connector, 150, datetime.now(timezone.utc), tenants=12)
    await store.close()
    assert len(people) >= 40
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    procs = _start_senders(azurite, container, logs, NUDGE_RATE_PER_SECOND="3")
    try:
        await _wait_until(lambda: sum(_nudges(connector, people)) >= 20, 60)
        procs[0].send_signal(signal.SIGKILL)  # dies holding its shares' claims
        procs[0].wait()
        assert sum(_nudges(connector, people)) < len(people), "the kill should land mid-wave"

        # The survivor takes the dead instance's shares when their claims run out (15 s); a
        # nudge the dead one had claimed it counts as claimed before a crash and never sends.
        def accounted() -> bool:
            nudged = sum(1 for n in _nudges(connector, people) if n)
            return nudged + _counted(logs[1], "claimed_before_crash") >= len(people)

        await _wait_until(accounted, 90)
        await asyncio.sleep(1.0)
    finally:
        await _stop(procs)
    counts = _nudges(connector, people)
    assert max(counts) == 1, "nobody gets a nudge twice"
    # Only a nudge in flight at the kill may be missing (how many were in flight depends on
    # the machine's load): each one the survivor found claimed by the dead instance.
    lost = _counted(logs[1], "claimed_before_crash")
    assert counts.count(0) <= lost, f"missing {counts.count(0)}, claimed at the kill {lost}"


async def test_sigterm_mid_wave_finishes_the_claimed_nudges_and_the_next_instance_sends_the_rest_once(
    tmp_path, azurite, container, connector
):
    """A scale-in or a deploy sends SIGTERM, then SIGKILL after a grace period. Nudges
    already claimed finish (here four answered 502, which may follow a delivery, so they keep
    their claim while they wait to retry: the longest a nudge is in flight), nothing more is
    claimed, and the instance leaves its shares and the roll, so the next instance sends
    everyone else, nobody twice."""
    from model.storage.blob_store import BlobStore
    from model.storage.wave_shares import SHARES

    store = BlobStore(azurite.connection_string, container)
    people = await _due_people(store, connector, 120, datetime.now(timezone.utc), tenants=12)
    assert len(people) >= 40
    logs = [tmp_path / "stopped.log", tmp_path / "next.log"]
    procs = _start_senders(azurite, container, logs[:1], NUDGE_RATE_PER_SECOND="1")  # ~11 a second
    try:
        await _wait_until(lambda: sum(_nudges(connector, people)) >= 12, 60)
        connector.responses.extend([(502, {"Retry-After": "2"})] * 4)  # claimed, then told to wait
        assert await _wait_until(lambda: not connector.responses, 30)
        procs[0].send_signal(signal.SIGTERM)
        assert await _wait_until(lambda: procs[0].poll() is not None, 30), "it stops within its grace"
        assert sum(_nudges(connector, people)) < len(people), "the stop should land mid-wave"
        roll, _ = await store.read(CLAIMS, MEMBERS)
        assert not (roll or {}).get("until"), "it left the roll"
        for n in range(SHARES):
            claim, _ = await store.read(CLAIMS, f"nudge-share-{n:02d}")
            assert not claim or claim.get("owner") is None, f"it released share {n}"
        procs += _start_senders(azurite, container, logs[1:], NUDGE_RATE_PER_SECOND="20")
        await _wait_until(lambda: min(_nudges(connector, people)) >= 1, 60)
        await asyncio.sleep(1.0)
    finally:
        await store.close()
        await _stop(procs)
    counts = _nudges(connector, people)
    assert max(counts) == 1, "nobody gets a nudge twice"
    assert counts.count(0) == 0, "a clean stop loses nobody"
    assert _sent_by(logs[1]) > 0


async def test_when_the_leader_dies_mid_run_another_takes_over_and_nobody_gets_two(azurite, container, connector):
    from model.storage.blob_store import BlobStore

    store = BlobStore(azurite.connection_string, container)
    people = await _due_people(store, connector, 150, datetime.now(timezone.utc))
    await store.close()
    assert len(people) >= 40
    env = _env(azurite, container, NUDGE_RATE_PER_SECOND="20")
    leader = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "send-nudges"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    await _wait_until(lambda: sum(_nudges(connector, people)) >= 10, 30)
    leader.send_signal(signal.SIGKILL)
    leader.wait()
    first = sum(_nudges(connector, people))
    assert first < len(people), "the kill should land mid-run"
    # The dead leader's claim runs out (15 s); a second instance then takes over.
    for _ in range(30):
        out = await _run([sys.executable, str(ROOT / "app.py"), "send-nudges"], env)
        if '"leader": false' not in out:
            break
        await asyncio.sleep(1)
    counts = _nudges(connector, people)
    assert max(counts) == 1, "nobody gets a nudge twice"
    assert counts.count(0) <= 2, f"only the nudge in flight at the kill may be missing: {out}"


async def test_migrate_tinydb_to_blob_is_idempotent(tmp_path, azurite, container, connector):
    local = BotServer(tmp_path / "data")
    await local.start()
    user = TeamsUser(connector, locale="en-US")
    try:
        await say(local, connector, user.install())
        await say(local, connector, user.message("IT"))
        await say(local, connector, user.message("1"))
    finally:
        await local.stop()
    env = _env(azurite, container, BOT_DATA_DIR=str(tmp_path / "data"))
    cmd = [sys.executable, str(ROOT / "app.py"), "migrate", "--from", "tinydb", "--to", "azure-blob"]
    first = await _run(cmd, env)
    assert '"users_copied": 1' in first, first
    second = await _run(cmd, env)
    assert '"users_copied": 0' in second and '"users_unchanged": 1' in second
    cloud = BotServer(tmp_path / "unused", **blob_config(azurite, container))
    await cloud.start()
    try:
        assert "IT and digitalisation employee" in await say(cloud, connector, user.message("profile"))
    finally:
        await cloud.stop()


async def _run(cmd: list[str], env: dict) -> str:
    """Run a command without blocking the event loop (the stand-in connector lives in it)."""
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return out.decode()
