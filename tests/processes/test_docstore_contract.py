"""One contract for every DocStore backend: TinyDB files and Azure Blob Storage (Azurite).

Each test runs once per backend. The Blob backend runs against Azurite, started once
per session on a free loopback port (see tests/azurite.py), with a fresh container per
test. Without Node.js/npm the Blob half is skipped, except under CI=true where it fails.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from botbuilder.testing import StorageBaseTests

from bot.sdk.state_storage import DocStoreStorage
from model.storage.docstore import UNCHANGED, ConflictError, DocStore, doc_name, one_read_per_turn
from model.storage.tinydb_store import TinyDBStore

BACKENDS = ["tinydb", "blob"]
FAST = {"retry_config": {"max_retries": 1}}  # Azurite is on loopback: a failure should fail fast, not back off


# -- fixtures ------------------------------------------------------------------------------
class Backend:
    """Opens stores on one shared place: a TinyDB folder, or one Blob container."""

    def __init__(self, name: str, factory) -> None:
        self.name = name
        self._factory = factory
        self.opened: list[DocStore] = []

    def open(self) -> DocStore:
        store = self._factory()
        self.opened.append(store)
        return store

    async def close(self) -> None:
        for store in self.opened:
            await store.close()


@pytest.fixture(params=BACKENDS)
async def backend(request, tmp_path):
    if request.param == "tinydb":
        b = Backend("tinydb", lambda: TinyDBStore(tmp_path / "data", fsync=False))
    else:
        from model.storage.blob_store import BlobStore

        server = request.getfixturevalue("azurite")
        container = f"contract-{uuid.uuid4().hex[:16]}"
        b = Backend("blob", lambda: BlobStore(server.connection_string, container, **FAST))
    yield b
    await b.close()


@pytest.fixture
def store(backend) -> DocStore:
    return backend.open()


@pytest.fixture
async def blob(azurite):
    from model.storage.blob_store import BlobStore

    stores: list = []

    def open_(container: str | None = None):
        s = BlobStore(azurite.connection_string, container or f"blob-{uuid.uuid4().hex[:16]}", **FAST)
        stores.append(s)
        return s

    yield open_
    for s in stores:
        await s.close()


C = "users"

CRAZY_KEYS = [
    '!@#$%^&*()_+??><":QASD~`',
    "x" * 5000,
    "Ærø-æøå-Ünïcödé-日本語-🙂👩‍👩‍👧",
    "tenant-1|29:1a2b/../../etc/passwd",
    "a/b\\c?d#e%20f",
    " leading and trailing ",
    "",
    "\x00\x01\n\t",
]


# -- the contract --------------------------------------------------------------------------
async def test_reading_a_missing_document_gives_none(store):
    assert await store.read(C, "nobody") == (None, None)


async def test_round_trip_keeps_unicode_and_nested_lists(store):
    doc = {
        "name": "Søren Ødegård 🙂 日本",
        "quote": 'say "hi" \\ \n\t',
        "n": 3,
        "f": 2.5,
        "yes": True,
        "no": False,
        "none": None,
        "nested": {"a": [1, [2, [3, "tre"]], {"b": ["c"]}]},
        "assessments": [
            {"at": "2026-11-01", "scores": {"innovation": 3}, "tags": ["a", "ø"]},
            {"at": "2026-11-02", "scores": {}, "tags": []},
        ],
        "plain_list": ["x", 1, None, [], {}],
        "empty": [],
    }
    etag = await store.write(C, "k", doc)
    got, read_etag = await store.read(C, "k")
    assert got == doc
    assert read_etag == etag


async def test_the_etag_changes_on_every_write(store):
    seen = set()
    for _ in range(3):
        etag = await store.write(C, "k", {"same": "content"})
        _, read_etag = await store.read(C, "k")
        assert etag == read_etag
        seen.add(etag)
    assert len(seen) == 3


async def test_a_stale_etag_is_refused(store):
    old = await store.write(C, "k", {"v": 1})
    new = await store.write(C, "k", {"v": 2}, if_match=old)
    assert new != old
    with pytest.raises(ConflictError):
        await store.write(C, "k", {"v": "lost"}, if_match=old)
    assert (await store.read(C, "k")) == ({"v": 2}, new)


async def test_an_etag_of_a_deleted_document_is_refused(store):
    etag = await store.write(C, "k", {"v": 1})
    await store.delete(C, "k")
    with pytest.raises(ConflictError):
        await store.write(C, "k", {"v": "resurrected"}, if_match=etag)
    assert await store.read(C, "k") == (None, None)


async def test_if_none_match_only_creates(store):
    etag = await store.write(C, "k", {"v": 1}, if_none_match=True)
    with pytest.raises(ConflictError):
        await store.write(C, "k", {"v": 2}, if_none_match=True)
    assert await store.read(C, "k") == ({"v": 1}, etag)


async def test_star_and_none_write_unconditionally(store):
    await store.write(C, "k", {"v": 1})
    await store.write(C, "k", {"v": 2}, if_match="*")
    await store.write(C, "k", {"v": 3})
    assert (await store.read(C, "k"))[0] == {"v": 3}


async def test_delete_then_read_gives_none_and_deleting_a_missing_one_is_fine(store):
    await store.write(C, "k", {"v": 1})
    await store.delete(C, "k")
    assert await store.read(C, "k") == (None, None)
    await store.delete(C, "k")
    await store.delete(C, "never-there")
    await store.write(C, "k", {"v": 2}, if_none_match=True)  # can be created again
    assert (await store.read(C, "k"))[0] == {"v": 2}


async def test_keys_lists_hashed_names_per_collection(store):
    assert await store.keys(C) == []
    for key in ("tenant|alice", "tenant|bob"):
        await store.write(C, key, {"k": key})
    await store.write("state", "tenant|alice", {"s": 1})
    assert await store.keys(C) == sorted([doc_name("tenant|alice"), doc_name("tenant|bob")])
    assert await store.keys("state") == [doc_name("tenant|alice")]
    await store.delete(C, "tenant|bob")
    assert await store.keys(C) == [doc_name("tenant|alice")]


async def test_collections_are_separate(store):
    await store.write("users", "same", {"c": "users"})
    await store.write("state", "same", {"c": "state"})
    assert (await store.read("users", "same"))[0] == {"c": "users"}
    assert (await store.read("state", "same"))[0] == {"c": "state"}
    await store.delete("users", "same")
    assert (await store.read("state", "same"))[0] == {"c": "state"}


@pytest.mark.parametrize("key", CRAZY_KEYS, ids=lambda k: repr(k)[:24])
async def test_crazy_keys(store, key):
    await store.write(C, key, {"key": key})
    await store.write(C, key + "!", {"key": key + "!"})
    assert (await store.read(C, key))[0] == {"key": key}
    assert (await store.read(C, key + "!"))[0] == {"key": key + "!"}
    assert doc_name(key) in await store.keys(C)
    await store.delete(C, key)
    assert await store.read(C, key) == (None, None)
    assert (await store.read(C, key + "!"))[0] == {"key": key + "!"}


async def test_keys_that_differ_only_in_case_are_different_documents(store):
    await store.write(C, "Alice", {"v": "upper"})
    await store.write(C, "alice", {"v": "lower"})
    assert (await store.read(C, "Alice"))[0] == {"v": "upper"}
    assert (await store.read(C, "alice"))[0] == {"v": "lower"}


def _increment(doc):
    doc["n"] = doc.get("n", 0) + 1
    doc.setdefault("seen", []).append(doc["n"])


async def test_update_under_20_concurrent_coroutines_loses_nothing(store):
    await asyncio.gather(*(store.update(C, "counter", _increment) for _ in range(20)))
    doc, _ = await store.read(C, "counter")
    assert doc["n"] == 20
    assert doc["seen"] == list(range(1, 21))


async def test_update_from_two_store_instances_loses_nothing(backend):
    """Two instances on the same data (two bot instances sharing one Blob container):
    their local locks do not see each other, so only the ETags keep updates apart."""
    one, two = backend.open(), backend.open()
    jobs = [s.update(C, "counter", _increment, attempts=200) for _ in range(10) for s in (one, two)]
    await asyncio.gather(*jobs)
    doc, _ = await one.read(C, "counter")
    assert doc["n"] == 20
    assert sorted(doc["seen"]) == list(range(1, 21))


async def test_a_turns_copy_is_refreshed_when_another_instance_wrote_meanwhile(backend):
    """Within a turn the document is read once; an update on a copy that another
    instance has since changed is refused by the ETag, read afresh and loses nothing."""
    one, two = backend.open(), backend.open()
    await one.update(C, "counter", _increment)
    with one_read_per_turn():
        first, _ = await one.read_or_quarantine(C, "counter")
        await two.update(C, "counter", _increment)  # another bot instance, outside this turn
        again, _ = await one.read_or_quarantine(C, "counter")
        assert first["n"] == again["n"] == 1, "one read per turn: the turn's copy"
        await one.update(C, "counter", _increment)
        latest, _ = await one.read_or_quarantine(C, "counter")
    assert latest["n"] == 3 and latest["seen"] == [1, 2, 3]
    stored, _ = await two.read(C, "counter")
    assert stored == latest


async def test_conditional_writes_from_two_instances_let_exactly_one_win(backend):
    one, two = backend.open(), backend.open()
    etag = await one.write(C, "k", {"v": 0})
    results = await asyncio.gather(
        one.write(C, "k", {"v": 1}, if_match=etag), two.write(C, "k", {"v": 2}, if_match=etag), return_exceptions=True
    )
    assert sum(isinstance(r, ConflictError) for r in results) == 1
    winner = 1 if isinstance(results[1], ConflictError) else 2
    assert (await two.read(C, "k"))[0] == {"v": winner}
    created = await asyncio.gather(
        one.write(C, "new", {"v": 1}, if_none_match=True),
        two.write(C, "new", {"v": 2}, if_none_match=True),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ConflictError) for r in created) == 1


async def test_update_semantics(store):
    # a change that leaves a new document empty stores nothing
    assert await store.update(C, "k", lambda doc: None) is None
    assert await store.read(C, "k") == (None, None)
    # returning a replacement stores the replacement; async changes are awaited
    assert await store.update(C, "k", lambda doc: {"v": 1}) == {"v": 1}

    async def bump(doc):
        await asyncio.sleep(0)
        doc["v"] += 1

    assert await store.update(C, "k", bump) == {"v": 2}
    assert (await store.read(C, "k"))[0] == {"v": 2}
    # UNCHANGED writes nothing: the document and its ETag stay, a missing one stays missing
    etag = (await store.read(C, "k"))[1]
    assert await store.update(C, "k", lambda doc: UNCHANGED) == {"v": 2}
    assert await store.read(C, "k") == ({"v": 2}, etag)
    assert await store.update(C, "missing", lambda doc: UNCHANGED) is None
    assert await store.read(C, "missing") == (None, None)


async def test_a_new_instance_sees_what_another_wrote(backend):
    first = backend.open()
    await first.write(C, "k", {"v": "persisted"})
    await first.close()
    assert (await backend.open().read(C, "k"))[0] == {"v": "persisted"}


# -- botbuilder-testing's storage checks over DocStoreStorage, on each backend ------------
STORAGE_CHECKS = [
    "return_empty_object_when_reading_unknown_key",
    "handle_null_keys_when_reading",
    "handle_null_keys_when_writing",
    "does_not_raise_when_writing_no_items",
    "create_object",
    "handle_crazy_keys",
    "update_object",
    "delete_object",
    "delete_unknown_object",
    "perform_batch_operations",
    "proceeds_through_waterfall",
]


def test_every_storage_base_check_is_run():
    public = {name for name in vars(StorageBaseTests) if not name.startswith("_")}
    assert public == set(STORAGE_CHECKS)


@pytest.mark.parametrize("check", STORAGE_CHECKS)
async def test_bot_framework_storage_contract(store, check):
    assert await getattr(StorageBaseTests, check)(DocStoreStorage(store)) is True


# -- Blob specifics ------------------------------------------------------------------------
async def _blob_names(store) -> list[str]:
    import obstore

    return sorted(m["path"] for batch in [b async for b in obstore.list(store.objects)] for m in batch)


async def test_blob_names_are_hashed_and_content_is_plain_json(blob):
    import obstore

    store = blob()
    key = "tenant-7|29:secret-user-id"
    await store.write(C, key, {"name": "Ærø", "list": [1, 2]})
    names = await _blob_names(store)
    assert names == [f"{C}/{doc_name(key)}.json"]
    assert "secret" not in names[0]
    got = await obstore.get_async(store.objects, names[0])
    assert json.loads(bytes(await got.bytes_async()).decode("utf-8")) == {"name": "Ærø", "list": [1, 2]}
    assert str(got.attributes["Content-Type"]).startswith("application/json")


async def test_blob_container_is_created_lazily_once_by_any_number_of_instances(blob, azurite):
    from azure.storage.blob.aio import BlobServiceClient

    name = f"lazy-{uuid.uuid4().hex[:16]}"
    stores = [blob(name) for _ in range(3)]
    async with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        containers = [c.name async for c in service.list_containers(name_starts_with=name)]
        assert containers == []  # constructing a store makes no request
        assert await stores[0].read(C, "k0") == (None, None)  # reading from no container: nothing there
        assert await stores[0].keys(C) == []
        await stores[0].delete(C, "k0")
        assert [c.name async for c in service.list_containers(name_starts_with=name)] == []  # reads make none
        await asyncio.gather(*(s.write(C, f"k{i}", {"i": i}) for i, s in enumerate(stores)))
        containers = [c.name async for c in service.list_containers(name_starts_with=name)]
        assert containers == [name]
    assert len(await stores[0].keys(C)) == 3


async def test_blob_store_keeps_one_client_and_can_be_used_again_after_close(blob):
    store = blob()
    await store.write(C, "k", {"v": 1})
    client = store.objects
    await store.read(C, "k")
    await store.keys(C)
    assert store.objects is client
    await store.close()
    assert (await store.read(C, "k"))[0] == {"v": 1}


def test_connection_strings_become_obstore_settings():
    from model.storage.blob_store import parse_connection_string

    key = "S2V5PT0="  # ends in '=': only the first '=' of a part separates name and value
    assert parse_connection_string(
        f"DefaultEndpointsProtocol=https;AccountName=kommune;AccountKey={key};EndpointSuffix=core.windows.net"
    ) == {"account_name": "kommune", "account_key": key, "endpoint": "https://kommune.blob.core.windows.net"}
    assert parse_connection_string(
        "BlobEndpoint=https://kommune.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=abc%3D"
    ) == {
        "account_name": "kommune",
        "endpoint": "https://kommune.blob.core.windows.net",
        "sas_key": "sv=2024&sig=abc%3D",
    }
    dev = parse_connection_string("UseDevelopmentStorage=true")
    assert dev["account_name"] == "devstoreaccount1" and dev["endpoint"] == "http://127.0.0.1:10000/devstoreaccount1"
    for bad in ("", "AccountName=kommune", "AccountKey=abc", "nonsense"):
        with pytest.raises(ValueError):
            parse_connection_string(bad)


async def test_a_store_opened_by_account_name_uses_the_given_credentials_and_never_makes_a_container(azurite):
    """Production with a managed identity or service principal: no connection string, the
    account's name and obstore's credentials (here the emulator's key, given as obstore
    configuration). The bot may not create containers then: a missing one is named."""
    from azurite import ACCOUNT, KEY

    from model.storage.blob_store import BlobStore

    endpoint = f"http://127.0.0.1:{azurite.port}/{ACCOUNT}"
    missing = BlobStore(
        container=f"none-{uuid.uuid4().hex[:12]}", account_name=ACCOUNT, endpoint=endpoint, config={"account_key": KEY}
    )
    assert await missing.read(C, "k") == (None, None)
    with pytest.raises(RuntimeError, match="does not exist"):
        await missing.write(C, "k", {"v": 1})
    made = BlobStore(azurite.connection_string, f"made-{uuid.uuid4().hex[:12]}")
    await made.write(C, "k", {"v": 1})
    same = BlobStore(container=made.container, account_name=ACCOUNT, endpoint=endpoint, config={"account_key": KEY})
    assert (await same.read(C, "k"))[0] == {"v": 1}


# -- claims (model/storage/claims.py): who leads, who sends which share of a wave ------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_only_one_claim_holder_and_release_hands_over(backend):
    from model.storage.claims import ExpiringClaim

    clock = Clock()
    a = ExpiringClaim(backend.open(), "nudges", clock=clock)
    b = ExpiringClaim(backend.open(), "nudges", clock=clock)  # a second bot instance on the same data
    results = await asyncio.gather(a.acquire(), b.acquire())
    assert sorted(results) == [False, True]
    holder, other = (a, b) if results[0] else (b, a)
    assert holder.held and not other.held
    assert await holder.acquire() is True  # acquiring again extends our own claim
    assert await holder.renew() is True
    assert await other.renew() is False
    assert await other.acquire() is False
    await other.release()  # releasing what we do not hold is harmless
    assert await holder.renew() is True
    await holder.release()
    assert await other.acquire() is True
    assert await holder.acquire() is False
    assert await holder.renew() is False


async def test_claims_with_different_names_are_independent_and_are_no_documents(backend):
    from model.storage.claims import ExpiringClaim

    store = backend.open()
    assert await ExpiringClaim(store, "nudges").acquire()
    assert await ExpiringClaim(store, "export").acquire()
    assert await store.keys(C) == []


async def test_a_dead_holders_claim_runs_out_and_another_takes_over(backend):
    from model.storage.claims import ExpiringClaim

    clock = Clock()
    a = ExpiringClaim(backend.open(), "nudges", duration=15, clock=clock)
    b = ExpiringClaim(backend.open(), "nudges", duration=15, clock=clock)
    assert await a.acquire()
    clock.now += 14.9
    assert not await b.acquire()  # still held
    clock.now += 0.2  # a "dies": it stopped renewing 15.1 s ago
    assert await b.acquire()
    assert not await a.renew()
    assert not await a.acquire()
    clock.now += 10
    assert await b.renew()


async def test_a_broken_claim_lets_another_instance_take_over(backend):
    from model.storage.claims import ExpiringClaim

    a, b = ExpiringClaim(backend.open(), "nudges"), ExpiringClaim(backend.open(), "nudges")
    assert await a.acquire()
    assert not await b.acquire()
    await b.break_claim()  # an operator's (or a test's) forced takeover
    assert await b.acquire()
    assert not await a.renew()


def test_claim_arguments_are_checked():
    from model.storage.claims import ExpiringClaim
    from model.storage.memory_store import MemoryStore

    with pytest.raises(ValueError):
        ExpiringClaim(MemoryStore(), "nudges", duration=0)
    with pytest.raises(ValueError):
        ExpiringClaim(MemoryStore(), "../x")


async def _corrupt(store: DocStore, key: str) -> None:
    """Replace a stored document's bytes with garbage, as a disk fault would."""
    if isinstance(store, TinyDBStore):
        store.path(C, key).write_bytes(b'{"_meta": {"1": {"rev": 2, "lis')
    else:
        import obstore

        await obstore.put_async(store.objects, store.blob_name(C, key), b"\x00garbled")


async def test_an_unreadable_document_is_quarantined_and_deleted_with_its_owner(store):
    from model.storage.docstore import CorruptDocument

    await store.write(C, "person", {"profile": {"role": "it"}})
    await store.write(C, "neighbour", {"profile": {"role": "manager"}})
    await _corrupt(store, "person")
    with pytest.raises(CorruptDocument):
        await store.read(C, "person")
    assert await store.read_or_quarantine(C, "person") == (None, None)
    assert await store.read(C, "person") == (None, None)  # set aside: reads as missing from now on
    assert await store.update(C, "person", lambda d: d.update(profile={"role": "it"})) == {"profile": {"role": "it"}}
    await store.delete(C, "person")
    if isinstance(store, TinyDBStore):
        left = [p.name for p in store.path(C, "person").parent.iterdir() if doc_name("person") in p.name]
    else:
        left = [name for name in await _blob_names(store) if doc_name("person") in name]
    assert left == []  # the quarantined copy went with it
    assert (await store.read(C, "neighbour"))[0] == {"profile": {"role": "manager"}}
