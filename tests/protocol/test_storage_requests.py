"""How many storage requests a turn makes, over HTTP with Teams-shaped activities: on Azure
Blob Storage each is a round trip and CPU on both sides (docs/scale-out.md).

A question in the personal chat with no dialog waiting reads the person's document and
nothing else; the chat's dialog state is read only while the person's document lists the
chat in `open_dialogs` (model/domain/users.py). These tests count the requests that reach
the store and check that the list stays on the safe side of a crash between its write and
the dialog state's."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter

from conftest import BotServer, TeamsUser, say

from model import content
from model.domain.users import DELETING, OPEN_DIALOGS, USERS
from model.storage.docstore import STATE

QUESTION = "hvad betyder innovation for mig?"


def count_requests(store) -> Counter:
    """Counts (request, collection) of every read, write and delete that reaches `store`."""
    counts: Counter = Counter()
    for name in ("read", "write", "delete"):
        original = getattr(store, name)

        async def counted(collection, *args, _original=original, _name=name, **kwargs):
            counts[(_name, collection)] += 1
            return await _original(collection, *args, **kwargs)

        setattr(store, name, counted)
    return counts


async def requests_of(server, connector, activity, counts: Counter) -> tuple[dict, str]:
    counts.clear()
    reply = await say(server, connector, activity)
    return dict(counts), reply


async def onboarded(server, connector) -> TeamsUser:
    user = TeamsUser(connector)
    await say(server, connector, user.install())
    await say(server, connector, user.message("Leder"))
    await say(server, connector, user.message("3"))
    return user


async def open_check(server, connector, user) -> str:
    """Type "vurdering"; the nonce of the quick-check card sent back."""
    before = len(connector.activities)
    await say(server, connector, user.message("vurdering"))
    card = next(
        a["attachments"][0]["content"]
        for a in connector.activities[before:]
        if a.get("attachments") and a["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    return card["actions"][0]["data"]["nonce"]


def submit(user, nonce: str) -> dict:
    return user.message(
        value={"kh": "quick", "nonce": nonce, "implementation": "2", "development": "4", "innovation": "3"}
    )


def state_key(user) -> str:
    """The key of the personal chat's dialog state (ConversationState's storage key)."""
    return f"msteams/conversations/{user.conversation_id}"


async def listed(server, user) -> list:
    doc, _ = await server.runtime.store.read(USERS, user.key)
    return doc.get(OPEN_DIALOGS)


async def test_a_question_with_no_dialog_waiting_is_one_read_and_no_write(server, connector):
    user = await onboarded(server, connector)
    counts = count_requests(server.runtime.store)
    await say(server, connector, user.message(QUESTION))
    requests, reply = await requests_of(server, connector, user.message(QUESTION), counts)
    assert "Innovation" in reply
    assert requests == {("read", USERS): 1}, "the person's document only: no dialog state read, nothing written"


async def test_a_check_reads_its_dialog_while_it_runs_and_a_question_after_it_is_one_read_again(server, connector):
    user = await onboarded(server, connector)
    counts = count_requests(server.runtime.store)
    nonce = await open_check(server, connector, user)
    assert await listed(server, user) == [state_key(user)]
    requests, reply = await requests_of(server, connector, submit(user, nonce), counts)
    assert "Din vurdering er gemt" in reply
    assert requests[("read", STATE)] == 1, "the waiting check is read"
    _, reply = await requests_of(server, connector, user.message("nej"), counts)  # no deeper check: it ends
    assert await listed(server, user) == []
    requests, reply = await requests_of(server, connector, user.message("historik"), counts)
    assert "4/5" in reply
    assert requests == {("read", USERS): 1}
    assert len((await server.runtime.services.users.get(user.key))["assessments"]) == 1


async def test_a_crash_after_the_chat_is_listed_costs_one_extra_read_and_no_lost_answer(server, connector, monkeypatch):
    """The chat is listed, then the dialog state's write fails (a crash): the next turn reads
    the state, finds no dialog, answers as usual and takes the chat off the list."""
    user = await onboarded(server, connector)
    state = server.runtime.bot.conversation_state
    saving = state.save_changes

    async def crash(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(state, "save_changes", crash)
    reply = await say(server, connector, user.message("vurdering"))
    assert content.t("da", "msg.error") in reply
    assert await listed(server, user) == [state_key(user)], "listed before the state's write"
    monkeypatch.setattr(state, "save_changes", saving)

    counts = count_requests(server.runtime.store)
    requests, reply = await requests_of(server, connector, user.message(QUESTION), counts)
    assert "Innovation" in reply
    assert requests[("read", STATE)] == 1 and await listed(server, user) == []
    requests, _ = await requests_of(server, connector, user.message(QUESTION), counts)
    assert requests == {("read", USERS): 1}
    nonce = await open_check(server, connector, user)  # and a check works as before
    assert "Din vurdering er gemt" in await say(server, connector, submit(user, nonce))


async def test_a_crash_after_the_state_is_emptied_leaves_the_chat_listed_and_the_next_turn_tidies(
    server, connector, monkeypatch
):
    """The check ends (its state written empty), then taking the chat off the list fails:
    it stays listed, the next question reads the empty state once, is answered as a
    question (not as an answer to the ended check) and takes the chat off."""
    user = await onboarded(server, connector)
    users = server.runtime.services.users
    nonce = await open_check(server, connector, user)
    await say(server, connector, submit(user, nonce))
    unlisting = users.list_open_dialog

    async def crash(key, state_key, running):
        if not running:
            raise OSError("disk gone")
        await unlisting(key, state_key, running)

    monkeypatch.setattr(users, "list_open_dialog", crash)
    await say(server, connector, user.message("nej"))
    assert await listed(server, user) == [state_key(user)]
    monkeypatch.setattr(users, "list_open_dialog", unlisting)

    counts = count_requests(server.runtime.store)
    requests, reply = await requests_of(server, connector, user.message(QUESTION), counts)
    assert "Innovation" in reply and content.t("da", "msg.resume") not in reply
    assert requests[("read", STATE)] == 1 and await listed(server, user) == []
    requests, _ = await requests_of(server, connector, user.message(QUESTION), counts)
    assert requests == {("read", USERS): 1}


async def test_a_check_the_list_does_not_name_is_forgotten_and_a_new_check_replaces_it(tmp_path, connector):
    """Not listed but waiting (the write order rules it out; a hand-edited document, or two
    instances answering one person at the same instant could do it): an instance that did
    not see the check begin counts the chat as having no dialog, its card is no longer
    active, and the next check starts afresh and is saved once."""
    first = BotServer(tmp_path / "data")
    await first.start()
    user = await onboarded(first, connector)
    old = await open_check(first, connector, user)
    await first.runtime.store.update(USERS, user.key, lambda d: d.__setitem__(OPEN_DIALOGS, []))
    await first.stop()
    server = BotServer(tmp_path / "data")  # another instance (or this one restarted)
    await server.start()
    try:
        await _forgotten_check_replaced(server, connector, user, old)
    finally:
        await server.stop()


async def _forgotten_check_replaced(server, connector, user, old: str) -> None:
    reply = await say(server, connector, submit(user, old))
    assert content.t("da", "msg.stale_card") in reply
    nonce = await open_check(server, connector, user)
    assert "Din vurdering er gemt" in await say(server, connector, submit(user, nonce))
    assert "Det kort er ikke aktivt" in await say(server, connector, submit(user, old))
    assert len((await server.runtime.services.users.get(user.key))["assessments"]) == 1


async def test_a_person_stored_before_the_list_existed_reads_the_state_until_their_document_is_written(
    server, connector
):
    """A document without `open_dialogs` says nothing: the state is read, as before, until
    the document is written anyway (here: a new conversation reference); then it has the list."""
    user = await onboarded(server, connector)

    def as_before(doc: dict) -> None:
        del doc[OPEN_DIALOGS]

    await server.runtime.store.update(USERS, user.key, as_before)
    counts = count_requests(server.runtime.store)
    requests, reply = await requests_of(server, connector, user.message(QUESTION), counts)
    assert "Innovation" in reply and requests == {("read", USERS): 1, ("read", STATE): 1}
    moved = user.message(QUESTION)
    moved["serviceUrl"] = connector.url + "moved/"
    await say(server, connector, moved)
    assert await listed(server, user) == []
    requests, _ = await requests_of(server, connector, moved, counts)
    assert requests == {("read", USERS): 1}


async def test_a_group_chat_still_reads_its_own_dialog_state(server, connector):
    user = TeamsUser(connector, conversation_type="groupChat")
    counts = count_requests(server.runtime.store)
    for _ in range(2):  # a chat new to the bot, and one it has seen
        requests, reply = await requests_of(server, connector, user.message("hjælp"), counts)
        assert reply
        assert requests.get(("read", STATE)) == 1 and ("read", USERS) not in requests


async def test_a_turn_after_a_dialog_was_left_waiting_here_reads_the_person_and_the_dialog_at_once(server, connector):
    """On this instance the chat's last turn left the check waiting: the next turn asks for
    the person's document and the dialog state together (on Azure each read is a round trip)."""
    user = await onboarded(server, connector)
    nonce = await open_check(server, connector, user)
    events: list[tuple[str, str]] = []
    store = server.runtime.store
    read = store.read

    async def traced(collection, key):
        events.append(("start", collection))
        await asyncio.sleep(0)  # another read asked for meanwhile starts now
        try:
            return await read(collection, key)
        finally:
            events.append(("end", collection))

    store.read = traced
    assert "Din vurdering er gemt" in await say(server, connector, submit(user, nonce))
    assert events[:2] == [("start", USERS), ("start", STATE)], events


async def test_a_check_clicked_after_a_cut_short_deletion_stores_nothing_on_the_instance_that_saw_it_wait(
    server, connector
):
    """The person's deletion stopped half-way (a crash: the document is marked `deleting`)
    while their check waited. Their card's submit finishes the deletion, is answered as a
    click from someone the bot no longer knows, and stores nothing, though this instance
    read the waiting check at the same time as the document."""
    user = await onboarded(server, connector)
    nonce = await open_check(server, connector, user)
    await server.runtime.store.update(USERS, user.key, lambda d: d.__setitem__(DELETING, True))
    store = server.runtime.store
    read = store.read

    async def state_first(collection, key):
        if collection == USERS:
            await asyncio.sleep(0)  # the waiting check is read before the deletion is finished
        return await read(collection, key)

    store.read = state_first
    reply = await say(server, connector, submit(user, nonce))
    assert content.t("da", "msg.stale_click") in reply
    assert await server.runtime.services.users.get(user.key) is None
    for needle in (user.aad, user.user_id, user.conversation_id):
        found = subprocess.run(["grep", "-rl", needle, str(server.data_dir)], capture_output=True, text=True)
        assert found.stdout == "", f"{needle} stored again in {found.stdout}"
