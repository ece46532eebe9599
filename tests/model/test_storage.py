"""Storage: atomic files, flat per-person documents, no lost updates, complete deletion."""

import asyncio
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from model.domain.users import Users, user_key
from model.storage.docstore import ConflictError
from model.storage.tinydb_store import TinyDBStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # the time profiles are saved at


@pytest.fixture
def store(tmp_path):
    return TinyDBStore(tmp_path / "data", fsync=False)


async def test_profile_round_trip_and_timestamps(store):
    users = Users(store)
    key = user_key("t1", "aad-1")
    await users.save_profile(key, NOW, role="manager", level="steer", language="da")
    again = Users(TinyDBStore(store.root))  # a "restart": a new store on the same folder
    profile = await again.profile(key)
    assert profile["role"] == "manager" and profile["level"] == "steer"
    assert profile["created"] and profile["updated"]


async def test_files_are_real_tinydb_databases_with_an_assessments_table(store):
    from tinydb import TinyDB

    users = Users(store)
    key = user_key("t1", "aad-1")
    for score in (2, 3, 4):
        await users.add_assessment(key, {"at": f"2026-11-0{score}T10:00:00+00:00", "scores": {"innovation": score}})
    db = TinyDB(store.path("users", key), access_mode="r")
    assert [row["scores"]["innovation"] for row in db.table("assessments").all()] == [2, 3, 4]
    db.close()


async def test_a_crash_mid_write_leaves_the_old_file_whole(store, monkeypatch):
    users = Users(store)
    key = user_key("t1", "aad-1")
    await users.save_profile(key, NOW, role="it", level="use")

    def crash(*_):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        await users.save_profile(key, NOW, role="manager")
    monkeypatch.undo()
    assert (await users.profile(key))["role"] == "it"
    path = store.path("users", key)
    json.loads(path.read_text())  # still valid JSON
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


async def test_concurrent_updates_of_one_person_lose_nothing(store):
    users = Users(store)
    key = user_key("t1", "aad-1")
    await asyncio.gather(*(users.add_assessment(key, {"at": str(i), "scores": {}}) for i in range(40)))
    assert len(await users.assessments(key)) == 40


async def test_people_are_separate_files_named_without_their_ids(store):
    users = Users(store)
    for i in range(5):
        await users.save_profile(user_key("t1", f"aad-{i}"), NOW, role="it", level="use")
    files = list((store.root / "users").rglob("*.json"))
    assert len(files) == 5
    assert not any("aad" in str(f) for f in files)


async def test_delete_leaves_no_trace(store, tmp_path):
    users = Users(store)
    key = user_key("tenant-x", "secret-aad-id")
    await users.save_profile(key, NOW, role="it", level="use")
    await users.remember_conversation(key, {"user": {"id": "secret-aad-id"}}, "msteams/conversations/c1/", True)
    await store.write("state", "msteams/conversations/c1/", {"data": {"x": 1}})
    await users.delete(key)
    for path in store.root.rglob("*"):
        if path.is_file():
            assert "secret-aad-id" not in path.read_text()
    assert await users.get(key) is None
    assert (await store.read("state", "msteams/conversations/c1/"))[0] is None


async def test_export_contains_exactly_the_persons_data(store):
    users = Users(store)
    a, b = user_key("t", "a"), user_key("t", "b")
    await users.save_profile(a, NOW, role="it", level="use")
    await users.add_assessment(a, {"at": "x", "scores": {"innovation": 4}, "note": "mine"})
    await users.add_assessment(b, {"at": "y", "scores": {"innovation": 1}, "note": "theirs"})
    data = await users.export(a, NOW)
    assert data["profile"]["role"] == "it"
    assert [x["note"] for x in data["assessments"]] == ["mine"]
    assert "theirs" not in json.dumps(data)


def test_the_file_layout_is_what_tinydb_itself_writes(tmp_path):
    from tinydb import TinyDB

    from model.storage.tinydb_store import tinydb_layout

    doc = {
        "role": "it",
        "assessments": [{"at": "a", "scores": {"udvikling": 2}}, {"at": "b"}],
        "tags": [],
        "words": ["x"],
    }
    db = TinyDB(tmp_path / "by-tinydb.json")
    db.table("_meta").insert({"rev": 3, "lists": ["assessments", "tags"]})
    db.table("document").insert({"role": "it", "words": ["x"]})
    db.table("assessments").insert_multiple(doc["assessments"])
    db.table("tags").insert_multiple([])
    db.close()
    assert json.loads((tmp_path / "by-tinydb.json").read_text()) == tinydb_layout(3, doc)


async def test_etags_hold_for_files_in_other_layouts_too(store):
    """A file TinyDB wrote in another table order (or any older file) is still checked."""
    from tinydb import TinyDB

    path = store.path("users", "k1")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = TinyDB(path)
    db.table("document").insert({"role": "it"})
    db.table("_meta").insert({"rev": 7, "lists": []})
    db.close()
    doc, etag = await store.read("users", "k1")
    assert etag == "7"
    with pytest.raises(ConflictError):
        await store.write("users", "k1", {"role": "x"}, if_match="6")
    with pytest.raises(ConflictError):
        await store.write("users", "k1", {"role": "x"}, if_none_match=True)
    assert await store.write("users", "k1", {"role": "x"}, if_match="7") == "8"
    with pytest.raises(ConflictError):
        await store.write("users", "k1", {"role": "y"}, if_match="7")
    # A document with only list fields exists too.
    await store.write("users", "k2", {"rows": [{"a": 1}]})
    with pytest.raises(ConflictError):
        await store.write("users", "k2", {"role": "z"}, if_none_match=True)


async def test_dialog_state_is_written_only_when_it_changed(store):
    """The change check and the write share one encoding; a turn that changes nothing
    writes nothing, and one that does is written (and read back) whole."""
    from botbuilder.core import TurnContext
    from botbuilder.core.adapters import TestAdapter
    from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

    from bot.sdk.state_storage import DocStoreStorage, JsonConversationState

    state = JsonConversationState(DocStoreStorage(store))
    prop = state.create_property("dialog")
    activity = Activity(
        type="message",
        channel_id="msteams",
        text="hej",
        from_property=ChannelAccount(id="u"),
        conversation=ConversationAccount(id="c"),
        recipient=ChannelAccount(id="b"),
    )

    async def turn(change=None):
        context = TurnContext(TestAdapter(), activity)
        await state.load(context)
        value = await prop.get(context, dict)
        if change:
            change(value)
        await state.save_changes(context)
        return value

    def revision():
        return json.loads(store.path("state", state.get_storage_key(TurnContext(TestAdapter(), activity))).read_text())[
            "_meta"
        ]["1"]["rev"]

    await turn(lambda v: v.update(step=1, when=__import__("datetime").datetime(2026, 11, 27, 9, 0)))
    first = revision()
    assert (await turn())["step"] == 1
    assert revision() == first  # nothing changed: nothing written
    await turn(lambda v: v.update(step=2))
    assert revision() == first + 1
    assert (await turn())["step"] == 2


async def test_a_written_file_is_the_tinydb_layout_with_its_revision(tmp_path):
    from model.storage.tinydb_store import tinydb_layout

    store = TinyDBStore(tmp_path / "data", fsync=True)  # the threaded, fsynced path
    doc = {"role": "it", "navn": 'Søren "ø"', "assessments": [{"at": "a"}], "empty": []}
    assert await store.write("users", "k", doc) == "1"
    assert await store.write("users", "k", doc, if_match="1") == "2"
    assert json.loads(store.path("users", "k").read_bytes()) == tinydb_layout(2, doc)
    assert await store.read("users", "k") == (doc, "2")


@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "fsync-each"])
async def test_concurrent_writes_share_flushes_and_each_is_durable_before_it_is_answered(tmp_path, monkeypatch, syncfs):
    """Group commit: 24 turns writing at once cause far fewer than 24 flushes, yet no
    writer is answered before a flush that came after its document's rename."""
    import model.storage.tinydb_store as tinydb_store

    store = TinyDBStore(tmp_path / "data", fsync=True)
    events: list[tuple[str, str]] = []
    real_replace, real_fsync, real_syncfs = os.replace, os.fsync, tinydb_store._syncfs

    def replace(src, dst):
        real_replace(src, dst)
        events.append(("renamed", Path(dst).stem))

    def fsync(fd):
        real_fsync(fd)
        events.append(("flushed", ""))

    def counted_syncfs(fd):
        events.append(("flushed", ""))
        return real_syncfs(fd) if real_syncfs else 0

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(tinydb_store, "_syncfs", counted_syncfs if syncfs else None)
    names = {}

    async def one(i: int) -> None:
        key = f"person-{i}"
        names[store.path("users", key).stem] = key
        await store.write("users", key, {"n": i, "assessments": [{"at": str(i)}]})
        events.append(("answered", store.path("users", key).stem))

    await asyncio.gather(*(one(i) for i in range(24)))
    assert 2 <= store.flushes < 24 / 2, store.flushes
    for name in names:
        renamed = events.index(("renamed", name))
        answered = events.index(("answered", name))
        flushes = [n for n, event in enumerate(events) if event[0] == "flushed"]
        assert any(n < renamed for n in flushes), "its content was flushed before the rename"
        assert any(renamed < n < answered for n in flushes), "and the rename before it was answered"
    for i in range(24):
        doc, _ = await store.read("users", f"person-{i}")
        assert doc == {"n": i, "assessments": [{"at": str(i)}]}
    await store.close()


async def test_a_refused_etag_in_a_batch_fails_only_its_own_writer(tmp_path):
    store = TinyDBStore(tmp_path / "data", fsync=True)
    etag = await store.write("users", "a", {"v": 1})
    results = await asyncio.gather(
        store.write("users", "a", {"v": 2}, if_match="999"),
        store.write("users", "b", {"v": 1}),
        store.write("users", "a", {"v": 3}, if_match=etag),
        return_exceptions=True,
    )
    assert isinstance(results[0], ConflictError) and results[1] == "1" and results[2] == "2"
    assert (await store.read("users", "a"))[0] == {"v": 3}
    assert not [p for p in (tmp_path / "data").rglob(".tmp-*")], "no temporary is left behind"
    await store.close()


async def test_stored_documents_are_readable_by_the_bots_user_only(store):
    await Users(store).save_profile(user_key("t1", "aad-1"), NOW, role="it", level="use")
    path = store.path("users", user_key("t1", "aad-1"))
    assert path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)


async def test_the_open_dialog_list_comes_with_the_next_write_and_names_the_chats_it_cannot_vouch_for(store):
    """A document from before `open_dialogs` gets the list the next time it is written
    anyway (not on a turn that writes nothing); a chat whose state was not looked at is
    listed, since it may hold a dialog (one extra read, never a dialog overlooked)."""
    from model.domain.users import OPEN_DIALOGS, dialog_listed

    users = Users(store)
    key = user_key("t", "aad-1")
    asked: list[str] = []

    def running(answer: bool):
        async def ask() -> bool:
            asked.append("asked")
            return answer

        return ask

    await users.remember_conversation(key, {"id": "old"}, "state-old", True, now=NOW)  # before the list
    assert OPEN_DIALOGS not in await users.get(key)
    assert dialog_listed(await users.get(key), "state-old") is None  # says nothing: read the state
    await users.remember_conversation(key, {"id": "old"}, "state-old", True, now=NOW, dialog_running=running(False))
    assert asked == [] and OPEN_DIALOGS not in await users.get(key), "nothing to write, nothing asked"
    await users.remember_conversation(key, {"id": "new"}, "state-new", True, now=NOW, dialog_running=running(True))
    assert asked == ["asked"] and (await users.get(key))[OPEN_DIALOGS] == ["state-old", "state-new"]
    await users.list_open_dialog(key, "state-new", False)
    await users.list_open_dialog(key, "state-old", False)
    doc = await users.get(key)
    assert doc[OPEN_DIALOGS] == [] and dialog_listed(doc, "state-new") is False
    assert (await Users(TinyDBStore(store.root)).get(key))[OPEN_DIALOGS] == []  # an empty list is stored as one


async def test_listing_a_chat_brings_no_deleted_person_back_and_leaves_a_document_without_the_list(store):
    from model.domain.users import OPEN_DIALOGS

    users = Users(store)
    gone, old = user_key("t", "gone"), user_key("t", "old")
    await users.list_open_dialog(gone, "state-1", True)
    assert await users.get(gone) is None
    await users.save_profile(old, NOW, role="it", level="use")
    await users.list_open_dialog(old, "state-1", True)
    assert OPEN_DIALOGS not in await users.get(old)  # without the list every turn reads the state anyway
