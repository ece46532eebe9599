"""The in-process scheduler: the background jobs of the served bot, each on its own interval,
run by the one instance that holds the job's claim (always this one with TinyDB). On Azure
Blob Storage the nudge wave is shared instead: every instance sends its shares
(model/storage/wave_shares.py).

NUDGES=off when an external scheduler calls `python app.py send-nudges` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web

from model.safe_log import without_message
from model.storage.leadership import run_as_leader

log = logging.getLogger("kompetencehjulet")

Job = Callable[[], Awaitable[Any]]


def scheduler(
    job: Job, leader: Any, interval: float, name: str = "nudge run", first_delay: float = 0.0
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context that runs `job` every `interval` seconds while the app lives,
    the first time after `first_delay` (a daily job need not compete with a fresh start).
    At the app's cleanup it cancels the job and releases the leader; the nudge job has been
    told to stop by then (an on_shutdown hook, bot/runtime.py): what it claimed is settled,
    unless its grace ran out."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            await asyncio.sleep(first_delay)
            while True:
                try:
                    await run_as_leader(leader, job)
                except Exception as err:  # noqa: BLE001 - keep the scheduler alive
                    log.error("%s failed: %s", name, without_message(err))
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await leader.release()

    return context
