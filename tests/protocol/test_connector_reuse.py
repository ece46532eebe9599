"""The fast reply path (bot/sdk/connector.py): connector clients and the HTTP session are made
once, not per turn; replies still arrive whole; outgoing tokens are cached; user-token
clients are made only when used. Counts, not timings."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import ClaimsIdentity, MicrosoftAppCredentials
from conftest import BotServer, Connector, TeamsUser
from msrest.serialization import Serializer

import bot.sdk.connector as connector_module
from bot.config import Config
from bot.sdk.connector import (
    BearerTokenPolicy,
    ConnectorPool,
    LazyUserTokenClient,
    PooledBotFrameworkAuthentication,
    TokenCache,
    stock_credentials,
    token_expiry,
)

TURNS = [
    "hvad betyder innovation for mig?",
    "vurdering",
    "4",
    "3",
    "2",
    "spring over",
    "nej",
    "hjælp",
    "hvad er gevinstrealisering",
    "profil",
]


@pytest.fixture
def counted(monkeypatch):
    """Count ConnectorClient and aiohttp ClientSession constructions made by the reply path."""
    counts = {"clients": 0, "sessions": 0}

    class CountingClient(connector_module.ConnectorClient):
        def __init__(self, *args, **kwargs):
            counts["clients"] += 1
            super().__init__(*args, **kwargs)

    class CountingSession(aiohttp.ClientSession):
        def __init__(self, *args, **kwargs):
            counts["sessions"] += 1
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(connector_module, "ConnectorClient", CountingClient)
    monkeypatch.setattr(connector_module, "ClientSession", CountingSession)
    return counts


async def _conversation(server: BotServer, connector: Connector, user: TeamsUser, turns: int) -> None:
    """install, onboarding by typed numbers, then questions / a typed self-assessment; every
    turn must have answered this person before its HTTP response came back."""
    activities = [user.install(), user.message("2"), user.message("2")]
    activities += [user.message(TURNS[i % len(TURNS)]) for i in range(turns - len(activities))]

    def mine() -> list[dict]:
        return [a for a in connector.activities if a["conversation"]["id"] == user.conversation_id]

    for activity in activities:
        before = len(mine())
        status, _ = await server.post(activity)
        assert status in (200, 201)
        replies = mine()[before:]
        assert replies, f"no reply to {activity.get('text') or activity['type']!r}"
        for sent in replies:
            assert sent["_path"].startswith(f"/v3/conversations/{user.conversation_id}/activities")
            assert sent["recipient"]["id"] == user.user_id and sent["type"] == "message"
            assert sent.get("text") or sent.get("attachments")


async def test_a_hundred_turns_use_one_connector_client_and_one_session(tmp_path, connector, counted):
    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        pool: ConnectorPool = server.runtime.adapter.connector_pool
        users = [TeamsUser(connector) for _ in range(4)]
        await asyncio.gather(*(_conversation(server, connector, u, 25) for u in users))
        replied = {a["conversation"]["id"] for a in connector.activities}
        assert replied == {u.conversation_id for u in users}
        assert "Udvikling og implementering" in connector.all_text()
        assert pool.clients_created == 1 and counted["clients"] == 1
        assert pool.sessions_created == 1 and counted["sessions"] == 1
        assert pool.user_token_clients_created == 0  # nothing asked for a user token
        assert all(a["_auth"] is None for a in connector.activities)  # local mode: no token sent
    finally:
        await server.runtime.adapter.connector_pool.close()
        await server.stop()
    assert server.runtime.adapter.connector_pool.http._session is None


async def test_two_service_urls_get_two_clients_and_share_one_session(tmp_path, counted):
    first, second = Connector(), Connector()
    await first.start()
    await second.start()
    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        a, b = TeamsUser(first), TeamsUser(second)
        await asyncio.gather(_conversation(server, first, a, 12), _conversation(server, second, b, 12))
        assert {x["conversation"]["id"] for x in first.activities} == {a.conversation_id}
        assert {x["conversation"]["id"] for x in second.activities} == {b.conversation_id}
        pool = server.runtime.adapter.connector_pool
        assert pool.clients_created == 2 and counted["clients"] == 2
        assert pool.sessions_created == 1 and counted["sessions"] == 1
    finally:
        await server.runtime.adapter.connector_pool.close()
        await server.stop()
        await first.stop()
        await second.stop()


async def test_the_reply_is_msrest_serialised_with_the_sdk_user_agent(tmp_path):
    seen: list[tuple[dict, dict]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.json()))
        return web.json_response({"id": "r-1"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake = Connector()
    fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"
    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        user = TeamsUser(fake)
        status, _ = await server.post(user.install())
        assert status in (200, 201) and seen
        headers, body = seen[0]
        assert headers["Content-Type"].startswith("application/json")
        assert "Microsoft-BotFramework/3.1" in headers["User-Agent"] and "msrest" in headers["User-Agent"]
        assert "Authorization" not in headers
        # msrest's wire names, the reply addressed back to the person
        assert body["type"] == "message" and body["conversation"]["id"] == user.conversation_id
        assert body["recipient"]["id"] == user.user_id and body["from"]["id"] == "28:bot-id"
        assert body["replyToId"] == "act-1" and body["serviceUrl"] == fake.url
        assert any(
            att["contentType"] == "application/vnd.microsoft.card.adaptive"
            for b in (x[1] for x in seen)
            for att in b.get("attachments") or []
        )
    finally:
        await server.runtime.adapter.connector_pool.close()
        await server.stop()
        await runner.cleanup()


# --- credentials, tokens, user-token clients ----------------------------------------------------
APP_ID = "00000000-0000-0000-0000-0000000000aa"


def _jwt(exp: float) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'exp': int(exp), 'aud': 'https://api.botframework.com'})}.sig"


class CountingCredentials(MicrosoftAppCredentials):
    def __init__(self, lifetime: float = 3600.0) -> None:
        super().__init__(APP_ID, "secret")
        self.lifetime = lifetime
        self.calls: list[int] = []

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.calls.append(threading.get_ident())
        return _jwt(time.time() + self.lifetime)


async def refreshed(cache: TokenCache) -> None:
    """Until the refreshes started beside the served token are done (on a worker thread, so
    however long a loaded machine takes; a fixed sleep was a race)."""
    for _ in range(1000):
        if not cache._refreshing:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the token refresh did not finish in 10 s")


async def test_outgoing_tokens_are_cached_until_shortly_before_expiry_and_fetched_off_the_loop():
    now = [time.time()]
    cache = TokenCache(clock=lambda: now[0])
    creds = CountingCredentials(lifetime=3600)
    headers = [await cache.authorization(creds) for _ in range(100)]
    assert len(creds.calls) == 1 and len(set(headers)) == 1 and headers[0].startswith("Bearer ")
    assert creds.calls[0] != threading.get_ident()  # MSAL's blocking HTTP never runs on the event loop
    assert token_expiry(headers[0].split()[1]) == pytest.approx(now[0] + 3600, abs=2)
    now[0] += 3600 - 200  # inside the 5-minute margin, still valid: served, refreshed beside
    assert await cache.authorization(creds) == headers[0]
    await refreshed(cache)
    assert len(creds.calls) == 2
    now[0] += 3600  # past expiry: the caller waits for a new one
    fresh = await cache.authorization(creds)
    assert len(creds.calls) == 3 and fresh.startswith("Bearer ")
    assert await cache.authorization(MicrosoftAppCredentials.empty()) is None  # local mode: no token


async def test_concurrent_first_calls_fetch_one_token():
    cache = TokenCache()
    creds = CountingCredentials()
    results = await asyncio.gather(*(cache.authorization(creds) for _ in range(20)))
    assert len(set(results)) == 1 and len(creds.calls) == 1


async def test_a_401_drops_the_cached_token():
    class Next:
        async def send(self, request, **kwargs):
            return type("R", (), {"http_response": type("H", (), {"status_code": 401})()})()

    cache = TokenCache()
    creds = CountingCredentials()
    policy = BearerTokenPolicy(creds, cache)
    policy.next = Next()
    request = type("Q", (), {"http_request": type("H", (), {"headers": {}})()})()
    await policy.send(request)
    assert request.http_request.headers["Authorization"].startswith("Bearer ")
    await cache.authorization(creds)
    assert len(creds.calls) == 2


def _auth_config() -> Config:
    return Config(APP_ID=APP_ID, APP_PASSWORD="secret")


async def test_pooled_clients_get_the_credentials_the_stock_factory_would_give():
    inner = ConfigurationBotFrameworkAuthentication(_auth_config())
    claims = ClaimsIdentity({"aud": APP_ID}, True)
    stock_client = await inner.create_connector_factory(claims).create("https://smba.example/emea/", None)
    ours = await stock_credentials(inner.create_connector_factory(claims), "https://smba.example/emea/", None)
    theirs = stock_client.config.credentials
    assert type(ours) is type(theirs)
    for name in ("microsoft_app_id", "microsoft_app_password", "oauth_scope", "oauth_endpoint"):
        assert getattr(ours, name) == getattr(theirs, name), name


async def test_connector_clients_are_keyed_by_service_url_app_id_and_audience():
    auth = PooledBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(_auth_config()))
    factory = auth.create_connector_factory(ClaimsIdentity({"aud": APP_ID}, True))
    a = await factory.create("https://smba.example/emea/", None)
    assert await factory.create("https://smba.example/emea", None) is a  # trailing slash is the same URL
    assert await factory.create("https://smba.example/amer/", None) is not a
    assert await factory.create("https://smba.example/emea/", "https://other.example") is not a
    # no audience is the SDK's default one: replies (audience named) and proactive messages share
    assert await factory.create("https://smba.example/emea/", "https://api.botframework.com") is a
    proactive = auth.create_connector_factory(ClaimsIdentity({"aud": APP_ID, "appid": APP_ID}, True))
    assert await proactive.create("https://smba.example/emea/", None) is a
    assert auth.pool.clients_created == 3
    assert a.config.credentials.microsoft_app_id == APP_ID
    await auth.pool.close()


async def test_user_token_clients_are_made_only_when_used():
    auth = PooledBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(_auth_config()))
    claims = ClaimsIdentity({"aud": APP_ID}, True)
    lazy = await auth.create_user_token_client(claims)
    assert isinstance(lazy, LazyUserTokenClient) and auth.pool.user_token_clients_created == 0
    real = await lazy._get()
    again = await (await auth.create_user_token_client(claims))._get()
    assert real is again and auth.pool.user_token_clients_created == 1


async def test_short_lived_tokens_are_refreshed_at_half_their_lifetime_not_every_call():
    now = [time.time()]
    cache = TokenCache(clock=lambda: now[0])
    creds = CountingCredentials(lifetime=120)  # shorter than the 5-minute margin
    for _ in range(50):
        await cache.authorization(creds)
    assert len(creds.calls) == 1
    now[0] += 61
    await cache.authorization(creds)
    await refreshed(cache)
    assert len(creds.calls) == 2


async def test_nudges_and_replies_share_the_pooled_client(tmp_path, connector, counted):
    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        user = TeamsUser(connector)
        await _conversation(server, connector, user, 3)
        adapter = server.runtime.adapter
        before = len(connector.activities)
        reference = TurnContext.get_conversation_reference(Activity().deserialize(user.message("x")))

        async def nudge(context: TurnContext) -> None:
            await context.send_activity("påmindelse")

        await adapter.continue_conversation(reference, nudge, "")
        assert connector.activities[before]["text"] == "påmindelse"
        assert adapter.connector_pool.clients_created == 1 and counted["clients"] == 1
        assert counted["sessions"] == 1
    finally:
        await server.runtime.adapter.connector_pool.close()
        await server.stop()


async def test_one_card_sent_to_two_people_reaches_each_whole_and_the_callers_copy_is_untouched(
    tmp_path, connector, monkeypatch
):
    """The turn copies an outgoing activity one level deep instead of deep-copying it
    (bot/sdk/adapter.py): addressing each reply must still not leak into the caller's object
    or into the other person's reply."""
    from botbuilder.core import CardFactory, MessageFactory
    from botbuilder.schema import CardAction, HeroCard

    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        adapter = server.runtime.adapter
        people = [TeamsUser(connector), TeamsUser(connector)]
        card = MessageFactory.attachment(
            CardFactory.hero_card(
                HeroCard(
                    title="Din påmindelse", buttons=[CardAction(type="imBack", title="Tag tjekket", value="vurdering")]
                )
            )
        )
        card.text = "Hej"

        async def send_card(context: TurnContext) -> None:
            await context.send_activity(card)

        slow = []
        msrest_body = Serializer.body
        monkeypatch.setattr(
            Serializer, "body", lambda self, *a, **k: (slow.append(a[1]), msrest_body(self, *a, **k))[1]
        )
        for person in people:
            reference = TurnContext.get_conversation_reference(Activity().deserialize(person.message("x")))
            await adapter.continue_conversation(reference, send_card, "")
        assert slow == [], "the turn's copy of the activity fell back to msrest's slow serializer"
        assert card.conversation is None and card.recipient is None and card.from_property is None
        assert card.id is None and card.reply_to_id is None
        sent = connector.activities[-2:]
        assert [s["conversation"]["id"] for s in sent] == [p.conversation_id for p in people]
        assert [s["recipient"]["id"] for s in sent] == [p.user_id for p in people]
        for s in sent:
            assert s["text"] == "Hej" and s["attachments"][0]["content"]["title"] == "Din påmindelse"
            assert s["attachments"][0]["content"]["buttons"][0]["value"] == "vurdering"
    finally:
        await server.runtime.adapter.connector_pool.close()
        await server.stop()


# --- the direct reply path sends what msrest would send -----------------------------------------
class _Capture:
    """A connector stand-in that records raw requests and answers what it is told to."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict, bytes]] = []
        self.answer = (200, b'{"id": "r-1"}', {})

    async def __aenter__(self):
        async def handle(request: web.Request) -> web.Response:
            self.seen.append((request.method, request.raw_path, dict(request.headers), await request.read()))
            status, body, headers = self.answer
            return web.Response(status=status, body=body, headers=headers, content_type="application/json")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/emea/"
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


def _both(url: str, creds) -> tuple:
    from botframework.connector.aio.operations_async import ConversationsOperations
    from msrest.serialization import Serializer

    pool = ConnectorPool()
    client = pool._build(url, creds)
    stock = ConversationsOperations(
        client._client, client.config, Serializer(client._serialize.dependencies), client._deserialize
    )
    assert type(client.conversations).__name__ == "DirectConversations"
    return pool, stock, client.conversations


async def test_the_direct_reply_path_sends_exactly_what_msrest_sends():
    from botbuilder.core import CardFactory, MessageFactory
    from botbuilder.schema import ChannelAccount, ConversationAccount, HeroCard

    reply = MessageFactory.attachment(CardFactory.hero_card(HeroCard(title="Æblegrød ø å")))
    reply.text = "Hej Søren"
    reply.conversation = ConversationAccount(id="a:1/x y")
    reply.recipient = ChannelAccount(id="29:p")
    async with _Capture() as capture:
        pool, stock, direct = _both(capture.url, CountingCredentials())
        try:
            answers = []
            for ops in (stock, direct):
                answers.append(await ops.reply_to_activity("a:1/x y", "act 7", reply))
                answers.append(await ops.send_to_conversation("a:1/x y", reply))
        finally:
            await pool.close()
    assert answers[0] == answers[2] and answers[1] == answers[3] and answers[0].id == "r-1"
    msrest_reply, msrest_send, direct_reply, direct_send = capture.seen
    for ours, theirs in ((direct_reply, msrest_reply), (direct_send, msrest_send)):
        assert ours[:2] == theirs[:2] and ours[3] == theirs[3]  # method, encoded path, body bytes
        keys = ("Accept", "Content-Type", "User-Agent", "Authorization", "x-ms-conversation-id")
        assert {k: ours[2].get(k) for k in keys} == {k: theirs[2].get(k) for k in keys}
    assert direct_reply[1] == "/emea/v3/conversations/a:1%2Fx%20y/activities/act%207"  # as yarl sends it


@pytest.mark.parametrize(
    "status,body,headers",
    [
        (429, b'{"error": {"code": "Throttled", "message": "slow"}}', {"Retry-After": "3"}),
        (403, b"", {}),
        (500, b"{}", {}),
    ],
)
async def test_a_refused_reply_raises_what_msrest_raises(status, body, headers):
    from botframework.connector.models import ErrorResponseException

    from bot.nudge_sender import status_of

    async with _Capture() as capture:
        capture.answer = (status, body, headers)
        pool, stock, direct = _both(capture.url, MicrosoftAppCredentials.empty())
        errors = []
        try:
            for ops in (stock, direct):
                with pytest.raises(ErrorResponseException) as caught:
                    await ops.send_to_conversation("a:1", Activity(type="message", text="x"))
                errors.append(caught.value)
        finally:
            await pool.close()
    assert status_of(errors[0]) == status_of(errors[1]) == (status, float(headers["Retry-After"]) if headers else None)
    assert str(errors[0]) == str(errors[1])


async def test_empty_answers_and_a_401_on_the_direct_path():
    from botframework.connector.models import ErrorResponseException

    from bot.nudge_sender import status_of

    async with _Capture() as capture:
        creds = CountingCredentials()
        pool, stock, direct = _both(capture.url, creds)
        try:
            capture.answer = (200, b"", {})
            assert await direct.send_to_conversation("a:1", Activity(type="message")) is None
            # A 5xx with a body that is not JSON still says 500 (msrest's path failed to read it
            # and lost the status, so the nudge sender could not tell it was worth a retry).
            capture.answer = (502, b"<html>Bad gateway</html>", {})
            with pytest.raises(ErrorResponseException) as caught:
                await direct.send_to_conversation("a:1", Activity(type="message"))
            assert status_of(caught.value) == (502, None)
            capture.answer = (401, b"", {})
            with pytest.raises(ErrorResponseException):
                await direct.send_to_conversation("a:1", Activity(type="message"))
            capture.answer = (201, b'{"id": "again"}', {})
            assert (await direct.send_to_conversation("a:1", Activity(type="message"))).id == "again"
        finally:
            await pool.close()
    assert len(creds.calls) == 2  # the 401 dropped the cached token; the next call fetched a new one


async def test_the_sdk_internals_this_reply_path_relies_on():
    """bot/sdk/connector.py's docstring lists what it uses beyond the SDK's public API; an SDK
    upgrade that moves any of it must fail here, loudly, not in a customer's chat."""
    from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
    from botframework.connector import ConnectorClient
    from botframework.connector.auth import MicrosoftAppCredentials

    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url="https://example.invalid/")
    for name in ("_serialize", "_deserialize", "_client", "config", "conversations"):
        assert hasattr(client, name), f"ConnectorClient.{name} is gone"
    assert hasattr(client._serialize, "dependencies") and hasattr(client._serialize, "client_side_validation")
    factory = ConfigurationBotFrameworkAuthentication(Config()).create_connector_factory(ClaimsIdentity({}, True))
    assert type(factory).__name__ == "_ConnectorFactoryImpl"
    for name in (
        "_credential_factory",
        "_app_id",
        "_to_channel_from_bot_oauth_scope",
        "_login_endpoint",
        "_validate_authority",
    ):
        assert hasattr(factory, name), f"_ConnectorFactoryImpl.{name} is gone"
