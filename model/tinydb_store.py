"""TinyDB backend: one small TinyDB file per document, written atomically.

TinyDB's default JSONStorage rewrites one growing file in place; with tens of thousands
of people that makes every turn slower and a crash can truncate the file. Here every
person (and every conversation's dialog state) is its own file under
BOT_DATA_DIR/<collection>/<xx>/<hash>.json, so a turn reads and writes a few kilobytes
whatever the number of people, and each write goes to a temporary file that is flushed,
fsynced and renamed over the old one: after a crash the file is either old or new.
Only one process may write a data directory (TinyDB is not multi-process safe).
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage

from .docstore import ConflictError, Doc, DocStore, doc_name

_META = "_meta"
_BODY = "document"


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically instead of rewriting it in place."""

    def __init__(self, path: str | os.PathLike, fsync: bool = True, **_: Any) -> None:
        self.path = Path(path)
        self.fsync = fsync

    def read(self) -> dict[str, Any] | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))  # C encoder
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def close(self) -> None:
        return None


class TinyDBStore(DocStore):
    """Documents as TinyDB files; the ETag is a revision counter kept in the file."""

    def __init__(self, root: str | os.PathLike, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, collection: str, key: str) -> Path:
        return self._path(collection, doc_name(key))

    def _path(self, collection: str, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad document name {name!r}")
        return self.root / collection / name[:2] / f"{name}.json"

    async def read(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        return await self.read_named(collection, doc_name(key))

    async def read_named(self, collection: str, name: str) -> tuple[Doc | None, str | None]:
        path = self._path(collection, name)
        raw = AtomicJSONStorage(path).read()
        if not raw:
            return None, None
        meta = raw.get(_META, {}).get("1", {})
        body = raw.get(_BODY, {}).get("1")
        if body is None:
            return None, None
        for name in meta.get("lists", []):  # list fields live in their own tables, row per item
            rows = raw.get(name, {})
            body[name] = [rows[k] for k in sorted(rows, key=int)]
        return body, str(meta.get("rev", 0))

    async def write(self, collection: str, key: str, doc: Doc, if_match: str | None = None,
                    if_none_match: bool = False) -> str:
        return self._write(self.path(collection, key), doc, if_match, if_none_match)

    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        return self._write(self._path(collection, name), doc, None, False)

    def _write(self, path: Path, doc: Doc, if_match: str | None, if_none_match: bool) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The ETag check and the rename must be one step, also against a second process on
        # this data dir (e.g. `send-nudges` from cron beside the server): lock the shard.
        with open(path.parent / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return self._write_locked(path, doc, if_match, if_none_match)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write_locked(self, path: Path, doc: Doc, if_match: str | None, if_none_match: bool) -> str:
        storage = AtomicJSONStorage(path, self.fsync)
        raw = storage.read() or {}
        exists = bool(raw.get(_BODY))
        current = str(raw.get(_META, {}).get("1", {}).get("rev", 0)) if exists else None
        if if_none_match and exists:
            raise ConflictError(path.name)
        if if_match not in (None, "*") and if_match != current:
            raise ConflictError(path.name)
        rev = int(current or 0) + 1
        db = TinyDB(str(path), storage=CachingMiddleware(_storage_factory(self.fsync)))
        db.drop_tables()
        lists = [k for k, v in doc.items() if isinstance(v, list) and all(isinstance(i, dict) for i in v)]
        db.table(_META).insert({"rev": rev, "lists": lists})
        db.table(_BODY).insert({k: v for k, v in doc.items() if k not in lists})
        for name in lists:
            db.table(name).insert_multiple(doc[name])
        db.close()  # CachingMiddleware flushes once: one atomic file replace per write
        return str(rev)

    async def delete(self, collection: str, key: str) -> None:
        try:
            os.unlink(self.path(collection, key))
        except FileNotFoundError:
            pass

    async def keys(self, collection: str) -> list[str]:
        base = self.root / collection
        return sorted(p.stem for p in base.glob("*/*.json") if not p.name.startswith(".")) if base.exists() else []


def _storage_factory(fsync: bool):
    class _Bound(AtomicJSONStorage):
        def __init__(self, path: str, **kw: Any) -> None:
            super().__init__(path, fsync=fsync)
    return _Bound
