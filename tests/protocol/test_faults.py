"""Promises kept under faults: crash leftovers, corrupt files, double clicks, a stop word
inside a command. Each test here failed before its fix (issue 14)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
from datetime import datetime, timezone

from conftest import TeamsUser, say

from model import content
from model.domain import schedule
from model.domain.reminders import SCHEDULE, Reminders, bucket
from model.domain.users import USERS, Users, user_key
from model.storage.docstore import STATE, doc_name
from model.storage.tinydb_store import TinyDBStore, sweep_dead_temporaries

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _mentions(root, *needles: str) -> list[str]:
    """Every file under root that contains any of the needles (hidden files included)."""
    found = subprocess.run(
        ["grep", "-rl", "-F", *[f"-e{n}" for n in needles], str(root)], capture_output=True, text=True
    )
    return found.stdout.split()


def _dead_pid() -> int:
    """A process id that belonged to a process which has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


async def _onboarded(server, connector, locale="da-DK") -> TeamsUser:
    user = TeamsUser(connector, locale=locale)
    await say(server, connector, user.install())
    await say(server, connector, user.message("1"))
    await say(server, connector, user.message("1"))
    return user


async def _open_card(server, connector, user) -> str:
    before = len(connector.activities)
    await say(server, connector, user.message("vurdering"))
    card = next(
        a
        for a in connector.activities[before:]
        if a.get("attachments") and a["attachments"][0]["contentType"].endswith("adaptive")
    )
    return card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]


# -- 1. crash leftovers ---------------------------------------------------------------------------
async def test_a_dead_writers_temporaries_are_swept_when_the_store_opens(tmp_path):
    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store)
    key = user_key("t", "aad-1")
    await users.save_profile(key, NOW, role="it", level="use")
    path = store.path(USERS, key)
    dead = path.with_name(f".tmp-{_dead_pid()}-7-{path.name}")
    dead.write_bytes(path.read_bytes())  # a whole copy of the person, as a kill leaves it
    torn = path.with_name(f".tmp-{_dead_pid()}-8-{path.name}")
    torn.write_bytes(b"")
    alive = path.with_name(f".tmp-{os.getppid()}-9-{path.name}")  # another live process is writing
    alive.write_bytes(b"{}")

    TinyDBStore(tmp_path / "data", fsync=False)

    assert not dead.exists() and not torn.exists()
    assert alive.exists()
    assert sweep_dead_temporaries(tmp_path / "data") == 0


async def test_deleting_a_document_removes_its_temporaries_and_quarantined_copies(tmp_path):
    store = TinyDBStore(tmp_path / "data", fsync=False)
    users = Users(store)
    key = user_key("t", "aad-2")
    other = user_key("t", "aad-3")
    await users.save_profile(key, NOW, role="it", level="use")
    await users.save_profile(other, NOW, role="it", level="use")
    path = store.path(USERS, key)
    leftover = path.with_name(f".tmp-{os.getpid()}-1-{path.name}")
    leftover.write_bytes(path.read_bytes())
    await store.quarantine(USERS, key)
    await users.save_profile(key, NOW, role="manager", level="steer")
    await users.delete(key)
    assert not path.exists() and not leftover.exists()
    assert not [p for p in path.parent.iterdir() if doc_name(key) in p.name]
    assert store.path(USERS, other).exists()  # a neighbour in the same folder stays


async def test_chat_deletion_after_a_kill_leaves_no_file_that_mentions_the_person(server, connector):
    user = await _onboarded(server, connector)
    store = server.runtime.store
    path = store.path(USERS, user.key)
    path.with_name(f".tmp-{_dead_pid()}-3-{path.name}").write_bytes(path.read_bytes())
    state = next((server.data_dir / STATE).rglob("*.json"))
    state.with_name(f".tmp-{_dead_pid()}-4-{state.name}").write_bytes(state.read_bytes())
    await say(server, connector, user.message("slet mine data"))
    await say(server, connector, user.message("Ja, slet alt"))
    assert _mentions(server.data_dir, user.aad, user.user_id, user.conversation_id) == []


# -- 2. corrupt or outdated dialog state -------------------------------------------------------------
async def test_unreadable_dialog_state_is_dropped_and_the_person_carries_on(server, connector, caplog):
    user = TeamsUser(connector)
    await say(server, connector, user.install())  # onboarding is waiting for the role
    state = next((server.data_dir / STATE).rglob("*.json"))
    for garbage in (
        b"\x00{garbled",
        json.dumps(
            {
                "_meta": {"1": {"rev": 3, "lists": []}},
                "document": {
                    "1": {"data": {"DialogState": {"__t": "obj", "c": "dialogs.renamed_in_an_upgrade:Gone", "d": {}}}}
                },
            }
        ).encode(),
    ):
        state.write_bytes(garbage)
        with caplog.at_level(logging.WARNING):
            reply = await say(server, connector, user.message("hjælp"))
        assert "noget gik galt" not in reply and "start" in reply
        assert "dropped dialog state" in caplog.text and "renamed_in_an_upgrade" not in caplog.text
    reply = await say(server, connector, user.message("start"))
    assert "Hvad arbejder du med" in reply


# -- 3. a corrupt person document -----------------------------------------------------------------
async def test_an_unreadable_person_document_is_set_aside_and_the_person_starts_again(server, connector):
    user = await _onboarded(server, connector)
    path = server.runtime.store.path(USERS, user.key)
    path.write_bytes(b'{"_meta": {"1": {"rev": 4, "lists": [')  # torn
    reply = await say(server, connector, user.message("profil"))
    assert "kunne ikke læse" in reply and "slet mine data" in reply
    assert "noget gik galt" not in reply
    aside = [p for p in path.parent.iterdir() if p.name.startswith(".quarantine-")]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b'{"_meta"')  # kept, not lost
    reply = await say(server, connector, user.message("profil"))
    assert "kunne ikke læse" not in reply  # said once
    await say(server, connector, user.message("slet mine data"))
    await say(server, connector, user.message("Ja, slet alt"))
    assert not [p for p in path.parent.iterdir() if doc_name(user.key) in p.name]


# -- 4. one corrupt nudge-index document ------------------------------------------------------------
async def test_one_corrupt_index_document_costs_only_the_people_in_it(tmp_path):
    store = TinyDBStore(tmp_path / "data", fsync=False)
    reminders = Reminders(store)
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    tuesday_nine = datetime(2026, 12, 1, 8, 0, 30, tzinfo=timezone.utc)
    prefs = schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00")
    keys = [f"tenant-1|person-{n}" for n in range(40)]
    for key in keys:
        await Users(store).save_profile(key, monday, role="it", level="use")
        await reminders.configure(key, prefs, monday)
    broken = bucket(tuesday_nine.replace(minute=0, second=0), keys[0])
    store.path(SCHEDULE, broken).write_bytes(b"not json at all")
    due = await Reminders(store).due(tuesday_nine)
    lost = {k for k in keys if bucket(tuesday_nine.replace(minute=0, second=0), k) == broken}
    assert set(due) == set(keys) - lost and lost and len(lost) < len(keys) / 4
    assert await Reminders(store).due(tuesday_nine) == due  # set aside, not failing again


# -- 8. a double-clicked Save ------------------------------------------------------------------------
async def test_a_check_submitted_twice_is_stored_once(server, connector):
    user = await _onboarded(server, connector)
    nonce = await _open_card(server, connector, user)
    value = {"kh": "quick", "nonce": nonce, "implementation": "2", "development": "3", "innovation": "4"}
    first = await say(server, connector, user.message(value=value))
    second = await say(server, connector, user.message(value=value))
    assert "gemt" in first and "allerede gemt" in second
    replies = await asyncio.gather(*(server.post(user.message(value=value)) for _ in range(5)))
    assert all(status in (200, 201) for status, _ in replies)
    doc = await server.runtime.services.users.get(user.key)
    assert len(doc["assessments"]) == 1


async def test_the_same_check_is_stored_once_even_when_two_writers_race(tmp_path):
    users = Users(TinyDBStore(tmp_path / "data", fsync=False))
    key = user_key("t", "aad-9")
    entry = {"id": "check-1", "at": "2026-12-01T09:00:00+00:00", "scores": {"innovation": 3}}
    results = await asyncio.gather(*(users.add_assessment(key, dict(entry)) for _ in range(8)))
    assert sum(added for _, added in results) == 1
    assert len((await users.get(key))["assessments"]) == 1


# -- 12. a command that contains a stop word --------------------------------------------------------
async def test_typing_the_check_command_during_a_check_restarts_it(server, connector):
    user = await _onboarded(server, connector)
    await _open_card(server, connector, user)
    await say(server, connector, user.message("3"))
    before = len(connector.activities)
    reply = await say(server, connector, user.message("vurdering"))
    assert "Intet er gemt" not in reply and "stoppet" not in reply
    assert any(
        a.get("attachments") and a["attachments"][0]["contentType"].endswith("adaptive")
        for a in connector.activities[before:]
    )
    reply = await say(server, connector, user.message("stop"))
    assert "Intet er gemt" in reply


# -- a reply the connector cannot take (the fuzz test found it) ------------------------------------------------------
async def test_an_unreachable_connector_is_a_warning_and_the_person_keeps_their_place(server, connector, caplog):
    """A message whose serviceUrl answers nothing (a loopback port with no listener): the reply
    cannot be delivered, which is no fault of the bot. It is logged as a warning, no apology is
    tried, and the onboarding dialog is kept: the person answers the same question again later."""
    user = TeamsUser(connector)
    assert "rolle" in (await say(server, connector, user.install())).lower()
    lost = user.message("1")
    lost["serviceUrl"] = "http://127.0.0.1:9/"  # the discard port: nothing listens
    with caplog.at_level(logging.WARNING, logger="kompetencehjulet.adapter"):
        status, _ = await server.post(lost)
    assert status in (200, 201)
    adapter = [r for r in caplog.records if r.name == "kompetencehjulet.adapter"]
    assert not [r for r in adapter if r.levelno >= logging.ERROR], "a delivery failure is no crashed turn"
    assert any("reply not delivered" in r.getMessage() for r in adapter)
    reply = await say(server, connector, user.message("1"))  # the role question is still waiting
    assert content.t("da", "msg.ask_level") in reply
