"""How `python app.py` serves the web application: slow clients, a connection cap, scarce
file descriptors.

aiohttp has no deadline for a request head, and 400 half-sent requests once held their
sockets for good; near the open-files limit every storage write then failed and asyncio
logged each refused accept with a traceback (megabytes a minute). So `serve` raises the
soft open-files limit to the hard one, serves through `GuardedRunner` (a request head must
be complete HTTP_HEADER_TIMEOUT_SECONDS after its first byte, or after the connection
opened; beyond HTTP_MAX_CONNECTIONS, fitted to the open-files limit, a new connection gets
a 503 and is closed), and lets asyncio's and aiohttp's repeated error records through once
a minute with a count of those dropped (bot/http/log_repeats.py). A body must arrive
HTTP_BODY_TIMEOUT_SECONDS after its head, or the answer is 408 (bot/http/reading.py). Idle
keep-alive connections stay open 75 s (run_app's default), longer than a reverse proxy's,
so the proxy closes them first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import resource
import signal
import time
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from ..config import Config
from .log_repeats import quiet_repeats

log = logging.getLogger("kompetencehjulet.web")

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


# ACCESS_LOG=1: the request line, status, size and seconds; not aiohttp's default, which
# adds the client's address, Referer and User-Agent.
ACCESS_LOG_FORMAT = '"%r" %s %b %Tf'


def serve(app: web.Application, config: Config, access_log: logging.Logger | None = None) -> None:
    """Serve `app` on HOST:PORT until SIGINT or SIGTERM, as web.run_app would, guarded; on
    either signal it stops cleanly (below)."""
    open_files = raise_open_files_limit()
    quiet_repeats()
    served = runner(
        app,
        config,
        open_files=open_files,
        access_log=access_log,
        access_log_format=ACCESS_LOG_FORMAT,
    )
    log.info(
        "at most %d connections (open-files limit %d); request heads within %g s, bodies within %g s",
        served.guard.max_connections,
        open_files,
        config.HTTP_HEADER_TIMEOUT_SECONDS,
        config.HTTP_BODY_TIMEOUT_SECONDS,
    )

    async def run() -> None:
        # SIGTERM (a scale-in or a deploy, with a grace period before SIGKILL) and SIGINT end
        # the wait below, and the cleanup runs while every task is still alive: no new
        # connections, the app's on_shutdown hooks (the nudge sender finishes what it has
        # claimed, bot/nudge_sender.py), requests in progress answered, then the cleanup
        # contexts. run_app's own handlers raise GracefulExit instead, and asyncio.run then
        # cancels every task at once, a nudge between its claim and its request included.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await served.setup()
        try:
            await web.TCPSite(served, config.HOST, config.PORT, backlog=BACKLOG).start()
            await stop.wait()
            log.info("stopping")
        finally:
            began = time.monotonic()
            await served.cleanup()
            log.info("stopped in %.2f s", time.monotonic() - began)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
