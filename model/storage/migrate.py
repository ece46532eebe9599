"""Moving data between storage backends (TinyDB <-> Azure Blob Storage).

Documents are copied by their stored (hashed) names, so no key is needed and nothing is
renamed; copying again writes the same content, so the tool is idempotent and can be
re-run after an interruption.
"""

from __future__ import annotations

from collections.abc import Iterable

from model.storage.docstore import DocStore


async def copy_all(source: DocStore, target: DocStore, collections: Iterable[str]) -> dict[str, int]:
    """Copy every document of these collections (the caller names them: storage knows no
    domain; `model.domain.stored.COLLECTIONS` is every one that holds data). The source is
    left as it was: remove it once the target is checked."""
    counts: dict[str, int] = {}
    for collection in collections:
        copied = unchanged = 0
        unreadable: list[str] = []
        async for name, doc in source.scan(collection, unreadable, set_aside=False):  # the source is not changed
            existing, _ = await target.read_named(collection, name)
            if existing == doc:
                unchanged += 1
                continue
            await target.write_named(collection, name, doc)
            copied += 1
        counts[f"{collection}_copied"] = copied
        counts[f"{collection}_unchanged"] = unchanged
        counts[f"{collection}_unreadable"] = len(unreadable)  # left in the source, not copied
    return counts
