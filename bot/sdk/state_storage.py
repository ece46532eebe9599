"""Bot Framework `Storage` over the project's DocStore, so dialog state survives restarts.

Follows MemoryStorage's ETag rules (the contract botbuilder-testing's StorageBaseTests
checks): an item with an e_tag other than "*" must match the stored one.

State that cannot be decoded (a garbled file, a class renamed or removed by an upgrade,
a tag, class or field outside the codec's registry: see state_codec) is dropped, logged by
its error type only, and reads as missing: the person's conversation starts over instead
of failing every turn.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List

from botbuilder.core import BotState, ConversationState, Storage, StoreItem, TurnContext
from botbuilder.core.bot_state import CachedBotState
from botbuilder.dialogs import DialogState

from model.storage.docstore import STATE, ConflictError, CorruptDocument, DocStore

from . import state_codec

log = logging.getLogger("kompetencehjulet.state")
READ_ERRORS: tuple[type[Exception], ...] = (CorruptDocument, *state_codec.DECODE_ERRORS)  # state dropped, not a crash


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
            item, _ = await self.read_state(key)
            if item is not None:
                result[key] = item
        return result

    async def read_state(self, key: str) -> tuple[Any, str | None]:
        """One item and the canonical JSON of what is stored (its change-detection hash),
        taken from the stored JSON instead of encoding the rebuilt objects again."""
        try:
            doc, etag = await self.store.read(self.collection, key)
            if doc is None:
                return None, None
            data = doc.get("data")
            item = _item(data, etag)
            if isinstance(item, dict) and isinstance(data, dict):
                return item, canonical({**data, "e_tag": etag})
            return item, None
        except READ_ERRORS as err:
            log.warning("dropped dialog state that could not be read (%s)", type(err).__name__)
            await self.store.delete(self.collection, key)
            return None, None

    async def write(self, changes: Dict[str, Any]) -> None:
        if changes is None:
            raise TypeError("Changes are required when writing")
        if not changes:
            return
        for key, item in changes.items():
            etag = None if isinstance(item, dict) else getattr(item, "e_tag", None)
            await self.write_encoded(key, state_codec.encode(item), etag)

    async def write_encoded(self, key: str, encoded: Any, etag: str | None = None) -> None:
        """Write one item already in the codec's JSON form: a dict carries its e_tag as a
        key, any other item passes its own."""
        if isinstance(encoded, dict) and "e_tag" in encoded:
            etag = encoded["e_tag"]
        if etag == "":
            raise ValueError("write(): e_tag is empty")
        if isinstance(encoded, dict):
            data = {k: v for k, v in encoded.items() if k != "e_tag"}
        else:
            data = encoded
        try:
            await self.store.write(self.collection, key, {"data": data}, if_match=None if etag in (None, "*") else etag)
        except ConflictError as err:
            raise KeyError(f"Etag conflict for state item: {err}") from None

    async def delete(self, keys: List[str]) -> None:
        for key in keys:
            await self.store.delete(self.collection, key)


def _item(data: Any, etag: str | None) -> Any:
    """A stored item rebuilt, carrying its ETag as MemoryStorage's items do."""
    item = state_codec.decode(data)
    if isinstance(item, dict):
        item["e_tag"] = etag
    elif isinstance(item, StoreItem) or hasattr(item, "e_tag"):
        item.e_tag = etag
    return item


def canonical(encoded: Any) -> str:
    return json.dumps(encoded, sort_keys=True, separators=(",", ":"))


class _JsonHashedState(CachedBotState):
    """Change detection with our JSON codec instead of the SDK's jsonpickle (3x per turn)."""

    def __init__(self, state: Dict[str, Any] | None = None, hash_: str | None = None) -> None:
        if hash_ is None:
            super().__init__(state)
        else:
            self.state = state
            self.hash = hash_

    def compute_hash(self, obj: Any) -> str:
        return canonical(state_codec.encode(obj))


def start_without_dialog(state: BotState, context: TurnContext, dialog_property: str) -> None:
    """This turn's state of the conversation, known to hold no dialog (the person's document
    says so) and therefore not read: an empty `DialogState` under `dialog_property`. Unless a
    dialog begins, it comes out of the turn unchanged and nothing is written; when one does,
    it is written over whatever state is stored (by the caller's word one without a dialog,
    or none)."""
    context.turn_state[state._context_service_key] = _JsonHashedState({dialog_property: DialogState()})


def drop_loaded(state: BotState, context: TurnContext) -> None:
    """Forget what this turn read of the conversation's state: the next access reads again."""
    context.turn_state.pop(state._context_service_key, None)


class JsonConversationState(ConversationState):
    """ConversationState that encodes its state once per turn: the same encoding decides
    whether anything changed and is what gets written."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        key = self.get_storage_key(turn_context)
        # A state this class read (or was told is empty) stays this turn's, empty or not: the
        # SDK's own test (`not cached.state`) would read a missing state again at every access.
        if force or not cached or (not cached.state and not isinstance(cached, _JsonHashedState)):
            if isinstance(self._storage, DocStoreStorage):
                state = _JsonHashedState(*await self._storage.read_state(key))
            else:
                items = await self._storage.read([key])
                state = _JsonHashedState(items.get(key))
            turn_context.turn_state[self._context_service_key] = state

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if not isinstance(cached, _JsonHashedState) or not isinstance(self._storage, DocStoreStorage):
            await super().save_changes(turn_context, force)
            return
        encoded = state_codec.encode(cached.state)
        hash_ = canonical(encoded)
        if force or hash_ != cached.hash:
            await self._storage.write_encoded(self.get_storage_key(turn_context), encoded)
            cached.hash = hash_

    async def delete(self, turn_context: TurnContext) -> None:
        """Delete the stored state even when this turn never loaded any (the SDK's own
        delete raises KeyError then, before deleting anything)."""
        turn_context.turn_state.pop(self._context_service_key, None)
        await self._storage.delete([self.get_storage_key(turn_context)])
