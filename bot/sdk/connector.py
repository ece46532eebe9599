"""A fast reply path for botbuilder's CloudAdapter, through the SDK's own extension points.

Per turn the stock `CloudAdapter` asks its `BotFrameworkAuthentication` for a connector
factory, builds a new `ConnectorClient` (two msrest `Configuration`s, each building a
`ClientRetryPolicy` by a 500x1000 list scan), a new `UserTokenClient` (another
`Configuration`) and new `MicrosoftAppCredentials` (a new MSAL application with an empty
token cache), then sends every reply with `requests` on a thread pool, signing it on the
event loop (a blocking AAD round trip whenever the fresh MSAL cache is empty, i.e. every
turn when an app id is set).

Here, with the programming model unchanged (CloudAdapter, TurnContext, ActivityHandler,
dialogs):

* `PooledBotFrameworkAuthentication` wraps the SDK's configuration-driven authentication
  (incoming JWT validation is the SDK's, untouched) and hands out `PooledConnectorFactory`s;
* a `ConnectorClient` is built once per (service URL, app id, audience), with the very
  credentials the SDK's own connector factory would give it, and kept (LRU-bounded);
* every client sends through one pooled `aiohttp.ClientSession` (`AioHttpSender`, a msrest
  pipeline sender: msrest still serialises the body, sets the user agent and deserialises
  the answer; `BearerTokenPolicy` replaces the requests-only credentials policy);
* outgoing tokens are cached until 5 minutes before they expire and refreshed off the
  event loop (`TokenCache`);
* the `UserTokenClient` is created only when a dialog really asks for a user token
  (`LazyUserTokenClient`), then kept per app id.

This file changes no SDK module or class: the adapter is given this authentication object.
(The adapter itself is not stock: `bot/sdk/adapter.py` subclasses `CloudAdapter`, overrides
its private `_create_turn_context` and swaps each turn context's `__class__`; and
`bot/auth.py` replaces the SDK's class attribute `JwtTokenExtractor.metadataCache`.)
What this file relies on beyond the SDK's public API, all pinned by
`tests/protocol/test_connector_reuse.py::test_the_sdk_internals_this_reply_path_relies_on`, which
fails loudly if an SDK upgrade moves them:

* on each `ConnectorClient` it builds (its own instances, never shared with the SDK) it
  replaces two attributes: `client._serialize` (msrest's serializer, by `FastSerializer`,
  which gives the same JSON) and `client.conversations` (by `DirectConversations`, which
  sends replies straight over the pooled session and falls back to msrest's operations
  for everything else); it reads `client._client`, `client._deserialize` and
  `client.config` to build them;
* `stock_credentials` reads five private attributes of the SDK's `_ConnectorFactoryImpl`
  (`_credential_factory`, `_app_id`, `_to_channel_from_bot_oauth_scope`,
  `_login_endpoint`, `_validate_authority`) so it can ask for the very credentials the SDK
  would use without building a throw-away client; any other factory is asked the public
  way.

The Bot Framework SDK is archived and pinned (4.17.x), so these do not move by themselves.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import logging
import random
import time
import urllib.request
from functools import partial
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import quote, urljoin, urlsplit

import aiohttp
from aiohttp import ClientSession
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector.about import __version__ as _bf_version
from botframework.connector.aio import ConnectorClient
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.models import ErrorResponseException
from msrest.authentication import Authentication
from msrest.exceptions import ClientRequestError
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response, SansIOHTTPPolicy
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict

from .activity_codec import FastSerializer, Unsupported, codec

log = logging.getLogger("kompetencehjulet.connector")

# The same user agent the SDK's own connector factory adds.
USER_AGENT = f"Microsoft-BotFramework/3.1 (BotBuilder Python/{_bf_version})"
REFRESH_MARGIN = 300.0  # refresh outgoing tokens this many seconds before they expire
UNKNOWN_TTL = 120.0  # a token whose expiry cannot be read counts as valid this long (refreshed at half)
CONNECT_RETRIES = 3  # a request that could not connect is tried again (never reached the server)


# -- one pooled HTTP session ----------------------------------------------------------------
class PooledHttp:
    """One aiohttp ClientSession for every outgoing Bot Connector call, created lazily in
    the running event loop and closed on app cleanup."""

    def __init__(self, limit: int = 100, limit_per_host: int = 32, keepalive_timeout: float = 30.0) -> None:
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.keepalive_timeout = keepalive_timeout
        self._session: ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}
        self.sessions_created = 0

    def session(self) -> ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.limit,
                limit_per_host=self.limit_per_host,
                keepalive_timeout=self.keepalive_timeout,
                ttl_dns_cache=300,
            )
            # No cookies carried between calls (the stock sender used a fresh requests
            # session per turn); proxies from the environment are looked up per host once
            # (proxy_for) instead of aiohttp's trust_env, which asks a thread twice per request.
            self._session = ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
            self.sessions_created += 1
        return self._session

    def proxy_for(self, url: str) -> str | None:
        """HTTP(S)_PROXY / NO_PROXY as requests honours them, cached per (scheme, host)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and urllib.request.proxy_bypass(parts.netloc):
                proxy = None
            self._proxies[key] = proxy or None
        return self._proxies[key]

    async def request(
        self,
        method: str,
        url: str,
        headers: dict,
        data: Any,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's per-request timeout, passed on
    ) -> aiohttp.ClientResponse:
        """One request over the shared session; tried again only when no connection could
        be made (the request never reached the server), as msrest's sender did."""
        session = self.session()
        proxy = self.proxy_for(url)
        for attempt in range(CONNECT_RETRIES + 1):
            try:
                return await session.request(
                    method, url, headers=headers, data=data, timeout=timeout, allow_redirects=True, proxy=proxy
                )
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as err:
                # Not connected (or a pooled keep-alive connection the server had closed);
                # a certificate problem does not go away by asking again.
                if (
                    attempt == CONNECT_RETRIES
                    or isinstance(err, aiohttp.ClientSSLError)
                    or (isinstance(err, aiohttp.ServerDisconnectedError) and attempt)
                ):
                    raise ClientRequestError("Error occurred in request.", inner_exception=err) from err
                await asyncio.sleep(0.1 * (2**attempt) * (0.5 + random.random()))
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                raise ClientRequestError("Error occurred in request.", inner_exception=err) from err
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


async def read_body(resp: aiohttp.ClientResponse) -> bytes:
    """The whole body, the connection back in the pool; a broken read as msrest reports it."""
    try:
        return await resp.read()
    except (aiohttp.ClientError, asyncio.TimeoutError) as err:
        raise ClientRequestError("Error occurred in request.", inner_exception=err) from err
    finally:
        resp.release()


class AioHttpResponse(AsyncClientResponse):
    """msrest's view of an aiohttp response, body read (an empty body is a valid body)."""

    def __init__(self, request: Any, response: aiohttp.ClientResponse, body: bytes | None) -> None:
        super().__init__(request, response)
        self.status_code = response.status
        self.headers = CIMultiDict(response.headers)
        self.reason = response.reason
        self._body = body

    def body(self) -> bytes:
        if self._body is None:
            raise ValueError("Body is not available: the request was sent with stream=True.")
        return self._body

    def raise_for_status(self) -> None:
        self.internal_response.raise_for_status()

    def stream_download(self, chunk_size: Optional[int] = None, callback: Optional[Callable] = None):
        async def chunks():
            while True:
                chunk = await self.internal_response.content.read(chunk_size or 10 * 1024)
                if not chunk:
                    break
                if callback:
                    callback(chunk, self.internal_response)
                yield chunk

        return chunks()


class AioHttpSender(AsyncHTTPSender):
    """msrest pipeline sender over the shared session. Sends what msrest serialised (method,
    URL, headers, body or form data); retries only when the connection could not be made."""

    def __init__(self, http: PooledHttp, timeout: float = 100.0) -> None:
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def __aenter__(self) -> "AioHttpSender":
        return self

    async def __aexit__(self, *exc_details) -> None:
        return None  # the session is shared; its owner closes it

    def build_context(self) -> Any:
        return None

    async def send(self, request: Request, **kwargs: Any) -> Response:
        http_request = request.http_request
        headers = dict(http_request.headers)
        data = http_request.data
        if http_request.files:
            form = aiohttp.FormData()
            for name, value in (data or {}).items():
                form.add_field(name, value)
            for name, spec in http_request.files.items():
                filename, handle, *rest = spec if isinstance(spec, tuple) else (name, spec)
                form.add_field(name, handle, filename=filename, content_type=rest[0] if rest else None)
            data = form
            headers.pop("Content-Type", None)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if data is not None and not isinstance(data, aiohttp.FormData):
            headers.pop("Content-Length", None)  # aiohttp sets it from the bytes it sends
        stream = kwargs.get("stream", True)
        resp = await self.http.request(http_request.method, http_request.url, headers, data, self.timeout)
        body = None if stream else await read_body(resp)
        return Response(request, AioHttpResponse(http_request, resp, body))


# -- outgoing tokens ----------------------------------------------------------------------------
def token_expiry(token: str) -> float | None:
    """`exp` of a JWT (seconds since the epoch), read without verifying: only to know
    when to ask for a new one."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
        return float(exp) if exp else None
    except (IndexError, ValueError, TypeError, AttributeError):
        return None


def wants_token(credentials: Authentication) -> bool:
    """AppCredentials' own rule: no app id (local mode) or the anonymous skill -> no token."""
    app_id = getattr(credentials, "microsoft_app_id", None)
    return bool(app_id) and app_id != AuthenticationConstants.ANONYMOUS_SKILL_APP_ID


class TokenCache:
    """Bearer tokens per (credentials kind, app id, tenant endpoint, scope), reused until
    REFRESH_MARGIN seconds (at most half the token's lifetime) before they expire. The
    SDK's credentials fetch them (MSAL, synchronous HTTP) on a worker thread, never on the
    event loop; one fetch per key at a time. Once due for refresh, the old token, still
    valid, keeps being used while the refresh runs beside."""

    def __init__(self, margin: float = REFRESH_MARGIN, clock: Callable[[], float] = time.time) -> None:
        self.margin = margin
        self.clock = clock
        self._tokens: dict[tuple, tuple[str, float, float]] = {}  # header, refresh at, expires at
        self._locks: dict[tuple, asyncio.Lock] = {}
        self._refreshing: set[tuple] = set()
        self.fetches = 0

    @staticmethod
    def key(credentials: Authentication) -> tuple:
        return (
            type(credentials).__qualname__,
            getattr(credentials, "microsoft_app_id", None),
            getattr(credentials, "oauth_endpoint", None),
            getattr(credentials, "oauth_scope", None),
        )

    async def authorization(self, credentials: Authentication) -> str | None:
        """'Bearer <token>' for these credentials, or None when no token is wanted."""
        if not hasattr(credentials, "get_access_token"):
            return await self._signed_header(credentials)
        if not wants_token(credentials):
            return None
        key = self.key(credentials)
        cached = self._tokens.get(key)
        if cached is not None:
            header, refresh_at, expires_at = cached
            now = self.clock()
            if now < refresh_at:
                return header
            if now < expires_at - 10:  # due for refresh but still valid: refresh beside it
                if key not in self._refreshing:
                    self._refreshing.add(key)
                    asyncio.get_running_loop().create_task(self._refresh_quietly(key, credentials))
                return header
        return await self._refresh(key, credentials, stale=cached)

    def invalidate(self, credentials: Authentication) -> None:
        self._tokens.pop(self.key(credentials), None)

    async def _refresh_quietly(self, key: tuple, credentials: Any) -> None:
        try:
            await self._refresh(key, credentials, stale=self._tokens.get(key))
        except Exception:  # noqa: BLE001 - the current token is still valid; the next call tries again
            log.warning("refreshing the outgoing Bot Framework token failed; the current one is used meanwhile")
        finally:
            self._refreshing.discard(key)

    async def _refresh(self, key: tuple, credentials: Any, stale: tuple | None) -> str:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            current = self._tokens.get(key)
            if current is not None and current is not stale and self.clock() < current[1]:
                return current[0]  # another coroutine fetched it meanwhile
            token = await asyncio.to_thread(credentials.get_access_token)
            self.fetches += 1
            now = self.clock()
            expires_at = token_expiry(token) or (now + UNKNOWN_TTL)
            refresh_at = expires_at - min(self.margin, max(expires_at - now, 0) / 2)
            header = f"Bearer {token}"
            self._tokens[key] = (header, refresh_at, expires_at)
            return header

    @staticmethod
    async def _signed_header(credentials: Authentication) -> str | None:
        """Any other msrest Authentication: let it sign a requests session (off the loop)."""
        import requests

        session = await asyncio.to_thread(credentials.signed_session, requests.Session())
        return session.headers.get("Authorization")


class BearerTokenPolicy(AsyncHTTPPolicy):
    """Stands where msrest's requests-only credentials policy stands: sets (or, without an
    app id, removes) the Authorization header; a 401 drops the cached token."""

    def __init__(self, credentials: Authentication, tokens: TokenCache) -> None:
        super().__init__()
        self.credentials = credentials
        self.tokens = tokens

    async def send(self, request: Request, **kwargs: Any) -> Response:
        headers = request.http_request.headers
        authorization = await self.tokens.authorization(self.credentials)
        if authorization:
            headers["Authorization"] = authorization
        else:
            headers.pop("Authorization", None)
        assert self.next is not None, "a policy in a pipeline has a next one"
        response = await self.next.send(request, **kwargs)
        if authorization and response.http_response.status_code == 401:
            self.tokens.invalidate(self.credentials)
        return response


class PooledPipeline(AsyncPipeline):
    """The SDK's pipeline (user agent, credentials, raw deserializer, HTTP logger) with the
    credentials policy and the sender swapped for pooled, non-blocking ones. Passed to
    `ConnectorClient(..., pipeline_type=...)`, which calls it with the client's config."""

    def __init__(self, config: Any, pool: "ConnectorPool") -> None:
        creds = config.credentials
        if isinstance(creds, (AsyncHTTPPolicy, SansIOHTTPPolicy)):
            auth = creds
        else:
            auth = BearerTokenPolicy(creds, pool.tokens)
        policies = [config.user_agent_policy, auth, RawDeserializer(), config.http_logger_policy]
        super().__init__(policies, AioHttpSender(pool.http, timeout=config.connection.timeout))


# -- the two calls every reply makes, sent directly --------------------------------------------
class DirectConversations(ConversationsOperations):
    """The generated Conversations operations with `reply_to_activity` and
    `send_to_conversation` (every reply, every nudge) sent straight over the pooled session:
    the same URL, headers and JSON body msrest would send, the same `ResourceResponse` back
    and the same `ErrorResponseException` on a bad status, without building msrest's request,
    pipeline context and response wrappers per message. Everything else is msrest's."""

    def __init__(self, client: ConnectorClient, pool: "ConnectorPool") -> None:
        super().__init__(client._client, client.config, client._serialize, client._deserialize)
        self._pool = pool
        self._credentials = client.config.credentials
        self._user_agent = client.config.user_agent
        self._timeout = aiohttp.ClientTimeout(total=client.config.connection.timeout)
        # What msrest's format_url resolves '/v3/conversations/...' against.
        self._conversations = urljoin(client.config.base_url.rstrip("/") + "/", "v3/conversations/")

    async def reply_to_activity(
        self, conversation_id, activity_id, activity, custom_headers=None, raw=False, **operation_config
    ):
        if raw or operation_config:
            return await super().reply_to_activity(
                conversation_id, activity_id, activity, custom_headers, raw, **operation_config
            )
        url = (
            f"{self._conversations}{quote(str(conversation_id), safe='')}/activities/{quote(str(activity_id), safe='')}"
        )
        headers = {"x-ms-conversation-id": conversation_id}
        return await self._post(url, headers, activity, custom_headers)

    async def send_to_conversation(self, conversation_id, activity, custom_headers=None, raw=False, **operation_config):
        if raw or operation_config:
            return await super().send_to_conversation(
                conversation_id, activity, custom_headers, raw, **operation_config
            )
        url = f"{self._conversations}{quote(str(conversation_id), safe='')}/activities"
        return await self._post(url, {}, activity, custom_headers)

    async def _post(
        self, url: str, extra: dict, activity: Activity, custom_headers: dict | None
    ) -> ResourceResponse | None:
        body = json.dumps(self._serialize.body(activity, "Activity")).encode("utf-8")  # msrest's json.dumps
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json; charset=utf-8",
            **extra,
            **(custom_headers or {}),
        }
        headers.setdefault("User-Agent", self._user_agent)
        authorization = await self._pool.tokens.authorization(self._credentials)
        if authorization:
            headers["Authorization"] = authorization
        resp = await self._pool.http.request("POST", url, headers, body, self._timeout)
        raw = await read_body(resp)
        if authorization and resp.status == 401:
            self._pool.tokens.invalidate(self._credentials)
        if resp.status not in (200, 201, 202):
            request = ClientRequest("POST", url)
            request.headers.update(headers)
            raise ErrorResponseException(self._deserialize, AioHttpResponse(request, resp, raw))
        return resource_response(raw)


def resource_response(raw: bytes) -> ResourceResponse | None:
    """What msrest makes of a 2xx body: nothing from an empty one, else the JSON read as a
    ResourceResponse (unknown keys kept aside, as msrest keeps them)."""
    if not raw.strip():
        return None
    data = json.loads(raw)
    if data is None:
        return None
    try:
        return codec().from_dict(ResourceResponse, data)
    except Unsupported:
        return ResourceResponse.deserialize(data)


# -- the pool: clients per key, created once --------------------------------------------------------
class ConnectorPool:
    """Everything reused across turns, one per adapter. Counters are for tests and benchmarks."""

    def __init__(
        self, max_clients: int = 256, http: PooledHttp | None = None, tokens: TokenCache | None = None
    ) -> None:
        self.http = http or PooledHttp()
        self.tokens = tokens or TokenCache()
        self.max_clients = max_clients
        self._clients: "collections.OrderedDict[tuple, ConnectorClient]" = collections.OrderedDict()
        self._pending: dict[tuple, asyncio.Future] = {}
        self._user_token_clients: dict[str, UserTokenClient] = {}
        self.clients_created = 0
        self.user_token_clients_created = 0

    @property
    def sessions_created(self) -> int:
        return self.http.sessions_created

    @staticmethod
    def client_key(service_url: str, app_id: str | None, audience: str | None) -> tuple:
        return ((service_url or "").rstrip("/"), app_id or "", audience or "")

    async def connector_client(
        self, service_url: str, app_id: str | None, audience: str | None, credentials: Callable[[], Awaitable[Any]]
    ) -> ConnectorClient:
        """The client for this key; `credentials()` is awaited only when it must be built."""
        key = self.client_key(service_url, app_id, audience)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        pending = self._pending.get(key)
        if pending is not None:  # another turn is building this very client
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            client = self._build(service_url, await credentials())
            self._clients[key] = client
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            future.set_result(client)
            return client
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            self._pending.pop(key, None)

    def _build(self, service_url: str, credentials: Authentication) -> ConnectorClient:
        client = ConnectorClient(credentials, base_url=service_url, pipeline_type=partial(PooledPipeline, pool=self))
        client.config.add_user_agent(USER_AGENT)
        # msrest would check every outgoing activity against the schema's constraints in
        # one more full pass (newer generated Azure clients turn this off too); the
        # connector service validates what it receives anyway.
        client._serialize.client_side_validation = False
        # Replies are serialised by planned walks with msrest's exact output (activity_codec).
        fast = FastSerializer(client._serialize.dependencies)
        fast.client_side_validation = False
        client._serialize = fast
        client.conversations = DirectConversations(client, self)
        self.clients_created += 1
        return client

    async def user_token_client(
        self, app_id: str | None, make: Callable[[], Awaitable[UserTokenClient]]
    ) -> UserTokenClient:
        key = app_id or ""
        client = self._user_token_clients.get(key)
        if client is None:
            client = await make()
            self._user_token_clients[key] = client
            self.user_token_clients_created += 1
        return client

    async def close(self) -> None:
        self._clients.clear()
        self._user_token_clients.clear()
        await self.http.close()

    async def on_cleanup(self, _app: aiohttp.web.Application | None = None) -> None:
        """For `app.on_cleanup.append(pool.on_cleanup)`."""
        await self.close()


def app_id_of(claims_identity: ClaimsIdentity | None) -> str:
    """The bot's app id as the SDK reads it: audience claim (channel), else appid (emulator)."""
    if claims_identity is None:
        return ""
    return (
        claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
        or claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
        or ""
    )


class PooledConnectorFactory(ConnectorFactory):
    """A ConnectorFactory whose clients come from the pool; credentials are made (by the
    SDK's credentials factory) only when a client must be built."""

    def __init__(
        self,
        pool: ConnectorPool,
        app_id: str,
        credentials: Callable[[str, str | None], Awaitable[Any]],
        default_audience: str | None = None,
    ) -> None:
        self.pool = pool
        self.app_id = app_id
        self._credentials = credentials
        self.default_audience = default_audience

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        # No audience means the SDK's default scope: the same client as when it is named
        # (replies name it, proactive messages usually do not).
        key_audience = audience or self.default_audience
        return await self.pool.connector_client(
            service_url, self.app_id, key_audience, partial(self._credentials, service_url, audience)
        )


class LazyUserTokenClient(UserTokenClient):
    """Stands in the turn state; the real client (and its credentials) is made, once per
    app id, only when a dialog uses it (OAuth prompts, SSO)."""

    def __init__(self, get: Callable[[], Awaitable[UserTokenClient]]) -> None:
        super().__init__()
        self._get = get

    async def get_user_token(self, user_id: str, connection_name: str, channel_id: str, magic_code: str):
        return await (await self._get()).get_user_token(user_id, connection_name, channel_id, magic_code)

    async def get_sign_in_resource(self, connection_name: str, activity: Activity, final_redirect: str):
        return await (await self._get()).get_sign_in_resource(connection_name, activity, final_redirect)

    async def sign_out_user(self, user_id: str, connection_name: str, channel_id: str):
        return await (await self._get()).sign_out_user(user_id, connection_name, channel_id)

    async def get_token_status(self, user_id: str, channel_id: str, include_filter: str):
        return await (await self._get()).get_token_status(user_id, channel_id, include_filter)

    async def get_aad_tokens(self, user_id: str, connection_name: str, resource_urls: list, channel_id: str):
        return await (await self._get()).get_aad_tokens(user_id, connection_name, resource_urls, channel_id)

    async def exchange_token(self, user_id: str, connection_name: str, channel_id: str, exchange_request):
        return await (await self._get()).exchange_token(user_id, connection_name, channel_id, exchange_request)


async def stock_credentials(stock: ConnectorFactory, service_url: str, audience: str | None) -> Any:
    """The credentials the SDK's connector factory would give a new ConnectorClient.

    For the SDK's `_ConnectorFactoryImpl` (what every built-in BotFrameworkAuthentication
    returns) this is its own first statement, run without building the client; the SDK
    is archived and pinned (4.17.x), so these attributes do not move. Any other factory
    builds its client once and lends us that client's credentials."""
    names = (
        "_credential_factory",
        "_app_id",
        "_to_channel_from_bot_oauth_scope",
        "_login_endpoint",
        "_validate_authority",
    )
    if all(hasattr(stock, n) for n in names):
        return await stock._credential_factory.create_credentials(
            stock._app_id,
            audience or stock._to_channel_from_bot_oauth_scope,
            stock._login_endpoint,
            stock._validate_authority,
        )
    return (await stock.create(service_url, audience)).config.credentials


class PooledBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegates authentication (incoming JWT validation, caller id, skills) to the SDK's
    configured object; connector clients come from the pool, with the credentials the
    SDK's own connector factory would use, and user-token clients are made only when used."""

    def __init__(self, inner: BotFrameworkAuthentication, pool: ConnectorPool | None = None) -> None:
        self.inner = inner
        self.pool = pool or ConnectorPool()

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self.inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self.create_connector_factory(result.claims_identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return PooledConnectorFactory(
            self.pool, app_id_of(claims_identity), partial(self._credentials, claims_identity), self._default_audience()
        )

    def _default_audience(self) -> str | None:
        try:
            return self.inner.get_originating_audience()
        except Exception:  # noqa: BLE001 - a BotFrameworkAuthentication need not implement it
            return None

    async def _credentials(self, claims_identity: ClaimsIdentity, service_url: str, audience: str | None) -> Any:
        return await stock_credentials(self.inner.create_connector_factory(claims_identity), service_url, audience)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        make = partial(self.inner.create_user_token_client, claims_identity)
        return LazyUserTokenClient(partial(self.pool.user_token_client, app_id_of(claims_identity), make))

    def create_bot_framework_client(self):
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self.inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)
