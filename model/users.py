"""A person's data: profile, assessments, reminder settings and conversation reference.

Everything about one person lives in one document (collection "users"), keyed by a hash
of tenant and Teams user id. One document per person keeps a turn's I/O flat, makes
export a single read and deletion a single delete (plus the dialog state documents the
person's conversations left behind, which the document lists).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .docstore import Doc, DocStore

SCHEMA_VERSION = 1
USERS = "users"
STATE = "state"


def user_key(tenant_id: str | None, user_id: str) -> str:
    """Stable key: the AAD object id when Teams gives one, else the channel user id."""
    return f"{tenant_id or '-'}|{user_id}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


class Users:
    """The only way the bot reads or changes a person's stored data."""

    def __init__(self, store: DocStore) -> None:
        self.store = store

    async def get(self, key: str) -> Doc | None:
        doc, _ = await self.store.read(USERS, key)
        return doc

    async def profile(self, key: str) -> Doc | None:
        doc = await self.get(key)
        return (doc or {}).get("profile") or None

    async def save_profile(self, key: str, now: datetime | None = None, **fields: Any) -> Doc:
        """Set role/level/language; timestamps kept by the store, not by callers."""
        stamp = iso(now or utcnow())

        def change(doc: Doc) -> None:
            doc.setdefault("schema", SCHEMA_VERSION)
            profile = doc.setdefault("profile", {})
            profile.setdefault("created", stamp)
            profile.update({k: v for k, v in fields.items() if v is not None})
            profile["updated"] = stamp

        doc = await self.store.update(USERS, key, change)
        return doc["profile"]

    async def remember_conversation(self, key: str, reference: Doc, state_key: str | None,
                                    personal: bool, doc: Doc | None = None) -> None:
        """Keep the latest conversation reference (for nudges) and which state docs exist.

        Writes only when something changed, so an ordinary turn costs no extra write;
        `doc` is the person's document when the caller has already read it this turn.
        """
        if not personal and state_key is None:
            return  # nothing of a person is kept from a shared chat
        if doc is None:
            doc = await self.get(key)
        if doc is not None:
            same_ref = not personal or doc.get("conversation") == reference
            if same_ref and (state_key is None or state_key in doc.get("state_keys", [])):
                return

        def change(d: Doc) -> None:
            d.setdefault("schema", SCHEMA_VERSION)
            if personal:
                d["conversation"] = reference
            if state_key and state_key not in d.setdefault("state_keys", []):
                d["state_keys"].append(state_key)

        await self.store.update(USERS, key, change)

    async def add_assessment(self, key: str, assessment: Doc) -> Doc:
        def change(doc: Doc) -> None:
            doc.setdefault("schema", SCHEMA_VERSION)
            doc.setdefault("assessments", []).append(assessment)

        return await self.store.update(USERS, key, change)

    async def assessments(self, key: str) -> list[Doc]:
        return list(((await self.get(key)) or {}).get("assessments", []))

    async def export(self, key: str) -> Doc:
        """Everything stored about the person, as plain JSON-safe data."""
        doc = await self.get(key) or {}
        return {
            "profile": doc.get("profile"),
            "assessments": doc.get("assessments", []),
            "reminder": doc.get("reminder"),
            "conversation_reference": doc.get("conversation"),
            "exported": iso(utcnow()),
            "schema": doc.get("schema", SCHEMA_VERSION),
        }

    async def delete(self, key: str, extra_state_keys: list[str] = ()) -> None:
        """Remove every trace: the person's document and the dialog state it points to."""
        doc = await self.get(key) or {}
        for state_key in set(doc.get("state_keys", [])) | set(extra_state_keys):
            await self.store.delete(STATE, state_key)
        hook = getattr(self, "on_delete", None)
        if hook:
            await hook(key, doc)
        await self.store.delete(USERS, key)
