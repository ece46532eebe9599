"""Shared test fixtures: a stand-in Bot Connector service on loopback, the real app on a
free port, and Teams-shaped activities."""

from __future__ import annotations

import asyncio
import itertools
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from app import create_runtime as build  # noqa: E402 - the served app, local channels included
from bot.config import Config  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # the time profiles are saved at


def buttons_of(card: dict) -> list[dict]:
    """The buttons of a hero card or an Adaptive Card (actions, and ActionSets in its body)."""
    found = list(card.get("buttons") or []) + list(card.get("actions") or [])
    for element in card.get("body") or []:
        if isinstance(element, dict) and element.get("type") == "ActionSet":
            found += element.get("actions") or []
    return found


def readable(activity: dict) -> list[str]:
    """The texts of one sent activity, as a person would read them."""
    parts = [activity.get("text") or ""]
    for att in activity.get("attachments") or []:
        card = att.get("content") or {}
        if not isinstance(card, dict):
            continue
        parts.append(card.get("text") or "")
        parts += [
            b.get("text", "") for b in card.get("body") or [] if isinstance(b, dict) and b.get("type") == "TextBlock"
        ]
        parts += [b.get("title", "") for b in buttons_of(card)]
    return parts


class Connector:
    """Catches what the bot sends to serviceUrl, as Teams' connector would receive it."""

    def __init__(self) -> None:
        self.activities: list[dict] = []
        self.uploads: dict[str, tuple[bytes, dict]] = {}
        self.rosters: dict[str, list[dict]] = {}  # team id -> members, as Teams' pagedmembers gives them
        self.requests: list[tuple[str, str]] = []
        self.responses: list[tuple[int, dict]] = []  # scripted answers, consumed in order
        self._ids = itertools.count(1)
        self._event = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        if request.method == "GET" and request.path.endswith("/pagedmembers"):  # a team's roster, one page
            team = request.path.split("/")[-2]
            members = self.rosters.get(team)
            if members is None:
                return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
            return web.json_response({"members": members})
        if request.method == "PUT" and request.path.startswith("/upload/"):  # a file the bot uploads (Teams' OneDrive)
            self.uploads[request.path] = (await request.read(), dict(request.headers))
            return web.json_response({"id": "file-1", "name": request.path.rsplit("/", 1)[-1]}, status=201)
        if self.responses:
            status, headers = self.responses.pop(0)
            if status >= 300:
                return web.json_response({"error": {"code": str(status)}}, status=status, headers=headers)
        body = await request.json() if request.can_read_body else {}
        if request.method == "POST" and "/activities" in request.path:
            body["_path"] = request.path
            body["_auth"] = request.headers.get("Authorization")
            self.activities.append(body)
            self._event.set()
        return web.json_response({"id": f"reply-{next(self._ids)}"})

    def accept_file(self, user: "TeamsUser", since: int = 0) -> dict:
        """The person accepts the file consent card sent since `since`, as Teams would: the
        `fileConsent/invoke` activity to post back, with an upload URL on this connector."""
        card = next(
            att
            for act in self.activities[since:]
            for att in act.get("attachments") or []
            if att.get("contentType") == "application/vnd.microsoft.teams.card.file.consent"
        )
        name = card["name"]
        return user.activity(
            "invoke",
            name="fileConsent/invoke",
            value={
                "type": "fileUpload",
                "action": "accept",
                "context": card["content"]["acceptContext"],
                "uploadInfo": {
                    "name": name,
                    "uploadUrl": f"{self.url}upload/{name}",
                    "contentUrl": f"{self.url}files/{name}",
                    "uniqueId": "file-1",
                    "fileType": name.rsplit(".", 1)[-1],
                },
            },
        )

    def texts(self, since: int = 0) -> list[str]:
        """What a person reads in each message: its text, card texts and button titles."""
        return ["\n".join(p for p in readable(act) if p) for act in self.activities[since:]]

    def buttons(self, since: int = 0) -> list[dict]:
        """Every button the bot sent since `since`, in order: {"title", "data"}."""
        return [
            b
            for act in self.activities[since:]
            for att in act.get("attachments") or []
            for b in buttons_of(att.get("content") or {})
        ]

    def all_text(self, since: int = 0) -> str:
        return "\n".join(self.texts(since))


class BotServer:
    """The real aiohttp app on a free loopback port; restartable on the same data dir."""

    def __init__(self, data_dir: Path, **overrides) -> None:
        self.data_dir = data_dir
        self.overrides = overrides
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.runtime = None

    async def start(self) -> None:
        import aiohttp

        config = Config(DATA_DIR=self.data_dir, PORT=0, NUDGES="off", FSYNC=False, **self.overrides)
        self.runtime = build(config)
        self.runner = web.AppRunner(self.runtime.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.session.close()
        if self.runner:
            await self.runner.cleanup()

    async def post(self, activity, headers=None, raw: bytes | None = None, content_type="application/json"):
        hdrs = {"Content-Type": content_type, **(headers or {})}
        import json as _json

        data = raw if raw is not None else _json.dumps(activity).encode()
        async with self.session.post(self.url + "/api/messages", data=data, headers=hdrs) as resp:
            return resp.status, await resp.text()


class TeamsUser:
    """Builds Teams-shaped activities for one person in a personal chat."""

    def __init__(
        self,
        connector: Connector,
        name: str = "Mette",
        locale: str = "da-DK",
        tenant: str = "tenant-1",
        conversation_type: str = "personal",
    ) -> None:
        self.aad = str(uuid.uuid4())
        self.user_id = f"29:{uuid.uuid4().hex}"
        self.conversation_id = f"a:{uuid.uuid4().hex}"
        self.connector = connector
        self.name = name
        self.locale = locale
        self.tenant = tenant
        self.conversation_type = conversation_type
        self._n = itertools.count(1)

    def activity(self, type_: str = "message", **fields) -> dict:
        act = {
            "type": type_,
            "id": f"act-{next(self._n)}",
            "timestamp": "2026-11-26T10:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": self.user_id, "name": self.name, "aadObjectId": self.aad},
            "conversation": {
                "id": self.conversation_id,
                "conversationType": self.conversation_type,
                "tenantId": self.tenant,
            },
            "recipient": {"id": "28:bot-id", "name": "Kompetencehjulet"},
            "channelData": {"tenant": {"id": self.tenant}},
            "locale": self.locale,
            "entities": [{"type": "clientInfo", "locale": self.locale, "timezone": "Europe/Copenhagen"}],
        }
        act.update(fields)
        return act

    def message(self, text: str | None = None, value: dict | None = None) -> dict:
        fields = {}
        if text is not None:
            fields["text"] = text
        if value is not None:
            fields["value"] = value
        return self.activity("message", **fields)

    def install(self) -> dict:
        return self.activity("installationUpdate", action="add")

    @property
    def key(self) -> str:
        from model.domain.users import user_key

        return user_key(self.tenant, self.aad)

    async def store_as_due_candidate(self, store, prefs, set_at, language: str = "da") -> None:
        """Write this person straight into a store: profile, conversation reference, reminder."""
        from model.domain.reminders import Reminders
        from model.domain.users import Users

        users = Users(store)
        await users.save_profile(self.key, NOW, role="it", level="use", language=language)
        ref = {
            "bot": {"id": "28:bot-id"},
            "user": {"id": self.user_id, "aadObjectId": self.aad},
            "conversation": {"id": self.conversation_id, "tenantId": self.tenant, "conversationType": "personal"},
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
        }
        await users.remember_conversation(self.key, ref, None, True)
        await Reminders(store).configure(self.key, prefs, set_at)


@pytest.fixture
async def connector():
    c = Connector()
    await c.start()
    yield c
    await c.stop()


@pytest.fixture
async def server(tmp_path):
    s = BotServer(tmp_path / "data")
    await s.start()
    yield s
    await s.stop()


async def say(server: BotServer, connector: Connector, activity: dict) -> str:
    """Post one activity and return all the text the bot sent back during that turn."""
    before = len(connector.activities)
    status, body = await server.post(activity)
    assert status in (200, 201), (status, body)
    return connector.all_text(before)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """One Azurite (the official Azure Storage emulator) for the whole test session."""
    from azurite import Azurite, AzuriteUnavailable, ci

    server = Azurite(tmp_path_factory.mktemp("azurite"))
    try:
        server.start()
    except AzuriteUnavailable as err:
        if ci():
            pytest.fail(f"CI=true: the Blob backend must be tested, but Azurite is unavailable: {err}", pytrace=False)
        pytest.skip(f"Azurite unavailable, Blob backend not tested: {err}")
    yield server
    server.stop()


# Markers by what a test needs, so `make test-fast` can leave out what is slow to start.
SLOW_MODULES = {"test_cli", "test_scale_out", "test_browser", "test_terminal_chat"}


def pytest_collection_modifyitems(items):
    for item in items:
        module = item.module.__name__ if item.module else ""
        if "azurite" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.azurite)
        if module == "test_browser":
            item.add_marker(pytest.mark.browser)
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def da(tmp_path):
    """One person chatting in Danish through the TestAdapter (tests/chat.py)."""
    from chat import Chat

    return Chat(tmp_path, "da-DK")


@pytest.fixture
def en(tmp_path):
    from chat import Chat

    return Chat(tmp_path, "en-US")
