"""A nudge wave shared by every instance on shared storage (Azure Blob Storage).

The due people are split into `SHARES` shares by their tenant (the part of the person's
key before "|"), so each tenant sits in exactly one share. Each share is an expiring
claim (model/claims.py, `claims/nudge-share-NN`). An instance's round takes up to `batch`
free shares, sends to the due people in them (renewing the claims while it sends),
releases them and takes the next free ones, until none is left that it has not done this
round. So every instance with nudges on takes a share of the wave, and:

- each tenant's pace (NUDGE_RATE_PER_SECOND) is held across instances: a tenant's share
  belongs to one instance at a time, whose token bucket paces it;
- each nudge still goes out once: the person's slot is claimed in their own document
  before sending (model/reminders.py), whoever sends;
- an instance that dies leaves its shares claimed until the claims run out (`duration`
  seconds); another instance's next round takes them over. An instance that stops cleanly
  releases them at once.

TinyDB (one process per data directory) needs none of this: the whole wave is one run.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
import uuid
from typing import Any, Awaitable, Callable

from .claims import ExpiringClaim
from .docstore import DocStore
from .leadership import SoloLeader, run_as_leader

log = logging.getLogger("kompetencehjulet.nudges")

SHARES = 16
BATCH = 4  # shares an instance sends at once: a few tenants each, enough to keep it busy


def tenant_of_key(key: str) -> str:
    """The tenant part of a person's key (`<tenant>|<user>`, model.users.user_key)."""
    return key.split("|", 1)[0]


def share_of(key: str, shares: int = SHARES) -> int:
    digest = hashlib.sha256(tenant_of_key(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % shares


class WaveShares:
    """The shares one instance holds; `acquire/renew/release` as a leader has them, so
    `run_as_leader` renews them while a batch is sent and stops the batch if one is lost."""

    def __init__(
        self,
        store: DocStore,
        shares: int = SHARES,
        batch: int = BATCH,
        duration: float = 15.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.owner = owner or str(uuid.uuid4())
        self.shares = shares
        self.batch = max(1, batch)
        self.duration = duration
        self.name = "nudge-share"
        self.claims = [
            ExpiringClaim(store, f"nudge-share-{n:02d}", duration=duration, owner=self.owner, clock=clock)
            for n in range(shares)
        ]
        self.held: set[int] = set()
        self.done: set[int] = set()  # this round's shares sent by us

    def mine(self, key: str) -> bool:
        """Is this person in a share this instance holds now?"""
        return share_of(key, self.shares) in self.held

    async def acquire(self) -> bool:
        """Take up to `batch` free shares not yet sent by us this round (in random order, so
        instances starting together spread out). True when we hold at least one."""
        order = [n for n in range(self.shares) if n not in self.done and n not in self.held]
        random.shuffle(order)
        for n in order:
            if len(self.held) >= self.batch:
                break
            if await self.claims[n].acquire():
                self.held.add(n)
        return bool(self.held)

    async def renew(self) -> bool:
        """Keep every held share; False when one was lost (it ran out and was taken)."""
        kept = True
        for n in sorted(self.held):
            if not await self.claims[n].renew():
                self.held.discard(n)
                kept = False
        return kept

    async def release(self) -> None:
        held, self.held = sorted(self.held), set()
        for n in held:
            await self.claims[n].release()

    async def round(self, send: Callable[[Callable[[str], bool]], Awaitable[Any]]) -> list[Any]:
        """One round: send the shares' due people batch by batch (`send(only)` sends to
        the due people for whom `only(key)` is true); the results, one per batch."""
        self.done = set()
        results: list[Any] = []
        try:
            while True:
                led, result = await run_as_leader(self, lambda: send(self.mine))
                if not led:
                    break  # every share is done by us or held elsewhere
                self.done |= self.held
                results.append(result)
                await self.release()
        finally:
            await self.release()  # on exit (cancelled) too: another instance takes over at once
        return results


def nudge_job(store: DocStore, send: Callable[..., Awaitable[Any]], leader: Any) -> tuple[Callable, Any]:
    """The scheduler's job and leader for the nudge wave: on Azure Blob Storage every
    instance sends its shares (`send(only=...)`); elsewhere the elected `leader` sends all."""
    try:
        from .blob_store import BlobStore
    except ImportError:  # the Blob client is optional for TinyDB-only installs
        return send, leader
    if not isinstance(store, BlobStore):
        return send, leader
    shares = WaveShares(store)

    async def job() -> list[Any]:
        return await shares.round(lambda only: send(only=only))

    return job, SoloLeader()
