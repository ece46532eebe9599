"""Health says ok while storage fails (issue 14, defect 11).

GET /readyz writes and deletes a small document through the store and fails (503) when it
cannot; /healthz stays a liveness probe. And a new person whose install turn fails on
storage still gets the welcome, which needs no write.
"""

from __future__ import annotations

import asyncio
import errno
import json

import pytest
from conftest import TeamsUser


def full_disk(store, monkeypatch) -> None:
    """Every write through the store fails as on a full disk (TinyDB's own error, raised
    where its atomic write would)."""

    async def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    for name in ("write", "write_named"):
        monkeypatch.setattr(store, name, no_space)


def readiness_of(server):
    from bot.http.app import READINESS

    return server.runtime.app[READINESS]


async def get(server, path: str) -> tuple[int, dict]:
    async with server.session.get(server.url + path) as resp:
        return resp.status, await resp.json()


async def test_readyz_is_200_while_the_store_writes_and_leaves_nothing_behind(server):
    status, body = await get(server, "/readyz")
    assert status == 200 and body == {"status": "ready"}
    assert not list((server.data_dir / "health").rglob("*.json"))  # the probe document is gone


async def test_readyz_is_503_with_a_full_disk_while_healthz_stays_200(server, monkeypatch):
    full_disk(server.runtime.store, monkeypatch)
    status, body = await get(server, "/readyz")
    assert status == 503 and body == {"status": "not ready", "reason": "storage: OSError ENOSPC"}
    status, _ = await get(server, "/healthz")
    assert status == 200  # liveness: the process answers
    monkeypatch.undo()  # space again
    readiness_of(server).ttl = 0
    status, _ = await get(server, "/readyz")
    assert status == 200


async def test_readyz_probes_are_cached_and_shared(server):
    readiness = readiness_of(server)
    results = await asyncio.gather(*(get(server, "/readyz") for _ in range(20)))
    assert {status for status, _ in results} == {200}
    await get(server, "/readyz")
    assert readiness.writes == 1  # twenty-one probes, one write


@pytest.mark.slow  # asserts real elapsed seconds (an answer within 1.5 s, then within 0.3 s)
async def test_readyz_is_bounded_when_the_store_hangs(server, monkeypatch):
    readiness = readiness_of(server)
    readiness.timeout, readiness.ttl = 0.5, 0
    release = asyncio.Event()

    async def hanging(*args, **kwargs):
        await release.wait()
        return "etag"

    monkeypatch.setattr(server.runtime.store, "write", hanging)
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, body = await get(server, "/readyz")
    assert status == 503 and "within 0.5 s" in body["reason"] and loop.time() - started < 1.5
    started = loop.time()
    status, body = await get(server, "/readyz")  # the first write still hangs: not joined by a second
    assert status == 503 and "has not finished" in body["reason"] and loop.time() - started < 0.3
    assert readiness.writes == 1
    release.set()
    await asyncio.sleep(0.05)
    status, _ = await get(server, "/readyz")
    assert status == 200


@pytest.mark.parametrize("locale,welcome", [("da-DK", "to korte spørgsmål"), ("en-US", "two short questions")])
async def test_an_install_with_a_full_disk_still_gets_the_welcome(server, connector, monkeypatch, locale, welcome):
    from model import content

    full_disk(server.runtime.store, monkeypatch)
    user = TeamsUser(connector, locale=locale)
    status, _ = await server.post(user.install())
    assert status == 201
    texts = [t.replace("  \n", "\n") for t in connector.texts()]  # Markdown hard breaks, as sent
    lang = "da" if locale.startswith("da") else "en"
    assert texts == [content.t(lang, "msg.welcome")], texts
    assert welcome.lower() in texts[0].lower()


async def test_a_conversation_update_with_a_full_disk_still_gets_the_welcome(server, connector, monkeypatch):
    from model import content

    full_disk(server.runtime.store, monkeypatch)
    user = TeamsUser(connector, locale="en-US")
    status, _ = await server.post(user.activity("conversationUpdate", membersAdded=[{"id": "28:bot-id"}]))
    assert status == 201
    # it writes nothing before greeting, so the whole greeting goes out (with Markdown hard breaks)
    texts = [t.replace("  \n", "\n") for t in connector.texts()]
    # (the welcome carries one button to Danish: a card with the welcome's text first)
    assert texts[0].startswith(content.t("en", "msg.welcome")), texts
    assert sum(content.t("en", "msg.welcome") in t for t in texts) == 1, texts


async def test_a_team_install_with_a_full_disk_gets_the_team_welcome(server, connector, monkeypatch):
    from model import content

    full_disk(server.runtime.store, monkeypatch)
    user = TeamsUser(connector, locale="en-US", conversation_type="channel")
    status, _ = await server.post(user.install())
    assert status == 201
    assert connector.texts() in ([], [content.t("en", "msg.welcome_team")])  # the team greeting needs no write


async def test_a_failed_install_that_already_greeted_does_not_greet_twice(server, connector, monkeypatch):
    """The greeting went out, then saving the dialog state failed: one welcome, not two."""
    user = TeamsUser(connector, locale="en-US")

    async def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(server.runtime.bot.conversation_state, "save_changes", no_space)
    status, _ = await server.post(user.install())
    assert status == 201
    texts = connector.all_text()
    assert texts.count("two short questions") == 1, texts


async def test_other_failing_non_message_turns_stay_quiet(server, connector, monkeypatch):
    full_disk(server.runtime.store, monkeypatch)
    user = TeamsUser(connector, locale="en-US")
    status, _ = await server.post(user.activity("installationUpdate", action="remove"))
    assert status == 201 and connector.activities == []
    status, body = await server.post(user.activity("conversationUpdate", membersRemoved=[{"id": "x"}]))
    assert status == 201 and connector.activities == [], json.dumps(connector.activities)[:300]
