"""Slow clients, many connections and scarce file descriptors (issue 14, defect 7).

Request heads and bodies have deadlines, connections a cap, and running out of open files
neither floods the log nor leaves the bot dead. The in-process tests serve the real app
through `bot.http.serving.runner`, the runner `python app.py` serves with; the open-files test
runs `python app.py` itself under a low limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import resource
import socket
import subprocess
import sys
import time

import pytest
from aiohttp import web
from conftest import ROOT, build
from processes import free_port, stop_process

from bot.config import Config
from bot.http import log_repeats, serving

HALF = b"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Ty"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"


class Guarded:
    """The app (local mode) served the way `python app.py` serves it, on a free port."""

    def __init__(self, tmp_path, open_files: int = 100_000, **overrides) -> None:
        self.config = Config(DATA_DIR=tmp_path / "data", PORT=0, NUDGES="off", FSYNC=False, **overrides)
        self.open_files = open_files
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> "Guarded":
        self.runtime = build(self.config)
        self.runner = serving.runner(self.runtime.app, self.config, open_files=self.open_files, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def healthz(self) -> tuple[bytes, float]:
        reader, writer = await self.connect()
        started = time.monotonic()
        writer.write(HEALTHZ)
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        return line, time.monotonic() - started


async def closed_after(reader: asyncio.StreamReader, started: float, limit: float) -> float | None:
    """Seconds until the server closed the connection (EOF or reset), None if still open after `limit`."""
    try:
        while await asyncio.wait_for(reader.read(1024), limit - (time.monotonic() - started)):
            pass
    except (asyncio.TimeoutError, ValueError):
        return None
    except ConnectionError:
        pass
    return time.monotonic() - started


@pytest.mark.slow  # asserts real elapsed seconds (closed after 0.9-2 s, answered in < 0.5 s)
async def test_half_sent_request_heads_are_closed_within_the_header_timeout(tmp_path):
    async with Guarded(tmp_path, HTTP_HEADER_TIMEOUT_SECONDS=1.0) as served:
        started = time.monotonic()
        clients = [await served.connect() for _ in range(50)]
        for _, writer in clients[:40]:
            writer.write(HALF)  # 40 half-sent heads
        silent = clients[40:]  # 10 that send nothing at all
        trickler_reader, trickler = await served.connect()
        trickler.write(b"GET /healthz HTTP/1.1\r\n")

        async def trickle() -> None:
            try:
                for _ in range(30):
                    await asyncio.sleep(0.2)
                    trickler.write(b"X-Slow: 1\r\n")  # never the blank line
            except (ConnectionError, RuntimeError):
                pass

        trickling = asyncio.create_task(trickle())
        line, took = await served.healthz()  # others are served meanwhile
        assert line.startswith(b"HTTP/1.1 200") and took < 0.5
        waits = await asyncio.gather(*(closed_after(r, started, 4.0) for r, _ in clients + [(trickler_reader, None)]))
        trickling.cancel()
        assert all(w is not None and 0.9 <= w <= 2.0 for w in waits), waits
        assert silent and served.runner.server.connections == []
        assert served.runner.guard.timed_out == 51


@pytest.mark.slow  # idles real seconds on either side of the deadline
async def test_a_kept_alive_connection_may_idle_between_requests(tmp_path):
    """The header deadline starts with a request's first byte, not at the last answer:
    idle keep-alive stays at 75 s, longer than a proxy's (else the proxy sends into a
    closing connection)."""
    async with Guarded(tmp_path, HTTP_HEADER_TIMEOUT_SECONDS=0.5) as served:
        reader, writer = await served.connect()
        for _ in range(2):
            writer.write(HEALTHZ)
            assert (await asyncio.wait_for(reader.readline(), 2)).startswith(b"HTTP/1.1 200")
            while (await asyncio.wait_for(reader.readline(), 2)) != b"\r\n":
                pass
            await asyncio.wait_for(reader.readexactly(len(b'{"status": "ok"}')), 2)
            await asyncio.sleep(1.2)  # idle longer than the header timeout
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # and now a head that stalls
        assert await closed_after(reader, time.monotonic(), 3.0) is not None


@pytest.mark.slow  # asserts real elapsed seconds (the 408 after 0.9-2 s)
async def test_a_stalled_body_is_408_and_the_connection_closed(tmp_path):
    async with Guarded(tmp_path, HTTP_BODY_TIMEOUT_SECONDS=1.0) as served:
        reader, writer = await served.connect()
        started = time.monotonic()
        writer.write(
            b"POST /api/messages HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"type": "mess'
        )
        line = await asyncio.wait_for(reader.readline(), 5)
        assert line.startswith(b"HTTP/1.1 408"), line
        assert 0.9 <= time.monotonic() - started < 2.0
        rest = await asyncio.wait_for(reader.read(4096), 5)
        assert b"the request body came too slowly" in rest
        assert await closed_after(reader, time.monotonic(), serving.LINGER_SECONDS + 2) is not None
        line, _ = await served.healthz()
        assert line.startswith(b"HTTP/1.1 200")


async def test_connections_over_the_cap_get_503_and_the_bot_keeps_serving(tmp_path):
    async with Guarded(tmp_path, HTTP_MAX_CONNECTIONS=20) as served:
        assert served.runner.guard.max_connections == 20
        held = [await served.connect() for _ in range(20)]
        await asyncio.sleep(0.1)
        reader, _ = await served.connect()
        started = time.monotonic()
        assert (await asyncio.wait_for(reader.read(200), 2)).startswith(b"HTTP/1.1 503")
        assert await closed_after(reader, started, 2.0) is not None
        assert served.runner.guard.refused >= 1
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.2)
        line, _ = await served.healthz()
        assert line.startswith(b"HTTP/1.1 200")


def test_the_connection_cap_leaves_file_descriptors_for_the_rest():
    config = Config(HTTP_MAX_CONNECTIONS=1000)
    assert serving.connection_cap(config, 1 << 20) == 1000
    assert serving.connection_cap(config, 1024) == 768  # a quarter stays free
    assert serving.connection_cap(config, 256) == 64  # a listen backlog and 64 more stay free


def test_a_misspelt_handler_argument_stops_start_up(tmp_path):
    """aiohttp drops every handler argument when one is unknown (and only warns per
    connection): a typo would silently turn the keep-alive and linger settings off."""
    config = Config(DATA_DIR=tmp_path / "data", NUDGES="off")

    async def setup() -> None:
        served = serving.runner(build(config).app, config, lingering_tme=1)
        try:
            await served.setup()
        finally:
            await served.cleanup()

    with pytest.raises(RuntimeError, match="lingering_tme"):
        asyncio.run(setup())


def test_repeated_error_records_pass_once_a_minute_with_a_count():
    now = [0.0]
    repeat = log_repeats.RepeatFilter(60.0, clock=lambda: now[0])
    logger = logging.getLogger("test.repeats")
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger.addHandler(keep := Keep())
    logger.addFilter(repeat)
    logger.propagate = False
    try:
        for i in range(1000):
            logger.error("socket.accept() out of system resource\nsocket: <fd=%d>", i)
            logger.error("another error")
        now[0] = 61.0
        logger.error("socket.accept() out of system resource\nsocket: <fd=%d>", 7)
    finally:
        logger.removeHandler(keep)
        logger.removeFilter(repeat)
    assert len(seen) == 3
    assert seen[2].endswith("(999 more like this in the last 60 s were not logged)")


def test_the_soft_open_files_limit_is_raised_to_the_hard_one():
    script = (
        "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096)); "
        "from bot.http.serving import raise_open_files_limit; print(raise_open_files_limit(), "
        "resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["4096", "4096"], out.stderr


# -- python app.py out of file descriptors ----------------------------------------------------

RECORD = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", re.MULTILINE)
NO_CAP = (
    "import runpy, sys, bot.http.serving as h; h.connection_cap = lambda config, open_files: 100000; "
    "sys.argv = ['app.py']; runpy.run_path('app.py', run_name='__main__')"
)


def _get(port: int, path: str = "/healthz", body: dict | None = None) -> int:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("cap", ["fitted to the limit", "none (asyncio runs out)"])
def test_out_of_file_descriptors_the_log_stays_small_and_the_bot_recovers(tmp_path, cap):
    """`python app.py` with a soft and hard limit of 256 open files, and 400 clients that
    send half a request head and wait. Before: 9,600 records (4.3 MB) of asyncio's accept
    traceback in 6 s, nothing answered meanwhile."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "BOT_DATA_DIR": str(tmp_path / "data"),
        "NUDGES": "off",
        "BOT_FSYNC": "0",
        "HTTP_HEADER_TIMEOUT_SECONDS": "2",
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "app.py"] if cap.startswith("fitted") else [sys.executable, "-c", NO_CAP]
    log_path = tmp_path / "bot.log"
    with open(log_path, "wb") as log_file:
        bot = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)),
        )
    try:
        deadline = time.monotonic() + 30
        while _get(port) != 200:
            assert bot.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        before = log_path.stat().st_size
        held = []
        started = time.monotonic()
        for _ in range(400):
            client = socket.socket()
            client.settimeout(5)
            try:
                client.connect(("127.0.0.1", port))
                client.sendall(HALF)
            except OSError:
                client.close()
                continue
            held.append(client)
        time.sleep(max(0.0, 4.0 - (time.monotonic() - started)))
        pressure = log_path.read_bytes()[before:]
        for client in held:
            client.close()
        assert len(held) > 300  # the pressure was there
        records = RECORD.findall(pressure)
        assert len(records) < 50 and len(pressure) < 50_000, pressure[:3000]
        # the pressure is over: the bot answers, and stores again
        deadline = time.monotonic() + 10
        while _get(port) != 200:
            assert time.monotonic() < deadline, "the bot did not recover"
            time.sleep(0.2)
        message = {
            "type": "message",
            "channelId": "msteams",
            "serviceUrl": f"http://127.0.0.1:{free_port()}/",
            "conversation": {"id": "a:after-the-pressure"},
            "from": {"id": "29:after-the-pressure"},
            "text": "help",
        }
        assert _get(port, "/api/messages", message) == 201
        assert list((tmp_path / "data" / "users").rglob("*.json")), "nothing was stored after the pressure"
    finally:
        stop_process(bot)
