"""A tampered dialog-state document never runs code: the codec rebuilds only the classes in
its registry, with their own fields, and anything else drops the state (the conversation
starts over) instead of importing or calling what the document names."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from botbuilder.core import MessageFactory
from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.dialogs.prompts import PromptOptions
from conftest import TeamsUser, say

from bot.sdk import state_codec
from model import content
from model.storage.docstore import STATE


def _hostile(canary) -> dict:
    """State documents that ran code or built arbitrary objects with the old decoder, which
    imported any module under botbuilder./botframework./dialogs. and walked attributes."""
    return {
        # botbuilder.core.about imports os: the old decoder called os.system("touch <canary>")
        "os.system through an allowed module": {
            "__t": "enum",
            "c": "botbuilder.core.about:os.system",
            "v": f"touch {canary}",
        },
        # a function with an argument, reached through another allowed module
        "os.remove through an allowed module": {
            "__t": "enum",
            "c": "botbuilder.dialogs.about:os.remove",
            "v": str(canary.with_name("keep-me")),
        },
        # a class the old decoder would have built in place of the dialog state
        "an SDK class that is no dialog state": {
            "__t": "obj",
            "c": "botbuilder.core.memory_storage:MemoryStorage",
            "d": {"memory": {}},
        },
        "os:system": {"__t": "enum", "c": "os:system", "v": f"touch {canary}"},
        # a known class with a field it does not have
        "an unknown field": {
            "__t": "obj",
            "c": "botbuilder.dialogs.dialog_state:DialogState",
            "d": {"_dialog_stack": [], "__class__": "x"},
        },
        # a known class with a field of the wrong type
        "a field of the wrong type": {
            "__t": "obj",
            "c": "botbuilder.dialogs.dialog_state:DialogState",
            "d": {"_dialog_stack": "onboarding"},
        },
        "an unknown tag": {"__t": "pickle", "v": "gASVAAAAAAAAAAB9lC4="},
    }


HOSTILE_CASES = list(_hostile(Path("/nowhere/canary")))


@pytest.mark.parametrize("case", HOSTILE_CASES)
async def test_a_tampered_state_document_runs_nothing_and_the_conversation_restarts(
    server, connector, tmp_path, caplog, case
):
    canary = tmp_path / "canary"
    keep = tmp_path / "keep-me"
    keep.write_text("still here")
    user = TeamsUser(connector)
    await say(server, connector, user.install())
    store = server.runtime.store
    key = server.runtime.bot.conversation_state.get_storage_key(_context_for(user))
    assert (await store.read(STATE, key))[0] is not None, "the install left no dialog state to tamper with"
    await store.write(STATE, key, {"data": {"DialogState": _hostile(canary)[case]}})

    with caplog.at_level(logging.WARNING, logger="kompetencehjulet.state"):
        reply = await say(server, connector, user.message("hjælp"))

    assert not canary.exists(), "the state document ran a command"
    assert keep.read_text() == "still here", "the state document deleted a file"
    assert content.t("da", "msg.error") not in reply
    assert "Du kan skrive" in reply  # the help text: a normal answer
    assert "dropped dialog state that could not be read (DecodeError)" in caplog.text
    doc, _ = await store.read(STATE, key)
    assert json.dumps(_hostile(canary)[case]) not in json.dumps(doc or {}), "the bad state was kept"


def _context_for(user: TeamsUser):
    from botbuilder.core import TurnContext
    from botbuilder.core.adapters import TestAdapter
    from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id=user.conversation_id),
        from_property=ChannelAccount(id=user.user_id),
    )
    return TurnContext(TestAdapter(), activity)


def test_a_real_dialog_stack_goes_through_the_codec_and_back():
    prompt = MessageFactory.text("Vælg")
    state = {
        "DialogState": DialogState(
            [
                DialogInstance(
                    "onboarding",
                    {
                        "options": PromptOptions(
                            prompt=prompt, choices=[Choice("Leder", synonyms=["chef"])], style=ListStyle.hero_card
                        ),
                        "values": {"n": 1},
                    },
                )
            ]
        )
    }
    encoded = state_codec.encode(state)
    assert json.loads(json.dumps(encoded)) == encoded
    again = state_codec.decode(encoded)
    assert state_codec.encode(again) == encoded
    options = again["DialogState"].dialog_stack[0].state["options"]
    assert options.choices[0].value == "Leder" and options.style is ListStyle.hero_card


def test_state_written_before_the_registry_is_still_read():
    """The format is unchanged: a document as the old codec wrote it (every field of the
    prompt activity, enums by module path) decodes to the same objects."""
    old = {
        "DialogState": {
            "__t": "obj",
            "c": "botbuilder.dialogs.dialog_state:DialogState",
            "d": {
                "_dialog_stack": [
                    {
                        "__t": "obj",
                        "c": "botbuilder.dialogs.dialog_instance:DialogInstance",
                        "d": {
                            "id": "assessment",
                            "state": {
                                "options": {
                                    "__t": "obj",
                                    "c": "botbuilder.dialogs.prompts.prompt_options:PromptOptions",
                                    "d": {
                                        "prompt": {
                                            "__t": "obj",
                                            "c": "botbuilder.schema._models_py3:Activity",
                                            "d": {
                                                "additional_properties": {},
                                                "type": {
                                                    "__t": "enum",
                                                    "c": "botbuilder.schema._connector_client_enums:ActivityTypes",
                                                    "v": "message",
                                                },
                                                "text": "Hvor godt?",
                                                "input_hint": {
                                                    "__t": "enum",
                                                    "c": "botbuilder.schema._connector_client_enums:InputHints",
                                                    "v": "acceptingInput",
                                                },
                                            },
                                        },
                                        "retry_prompt": None,
                                        "choices": None,
                                        "style": None,
                                        "validations": None,
                                        "number_of_attempts": 0,
                                    },
                                }
                            },
                        },
                    }
                ]
            },
        }
    }
    decoded = state_codec.decode(old)
    instance = decoded["DialogState"].dialog_stack[0]
    assert instance.id == "assessment"
    assert instance.state["options"].prompt.text == "Hvor godt?"
    assert instance.state["options"].prompt.type == "message"


def test_a_class_outside_the_registry_cannot_be_stored():
    """What could not be read back is refused when written, not dropped a turn later."""

    class Mine:
        pass

    with pytest.raises(TypeError):
        state_codec.encode({"x": Mine()})


def test_nesting_beyond_the_limit_is_refused_not_a_crash():
    deep: list = []
    for _ in range(state_codec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(state_codec.DecodeError):
        state_codec.decode({"x": deep})
