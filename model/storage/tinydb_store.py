"""TinyDB backend: one small TinyDB file per document, written atomically.

TinyDB's default JSONStorage rewrites one growing file in place; with tens of thousands
of people that makes every turn slower and a crash can truncate the file. Here every
person (and every conversation's dialog state) is its own file under
BOT_DATA_DIR/<collection>/<xx>/<hash>.json, so a turn reads and writes a few kilobytes
whatever the number of people, and each write goes to a temporary file that is flushed,
fsynced and renamed over the old one: after a crash the file is either old or new.
Several processes on one machine may share a data directory (the served bot and
`python app.py send-nudges` from cron): every commit holds its folders' `fcntl` locks, so
an ETag check and its rename are one step for the other processes too. (`flock`: use a
local file system, not a network share.)

A process killed mid-write leaves its temporary file (`.tmp-<pid>-<n>-<name>.json`,
possibly a whole copy of a person's document): the store sweeps the dead writers' ones
when it opens the directory, and deleting a document removes its temporaries and its
quarantined copies (`.quarantine-<name>-<ns>.json`) with it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import fcntl
import itertools
import json
import logging
import os
import re
import time
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, TypeVar

from tinydb.storages import Storage

from model.storage.docstore import ConflictError, CorruptDocument, Doc, DocStore, doc_name

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
        self.flushes = 0  # how many flushes the group commits made (a test counts them)
        self._committers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Committer]" = (
            weakref.WeakKeyDictionary()
        )
        self._root_descriptor: int | None = None
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

    async def quarantine_named(self, collection: str, name: str) -> None:
        path = self._path(collection, name)
        aside = path.with_name(f".quarantine-{path.stem}-{time.time_ns()}.json")
        try:
            os.replace(path, aside)
        except FileNotFoundError:
            pass

    async def delete_named(self, collection: str, name: str) -> None:
        await self._submit(_Job(self._path(collection, name), None, None, False))

    async def stale(self, collection: str, before: datetime) -> list[str]:
        limit = before.timestamp()
        found = []
        for path in (self.root / collection).glob("*/*.json"):
            try:
                if not path.name.startswith(".") and path.stat().st_mtime < limit:
                    found.append(path.stem)
            except FileNotFoundError:
                continue
        return sorted(found)

    async def expire_quarantined(self, before: datetime) -> int:
        limit = before.timestamp() * 1e9
        removed = 0
        for path in self.root.glob("*/*/.quarantine-*.json"):
            match = _QUARANTINED.match(path.name)
            if match and int(match.group(1)) < limit:
                _unlink(path)
                removed += 1
        return removed

    async def write(
        self, collection: str, key: str, doc: Doc, if_match: str | None = None, if_none_match: bool = False
    ) -> str:
        return await self._submit(_Job(self.path(collection, key), doc, if_match, if_none_match))

    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        return await self._submit(_Job(self._path(collection, name), doc, None, False))

    async def _submit(self, job: "_Job") -> Any:
        """Hand a write (or a delete) to this loop's committer and wait until it is durable.
        Without fsync (tests, BOT_FSYNC=0) it is done at once, on the loop."""
        if not self.fsync:
            self._commit([job])
            return job.result()
        loop = asyncio.get_running_loop()
        committer = self._committers.get(loop)
        if committer is None:
            committer = self._committers[loop] = _Committer(self, loop)
        return await committer.submit(job)

    def _commit(self, batch: list["_Job"]) -> None:
        """Write a batch of documents so that one flush before and one after the renames
        cover them all (group commit): every temporary is written, the file system is
        flushed, the temporaries are renamed over the documents, and it is flushed again,
        so each is durable, and whole, before any writer is answered. Under the folders'
        locks, so the ETag checks and renames are one step for other processes too (e.g.
        `send-nudges` from cron beside the server). Each job gets its own outcome: one
        refused ETag does not fail the others."""
        for job in batch:
            if job.doc is not None:
                try:
                    job.encoded = encode_layout(job.doc)
                except Exception as err:  # noqa: BLE001 - not JSON: that writer's error alone
                    job.error = err
        locks = []
        staged: list[tuple[_Job, str]] = []
        try:
            for folder in sorted({job.path.parent for job in batch}):  # one order: no deadlock between processes
                lock = _open_lock(folder)
                locks.append(lock)
                fcntl.flock(lock, fcntl.LOCK_EX)
            revs: dict[Path, str | None] = {}  # revisions as this batch leaves them
            for job in batch:
                if job.error is None:
                    self._stage(job, revs, staged)
            deleted = any(job.doc is None and job.error is None for job in batch)
            if not (staged or deleted) or not self.fsync:
                for job, tmp in staged:
                    self._rename(job, tmp)
                return
            try:
                self._flush([tmp for _, tmp in staged], before_rename=True)
                for job, tmp in staged:
                    self._rename(job, tmp)
                self._flush([str(job.path) for job in batch if job.error is None], before_rename=False)
            except OSError as err:  # the disk refused the flush: nobody's write is known durable
                for job in batch:
                    job.error = job.error or err
        finally:
            for job, tmp in staged:
                if job.error is not None:
                    _unlink(tmp)
            for lock in locks:
                fcntl.flock(lock, fcntl.LOCK_UN)
                lock.close()

    def _stage(self, job: "_Job", revs: dict[Path, str | None], staged: list) -> None:
        """Check one job's ETag and write its temporary (or delete its files)."""
        path = job.path
        try:
            if job.doc is None:  # a delete: the document, its quarantined copies, crash leftovers
                for leftover in [path, *_leftovers(path)]:
                    _unlink(leftover)
                revs[path] = None
                job.rev = None
                return
            current = revs[path] if path in revs else self._current_rev(path)
            if job.if_none_match and current is not None:
                raise ConflictError(path.name)
            if job.if_match not in (None, "*") and job.if_match != current:
                raise ConflictError(path.name)
            rev = int(current or 0) + 1
            lists, tables = job.encoded
            tmp = _temp_path(path)
            _write_new(tmp, path.parent, b'{"_meta":{"1":{"rev":%d,"lists":%s}},%s' % (rev, lists, tables))
            staged.append((job, tmp))
            revs[path] = job.rev = str(rev)
        except Exception as err:  # noqa: BLE001 - this job's outcome
            job.error = err

    def _rename(self, job: "_Job", tmp: str) -> None:
        try:
            os.replace(tmp, job.path)
        except OSError as err:
            job.error = err

    def _flush(self, paths: list[str], before_rename: bool) -> None:
        """Make what this batch wrote durable: one `syncfs` for the whole batch when there
        are several files (one journal commit, however many files), else an fsync of the
        file (before the rename) or of its folder (after it)."""
        if not paths:
            return
        self.flushes += 1
        if len(paths) >= SYNCFS_FROM and _syncfs is not None:
            if _syncfs(self._root_fd()) != 0:
                raise OSError(ctypes.get_errno(), "syncfs failed")
            return
        targets = paths if before_rename else sorted({os.path.dirname(p) for p in paths})
        for target in targets:
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _root_fd(self) -> int:
        if self._root_descriptor is None:
            self._root_descriptor = os.open(self.root, os.O_RDONLY)
        return self._root_descriptor

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
        """The document, its quarantined copies and any temporary a killed writer left,
        flushed like a write (a deletion that a power cut undid would be no deletion)."""
        async with self._lock(collection, key):  # not beside an update of the same document
            await self._submit(_Job(self.path(collection, key), None, None, False))

    async def close(self) -> None:
        if self._root_descriptor is not None:
            os.close(self._root_descriptor)
            self._root_descriptor = None

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
    """A new temporary, readable by this user only: it holds a person's data."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL

    def make() -> int:
        try:
            return os.open(tmp, flags, 0o600)
        except FileExistsError:  # left by an earlier process with this pid (pid 1 in a container)
            os.unlink(tmp)
            return os.open(tmp, flags, 0o600)

    return _in_folder(folder, make)


def _write_new(tmp: str, folder: Path, raw: bytes) -> None:
    """A temporary, written whole (flushed later, with the rest of its batch)."""
    fd = _create(tmp, folder)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        _unlink(tmp)
        raise
    os.close(fd)


def _unlink(path: Path | str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2): flushes one file system in one journal commit; elsewhere, None
    (each file and folder is then fsynced on its own)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_syncfs = _load_syncfs()
SYNCFS_FROM = 3  # files in a batch: from here one syncfs beats an fsync per file (a one-off measurement)


class _Job:
    """One write (doc) or delete (doc None) waiting for its batch; its outcome is the new
    revision, or the error that stopped it."""

    __slots__ = ("path", "doc", "if_match", "if_none_match", "encoded", "rev", "error")

    def __init__(self, path: Path, doc: Doc | None, if_match: str | None, if_none_match: bool) -> None:
        self.path = path
        self.doc = doc
        self.if_match = if_match
        self.if_none_match = if_none_match
        self.encoded: tuple[bytes, bytes] = (b"", b"")
        self.rev: str | None = None
        self.error: BaseException | None = None

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.rev


class _Committer:
    """Collects one event loop's writes and commits them in batches on one worker thread:
    while a batch is being flushed, the writes that arrive wait and go together in the
    next one, so N concurrent turns share a flush instead of paying one each."""

    def __init__(self, store: TinyDBStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self.waiting: list[tuple[_Job, asyncio.Future]] = []
        self.busy = False

    async def submit(self, job: _Job) -> Any:
        done = self.loop.create_future()
        self.waiting.append((job, done))
        if not self.busy:
            self._next()
        await asyncio.shield(done)  # a cancelled turn still gets its write finished, not torn
        return job.result()

    def _next(self) -> None:
        batch, self.waiting = self.waiting, []
        self.busy = True
        work = self.loop.run_in_executor(_committer_thread(), self.store._commit, [job for job, _ in batch])
        work.add_done_callback(lambda finished: self._finished(batch, finished))

    def _finished(self, batch: list[tuple[_Job, asyncio.Future]], finished: asyncio.Future) -> None:
        self.busy = False
        failure = finished.exception() if not finished.cancelled() else asyncio.CancelledError()
        for job, done in batch:
            if failure is not None and job.error is None:
                job.error = failure
            if not done.done():
                done.set_result(None)
        if self.waiting:
            self._next()


_COMMITTER: concurrent.futures.ThreadPoolExecutor | None = None


def _committer_thread() -> concurrent.futures.ThreadPoolExecutor:
    global _COMMITTER
    if _COMMITTER is None:
        _COMMITTER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinydb-commit")
    return _COMMITTER


_TMP = re.compile(r"^\.tmp-(\d+)-\d+-(.+)$")
_QUARANTINED = re.compile(r"^\.quarantine-[0-9a-f]+-(\d+)\.json$")
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
