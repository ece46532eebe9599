"""Named claims that expire: who leads a job, who sends a share of a nudge wave.

A claim is a small document `claims/<doc_name(name)>` holding its owner and the moment it
runs out: `{"owner": "<uuid>", "until": <unix seconds>}`. It is taken and kept with the
store's conditional writes (If-Match on the ETag read, If-None-Match for a new one), so of
two instances racing for it exactly one wins, on any backend (Azure Blob Storage, TinyDB,
memory). Nothing keeps it alive but its owner: the owner renews it well within `duration`
seconds; when the owner dies it runs out, and the next `acquire()` elsewhere takes it.
Releasing it (on a clean exit) hands it over at once.

Expiry compares the `until` one instance wrote with another instance's clock: the
instances' clocks must agree to well within `duration` (NTP-synced hosts agree to
milliseconds). A claim is not what keeps a nudge from going out twice (each person's slot
is claimed in their own document before sending, model/domain/reminders.py); it keeps work from
being done twice in vain, and keeps one tenant's pace in one instance.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Callable

from model.storage.docstore import ConflictError, DocStore

CLAIMS = "claims"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


class ExpiringClaim:
    """One named claim for one owner (this object). `acquire()` and `renew()` return False
    when another owner holds it; storage errors (network, authentication) propagate, and
    the caller should then act as if it does not hold it."""

    def __init__(
        self,
        store: DocStore,
        name: str,
        duration: float = 15.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not _NAME.match(name):
            raise ValueError(f"claim names are letters, digits, '.', '_' and '-': {name!r}")
        if duration <= 0:
            raise ValueError("a claim must last a while")
        self.store = store
        self.name = name
        self.duration = duration
        self.owner = owner or str(uuid.uuid4())  # ours for the life of this object
        self.clock = clock
        self.held = False

    async def _take(self, only_if_ours: bool) -> bool:
        doc, etag = await self.store.read(CLAIMS, self.name)
        now = self.clock()
        holder = (doc or {}).get("owner")
        ours = holder == self.owner
        free = holder is None or float((doc or {}).get("until", 0)) <= now
        if not ours and (only_if_ours or not free):
            self.held = False
            return False
        try:
            await self.store.write(
                CLAIMS,
                self.name,
                {"owner": self.owner, "until": now + self.duration},
                if_match=etag,
                if_none_match=etag is None,
            )
        except ConflictError:  # another instance took it (or renewed it) just now
            self.held = False
            return False
        self.held = True
        return True

    async def acquire(self) -> bool:
        """Take the claim when it is free or has run out, or extend it when it is ours.
        True when we hold it."""
        return await self._take(only_if_ours=False)

    async def renew(self) -> bool:
        """Keep the claim for another `duration` seconds. False when another owner has it
        (it ran out and was taken, or was broken)."""
        return await self._take(only_if_ours=True)

    async def release(self) -> None:
        """Give the claim up now so another instance can take it at once; harmless when
        it is not ours."""
        self.held = False
        doc, etag = await self.store.read(CLAIMS, self.name)
        if doc is None or doc.get("owner") != self.owner:
            return
        try:
            await self.store.write(CLAIMS, self.name, {"owner": None, "until": 0}, if_match=etag)
        except ConflictError:
            pass  # taken over meanwhile: not ours to give up

    async def break_claim(self) -> None:
        """Operator's escape hatch: end whoever's claim at once."""
        await self.store.write(CLAIMS, self.name, {"owner": None, "until": 0})
        self.held = False
