"""Azure Blob Storage backend: one JSON blob per document, ETags for optimistic concurrency.

Blob names are `<collection>/<doc_name(key)>.json`: the key is hashed, so Teams/AAD ids
never show up in blob names, listings or storage logs, and any key (however crazy or
long) makes a valid name. The content is plain UTF-8 JSON, never pickle.

Several bot instances can share one container: every conditional write sends the ETag it
read (`If-Match`) or `If-None-Match: *` for a new document, and the service refuses the
write with 412/409 when somebody else got there first; `DocStore.update()` then re-reads
and retries. A single-request upload replaces a blob atomically, so a reader sees either
the old or the new document.

`BlobLease` is a small leader-election helper on top (a blob lease that expires when its
holder stops renewing it), for jobs that only one instance should run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobClient, BlobLeaseClient, BlobServiceClient, ContainerClient

from model.storage.docstore import ConflictError, CorruptDocument, Doc, DocStore, doc_name

log = logging.getLogger(__name__)

_JSON = ContentSettings(content_type="application/json; charset=utf-8")
_CONFLICT_STATUS = (409, 412)
LEASE_PREFIX = "_leases/"
BLOB_CLIENTS_KEPT = 4096  # the people active lately; a client is a few KB
QUARANTINE_PREFIX = "_quarantine/"  # + <collection>/<name>-<ns>.json: unreadable documents, set aside
_QUARANTINED = re.compile(r"-(\d+)\.json$")


def _is_conflict(err: HttpResponseError) -> bool:
    return isinstance(err, (ResourceModifiedError, ResourceExistsError)) or err.status_code in _CONFLICT_STATUS


def _not_ours(err: HttpResponseError) -> bool:
    """A lease call that failed because the blob is gone or another instance holds it."""
    return isinstance(err, ResourceNotFoundError) or _is_conflict(err)


class BlobStore(DocStore):
    """Documents as JSON blobs in one container; the ETag is the blob's ETag."""

    def __init__(self, connection_string: str, container: str, **client_options: Any) -> None:
        """`client_options` go to BlobServiceClient (e.g. retry_total=..., connection_timeout=...)."""
        if not connection_string:
            raise ValueError("BlobStore needs an Azure Storage connection string")
        if not container:
            raise ValueError("BlobStore needs a container name")
        self.connection_string = connection_string
        self.container = container
        self.client_options = client_options
        # The client (and its aiohttp connection pool) is made on first use, inside the
        # running event loop, and reused for every request after that.
        self._service: BlobServiceClient | None = None
        self._container_client: ContainerClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._container_ready = False
        self._container_lock: asyncio.Lock | None = None
        self._blob_clients: OrderedDict[str, BlobClient] = OrderedDict()

    # -- plumbing ------------------------------------------------------------------------
    def blob_name(self, collection: str, key: str) -> str:
        return self._named(collection, doc_name(key))

    @staticmethod
    def _named(collection: str, name: str) -> str:
        if not collection or "/" in collection:
            raise ValueError(f"bad collection name {collection!r}")
        if not name or "/" in name:
            raise ValueError(f"bad document name {name!r}")
        return f"{collection}/{name}.json"

    async def container_client(self) -> ContainerClient:
        """The shared container client; creates the container once (idempotently)."""
        loop = asyncio.get_running_loop()
        if self._service is None or self._loop is not loop:
            # A new event loop (e.g. a second asyncio.run() in a tool) cannot use the old
            # loop's connections: start over with a fresh client for this loop.
            self._service = BlobServiceClient.from_connection_string(self.connection_string, **self.client_options)
            self._container_client = self._service.get_container_client(self.container)
            self._blob_clients.clear()
            self._loop = loop
            self._container_ready = False
            self._container_lock = asyncio.Lock()
        assert self._container_client is not None and self._container_lock is not None
        if not self._container_ready:
            async with self._container_lock:
                if not self._container_ready:
                    try:
                        await self._container_client.create_container()
                    except ResourceExistsError:
                        pass  # made earlier, or by another instance just now
                    except HttpResponseError as err:
                        if err.status_code != 403:
                            raise
                        # A container-scoped SAS may not create containers: assume an
                        # operator made it (requests will say ContainerNotFound if not).
                        log.warning("cannot create blob container %r (403); assuming it exists", self.container)
                    self._container_ready = True
        return self._container_client

    async def blob_client(self, blob_name: str) -> BlobClient:
        """The blob's client, kept for the blobs used lately. Making one builds the SDK's
        generated client and its configuration: about a quarter of a read's CPU."""
        container = await self.container_client()
        blob = self._blob_clients.get(blob_name)
        if blob is None:
            blob = self._blob_clients[blob_name] = container.get_blob_client(blob_name)
            if len(self._blob_clients) > BLOB_CLIENTS_KEPT:
                self._blob_clients.popitem(last=False)
        else:
            self._blob_clients.move_to_end(blob_name)
        return blob

    # -- DocStore ------------------------------------------------------------------------
    async def read(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        return await self.read_named(collection, doc_name(key))

    async def read_named(self, collection: str, name: str) -> tuple[Doc | None, str | None]:
        blob = await self.blob_client(self._named(collection, name))
        try:
            downloader = await blob.download_blob()
            raw = await downloader.readall()
        except ResourceNotFoundError:
            return None, None
        try:
            doc = json.loads(raw.decode("utf-8"))
        except ValueError as err:  # also UnicodeDecodeError; an empty blob too
            raise CorruptDocument(f"{collection}/{name}") from err
        if not isinstance(doc, dict):
            raise CorruptDocument(f"{collection}/{name}")
        return doc, downloader.properties.etag

    async def quarantine_named(self, collection: str, name: str) -> None:
        container = await self.container_client()
        blob = container.get_blob_client(self._named(collection, name))
        try:
            raw = await (await blob.download_blob()).readall()
        except ResourceNotFoundError:
            return
        aside = f"{QUARANTINE_PREFIX}{collection}/{name}-{time.time_ns()}.json"
        await container.get_blob_client(aside).upload_blob(raw, overwrite=True)
        await self._delete_blobs([self._named(collection, name)])

    async def stale(self, collection: str, before: datetime) -> list[str]:
        container = await self.container_client()
        prefix = f"{collection}/"
        names = []
        async for props in container.list_blobs(name_starts_with=prefix):
            name = props.name[len(prefix) :]
            if "/" not in name and name.endswith(".json") and props.last_modified < before:
                names.append(name[: -len(".json")])
        return sorted(names)

    async def expire_quarantined(self, before: datetime) -> int:
        container = await self.container_client()
        limit = before.timestamp() * 1e9
        old = []
        async for props in container.list_blobs(name_starts_with=QUARANTINE_PREFIX):
            match = _QUARANTINED.search(props.name)
            if match and int(match.group(1)) < limit:
                old.append(props.name)
        await self._delete_blobs(old)
        return len(old)

    async def write(
        self, collection: str, key: str, doc: Doc, if_match: str | None = None, if_none_match: bool = False
    ) -> str:
        return await self._write(self.blob_name(collection, key), doc, if_match, if_none_match)

    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        return await self._write(self._named(collection, name), doc, None, False)

    async def _write(self, blob_name: str, doc: Doc, if_match: str | None, if_none_match: bool) -> str:
        blob = await self.blob_client(blob_name)
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        kwargs: dict[str, Any] = {"content_settings": _JSON}
        if if_none_match:
            kwargs["overwrite"] = False  # sends If-None-Match: * (fails with 409 when it exists)
        else:
            kwargs["overwrite"] = True
            if if_match not in (None, "*"):  # "*" means "whatever is there", as in TinyDBStore
                kwargs["etag"] = if_match
                kwargs["match_condition"] = MatchConditions.IfNotModified
        try:
            result = await blob.upload_blob(data, **kwargs)
        except ResourceNotFoundError:
            if "etag" in kwargs:  # it was deleted since we read it
                raise ConflictError(blob_name) from None
            raise
        except HttpResponseError as err:
            if _is_conflict(err):
                raise ConflictError(blob_name) from None
            raise
        return result["etag"]

    async def delete(self, collection: str, key: str) -> None:
        await self.delete_named(collection, doc_name(key))

    async def delete_named(self, collection: str, name: str) -> None:
        """The document and any quarantined copy of it."""
        container = await self.container_client()
        names = [self._named(collection, name)]
        async for props in container.list_blobs(name_starts_with=f"{QUARANTINE_PREFIX}{collection}/{name}-"):
            names.append(props.name)
        await self._delete_blobs(names)

    async def _delete_blobs(self, names: list[str]) -> None:
        """Delete each blob and its snapshots; one already gone is no error. Their kept
        clients go too."""
        container = await self.container_client()
        for name in names:
            self._blob_clients.pop(name, None)
            try:
                await container.get_blob_client(name).delete_blob(delete_snapshots="include")
            except ResourceNotFoundError:
                pass

    async def keys(self, collection: str) -> list[str]:
        container = await self.container_client()
        prefix = f"{collection}/"
        names = []
        async for props in container.list_blobs(name_starts_with=prefix):
            name = props.name[len(prefix) :]
            if "/" not in name and name.endswith(".json"):
                names.append(name[: -len(".json")])
        return sorted(names)

    async def close(self) -> None:
        service, self._service = self._service, None
        self._container_client = None
        self._blob_clients.clear()
        self._container_ready = False
        if service is not None:
            await service.close()


_LEASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


class BlobLease:
    """Leader election with a blob lease: whoever holds the lease on `_leases/<name>` leads.

    The leader calls `renew()` well within `duration` seconds (say every duration/3) and
    stops leading when it returns False; the others call `acquire()` now and then. When
    the leader dies its lease expires after `duration` seconds and the next `acquire()`
    elsewhere succeeds. Azure allows 15-60 seconds (or -1 for never, not useful here).

    `acquire()` and `renew()` return False when another instance holds the lease; other
    storage errors (network, authentication) propagate, and the caller should then act
    as if it does not lead.
    """

    def __init__(self, store: BlobStore, name: str, duration: int = 15) -> None:
        if not _LEASE_NAME.match(name):
            raise ValueError(f"lease names are letters, digits, '.', '_' and '-': {name!r}")
        if not 15 <= duration <= 60:
            raise ValueError("Azure blob leases last 15 to 60 seconds")
        self.store = store
        self.name = name
        self.duration = duration
        self.blob_name = LEASE_PREFIX + name
        self.lease_id = str(uuid.uuid4())  # ours for the life of this object
        self.held = False

    async def _lease_client(self) -> BlobLeaseClient:
        container = await self.store.container_client()
        return BlobLeaseClient(container.get_blob_client(self.blob_name), lease_id=self.lease_id)

    async def acquire(self) -> bool:
        """Take the lease (or extend it, when we already hold it). True when we hold it."""
        lease = await self._lease_client()
        for _ in range(3):
            try:
                await lease.acquire(lease_duration=self.duration)
                self.held = True
                return True
            except ResourceNotFoundError:
                await self._create_blob()
            except HttpResponseError as err:
                if _is_conflict(err):  # LeaseAlreadyPresent: someone else leads
                    self.held = False
                    return False
                raise
        self.held = False
        return False

    async def _create_blob(self) -> None:
        container = await self.store.container_client()
        try:
            await container.get_blob_client(self.blob_name).upload_blob(b"", overwrite=False)
        except HttpResponseError as err:
            if not _is_conflict(err):  # created by another instance meanwhile: fine
                raise

    async def renew(self) -> bool:
        """Keep the lease for another `duration` seconds. False when it has been lost."""
        lease = await self._lease_client()
        try:
            await lease.renew()
        except HttpResponseError as err:
            self.held = False
            if _not_ours(err):
                return False
            raise
        self.held = True
        return True

    async def release(self) -> None:
        """Give the lease up now so another instance can take over at once."""
        self.held = False
        lease = await self._lease_client()
        try:
            await lease.release()
        except HttpResponseError as err:
            if not _not_ours(err):  # not ours (any more), or no blob: nothing to give up
                raise

    async def break_lease(self) -> None:
        """Operator's escape hatch: end whoever's lease at once (`release()` for any holder)."""
        lease = await self._lease_client()
        try:
            await lease.break_lease(lease_break_period=0)
        except HttpResponseError as err:
            if not _not_ours(err):
                raise
        self.held = False
