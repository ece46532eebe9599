"""A nudge wave shared by every instance on shared storage (Azure Blob Storage).

The due people are split into `SHARES` shares by their tenant (the part of the person's
key before "|"), so each tenant sits in exactly one share. Each share is an expiring
claim (model/storage/claims.py, `claims/nudge-share-NN`). At the start of a round an instance
signs in to a roll of the instances seen lately (`claims/nudge-members`, each entry
expiring after `member_seconds`) and takes a batch of free shares: its fair part, the
shares with people due divided by the instances on the roll (all of them when it is
alone). It sends to the due people in them (renewing the claims while it sends), releases
them and takes the next free ones, until none is left that it has not done this round
(or the instance stops).
So every instance with nudges on takes a share of the wave, and:

- each tenant's pace (NUDGE_RATE_PER_SECOND) is held across instances: a tenant's share
  belongs to one instance at a time, whose token bucket paces it;
- each nudge still goes out once: the person's slot is claimed in their own document
  before sending (model/domain/reminders.py), whoever sends;
- an instance that dies leaves its shares claimed until the claims run out (`duration`
  seconds); another instance's next round takes them over. An instance that stops cleanly
  (SIGTERM) takes no more shares, finishes the nudges it has claimed (bot/nudge_sender.py),
  then releases its shares and leaves the roll: another instance takes them at its next
  batch or round, without waiting for the claims to run out.

TinyDB (one machine, one sender) needs none of this: the whole wave is one run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import time
import uuid
from typing import Any, Awaitable, Callable

from model.storage.claims import CLAIMS, ExpiringClaim
from model.storage.docstore import ConflictError, DocStore
from model.storage.leadership import SoloLeader, run_as_leader

log = logging.getLogger("kompetencehjulet.nudges")

SHARES = 16
MEMBERS = "nudge-members"  # the roll of instances seen lately (claims collection)
MEMBER_SECONDS = 300.0  # a roll entry outlives a few scheduler rounds (NUDGE_INTERVAL_SECONDS: 60)


def tenant_of_key(key: str) -> str:
    """The tenant part of a person's key (`<tenant>|<user>`, model.domain.users.user_key)."""
    return key.split("|", 1)[0]


def share_of(key: str, shares: int = SHARES) -> int:
    digest = hashlib.sha256(tenant_of_key(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % shares


class WaveShares:
    """The shares one instance holds; `acquire/renew/release` as a leader has them, so
    `run_as_leader` renews them while a batch is sent and stops the batch if one is lost.
    `batch`: how many shares it takes at once, set at each round from the roll."""

    def __init__(
        self,
        store: DocStore,
        shares: int = SHARES,
        duration: float = 15.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        member_seconds: float = MEMBER_SECONDS,
    ) -> None:
        self.store = store
        self.owner = owner or str(uuid.uuid4())
        self.shares = shares
        self.batch = shares  # until the roll says how many instances share the wave
        self.duration = duration
        self.clock = clock
        self.member_seconds = member_seconds
        self.name = "nudge-share"
        self.claims = [
            ExpiringClaim(store, f"nudge-share-{n:02d}", duration=duration, owner=self.owner, clock=clock)
            for n in range(shares)
        ]
        self.held: set[int] = set()
        self.done: set[int] = set()  # this round's shares sent by us
        self.wanted: set[int] | None = None  # this round's shares with people due (None: unknown)
        self.stopping: Callable[[], bool] = lambda: False  # true: the instance stops, take no more shares

    async def sign_in(self) -> int:
        """Put this instance on the roll (or keep it there); how many instances it holds."""
        for _ in range(10):
            doc, etag = await self.store.read(CLAIMS, MEMBERS)
            now = self.clock()
            roll = {o: u for o, u in ((doc or {}).get("until") or {}).items() if float(u) > now}
            roll[self.owner] = now + self.member_seconds
            try:
                await self.store.write(CLAIMS, MEMBERS, {"until": roll}, if_match=etag, if_none_match=etag is None)
            except ConflictError:  # another instance signed in just now: read again
                await asyncio.sleep(random.uniform(0, 0.05))
                continue
            return len(roll)
        return 1

    async def sign_out(self) -> None:
        """Off the roll (a clean exit): the others take bigger batches from now on."""
        for _ in range(10):
            doc, etag = await self.store.read(CLAIMS, MEMBERS)
            roll = dict((doc or {}).get("until") or {})
            if doc is None or roll.pop(self.owner, None) is None:
                return
            try:
                await self.store.write(CLAIMS, MEMBERS, {"until": roll}, if_match=etag)
                return
            except ConflictError:
                continue

    def mine(self, key: str) -> bool:
        """Is this person in a share this instance holds now?"""
        return share_of(key, self.shares) in self.held

    async def acquire(self) -> bool:
        """Take up to `batch` free shares not yet sent by us this round (in random order, so
        instances starting together spread out), of those with people due when the round
        knows them. True when we hold at least one."""
        order = [
            n
            for n in range(self.shares)
            if n not in self.done and n not in self.held and (self.wanted is None or n in self.wanted)
        ]
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

    async def round(
        self,
        send: Callable[[Callable[[str], bool]], Awaitable[Any]],
        due: Callable[[], Awaitable[list[str]]] | None = None,
    ) -> list[Any]:
        """One round: send the shares' due people batch by batch (`send(only)` sends to
        the due people for whom `only(key)` is true); the results, one per batch. `due()`,
        when given, lists who is due first, so only shares with people due are claimed: a
        quiet minute costs the roll and the index scan, not 64 claim requests."""
        self.done = set()
        self.wanted = None
        results: list[Any] = []
        if self.stopping():  # not back on the roll while the instance stops
            return results
        if due is not None:
            self.wanted = {share_of(key, self.shares) for key in await due()}
        try:
            members = max(1, await self.sign_in())
            self.batch = max(1, math.ceil((self.shares if self.wanted is None else len(self.wanted)) / members))
        except Exception as err:  # noqa: BLE001 - storage trouble: one share at a time, the claims still hold
            log.warning("could not sign in to the nudge roll: %s", type(err).__name__)
            self.batch = 1
        try:
            while not self.stopping():
                led, result = await run_as_leader(self, lambda: send(self.mine))
                if not led:
                    break  # every share is done by us, held elsewhere, or has nobody due
                self.done |= self.held
                results.append(result)
                await self.release()
        except asyncio.CancelledError:  # the instance stops
            await self.release()  # another instance takes over at once
            await self.sign_out()
            raise
        finally:
            await self.release()
        return results


def nudge_job(
    store: DocStore,
    send: Callable[..., Awaitable[Any]],
    leader: Any,
    due: Callable[[], Awaitable[list[str]]] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> tuple[Callable, Any]:
    """The scheduler's job and leader for the nudge wave: on Azure Blob Storage every
    instance sends its shares (`send(only=...)`; `due()` lists who is due, so that only
    shares with people due are claimed; once `stopping()` is true it takes no more shares);
    elsewhere the elected `leader` sends all."""
    from model.storage.blob_store import BlobStore  # on use: a TinyDB run loads no Blob client at start

    if not isinstance(store, BlobStore):
        return send, leader
    shares = WaveShares(store)
    if stopping is not None:
        shares.stopping = stopping

    async def job() -> list[Any]:
        return await shares.round(lambda only: send(only=only), due)

    return job, _Sharing(shares)


class _Sharing(SoloLeader):
    """The scheduler's leader when every instance sends: always leads (the shares decide
    who sends whom); `release()`, at the scheduler's exit, takes the instance off the roll."""

    def __init__(self, shares: WaveShares) -> None:
        self.shares = shares

    async def release(self) -> None:
        await self.shares.release()
        await self.shares.sign_out()
