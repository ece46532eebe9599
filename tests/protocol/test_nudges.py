"""Reminder nudges end to end: set by chatting, sent once, retried politely, paused when gone,
and exactly once per person even when the sender is killed mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import ROOT, BotServer, TeamsUser, buttons_of, say

from model.domain import schedule
from model.domain.users import user_key
from model.storage.tinydb_store import TinyDBStore

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
TUESDAY_NINE = datetime(2026, 12, 1, 8, 0, 30, tzinfo=timezone.utc)  # 09:00:30 in Copenhagen


def proactive(connector, user: TeamsUser, since: int = 0) -> list[dict]:
    """Nudges are new messages in the person's conversation, not replies to an activity."""
    path = f"/v3/conversations/{user.conversation_id}/activities"
    return [a for a in connector.activities[since:] if a["_path"] == path]


async def set_weekly_tuesday_nine(server: BotServer, connector, user: TeamsUser) -> str:
    server.runtime.services.clock = lambda: MONDAY
    await say(server, connector, user.install())
    await say(server, connector, user.message("Leder"))
    await say(server, connector, user.message("3"))
    reply = await say(server, connector, user.message("påmindelser"))
    assert "Hvor tit" in reply
    await say(server, connector, user.message("Hver uge"))
    await say(server, connector, user.message("tirsdag"))
    return await say(server, connector, user.message("09:00"))


async def test_set_by_chat_sent_once_then_stopped(server, connector):
    user = TeamsUser(connector)
    reply = await set_weekly_tuesday_nine(server, connector, user)
    assert "tirsdag d. 1. december 2026 kl. 09:00" in reply
    before = len(connector.activities)
    report = await server.runtime.nudges.run(TUESDAY_NINE)
    sent = proactive(connector, user, before)
    assert report.outcomes["sent"] == 1 and len(sent) == 1
    card = sent[0]["attachments"][0]["content"]
    assert [b["title"] for b in buttons_of(card)] == [
        "Tag en kort vurdering",
        "Mind mig om det i morgen",
        "Stop påmindelser",
    ]
    again = await server.runtime.nudges.run(TUESDAY_NINE)
    assert proactive(connector, user, before) == sent and again.outcomes["sent"] == 0
    reply = await say(server, connector, user.message("stop påmindelser"))
    assert "stoppet" in reply
    next_week = datetime(2026, 12, 8, 8, 0, 30, tzinfo=timezone.utc)
    await server.runtime.nudges.run(next_week)
    assert len(proactive(connector, user, before)) == 1


async def test_snooze_moves_the_nudge_to_tomorrow(server, connector):
    user = TeamsUser(connector)
    await set_weekly_tuesday_nine(server, connector, user)
    await server.runtime.nudges.run(TUESDAY_NINE)
    server.runtime.services.clock = lambda: TUESDAY_NINE
    reply = await say(server, connector, user.message("udsæt"))
    assert "onsdag d. 2. december 2026 kl. 09:00" in reply
    before = len(connector.activities)
    await server.runtime.nudges.run(datetime(2026, 12, 2, 8, 1, tzinfo=timezone.utc))
    assert len(proactive(connector, user, before)) == 1


async def test_transient_errors_are_retried_and_delivered_once(server, connector):
    user = TeamsUser(connector)
    await set_weekly_tuesday_nine(server, connector, user)
    server.runtime.nudges.base_delay = 0.01
    connector.responses = [(429, {"Retry-After": "1"}), (503, {})]
    before = len(connector.activities)
    report = await server.runtime.nudges.run(TUESDAY_NINE)
    assert len(proactive(connector, user, before)) == 1
    assert report.outcomes["sent"] == 1 and report.retries >= 2
    await server.runtime.nudges.run(TUESDAY_NINE)
    assert len(proactive(connector, user, before)) == 1


async def test_a_nudge_refused_with_429_is_not_claimed_while_it_waits_so_a_crash_then_loses_nothing(server, connector):
    """A 429 means Teams took nothing. Were the slot still claimed during the Retry-After
    wait, a crash then would count the nudge as sent and the person would never get it."""
    user = TeamsUser(connector)
    await set_weekly_tuesday_nine(server, connector, user)
    connector.responses = [(429, {"Retry-After": "3"})]
    before, asked = len(connector.activities), len(connector.requests)
    run = asyncio.create_task(server.runtime.nudges.run(TUESDAY_NINE))
    for _ in range(200):  # until the connector has refused it
        if not connector.responses and len(connector.requests) > asked:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # the sender has the answer and waits
    doc = await server.runtime.services.users.get(user.key)
    assert not run.done() and doc["reminder"].get("claimed_slot") is None
    run.cancel()  # the process dies during the wait
    with contextlib.suppress(asyncio.CancelledError):
        await run
    assert proactive(connector, user, before) == []
    report = await server.runtime.nudges.run(TUESDAY_NINE)  # the next run after the restart
    assert report.outcomes["sent"] == 1 and len(proactive(connector, user, before)) == 1


async def test_forbidden_pauses_reminders_until_the_person_writes_again(server, connector):
    user = TeamsUser(connector)
    await set_weekly_tuesday_nine(server, connector, user)
    connector.responses = [(403, {})]
    report = await server.runtime.nudges.run(TUESDAY_NINE)
    assert report.outcomes["gone"] == 1
    requests_before = len(connector.requests)
    await server.runtime.nudges.run(datetime(2026, 12, 8, 8, 0, 30, tzinfo=timezone.utc))
    assert len(connector.requests) == requests_before  # paused: not even tried
    reply = await say(server, connector, user.message("påmindelser"))
    assert "hver uge" in reply  # writing again resumes them


async def test_uninstall_stops_reminders(server, connector):
    user = TeamsUser(connector)
    await set_weekly_tuesday_nine(server, connector, user)
    await say(server, connector, user.activity("installationUpdate", action="remove"))
    before = len(connector.requests)
    report = await server.runtime.nudges.run(TUESDAY_NINE)
    assert report.outcomes["sent"] == 0 and len(connector.requests) == before


async def test_recent_assessment_skips_the_nudge(server, connector):
    user = TeamsUser(connector)
    await set_weekly_tuesday_nine(server, connector, user)
    key = user_key(user.tenant, user.aad)
    await server.runtime.services.users.add_assessment(
        key, {"at": "2026-11-30T12:00:00+00:00", "scores": {"innovation": 3}}
    )
    before = len(connector.activities)
    report = await server.runtime.nudges.run(TUESDAY_NINE)
    assert report.outcomes["skipped_recent_assessment"] == 1 and proactive(connector, user, before) == []


def _cli(args: list[str], data_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "BOT_DATA_DIR": str(data_dir),
        "BOT_FSYNC": "0",
        "NUDGE_RATE_PER_SECOND": "80",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _wait(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    loop = asyncio.get_running_loop()
    out, err = await loop.run_in_executor(None, lambda: proc.communicate(timeout=timeout))
    return out, err


@pytest.mark.slow
async def test_send_nudges_cli_sends_once_per_instant(tmp_path, connector):
    server = BotServer(tmp_path / "data")
    await server.start()
    user = TeamsUser(connector)
    try:
        await set_weekly_tuesday_nine(server, connector, user)
    finally:
        await server.stop()
    before = len(connector.activities)
    out, err = await _wait(_cli(["send-nudges", "--at", "2026-12-01T09:00:30+01:00"], tmp_path / "data"))
    assert '"sent": 1' in out, err
    out, _ = await _wait(_cli(["send-nudges", "--at", "2026-12-01T09:00:30+01:00"], tmp_path / "data"))
    assert '"sent"' not in out
    assert len(proactive(connector, user, before)) == 1


async def _many_due(data_dir: Path, connector, count: int) -> list[TeamsUser]:
    store = TinyDBStore(data_dir, fsync=False)
    people = []
    for _ in range(count):
        person = TeamsUser(connector)
        await person.store_as_due_candidate(
            store, schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00"), MONDAY
        )
        people.append(person)
    return people


@pytest.mark.slow
async def test_killed_mid_run_then_run_again_everyone_gets_exactly_one(tmp_path, connector):
    people = await _many_due(tmp_path / "data", connector, 240)
    proc = _cli(["send-nudges", "--at", "2026-12-01T09:00:30+01:00"], tmp_path / "data")
    for _ in range(400):  # kill once a good part, but not all, have been sent
        await asyncio.sleep(0.02)
        if len(connector.activities) >= 60:
            break
    proc.send_signal(signal.SIGKILL)
    await _wait(proc)
    first = len(connector.activities)
    assert 0 < first < len(people), "the kill should land mid-run"
    # Some of those nudged before the kill delete their data: nothing of them may stay in
    # the nudge index, where the killed wave's moves were never written (issue 23).
    reached = {a["_path"] for a in connector.activities}
    early = [p for p in people if f"/v3/conversations/{p.conversation_id}/activities" in reached][:10]
    await _delete(tmp_path / "data", early)
    assert _indexed(tmp_path / "data", early) == []
    out, err = await _wait(_cli(["send-nudges", "--at", "2026-12-01T09:00:40+01:00"], tmp_path / "data"))
    counts = Counter(a["_path"] for a in connector.activities)
    per_person = [counts[f"/v3/conversations/{p.conversation_id}/activities"] for p in people]
    missing = per_person.count(0)
    twice = sum(1 for n in per_person if n > 1)
    print(
        f"killed after {first} sends; after the re-run: {len(people) - missing} of {len(people)} "
        f"got a nudge, {missing} none, {twice} twice"
    )
    assert twice == 0, "nobody gets a nudge twice"
    # A nudge claimed but not yet on the wire when the process died is skipped by design
    # (documented in docs/nudges.md); that can only be the one or two in flight, never a wave.
    assert missing <= 2, f"{missing} people got no nudge: {out} {err}"
    await _delete(tmp_path / "data", people)  # and later everyone else
    assert _indexed(tmp_path / "data", people) == []


async def _delete(data_dir: Path, people: list[TeamsUser]) -> None:
    """Delete these people exactly as `slet mine data` and `forget` do."""
    from dialogs.services import Services

    store = TinyDBStore(data_dir, fsync=False)
    users = Services.create(store).users
    for person in people:
        await users.delete(person.key)
    await store.close()


def _indexed(data_dir: Path, people: list[TeamsUser]) -> list[str]:
    """The people whose key some nudge-index file still holds."""
    files = [f.read_bytes() for f in (data_dir / "schedule").rglob("*") if f.is_file()]
    return [p.name for p in people if any(p.key.encode() in data for data in files)]
