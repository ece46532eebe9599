"""Who may send nudges: exactly one sender at a time.

With TinyDB the data sits on one machine, where one sender runs (the served bot's
scheduler, or `send-nudges` from cron with NUDGES=off beside it), so it always leads.
With Azure Blob Storage several instances share the data; a claim document that expires (model/storage/claims.py)
elects one of them, the holder renews it while it works, and when it dies the claim runs
out and another takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import AsyncIterator, Awaitable, Callable

from model.safe_log import without_message
from model.storage.claims import ExpiringClaim
from model.storage.docstore import DocStore

log = logging.getLogger("kompetencehjulet.leadership")


class SoloLeader:
    """A single process: always the leader."""

    async def acquire(self) -> bool:
        return True

    async def renew(self) -> bool:
        return True

    async def release(self) -> None:
        return None

    duration = 60


def leader_for(store: DocStore, name: str = "nudge-sender", duration: float = 15):
    from model.storage.blob_store import BlobStore  # on use: a TinyDB run loads no Blob client at start

    if isinstance(store, BlobStore):
        return ExpiringClaim(store, name, duration=duration)
    return SoloLeader()


async def run_as_leader(leader, work: Callable[[], Awaitable[object]]) -> tuple[bool, object]:
    """Run `work` only while holding leadership; renew as it runs, stop it if lost.

    Returns (led, result). A lost claim cancels the work: the claims it made are counted
    as delivered by whoever leads next, so nothing is sent twice.
    """
    try:
        if not await leader.acquire():
            return False, None
    except Exception as err:  # noqa: BLE001 - storage trouble: not the leader this round
        log.error("could not take the %s claim: %s", getattr(leader, "name", "leader"), without_message(err))
        return False, None
    task = asyncio.ensure_future(work())
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=max(1.0, leader.duration / 3))
            if done:
                return True, task.result()
            try:
                still = await leader.renew()
            except Exception:  # noqa: BLE001
                still = False
            if not still:
                log.warning("lost the %s claim; stopping this run", getattr(leader, "name", "leader"))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return True, None
    finally:
        if task.done() and not task.cancelled():
            task.exception()  # mark retrieved; the caller sees the result above


@contextlib.asynccontextmanager
async def released(leader) -> AsyncIterator[None]:
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await leader.release()
