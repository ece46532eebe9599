"""The small storage interface every backend implements: documents by (collection, key).

A turn touches only its own person's documents, so a backend's cost per turn does not
grow with the number of people stored. Optimistic concurrency (ETags) lets several
writers (coroutines here, bot instances with a shared backend) update one document
without losing updates.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import contextvars
import hashlib
import inspect
import json
import logging
import weakref
from datetime import datetime
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator

Doc = dict[str, Any]
log = logging.getLogger("kompetencehjulet.storage")


class ConflictError(Exception):
    """The document changed since it was read (ETag mismatch)."""


class CorruptDocument(Exception):
    """The stored bytes are not a document (torn by a disk fault, edited by hand, garbled).
    The message names the collection and the hashed name, never the content."""


SCAN_PAUSE_EVERY = 100  # documents: a scan hands the event loop back this often
UNCHANGED: Any = object()  # returned by an update's `change`: nothing to write
# The collection of the Bot Framework's dialog state (bot/sdk/state_storage.py writes it; the
# domain finds a person's documents there to export and delete them). It is named here, with
# the interface both sides use, so the SDK layer needs nothing of the domain.
STATE = "state"


def doc_name(key: str) -> str:
    """A file/blob-safe name for any key; hashing keeps ids (and crazy keys) out of names."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


Cached = tuple[Doc | None, str | None]
_turn_reads: contextvars.ContextVar[dict[tuple[int, str, str], Cached] | None] = contextvars.ContextVar(
    "kompetencehjulet_turn_reads", default=None
)


@contextlib.contextmanager
def one_read_per_turn() -> Iterator[None]:
    """Within this block (a turn, one person's nudge) a document is read from the backend
    once: the handler, the router and the dialog each ask for the person's document, and on
    Azure Blob each read is an HTTP request. Writes through `update` keep the copy current;
    a write that finds the document changed elsewhere (its ETag moved) reads it afresh.
    Readers share the turn's copy and treat it as read-only; only `update`'s `change`
    edits a document, and it gets a copy of its own."""
    token = _turn_reads.set({})
    try:
        yield
    finally:
        _turn_reads.reset(token)


def _clone(doc: Doc | None) -> Doc | None:
    # Documents are JSON by construction; the C codec copies them faster than deepcopy.
    return None if doc is None else json.loads(json.dumps(doc))


class DocStore(abc.ABC):
    """A backend: TinyDB files here, Azure Blob Storage later."""

    @abc.abstractmethod
    async def read(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        """The document and its ETag, or (None, None)."""

    @abc.abstractmethod
    async def write(
        self, collection: str, key: str, doc: Doc, if_match: str | None = None, if_none_match: bool = False
    ) -> str:
        """Write atomically; return the new ETag. Raise ConflictError when the condition fails."""

    @abc.abstractmethod
    async def delete(self, collection: str, key: str) -> None:
        """Remove every trace of the document; deleting a missing one is fine."""

    async def keys(self, collection: str) -> list[str]:
        """Document names (hashed keys) in a collection: maintenance only (migration)."""
        raise NotImplementedError

    @abc.abstractmethod
    async def read_named(self, collection: str, name: str) -> tuple[Doc | None, str | None]:
        """Read by stored name (from keys()); migration copies documents without their keys."""

    async def quarantine(self, collection: str, key: str) -> None:
        """Move an unreadable document aside, whole, where reads no longer find it and
        `delete` still does: one bad file must cost at most its own person, and deleting
        that person must remove the set-aside copy too."""
        await self.quarantine_named(collection, doc_name(key))

    @abc.abstractmethod
    async def quarantine_named(self, collection: str, name: str) -> None:
        """`quarantine` by stored name (a scan found it unreadable and cannot know its key)."""

    @abc.abstractmethod
    async def delete_named(self, collection: str, name: str) -> None:
        """`delete` by stored name: retention removing a document nobody can name."""

    @abc.abstractmethod
    async def stale(self, collection: str, before: datetime) -> list[str]:
        """Names of the documents last written before `before` (retention of documents
        that no person's document points to any more, e.g. an old chat's dialog state)."""

    @abc.abstractmethod
    async def expire_quarantined(self, before: datetime) -> int:
        """Delete the copies set aside before `before`; how many. They are kept a while
        for an operator to look at, not for ever: they hold personal data too."""

    async def scan(
        self, collection: str, unreadable: list[str] | None = None, set_aside: bool = True
    ) -> AsyncIterator[tuple[str, Doc]]:
        """Every readable document of a collection with its stored name, handing the loop
        back every few documents (chats go on meanwhile). An unreadable one is skipped and
        its name added to `unreadable`, and set aside unless `set_aside` is False (a dry
        run, a migration: they change nothing): one bad file costs at most its own person."""
        for number, name in enumerate(await self.keys(collection), start=1):
            if number % SCAN_PAUSE_EVERY == 0:
                await asyncio.sleep(0)
            try:
                doc, _ = await self.read_named(collection, name)
            except CorruptDocument:
                if set_aside:
                    log.warning("set aside an unreadable document in %s", collection)
                    await self.quarantine_named(collection, name)
                if unreadable is not None:
                    unreadable.append(name)
                continue
            if doc is not None:
                yield name, doc

    async def read_or_quarantine(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        """`read`, but a corrupt document is quarantined and reads as missing, so whoever
        reads next starts afresh instead of failing on it forever."""
        try:
            return await self.read_once(collection, key)
        except CorruptDocument:
            log.warning("quarantined an unreadable document in %s", collection)
            await self.quarantine(collection, key)
            self._remember(collection, key, None, None)
            return None, None

    async def read_once(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        """`read`, from this turn's copy when the document was read in it already (see
        `one_read_per_turn`): read-only for the caller."""
        reads = _turn_reads.get()
        if reads is None:
            return await self.read(collection, key)
        hit = reads.get((id(self), collection, key))
        if hit is not None:
            return hit
        doc, etag = await self.read(collection, key)
        reads[(id(self), collection, key)] = (doc, etag)
        return doc, etag

    def _remember(self, collection: str, key: str, doc: Doc | None, etag: str | None) -> None:
        """This turn's copy after a write (or a delete: None), so later reads see it."""
        reads = _turn_reads.get()
        if reads is not None:
            reads[(id(self), collection, key)] = (doc, etag)

    def forget_read(self, collection: str, key: str) -> None:
        """Drop this turn's copy: the document was written or deleted past `update`."""
        reads = _turn_reads.get()
        if reads is not None:
            reads.pop((id(self), collection, key), None)

    @abc.abstractmethod
    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        """Unconditional write by stored name (migration)."""

    async def close(self) -> None:
        return None

    # -- built on the primitives -------------------------------------------------------
    _locks: "weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock]"

    def _lock(self, collection: str, key: str) -> asyncio.Lock:
        locks = self.__dict__.setdefault("_locks", weakref.WeakValueDictionary())
        lock = locks.get((collection, key))
        if lock is None:
            lock = asyncio.Lock()
            locks[(collection, key)] = lock
        return lock

    async def update(
        self,
        collection: str,
        key: str,
        change: Callable[[Doc], Doc | None] | Callable[[Doc], Awaitable[Doc | None]],
        attempts: int = 20,
    ) -> Doc | None:
        """Read-modify-write that never loses a concurrent update.

        `change` gets the current document (a new empty dict when there is none) and
        mutates it or returns a replacement; returning None from a new document means
        "nothing to store", returning UNCHANGED means "nothing changed, write nothing".
        A local lock keeps one process's coroutines in line; ETags make other processes
        retry.
        """
        async with self._lock(collection, key):
            for _ in range(attempts):
                doc, etag = await self.read_or_quarantine(collection, key)
                if _turn_reads.get() is not None:
                    doc = _clone(doc)  # the turn's readers share the read; `change` edits its own
                current = doc if doc is not None else {}
                try:
                    outcome = change(current)
                    result: Doc | None = await outcome if inspect.isawaitable(outcome) else outcome
                except BaseException:
                    self.forget_read(collection, key)  # `change` may have half-changed a copy
                    raise
                if result is UNCHANGED:
                    return doc
                new = current if result is None else result
                if doc is None and not new:
                    return None
                try:
                    new_etag = await self.write(collection, key, new, if_match=etag, if_none_match=etag is None)
                except ConflictError:
                    self.forget_read(collection, key)  # changed elsewhere: the next attempt reads afresh
                    await asyncio.sleep(0.005)
                    continue
                except BaseException:
                    self.forget_read(collection, key)  # written or not: unknown, so read again
                    raise
                self._remember(collection, key, new, new_etag)
                return new
            raise ConflictError(f"gave up updating {collection} after {attempts} attempts")
