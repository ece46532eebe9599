"""A person's document: everything stored about one person, and who may change which part.

Everything about one person lives in one document (collection "users"), keyed by a hash
of tenant and Teams user id. One document per person keeps a turn's I/O flat, makes
export a single read and deletion a single delete (plus the dialog state documents the
person's conversations left behind, which the document lists).

The document has three writers, each of its own top-level parts, so no part has two:

- `profile`, `assessments`, `conversation`, `state_keys`, `open_dialogs`, `key`, `seen` (the
  day last seen), `retention_warned`, `deleting` (set as a deletion starts), `schema`: this
  module (`Users`);
- `reminder`: `model.domain.reminders.Reminders`, through `change_part`;
- `goals`: `model.domain.goals.Goals` (its own update of the document, changing `goals` only).

Everyone else reads through `Users.get`.

**Which chats may have a dialog waiting (`open_dialogs`).** A turn in the personal chat
reads the person's document first; when that lists which of their chats' dialog states may
hold a running dialog and this chat is not among them, the turn does not read its dialog
state at all (it is empty), so a question costs one read, not two. The list is kept on the
safe side of every crash: a chat is listed *before* its state is first written with a
dialog in it and taken off only *after* its state is written empty, so a crash in between
leaves it listed (one extra read, and the next turn takes it off), never a waiting dialog
unlisted. A document without the list (written before it existed) says nothing: every turn
reads the state, and the list is added the next time the document is written anyway (the
first turn of a day, `remember_conversation`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable

from model.storage.docstore import STATE, UNCHANGED, CorruptDocument, Doc, DocStore

SCHEMA_VERSION = 1
USERS = "users"
DELETING = "deleting"  # set by `Users.delete` before anything else goes: no part changes after it
OPEN_DIALOGS = "open_dialogs"  # the chats (dialog-state keys) whose state may hold a running dialog


def user_key(tenant_id: str | None, user_id: str) -> str:
    """Stable key: the AAD object id when Teams gives one, else the channel user id."""
    return f"{tenant_id or '-'}|{user_id}"


def key_of(doc: Doc) -> str | None:
    """The person's key from their document: stored since retention needed it, or rebuilt
    from the conversation reference that documents written before always held."""
    if isinstance(doc.get("key"), str) and doc["key"]:
        return doc["key"]

    def part(d: object, name: str) -> dict:
        found = d.get(name) if isinstance(d, dict) else None
        return found if isinstance(found, dict) else {}

    reference = part(doc, "conversation")
    user = part(reference, "user")
    tenant = part(reference, "conversation").get("tenantId")
    user_id = user.get("aadObjectId") or user.get("id")
    return user_key(tenant, user_id) if isinstance(user_id, str) and user_id else None


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def dialog_listed(doc: Doc | None, state_key: str) -> bool | None:
    """Whether the document lists the chat `state_key` as maybe holding a running dialog
    (see the module docstring); None when it cannot say (no document, or one without the
    list): then the chat's dialog state must be read."""
    listed = (doc or {}).get(OPEN_DIALOGS)
    if not isinstance(listed, list):
        return None
    return state_key in listed


DeleteHook = Callable[[str, Doc | None], Awaitable[None]]  # None: the document was unreadable


async def read_person(store: DocStore, key: str) -> Doc | None:
    """The person's whole document (None when there is none; an unreadable one is set aside)."""
    doc, _ = await store.read_or_quarantine(USERS, key)
    return doc


async def change_part(store: DocStore, key: str, part: str, edit: Callable[[Doc, Doc], None]) -> Doc | None:
    """How another owner edits its own part of the document (a dict, created when missing):
    `edit(part, doc)` changes `part` and may read the rest of `doc`; returns the whole
    document as stored. A person who is not stored (deleted a moment ago, e.g. while
    their nudge was being sent) or is being deleted is not brought back: nothing is
    written, None returned."""
    refused = [False]

    def change(doc: Doc) -> Any:
        if not doc or doc.get(DELETING):
            refused[0] = True
            return UNCHANGED
        refused[0] = False
        doc.setdefault("schema", SCHEMA_VERSION)
        if not isinstance(doc.get(part), dict):  # a part that cannot be read starts afresh
            doc[part] = {}
        edit(doc[part], doc)
        return None

    stored = await store.update(USERS, key, change)
    return None if refused[0] else stored


class Users:
    """Reads a person's document and writes the parts this module owns; deletes it all."""

    def __init__(self, store: DocStore, on_delete: Iterable[DeleteHook] = ()) -> None:
        self.store = store
        self._on_delete = tuple(on_delete)  # other owners' cleanups (e.g. the schedule index)

    async def get(self, key: str) -> Doc | None:
        return await read_person(self.store, key)

    async def load(self, key: str) -> tuple[Doc | None, bool]:
        """The document, and whether an unreadable one was just set aside (so the bot can
        tell the person plainly that it starts over, instead of failing on every turn)."""
        try:
            doc, _ = await self.store.read_once(USERS, key)
            if doc and doc.get(DELETING):  # a deletion that stopped half-way (a crash) is finished
                await self.delete(key)
                return None, False
            return doc, False
        except CorruptDocument:
            await self.store.quarantine(USERS, key)
            self.store.forget_read(USERS, key)
            for hook in self._on_delete:  # what it pointed to (its nudges, its overview places) goes too
                await hook(key, None)
            return None, True

    async def profile(self, key: str) -> Doc | None:
        doc = await self.get(key)
        return (doc or {}).get("profile") or None

    async def save_profile(self, key: str, now: datetime, **fields: Any) -> Doc:
        """Set role/level/language; the timestamps are kept here, not by callers."""
        stamp = iso(now)

        def change(doc: Doc) -> None:
            doc.setdefault("schema", SCHEMA_VERSION)
            profile = doc.setdefault("profile", {})
            profile.setdefault("created", stamp)
            profile.update({k: v for k, v in fields.items() if v is not None})
            profile["updated"] = stamp

        doc = await self.store.update(USERS, key, change)
        assert doc is not None  # a profile change always writes
        return doc["profile"]

    async def remember_conversation(
        self,
        key: str,
        reference: Doc,
        state_key: str | None,
        personal: bool,
        doc: Doc | None = None,
        now: datetime | None = None,
        dialog_running: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Keep the latest conversation reference (for nudges), which state docs exist, and
        the day the person was last seen (retention counts from it; a message clears a
        retention warning).

        Writes only when something changed (the day of `seen` at most once a day), so an
        ordinary turn costs no extra write; `doc` is the person's document when the caller
        has already read it this turn. A document written here that has no `open_dialogs`
        list yet gets one: `dialog_running()` (asked only then) says whether the chat
        `state_key` has a dialog waiting; the person's other chats, not known, are listed.
        """
        if not personal and state_key is None:
            return  # nothing of a person is kept from a shared chat
        if doc is None:
            doc = await self.get(key)
        today = now.astimezone(timezone.utc).date().isoformat() if now and personal else None
        if doc is not None:
            same_ref = not personal or doc.get("conversation") == reference
            same_day = today is None or (doc.get("seen") == today and not doc.get("retention_warned"))
            if (
                same_ref
                and same_day
                and doc.get("key") == key
                and (state_key is None or state_key in doc.get("state_keys", []))
            ):
                return
        running: bool | None = None
        if state_key and dialog_running is not None and dialog_listed(doc, state_key) is None:
            running = await dialog_running()

        def change(d: Doc) -> None:
            d.setdefault("schema", SCHEMA_VERSION)
            d["key"] = key  # so retention and operators can act on a document found by scanning
            if personal:
                d["conversation"] = reference
            if today:
                d["seen"] = today
                d["retention_warned"] = None
            if state_key and state_key not in d.setdefault("state_keys", []):
                d["state_keys"].append(state_key)
            if running is not None and dialog_listed(d, str(state_key)) is None:
                others = [k for k in d["state_keys"] if k != state_key]  # unknown: may hold one
                d[OPEN_DIALOGS] = others + ([str(state_key)] if running else [])

        await self.store.update(USERS, key, change)

    async def list_open_dialog(self, key: str, state_key: str, running: bool) -> None:
        """List the chat `state_key` in `open_dialogs` (`running`: call it *before* its state
        is written with a dialog) or take it off (call it *after* its state is written
        empty). A document without the list is left so (every turn reads the state); a
        person who is not stored or is being deleted is not brought back."""

        def change(d: Doc) -> Any:
            listed = dialog_listed(d, state_key)
            if listed is None or listed == running or d.get(DELETING):
                return UNCHANGED
            others = [k for k in d[OPEN_DIALOGS] if k != state_key]
            d[OPEN_DIALOGS] = others + ([state_key] if running else [])
            return None

        await self.store.update(USERS, key, change)

    async def mark_retention_warned(self, key: str, when: datetime | None) -> bool:
        """Record that the person was told their data will expire (None: the telling failed,
        try another day). False when they wrote meanwhile or are gone: do not tell them."""
        done = [False]

        def change(d: Doc) -> Any:
            if not d or (when is not None and d.get("retention_warned")):
                return UNCHANGED
            d["retention_warned"] = iso(when) if when else None
            done[0] = True
            return None

        await self.store.update(USERS, key, change)
        return done[0]

    async def add_assessment(self, key: str, assessment: Doc) -> tuple[Doc, bool]:
        """Store one completed check, once: a check whose `id` is stored already (a Save
        button clicked twice, the same card submitted on two instances) is not stored
        again. Returns the whole document as stored, and whether this call added it."""
        added = [False]

        def change(doc: Doc) -> Any:
            items = doc.setdefault("assessments", [])
            if assessment.get("id") and any(a.get("id") == assessment["id"] for a in items):
                return UNCHANGED
            doc.setdefault("schema", SCHEMA_VERSION)
            items.append(assessment)
            added[0] = True
            return None

        doc = await self.store.update(USERS, key, change)
        assert doc is not None  # an added check always writes, a repeated one exists
        return doc, added[0]

    async def add_competence_scores(self, key: str, at: str | None, scores: dict[str, int]) -> None:
        """The deeper check's scores, added to the check saved at `at`."""

        def change(doc: Doc) -> None:
            for item in doc.get("assessments", []):
                if item.get("at") == at:
                    item["competences"] = dict(scores)

        await self.store.update(USERS, key, change)

    async def assessments(self, key: str) -> list[Doc]:
        return list(((await self.get(key)) or {}).get("assessments", []))

    async def export(self, key: str, now: datetime) -> Doc:
        """Everything stored about the person, in plain named fields (model/domain/person_export.py):
        the dialog state of their chats as the answers given so far, never as SDK objects."""
        from model.domain.person_export import readable

        doc = await self.get(key) or {}
        dialogs = []
        for state_key in doc.get("state_keys", []):  # a half-finished check, onboarding, ...
            state, _ = await self.store.read_or_quarantine(STATE, state_key)
            if state:
                dialogs.append(state)
        return readable(doc, dialogs, iso(now), SCHEMA_VERSION)

    async def delete(self, key: str, extra_state_keys: Iterable[str] = ()) -> bool:
        """Remove every trace: the person's document (and its quarantined copies and crash
        leftovers, which the store removes with it), the dialog state it points to, and what
        other owners keep about them (the schedule index, report contributions). The
        document is marked `deleting` first, so no part changes after the other owners have
        looked at it; a deletion a crash cut short is finished by the next `load` or
        retention run. True when there was anything stored; deleting someone twice is fine."""
        unreadable = False
        try:
            found, _ = await self.store.read(USERS, key)
        except CorruptDocument:
            found, unreadable = None, True
        if found:
            # Marked first: no reminder change gets in after this, so what the document
            # lists (e.g. where the person sits in the nudge index) is complete.
            def mark(d: Doc) -> Any:
                if not d:
                    return UNCHANGED
                d[DELETING] = True
                return None

            found = await self.store.update(USERS, key, mark)
        # Not readable or not there (set aside earlier, e.g. by a scan): what it pointed to is
        # unknown, so the other owners look everywhere (rare, and only then).
        doc: Doc | None = found
        for state_key in set((doc or {}).get("state_keys", [])) | set(extra_state_keys):
            await self.store.delete(STATE, state_key)
        for hook in self._on_delete:
            await hook(key, doc)
        await self.store.delete(USERS, key)  # with its set-aside copies
        self.store.forget_read(USERS, key)
        return bool(found) or unreadable
