"""Azure Blob Storage backend: one JSON blob per document, ETags for optimistic concurrency.

Blob names are `<collection>/<doc_name(key)>.json`: the key is hashed, so Teams/AAD ids
never show up in blob names, listings or storage logs, and any key (however crazy or
long) makes a valid name. The content is plain UTF-8 JSON, never pickle.

Several bot instances can share one container: every conditional write sends the ETag it
read (`If-Match`) or `If-None-Match: *` for a new document, and the service refuses the
write (412/409) when somebody else got there first; `DocStore.update()` then re-reads and
retries. A single-request upload replaces a blob atomically, so a reader sees either the
old or the new document.

The requests go through `obstore` (Python bindings of the Rust `object_store` crate): a
get or a put costs about a quarter of the CPU that `azure-storage-blob`'s pipeline did.
obstore cannot create a container, so the first write into a missing one creates it
through `azure-storage-blob` (imported only then) when the store was opened with a
connection string; with Microsoft Entra ID credentials the container must exist
(docs/scale-out.md says how to make it).

Who leads a job, and which instance sends which share of a nudge wave, is decided with
lock documents (model/storage/claims.py) written with the same conditional puts: obstore has no
blob leases.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

import obstore
from obstore.exceptions import AlreadyExistsError, NotFoundError, PreconditionError
from obstore.store import AzureStore

from model.storage.docstore import ConflictError, CorruptDocument, Doc, DocStore, doc_name

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=utf-8"
QUARANTINE_PREFIX = "_quarantine/"  # + <collection>/<name>-<ns>.json: unreadable documents, set aside
_QUARANTINED = re.compile(r"-(\d+)\.json$")
NOT_FOUND = (FileNotFoundError, NotFoundError)  # obstore raises the built-in one for a 404
LIST_CHUNK = 1000

# Azurite's (and the Storage Emulator's) published development account, for
# `UseDevelopmentStorage=true`: a well-known public value, not a secret.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# A turn waits for its storage requests: retry a failing one a few times, briefly, rather
# than obstore's default of 10 retries over up to 3 minutes.
RETRIES: dict[str, Any] = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}
TIMEOUTS: dict[str, Any] = {"connect_timeout": "5s", "timeout": "30s"}


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """obstore's Azure settings (account_name, account_key or sas_key, endpoint) from an
    Azure Storage connection string: `AccountName=…;AccountKey=…` (with BlobEndpoint or
    DefaultEndpointsProtocol/EndpointSuffix), `BlobEndpoint=…;SharedAccessSignature=…`,
    or `UseDevelopmentStorage=true` (the emulator on 127.0.0.1:10000)."""
    parts: dict[str, str] = {}
    for item in connection_string.split(";"):
        name, sep, value = item.strip().partition("=")
        if sep and name.strip():
            parts[name.strip().lower()] = value.strip()
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        proxy = parts.get("developmentstorageproxyuri", "http://127.0.0.1").rstrip("/")
        return {"account_name": DEV_ACCOUNT, "account_key": DEV_KEY, "endpoint": f"{proxy}:10000/{DEV_ACCOUNT}"}
    account = parts.get("accountname", "")
    endpoint = parts.get("blobendpoint", "").rstrip("/")
    if not account and endpoint:  # a SAS connection string names only the endpoint
        account = endpoint.split("://", 1)[-1].split(".", 1)[0].split("/", 1)[0]
    if not account:
        raise ValueError("the Azure Storage connection string names no AccountName or BlobEndpoint")
    if not endpoint:
        protocol = parts.get("defaultendpointsprotocol", "https")
        endpoint = f"{protocol}://{account}.blob.{parts.get('endpointsuffix', 'core.windows.net')}"
    config = {"account_name": account, "endpoint": endpoint}
    if parts.get("accountkey"):
        config["account_key"] = parts["accountkey"]
    elif parts.get("sharedaccesssignature"):
        config["sas_key"] = parts["sharedaccesssignature"].lstrip("?")
    else:
        raise ValueError("the Azure Storage connection string has neither AccountKey nor SharedAccessSignature")
    return config


def _container_missing(err: BaseException) -> bool:
    return "ContainerNotFound" in str(err)


class BlobStore(DocStore):
    """Documents as JSON blobs in one container; the ETag is the blob's ETag.

    Open it with a connection string (account key or SAS), or with `account_name` alone:
    obstore then authenticates with Microsoft Entra ID from the environment (a managed
    identity by default; a service principal with AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
    and AZURE_TENANT_ID; workload identity with AZURE_FEDERATED_TOKEN_FILE).
    `config`, `client_options` and `retry_config` go to obstore's AzureStore as they are.
    """

    def __init__(
        self,
        connection_string: str = "",
        container: str = "",
        *,
        account_name: str = "",
        endpoint: str = "",
        config: dict[str, Any] | None = None,
        client_options: dict[str, Any] | None = None,
        retry_config: dict[str, Any] | None = None,
    ) -> None:
        if not container:
            raise ValueError("BlobStore needs a container name")
        if connection_string:
            settings = parse_connection_string(connection_string)
        elif account_name:
            settings = {"account_name": account_name}
        else:
            raise ValueError("BlobStore needs an Azure Storage connection string or an account name")
        if endpoint:
            settings["endpoint"] = endpoint
        settings.update(config or {})
        self.connection_string = connection_string
        self.container = container
        self.account_name = settings["account_name"]
        self.settings = settings
        self.client_options = {**TIMEOUTS, **(client_options or {})}
        if settings.get("endpoint", "").startswith("http://"):
            self.client_options.setdefault("allow_http", True)  # the emulator on loopback
        self.retry_config = {**RETRIES, **(retry_config or {})}
        # Made on first use and kept: obstore runs its requests on its own threads, so one
        # store (and its connection pool) serves every event loop of the process.
        self._store: AzureStore | None = None

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

    @property
    def objects(self) -> AzureStore:
        """The obstore client of the container; constructing it makes no request."""
        if self._store is None:
            self._store = AzureStore(
                self.container,
                config=self.settings,  # type: ignore[arg-type]
                client_options=self.client_options,  # type: ignore[arg-type]
                retry_config=self.retry_config,  # type: ignore[arg-type]
            )
        return self._store

    async def create_container(self) -> None:
        """Create the container (a write found it missing). obstore cannot, so this one
        request goes through azure-storage-blob; with Entra ID credentials the container
        must be made beforehand."""
        if not self.connection_string:
            raise RuntimeError(
                f"blob container {self.container!r} does not exist: create it once (docs/scale-out.md), "
                "or give AZURE_STORAGE_CONNECTION_STRING so the bot can"
            )
        from azure.core.exceptions import HttpResponseError, ResourceExistsError
        from azure.storage.blob.aio import ContainerClient

        async with ContainerClient.from_connection_string(self.connection_string, self.container) as client:
            try:
                await client.create_container()
                log.info("created blob container %r", self.container)
            except ResourceExistsError:
                pass  # another instance made it just now
            except HttpResponseError as err:
                if err.status_code != 403:
                    raise
                # A container-scoped SAS may not create containers: an operator must.
                raise RuntimeError(f"blob container {self.container!r} is missing and may not be created") from None

    async def _list(self, prefix: str) -> list[dict[str, Any]]:
        """Every blob under `prefix` (a folder: obstore lists by whole path segments)."""
        found: list[dict[str, Any]] = []
        try:
            async for batch in obstore.list(self.objects, prefix=prefix, chunk_size=LIST_CHUNK):
                found.extend(batch)  # type: ignore[arg-type]
        except Exception as err:
            if _container_missing(err):
                return []  # nothing written yet
            raise
        return found

    # -- DocStore ------------------------------------------------------------------------
    async def read(self, collection: str, key: str) -> tuple[Doc | None, str | None]:
        return await self.read_named(collection, doc_name(key))

    async def read_named(self, collection: str, name: str) -> tuple[Doc | None, str | None]:
        raw, etag = await self._get(self._named(collection, name))
        if raw is None:
            return None, None
        try:
            doc = json.loads(raw.decode("utf-8"))
        except ValueError as err:  # also UnicodeDecodeError; an empty blob too
            raise CorruptDocument(f"{collection}/{name}") from err
        if not isinstance(doc, dict):
            raise CorruptDocument(f"{collection}/{name}")
        return doc, etag

    async def _get(self, path: str) -> tuple[bytes | None, str | None]:
        try:
            result = await obstore.get_async(self.objects, path)
            raw = await result.bytes_async()
        except NOT_FOUND:  # no such blob, or no container yet
            return None, None
        return bytes(raw), result.meta["e_tag"]

    async def quarantine_named(self, collection: str, name: str) -> None:
        raw, _ = await self._get(self._named(collection, name))
        if raw is None:
            return
        aside = f"{QUARANTINE_PREFIX}{collection}/{name}-{time.time_ns()}.json"
        await obstore.put_async(self.objects, aside, raw)
        await self._delete_blobs([self._named(collection, name)])

    async def stale(self, collection: str, before: datetime) -> list[str]:
        prefix = f"{collection}/"
        names = []
        for meta in await self._list(prefix):
            name = meta["path"][len(prefix) :]
            if "/" not in name and name.endswith(".json") and meta["last_modified"] < before:
                names.append(name[: -len(".json")])
        return sorted(names)

    async def expire_quarantined(self, before: datetime) -> int:
        limit = before.timestamp() * 1e9
        old = []
        for meta in await self._list(QUARANTINE_PREFIX):
            match = _QUARANTINED.search(meta["path"])
            if match and int(match.group(1)) < limit:
                old.append(meta["path"])
        await self._delete_blobs(old)
        return len(old)

    async def write(
        self, collection: str, key: str, doc: Doc, if_match: str | None = None, if_none_match: bool = False
    ) -> str:
        return await self._write(self.blob_name(collection, key), doc, if_match, if_none_match)

    async def write_named(self, collection: str, name: str, doc: Doc) -> str:
        return await self._write(self._named(collection, name), doc, None, False)

    async def _write(self, blob_name: str, doc: Doc, if_match: str | None, if_none_match: bool) -> str:
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        mode: Any = "overwrite"
        if if_none_match:
            mode = "create"  # If-None-Match: *
        elif if_match not in (None, "*"):  # "*" means "whatever is there", as in TinyDBStore
            mode = {"e_tag": if_match}  # If-Match
        for attempt in range(2):
            try:
                result = await obstore.put_async(
                    self.objects, blob_name, data, mode=mode, attributes={"Content-Type": CONTENT_TYPE}
                )
                break
            except (PreconditionError, AlreadyExistsError):
                raise ConflictError(blob_name) from None
            except NOT_FOUND as err:
                if attempt == 0 and _container_missing(err):
                    await self.create_container()
                    continue
                if isinstance(mode, dict):  # deleted since we read it
                    raise ConflictError(blob_name) from None
                raise
        etag = result["e_tag"]
        if etag is None:
            raise RuntimeError("the storage service returned no ETag")
        return etag

    async def delete(self, collection: str, key: str) -> None:
        await self.delete_named(collection, doc_name(key))

    async def delete_named(self, collection: str, name: str) -> None:
        """The document and any quarantined copy of it."""
        names = [self._named(collection, name)]
        folder = f"{QUARANTINE_PREFIX}{collection}/"
        names += [m["path"] for m in await self._list(folder) if m["path"].startswith(f"{folder}{name}-")]
        await self._delete_blobs(names)

    async def _delete_blobs(self, names: list[str]) -> None:
        """Delete each blob; one already gone (or no container) is no error."""
        for name in names:
            try:
                await obstore.delete_async(self.objects, name)
            except NOT_FOUND:
                pass

    async def keys(self, collection: str) -> list[str]:
        prefix = f"{collection}/"
        names = []
        for meta in await self._list(prefix):
            name = meta["path"][len(prefix) :]
            if "/" not in name and name.endswith(".json"):
                names.append(name[: -len(".json")])
        return sorted(names)

    async def close(self) -> None:
        self._store = None  # its pool closes when dropped; a later request makes a new one
