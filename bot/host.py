"""The HTTP host: /api/messages with strict input checks, /healthz (alive), /readyz (can
store: see Readiness).

A request goes through these steps, and each step answers for itself:

1. **the token, before the body** (with an app id): `auth.header_problem` (401 for what can
   never be a valid token), then `Authenticator.before_body`, the token's signature, key
   and expiry checked as the SDK will (401; 503 when the signing keys cannot be fetched),
   all before a byte of the body is read, so a forged token costs no more than no token;
2. **read** (`activity_checks`): content type (415), size (413), JSON (400), list lengths
   and size, activity shape (400); in local mode a loopback `serviceUrl` (400);
3. **authenticate** (`auth`, the SDK): what needs the activity (the `serviceurl` claim,
   endorsements, audience, issuer): 401, or 503 when the signing keys cannot be fetched;
4. **turn**: the already-authenticated activity goes to the adapter; failures inside the
   bot are the adapter's on_turn_error's job (an apology, 2xx).

Refusals (401) are logged through `auth.RefusalLog`: at most a line a minute, with a count
of the refusals since the last line (`app[REFUSALS]`).

**Slow clients and scarce file descriptors.** aiohttp has no deadline for a request head,
and 400 half-sent requests once held their sockets for good; near the open-files limit
every storage write then failed and asyncio logged each refused accept with a traceback
(megabytes a minute). So `serve` (what `python app.py` runs) raises the soft open-files
limit to the hard one, serves through `GuardedRunner` (a request head must be complete
HTTP_HEADER_TIMEOUT_SECONDS after its first byte, or after the connection opened; beyond
HTTP_MAX_CONNECTIONS, fitted to the open-files limit, a new connection gets a 503 and is
closed), and lets asyncio's and aiohttp's repeated error records through once a minute
with a count of those dropped. A body must arrive HTTP_BODY_TIMEOUT_SECONDS after its
head, or the answer is 408. Idle keep-alive connections stay open 75 s (run_app's
default), longer than a reverse proxy's, so the proxy closes them first.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import json
import logging
import resource
import time
import uuid
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server
from botbuilder.core import Bot
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter

from model.storage.docstore import DocStore

from .activity_checks import is_loopback_url, parse_json, validate_activity
from .auth import Authenticator, AuthUnavailable, RefusalLog, refusal, unavailable, where
from .config import Config

log = logging.getLogger("kompetencehjulet.web")


def _problem(status: int, reason: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers)


def _unauthorized() -> web.Response:
    return _problem(401, "unauthorized", {"WWW-Authenticate": "Bearer"})


def invoke_body(body: Any) -> Any:
    """The body of an invoke response as JSON-ready data.

    Two bodies the stock host cannot write (a 500 there): `deliveryMode: expectReplies`
    gives a dict that is already serialised, and a malformed `adaptiveCard/action` gives an
    AdaptiveCardInvokeResponse whose value is an Exception; that one is written out in the
    Universal Actions error format by hand."""
    if body is None:
        return None
    try:
        data = body if isinstance(body, (dict, list, str, int, float, bool)) else serializer_helper(body)
        json.dumps(data)
        return data
    except Exception:  # noqa: BLE001 - see the docstring
        pass
    status, value = getattr(body, "status_code", None), getattr(body, "value", None)
    if isinstance(value, Exception):
        args = [str(a) for a in value.args]
        value = {"code": args[0] if args else "Error", "message": args[1] if len(args) > 1 else ""}
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value = None
    if status is None:
        return None
    return {
        "statusCode": int(status),
        "type": getattr(body, "type", None) or "application/vnd.microsoft.error",
        "value": value,
    }


READY_TIMEOUT = 3.0  # a write and a delete of a tiny document; far longer means trouble
READY_CACHE_SECONDS = 5.0  # probes every few seconds from several load balancers cost one write
PROBE_COLLECTION = "health"


class Readiness:
    """GET /readyz: can the store write? /healthz only says the process answers; with a full
    disk it stayed 200 while a new person's install got no reply at all. A probe writes and
    deletes one small document through the store, within READY_TIMEOUT; its answer is
    kept READY_CACHE_SECONDS, and concurrent probes share one. A write still hanging from
    the last probe is not joined by another: that is "not ready" at once."""

    def __init__(self, store: DocStore) -> None:
        self.store = store
        self.timeout = READY_TIMEOUT
        self.ttl = READY_CACHE_SECONDS
        self.key = f"readyz-{uuid.uuid4().hex}"  # one per process: instances never collide
        self.writes = 0
        self._answer: tuple[bool, str | None] | None = None
        self._answered_at = 0.0
        self._probe: asyncio.Task | None = None  # the write and delete, shielded from the timeout
        self._check: asyncio.Task | None = None  # one check at a time, shared

    async def check(self) -> tuple[bool, str | None]:
        if self._answer is not None and time.monotonic() - self._answered_at < self.ttl:
            return self._answer
        if self._check is None or self._check.done():
            self._check = asyncio.get_running_loop().create_task(self._run())
        return await asyncio.shield(self._check)

    async def _run(self) -> tuple[bool, str | None]:
        answer: tuple[bool, str | None]
        if self._probe is not None and not self._probe.done():
            answer = (False, "storage: the last probe write has not finished")
        else:
            self._probe = asyncio.get_running_loop().create_task(self._write_and_delete())
            self._probe.add_done_callback(_retrieved)  # a late failure is the next probe's news
            try:
                await asyncio.wait_for(asyncio.shield(self._probe), self.timeout)
                answer = (True, None)
            except TimeoutError:
                answer = (False, f"storage: no answer within {self.timeout:g} s")
            except Exception as err:  # noqa: BLE001 - whatever the backend raises: not ready
                answer = (False, f"storage: {_error_name(err)}")
        if answer != self._answer:
            if answer[0]:
                log.info("ready: the store writes again")
            else:
                log.warning("not ready: %s", answer[1])
        self._answer, self._answered_at = answer, time.monotonic()
        return answer

    async def _write_and_delete(self) -> None:
        self.writes += 1
        await self.store.write(PROBE_COLLECTION, self.key, {"probe": "readyz"})
        await self.store.delete(PROBE_COLLECTION, self.key)


def _retrieved(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()


def _error_name(err: BaseException) -> str:
    """OSError ENOSPC, BlobStore's own error type...: never the message (paths, URLs)."""
    code = errno.errorcode.get(err.errno) if isinstance(err, OSError) and err.errno else None
    return f"{type(err).__name__} {code}" if code else type(err).__name__


READINESS = web.AppKey("kh.readiness", Readiness)
REFUSALS = web.AppKey("kh.refusals", RefusalLog)


def create_app(config: Config, adapter: CloudAdapter, bot: Bot, store: DocStore) -> web.Application:
    authenticate = Authenticator(config, adapter)
    readiness = Readiness(store)
    refusals = RefusalLog(log)
    local_only = config.local_mode and config.LOCAL_SERVICE_URLS != "any"

    def refused(err: BaseException, header: str, when: str = "") -> web.Response:
        if unavailable(err):
            why = str(err) if isinstance(err, AuthUnavailable) else type(err).__name__  # our own words
            log.warning("could not check a token: signing keys unavailable (%s)", why)
            return _problem(503, "authentication is temporarily unavailable", {"Retry-After": "10"})
        refusals.refused(refusal(err, header) + when)
        return _unauthorized()

    async def messages(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        early = authenticate.refuse_early(header)
        if early:  # nothing of the body is read: junk without a token costs nothing
            refusals.refused(f"{early} [before reading the body]")
            return _unauthorized()
        try:
            await authenticate.before_body(header)
        except Exception as err:  # noqa: BLE001 - see the module docstring
            return refused(err, header or "", " [before reading the body]")
        if request.content_type != "application/json":
            return _problem(415, "send the activity as application/json")
        if request.content_length is not None and request.content_length > config.MAX_BODY_BYTES:
            return _problem(413, "the request body is too large")
        try:
            async with asyncio.timeout(config.HTTP_BODY_TIMEOUT_SECONDS):
                raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, "the request body is too large")
        except TimeoutError:
            response = _problem(408, "the request body came too slowly")
            response.force_close()
            return response
        try:
            body = parse_json(raw)
        except ValueError:  # also UnicodeDecodeError
            return _problem(400, "the body is not valid JSON")
        activity, reason = validate_activity(body, config.MAX_TEXT_CHARS)
        if activity is None:
            return _problem(400, reason or "bad activity")
        if local_only and not is_loopback_url(activity.service_url):
            # No token binds serviceUrl here: without this the bot would post (and keep for
            # nudges) wherever a request said, a cloud metadata address included.
            return _problem(400, "in local mode 'serviceUrl' must be a loopback address (see LOCAL_SERVICE_URLS)")

        try:
            auth_result = await authenticate(activity, header)
        except Exception as err:  # noqa: BLE001 - see the module docstring
            return refused(err, header or "")

        try:
            invoke_response = await adapter.process_activity(auth_result, activity, bot.on_turn)
        except Exception as err:  # noqa: BLE001 - the turn itself reports through on_turn_error
            # Only set-up outside the bot's turn can land here (connector client, credentials):
            # a server-side fault, so a 500, logged without the message (it may quote input).
            log.error("could not process an activity of type %r: %s", activity.type[:40], where(err))
            return _problem(500, "the activity could not be processed")
        if invoke_response:
            return web.json_response(invoke_body(invoke_response.body), status=int(invoke_response.status or 200))
        return web.Response(status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ready, reason = await readiness.check()
        if ready:
            return web.json_response({"status": "ready"}, headers={"Cache-Control": "no-store"})
        return web.json_response(
            {"status": "not ready", "reason": reason}, status=503, headers={"Cache-Control": "no-store"}
        )

    app = web.Application(client_max_size=config.MAX_BODY_BYTES)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app[READINESS] = readiness
    app[REFUSALS] = refusals
    return app


# -- serving: slow clients, a connection cap, file descriptors (see the module docstring) ------

KEEPALIVE_SECONDS = 75.0  # idle keep-alive; longer than a proxy's, so the proxy closes first
LINGER_SECONDS = 2.0  # reading what a refused client still sends, so it sees the answer
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"


class Guard:
    """Limits for one server, and counts of what they refused (logged once a minute)."""

    def __init__(self, header_timeout: float, max_connections: int) -> None:
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        self.refused = 0  # over the cap
        self.timed_out = 0  # no complete request head in time
        self._reported = (0, 0)
        self._reported_at = 0.0

    def count(self, refused: int = 0, timed_out: int = 0) -> None:
        self.refused += refused
        self.timed_out += timed_out
        now = time.monotonic()
        if now - self._reported_at >= 60.0:
            new_refused, new_timed_out = self.refused - self._reported[0], self.timed_out - self._reported[1]
            self._reported, self._reported_at = (self.refused, self.timed_out), now
            log.warning(
                "closed %d connections over the cap of %d, and %d that sent no request head within %g s"
                " (counts since this line last came, at most once a minute)",
                new_refused,
                self.max_connections,
                new_timed_out,
                self.header_timeout,
            )


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler with a deadline for each request head and a place in a
    capped pool. It reads three of RequestHandler's attributes: `_request_count` (heads
    parsed), `_waiter` (set while idle between requests) and `_manager`; GuardedRunner
    checks they exist before it serves."""

    guard: Guard
    _deadline: asyncio.TimerHandle | None = None
    _heads = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        manager = self._manager
        if manager is not None and len(manager.connections) > self.guard.max_connections:
            self.guard.count(refused=1)
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(BUSY)  # flushed before the close
            self.force_close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if self._deadline is None and data and waiter is not None and not waiter.done():
            self._arm()  # an idle keep-alive connection: the next request has begun
        super().data_received(data)
        if self._deadline is not None and self._request_count != self._heads:
            self._disarm()  # a complete head was parsed (or a bad one, answered 400)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._heads = self._request_count
        self._deadline = self._loop.call_later(self.guard.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self._request_count == self._heads and self.transport is not None:
            self.guard.count(timed_out=1)
            self.force_close()  # no answer: a client that has not sent its head is not reading


class _GuardedServer(Server):
    guard: Guard

    def __call__(self) -> RequestHandler:
        handler = GuardedHandler(self, loop=self._loop, **self._kwargs)
        handler.guard = self.guard
        return handler


class GuardedRunner(web.AppRunner):
    """web.AppRunner whose connections are GuardedHandlers."""

    def __init__(self, app: web.Application, guard: Guard, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.guard = guard

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        known = inspect.signature(RequestHandler.__init__).parameters
        unknown = sorted(set(server._kwargs) - set(known))  # aiohttp would drop them all, silently
        missing = [a for a in ("_request_count", "_waiter", "_manager") if not hasattr(RequestHandler, a)]
        if unknown or missing:
            raise RuntimeError(f"aiohttp changed: unknown handler arguments {unknown}, missing attributes {missing}")
        server.__class__ = _GuardedServer
        server.guard = self.guard  # type: ignore[attr-defined]
        return server


BACKLOG = 128  # the listen queue; asyncio accepts up to this many in one loop pass


def connection_cap(config: Config, open_files: int) -> int:
    """HTTP_MAX_CONNECTIONS, lowered so that a quarter of the open files stay free for
    storage, outgoing connections and the key fetch, and at least a listen backlog more
    (asyncio accepts a backlog's worth before the cap sees the first of them)."""
    spare = max(BACKLOG + 64, open_files // 4)
    return max(16, min(config.HTTP_MAX_CONNECTIONS, open_files - spare))


def runner(app: web.Application, config: Config, open_files: int | None = None, **kwargs: Any) -> GuardedRunner:
    """The runner `serve` uses, for tests to serve the same way."""
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    guard = Guard(config.HTTP_HEADER_TIMEOUT_SECONDS, connection_cap(config, open_files))
    kwargs.setdefault("keepalive_timeout", KEEPALIVE_SECONDS)
    kwargs.setdefault("lingering_time", LINGER_SECONDS)
    return GuardedRunner(app, guard, **kwargs)


def raise_open_files_limit(ceiling: int = 1 << 20) -> int:
    """The soft RLIMIT_NOFILE up to the hard one (the soft one is often 1,024, the hard one
    far higher); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as err:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, want, type(err).__name__)
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return ceiling if soft == resource.RLIM_INFINITY else soft


class RepeatFilter(logging.Filter):
    """One record per (logger, first line of its message) per `interval`; the next one let
    through says how many were dropped. For loggers that repeat one error per event, such
    as asyncio's "socket.accept() out of system resource" (a traceback each, up to the
    listen backlog per loop pass)."""

    def __init__(self, interval: float = 60.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[tuple[str, str], list] = {}  # key -> [last let through, dropped since]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg).split("\n", 1)[0][:200])
        now = self.clock()
        slot = self._seen.get(key)
        if slot is not None and now - slot[0] < self.interval:
            slot[1] += 1
            return False
        dropped = slot[1] if slot else 0
        self._seen[key] = [now, 0]
        if len(self._seen) > 1000:
            self._seen.pop(next(iter(self._seen)))
        if dropped and isinstance(record.msg, str):
            record.msg += f"\n({dropped} more like this in the last {self.interval:g} s were not logged)"
        return True


REPEATING_LOGGERS = ("asyncio", "aiohttp.server", "aiohttp.web", "aiohttp.internal")


def quiet_repeats(interval: float = 60.0) -> None:
    for name in REPEATING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(RepeatFilter(interval))


# ACCESS_LOG=1: the request line, status, size and seconds; not aiohttp's default, which
# adds the client's address, Referer and User-Agent.
ACCESS_LOG_FORMAT = '"%r" %s %b %Tf'


def serve(app: web.Application, config: Config, access_log: logging.Logger | None = None) -> None:
    """Serve `app` on HOST:PORT until SIGINT or SIGTERM, as web.run_app would, guarded."""
    open_files = raise_open_files_limit()
    quiet_repeats()
    served = runner(
        app,
        config,
        open_files=open_files,
        access_log=access_log,
        access_log_format=ACCESS_LOG_FORMAT,
        handle_signals=True,
    )
    log.info(
        "at most %d connections (open-files limit %d); request heads within %g s, bodies within %g s",
        served.guard.max_connections,
        open_files,
        config.HTTP_HEADER_TIMEOUT_SECONDS,
        config.HTTP_BODY_TIMEOUT_SECONDS,
    )

    async def run() -> None:
        await served.setup()
        try:
            await web.TCPSite(served, config.HOST, config.PORT, backlog=BACKLOG).start()
            await asyncio.Event().wait()  # until a signal: the runner raises GracefulExit
        finally:
            await served.cleanup()

    try:
        asyncio.run(run())
    except (web.GracefulExit, KeyboardInterrupt):
        pass
