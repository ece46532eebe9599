"""Bot Framework `Storage` over the project's DocStore, so dialog state survives restarts.

Follows MemoryStorage's ETag rules (the contract botbuilder-testing's StorageBaseTests
checks): an item with an e_tag other than "*" must match the stored one.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

from botbuilder.core import ConversationState, Storage, StoreItem, TurnContext
from botbuilder.core.bot_state import CachedBotState

from model.docstore import ConflictError, DocStore
from model.users import STATE

from . import state_codec


class DocStoreStorage(Storage):
    def __init__(self, store: DocStore, collection: str = STATE) -> None:
        super().__init__()
        self.store = store
        self.collection = collection

    async def read(self, keys: List[str]) -> Dict[str, Any]:
        if keys is None:
            raise TypeError("Keys are required when reading")
        result: Dict[str, Any] = {}
        for key in keys:
            doc, etag = await self.store.read(self.collection, key)
            if doc is None:
                continue
            item = state_codec.decode(doc.get("data"))
            if isinstance(item, dict):
                item["e_tag"] = etag
            elif isinstance(item, StoreItem) or hasattr(item, "e_tag"):
                item.e_tag = etag
            result[key] = item
        return result

    async def write(self, changes: Dict[str, Any]) -> None:
        if changes is None:
            raise TypeError("Changes are required when writing")
        if not changes:
            return
        for key, item in changes.items():
            is_dict = isinstance(item, dict)
            etag = item.get("e_tag") if is_dict else getattr(item, "e_tag", None)
            if etag == "":
                raise ValueError("write(): e_tag is empty")
            if is_dict:
                data = {k: v for k, v in item.items() if k != "e_tag"}
            else:
                data = item
            try:
                await self.store.write(self.collection, key, {"data": state_codec.encode(data)},
                                       if_match=None if etag in (None, "*") else etag)
            except ConflictError as err:
                raise KeyError(f"Etag conflict for state item: {err}") from None

    async def delete(self, keys: List[str]) -> None:
        for key in keys:
            await self.store.delete(self.collection, key)


class _JsonHashedState(CachedBotState):
    """Change detection with our JSON codec instead of the SDK's jsonpickle (3x per turn)."""

    def compute_hash(self, obj: Any) -> str:
        return json.dumps(state_codec.encode(obj), sort_keys=True, separators=(",", ":"))


class JsonConversationState(ConversationState):
    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        key = self.get_storage_key(turn_context)
        if force or not cached or not cached.state:
            items = await self._storage.read([key])
            turn_context.turn_state[self._context_service_key] = _JsonHashedState(items.get(key))
