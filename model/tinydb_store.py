"""TinyDB backend: one small TinyDB file per document, written atomically.

TinyDB's default JSONStorage rewrites one growing file in place; with tens of thousands
of people that makes every turn slower and a crash can truncate the file. Here every
person (and every conversation's dialog state) is its own file under
BOT_DATA_DIR/<collection>/<xx>/<hash>.json, so a turn reads and writes a few kilobytes
whatever the number of people, and each write goes to a temporary file that is flushed,
fsynced and renamed over the old one: after a crash the file is either old or new.
Only one process may write a data directory (TinyDB is not multi-process safe).

A process killed mid-write leaves its temporary file (`.tmp-<pid>-<n>-<name>.json`,
possibly a whole copy of a person's document): the store sweeps the dead writers' ones
when it opens the directory, and deleting a document removes its temporaries and its
quarantined copies (`.quarantine-<name>-<ns>.json`) with it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import itertools
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from tinydb.storages import Storage

from .docstore import ConflictError, CorruptDocument, Doc, DocStore, doc_name

T = TypeVar("T")
log = logging.getLogger("kompetencehjulet.storage")

_META = "_meta"
_BODY = "document"


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically instead of rewriting it in place."""

    def __init__(self, path: str | os.PathLike, fsync: bool = True, **_: Any) -> None:
        self.path = Path(path)
        self.fsync = fsync

    def read(self) -> dict[str, Any] | None:
        raw = read_file(self.path)
        return None if raw is None else json.loads(raw)

    def write(self, data: dict[str, Any]) -> None:
        # The C encoder, bytes written straight to the descriptor (no text layer).
        self.write_bytes(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def write_bytes(self, raw: bytes) -> None:
        tmp = _temp_path(self.path)
        fd = _create(tmp, self.path.parent)
        try:
            try:
                view = memoryview(raw)
                while view:
                    view = view[os.write(fd, view) :]
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
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
        swept = sweep_dead_temporaries(self.root)
        if swept:
            log.info("removed %d temporary files left by writers that died", swept)

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
        data = read_file(path)
        if data is None:
            return None, None
        try:
            if len(data) > BIG:  # a large index document: parsed beside the loop, which keeps serving turns
                raw = await asyncio.get_running_loop().run_in_executor(_writers(), json.loads, data)
            else:
                raw = json.loads(data)
            return _from_layout(raw)
        except (ValueError, TypeError, AttributeError, KeyError) as err:  # not JSON, or not our layout
            raise CorruptDocument(f"{collection}/{path.name}") from err

    async def quarantine(self, collection: str, key: str) -> None:
        path = self.path(collection, key)
        aside = path.with_name(f".quarantine-{path.stem}-{time.time_ns()}.json")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            pass

    async def write(
        self, collection: str, key: str, doc: Doc, if_match: str | None = None, if_none_match: bool = False
    ) -> str:
        return await self._write(self.path(collection, key), doc, if_match, if_none_match)

    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        return await self._write(self._path(collection, name), doc, None, False)

    async def _write(self, path: Path, doc: Doc, if_match: str | None, if_none_match: bool) -> str:
        if not self.fsync:
            return self._write_sync(path, doc, if_match, if_none_match)
        # On a worker thread: the event loop serves other turns while fsync waits for the
        # disk, and while a large index document is encoded (the GIL is handed back every
        # few milliseconds). The caller awaits this write; nobody changes `doc` meanwhile.
        return await asyncio.get_running_loop().run_in_executor(
            _writers(), self._write_sync, path, doc, if_match, if_none_match
        )

    def _write_sync(self, path: Path, doc: Doc, if_match: str | None, if_none_match: bool) -> str:
        encoded = encode_layout(doc)
        # The ETag check and the rename must be one step, also against a second process on
        # this data dir (e.g. `send-nudges` from cron beside the server) and the other
        # writer threads: lock the shard.
        with _open_lock(path.parent) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = self._current_rev(path)
                if if_none_match and current is not None:
                    raise ConflictError(path.name)
                if if_match not in (None, "*") and if_match != current:
                    raise ConflictError(path.name)
                rev = int(current or 0) + 1
                lists, tables = encoded
                AtomicJSONStorage(path, self.fsync).write_bytes(
                    b'{"_meta":{"1":{"rev":%d,"lists":%s}},%s' % (rev, lists, tables)
                )
                return str(rev)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _current_rev(self, path: Path) -> str | None:
        """The stored revision (None: no document). Files this store writes begin with
        `{"_meta":{"1":{"rev":N,...}},"document":{"1":{`, so the first bytes usually
        tell; anything else (an older layout, long list names) is read whole."""
        head = read_file(path, _HEAD)
        if head is None:
            return None
        match = _HEAD_RE.match(head)
        if match:
            return match.group(1).decode()
        try:
            raw = AtomicJSONStorage(path).read() or {}
            return str(raw.get(_META, {}).get("1", {}).get("rev", 0)) if raw.get(_BODY) else None
        except (ValueError, TypeError, AttributeError) as err:
            raise CorruptDocument(path.name) from err

    async def delete(self, collection: str, key: str) -> None:
        """The document, its quarantined copies and any temporary a killed writer left."""
        path = self.path(collection, key)
        async with self._lock(collection, key):  # not beside an update of the same document
            for leftover in [path, *_leftovers(path)]:
                try:
                    os.unlink(leftover)
                except FileNotFoundError:
                    pass

    async def keys(self, collection: str) -> list[str]:
        base = self.root / collection
        return sorted(p.stem for p in base.glob("*/*.json") if not p.name.startswith(".")) if base.exists() else []


def _from_layout(raw: Any) -> tuple[Doc | None, str | None]:
    """The body and revision of a file in `tinydb_layout`; TypeError/KeyError/AttributeError
    when the JSON is not in it."""
    if not raw:
        return None, None
    meta = raw.get(_META, {}).get("1", {})
    body = raw.get(_BODY, {}).get("1")
    if body is None:
        return None, None
    if not isinstance(body, dict):
        raise TypeError("the document table holds no object")
    for name in meta.get("lists", []):  # list fields live in their own tables, row per item
        rows = raw.get(name, {})
        body[name] = [rows[k] for k in sorted(rows, key=int)]
    return body, str(meta.get("rev", 0))


def tinydb_layout(rev: int, doc: Doc) -> dict[str, Any]:
    """The file TinyDB itself writes for these tables (what `TinyDB(path).table(t).insert`
    would produce, document ids from 1): the body in `document`, each list of records in a
    table of its own, the revision in `_meta`. Built directly, in one step, instead of
    through a TinyDB instance that re-reads and re-encodes the file per insert."""
    lists = [k for k, v in doc.items() if isinstance(v, list) and all(isinstance(i, dict) for i in v)]
    data: dict[str, Any] = {
        _META: {"1": {"rev": rev, "lists": lists}},
        _BODY: {"1": {k: v for k, v in doc.items() if k not in lists}},
    }
    for name in lists:
        data[name] = {str(i): row for i, row in enumerate(doc[name], 1)}
    return data


_NOATIME = getattr(os, "O_NOATIME", 0)
_read_flags = os.O_RDONLY | _NOATIME


def read_file(path: Path | str, limit: int = -1) -> bytes | None:
    """The file's bytes (None if it does not exist), without updating its access time:
    every file here is read right after it was replaced, and that first read would
    otherwise dirty the inode and wait for the journal commit the writers' fsyncs force."""
    global _read_flags
    try:
        fd = os.open(path, _read_flags)
    except FileNotFoundError:
        return None
    except PermissionError:
        if not _read_flags & _NOATIME:
            raise
        _read_flags = os.O_RDONLY  # O_NOATIME needs the file's owner; not ours: plain reads
        return read_file(path, limit)
    try:
        if limit >= 0:
            return os.read(fd, limit)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def encode_layout(doc: Doc) -> tuple[bytes, bytes]:
    """`tinydb_layout` as bytes in two parts, the revision left out: the list names and the
    tables after `_meta`, so the revision, known only under the lock, is spliced in."""
    layout = tinydb_layout(0, doc)
    lists = json.dumps(layout.pop(_META)["1"]["lists"], ensure_ascii=False, separators=(",", ":"))
    tables = json.dumps(layout, ensure_ascii=False, separators=(",", ":"))
    return lists.encode("utf-8"), tables[1:].encode("utf-8")  # the tables without their opening brace


_WRITERS: concurrent.futures.ThreadPoolExecutor | None = None


def _writers() -> concurrent.futures.ThreadPoolExecutor:
    global _WRITERS
    if _WRITERS is None:
        _WRITERS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="tinydb-write")
    return _WRITERS


BIG = 64 * 1024  # bytes: documents this large are parsed on a worker thread
_HEAD = 512
_HEAD_RE = re.compile(rb'\{"_meta":\{"1":\{"rev":(\d+),"lists":\[[^\]]*\]\}\},"document":\{"1":\{')
_tmp_ids = itertools.count(1)


def _in_folder(folder: Path, make: Callable[[], T]) -> T:
    """`make()`, which creates a file in `folder`; the folder is made only when it turns
    out to be missing, so an ordinary write costs no mkdir."""
    try:
        return make()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return make()


def _open_lock(folder: Path):
    return _in_folder(folder, lambda: open(folder / ".lock", "a"))


def _create(tmp: str, folder: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL

    def make() -> int:
        try:
            return os.open(tmp, flags, 0o644)
        except FileExistsError:  # left by an earlier process with this pid (pid 1 in a container)
            os.unlink(tmp)
            return os.open(tmp, flags, 0o644)

    return _in_folder(folder, make)


_TMP = re.compile(r"^\.tmp-(\d+)-\d+-(.+)$")
_STARTED = time.time()  # a temporary of this pid from before this moment is a dead namesake's
STALE_TEMPORARY = 3600.0  # seconds: no write takes this long, whoever started it


def _leftovers(path: Path) -> list[Path]:
    """Temporaries and quarantined copies of one document, beside it in its folder."""
    try:
        entries = os.scandir(path.parent)
    except FileNotFoundError:
        return []
    with entries:
        return [
            Path(entry.path)
            for entry in entries
            if entry.name.startswith(".")
            and (
                entry.name.startswith(f".quarantine-{path.stem}-")
                or ((m := _TMP.match(entry.name)) is not None and m.group(2) == path.name)
            )
        ]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_dead_temporaries(root: Path) -> int:
    """Remove the temporaries of writers that are gone (killed, out of memory, power loss):
    another process's live ones stay, and so do this process's own current ones."""
    removed = 0
    now = time.time()
    for folder, _, files in os.walk(root):
        for name in files:
            match = _TMP.match(name)
            if not match:
                continue
            path = os.path.join(folder, name)
            pid = int(match.group(1))
            try:
                modified = os.stat(path).st_mtime
            except FileNotFoundError:
                continue
            if pid == os.getpid():
                stale = modified < _STARTED
            else:
                stale = not _pid_alive(pid)
            if stale or now - modified > STALE_TEMPORARY:
                try:
                    os.unlink(path)
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed


def _temp_path(path: Path) -> str:
    """A temporary name no other writer uses: this process and a counter (mkstemp's random
    names cost more than the write); left-overs of a killed process start with .tmp-."""
    return f"{path.parent}/.tmp-{os.getpid()}-{next(_tmp_ids)}-{path.name}"
