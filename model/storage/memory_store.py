"""An in-memory DocStore: for running the real bot where nothing may be written to disk
(`python app.py ask`) and for tests. Same rules as the other backends: ETags, copies in
and out (a caller never holds the stored object), deleting a missing document is fine."""

from __future__ import annotations

import copy
import itertools
import time
from datetime import datetime

from model.storage.docstore import ConflictError, Doc, DocStore, doc_name


class MemoryStore(DocStore):
    def __init__(self) -> None:
        self._docs: dict[tuple[str, str], tuple[Doc, str]] = {}
        self._set_aside: dict[tuple[str, str], tuple[Doc, str, float]] = {}
        self._written: dict[tuple[str, str], float] = {}  # when each document was last written
        self._revisions = itertools.count(1)

    async def read(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        return await self.read_named(collection, doc_name(key))

    async def read_named(self, collection: str, name: str) -> tuple[Doc | None, str | None]:
        found = self._docs.get((collection, name))
        return (copy.deepcopy(found[0]), found[1]) if found else (None, None)

    async def write(
        self, collection: str, key: str, doc: Doc, if_match: str | None = None, if_none_match: bool = False
    ) -> str:
        name = doc_name(key)
        current = self._docs.get((collection, name))
        if if_none_match and current is not None:
            raise ConflictError(name)
        if if_match not in (None, "*") and (current is None or current[1] != if_match):
            raise ConflictError(name)
        return await self.write_named(collection, name, doc)

    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        etag = str(next(self._revisions))
        self._docs[(collection, name)] = (copy.deepcopy(doc), etag)
        self._written[(collection, name)] = time.time()
        return etag

    async def quarantine_named(self, collection: str, name: str) -> None:
        found = self._docs.pop((collection, name), None)
        if found:
            self._set_aside[(collection, name)] = (*found, time.time())

    async def delete(self, collection: str, key: str) -> None:
        await self.delete_named(collection, doc_name(key))

    async def delete_named(self, collection: str, name: str) -> None:
        self._docs.pop((collection, name), None)
        self._set_aside.pop((collection, name), None)
        self._written.pop((collection, name), None)

    async def stale(self, collection: str, before: datetime) -> list[str]:
        limit = before.timestamp()
        return sorted(n for (c, n), at in self._written.items() if c == collection and at < limit)

    async def expire_quarantined(self, before: datetime) -> int:
        old = [k for k, (_, _, at) in self._set_aside.items() if at < before.timestamp()]
        for k in old:
            del self._set_aside[k]
        return len(old)

    async def keys(self, collection: str) -> list[str]:
        return sorted(name for coll, name in self._docs if coll == collection)
