"""GET /healthz (the process answers) and GET /readyz (the store can write: `Readiness`)."""

from __future__ import annotations

import asyncio
import errno
import logging
import time
import uuid

from aiohttp import web

from model.storage.docstore import DocStore

log = logging.getLogger("kompetencehjulet.web")

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
        self._probe: asyncio.Task[None] | None = None  # the write and delete, shielded from the timeout
        self._check: asyncio.Task[tuple[bool, str | None]] | None = None  # one check at a time, shared

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

    async def readyz(self, _: web.Request) -> web.Response:
        ready, reason = await self.check()
        if ready:
            return web.json_response({"status": "ready"}, headers={"Cache-Control": "no-store"})
        return web.json_response(
            {"status": "not ready", "reason": reason}, status=503, headers={"Cache-Control": "no-store"}
        )


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _retrieved(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


def _error_name(err: BaseException) -> str:
    """OSError ENOSPC, BlobStore's own error type...: never the message (paths, URLs)."""
    code = errno.errorcode.get(err.errno) if isinstance(err, OSError) and err.errno else None
    return f"{type(err).__name__} {code}" if code else type(err).__name__
