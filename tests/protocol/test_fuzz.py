"""Property-based fuzzing of POST /api/messages on the real app (local mode).

Random activity shapes and values: random JSON bodies, every field dropped or replaced by
a value of the wrong type, huge and exotic strings, nested garbage, random `value`
payloads for card submits, random `entities` and `channelData`. The app must never answer
5xx, must keep serving, and must still answer a valid message afterwards. Turn failures
(the bot's own error handler catching an exception inside a turn) are counted too: random
input should be refused at the door or handled, not crash a turn.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from conftest import BotServer, Connector, TeamsUser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import content

# -- building blocks -----------------------------------------------------------------------

huge = st.builds(lambda c, n: c * n, st.characters(), st.integers(1_000, 40_000))
strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x80), max_size=20),
    huge,
    st.sampled_from(
        [
            "",
            " ",
            "\u0000",
            "<at>x</at>",
            "🙂" * 3,
            "ﬁ",
            "\u202e",
            "hjælp",
            "help",
            "historik",
            "slet mine data",
            "ja",
            "yes",
            "3",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=15,
)
deep = st.integers(20, 200).map(lambda n: json.loads("[" * n + "]" * n))

FIELDS = [
    "type",
    "id",
    "timestamp",
    "localTimestamp",
    "localTimezone",
    "serviceUrl",
    "channelId",
    "from",
    "conversation",
    "recipient",
    "textFormat",
    "membersAdded",
    "membersRemoved",
    "reactionsAdded",
    "locale",
    "text",
    "attachments",
    "entities",
    "channelData",
    "action",
    "replyToId",
    "value",
    "name",
    "deliveryMode",
    "relatesTo",
    "suggestedActions",
    "importance",
    "expiration",
    "callerId",
]
TYPES = [
    "message",
    "conversationUpdate",
    "installationUpdate",
    "invoke",
    "messageReaction",
    "event",
    "typing",
    "endOfConversation",
    "messageUpdate",
    "messageDelete",
    "trace",
    "handoff",
    "command",
    "Message",
    "unknownType",
    "",
]

entity = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["clientInfo", "mention", "streaminfo", "x"])},
        optional={
            "locale": json_values,
            "timezone": json_values,
            "country": json_values,
            "platform": json_values,
            "text": json_values,
            "mentioned": json_values,
        },
    ),
    st.fixed_dictionaries({"type": st.just("clientInfo"), "locale": strings, "timezone": strings}),
    json_values,
)
channel_data = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "tenant": json_values,
            "team": json_values,
            "channel": json_values,
            "eventType": json_values,
            "settings": json_values,
            "source": json_values,
            "legacy": json_values,
        },
    ),
    st.fixed_dictionaries(
        {"tenant": st.fixed_dictionaries({"id": strings})},
        optional={"team": st.fixed_dictionaries({"id": strings, "name": strings})},
    ),
    json_values,
)
submit = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"kh": st.sampled_from(["quick", "deep", "mus", "x"]) | json_values},
        optional={
            "nonce": json_values,
            "implementation": json_values,
            "development": json_values,
            "innovation": json_values,
            "note": json_values,
        },
    ),
    st.fixed_dictionaries(
        {"action": st.fixed_dictionaries({"type": st.just("Action.Execute"), "verb": strings, "data": json_values})}
    ),
)
account = st.one_of(
    st.fixed_dictionaries({"id": strings}, optional={"name": strings, "aadObjectId": json_values, "role": json_values}),
    json_values,
)


def replacement(field: str):
    specific = {
        "type": st.sampled_from(TYPES) | json_values,
        "entities": st.lists(entity, max_size=4) | json_values,
        "channelData": channel_data,
        "value": submit,
        "from": account,
        "recipient": account,
        "conversation": st.fixed_dictionaries(
            {"id": strings},
            optional={
                "conversationType": st.sampled_from(["personal", "groupChat", "channel"]) | json_values,
                "tenantId": json_values,
                "isGroup": json_values,
            },
        )
        | json_values,
        "membersAdded": st.lists(account, max_size=3) | json_values,
        "serviceUrl": st.sampled_from(
            [
                "file:///etc/passwd",
                "javascript:alert(1)",
                "http://",
                "ftp://x",
                "http://127.0.0.1:9/",
                "HTTP://127.0.0.1:9",
            ]
        )
        | json_values,
        "text": strings | json_values,
        "timestamp": st.sampled_from(["2026-13-45T99:00:00Z", "now", ""]) | json_values,
    }
    return specific.get(field, json_values) | deep


@st.composite
def mutated(draw, base: dict) -> dict:
    act = json.loads(json.dumps(base))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=5, unique=True)):
        if draw(st.booleans()):
            act.pop(field, None)
        else:
            act[field] = draw(replacement(field))
    for _ in range(draw(st.integers(0, 2))):
        act[draw(st.text(max_size=12))] = draw(json_values)  # unknown fields
    return act


def bodies(user: TeamsUser):
    valid_message = user.message("hjælp")
    return st.one_of(
        mutated(valid_message),
        mutated(user.activity("invoke", name="adaptiveCard/action", value={})),
        mutated(user.activity("conversationUpdate", membersAdded=[{"id": user.user_id}])),
        st.builds(lambda v: {**user.message(), "value": v}, submit),  # card submits
        st.builds(lambda e: {**user.message("profil"), "entities": e}, st.lists(entity, max_size=5)),
        st.builds(lambda c: {**user.message("historik"), "channelData": c}, channel_data),
        json_values,  # not an activity
    )


# -- the test --------------------------------------------------------------------------------


class TurnFailures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_random_activities_never_get_5xx_and_the_bot_keeps_answering(tmp_path):
    loop = asyncio.new_event_loop()
    connector = Connector()
    loop.run_until_complete(connector.start())
    server = BotServer(tmp_path / "data")
    loop.run_until_complete(server.start())
    failures = TurnFailures()
    logging.getLogger("kompetencehjulet").addHandler(failures)
    user = TeamsUser(connector)
    seen: dict[int, int] = {}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies(user))
    def check(body) -> None:
        try:
            raw = json.dumps(body).encode()
        except (ValueError, RecursionError):
            return
        status, text = loop.run_until_complete(server.post(None, raw=raw))
        seen[status] = seen.get(status, 0) + 1
        assert status in (200, 201, 400, 413), (status, text, raw[:300])

    try:
        # a person mid-onboarding, so card submits and texts hit running dialogs too
        loop.run_until_complete(server.post(user.install()))
        check()

        async def still_alive():
            async with server.session.get(server.url + "/healthz") as resp:
                assert resp.status == 200
            before = len(connector.activities)
            status, _ = await server.post(TeamsUser(connector, locale="en-US").message("help"))
            assert status == 201 and "I can help you" in connector.all_text(before)

        loop.run_until_complete(still_alive())
        crashed = [r for r in failures.records if r.name == "kompetencehjulet.adapter"]
        assert not crashed, f"{len(crashed)} turns crashed on random input: " + "; ".join(
            f"{r.exc_info[0].__name__ if r.exc_info else '?'}" for r in crashed[:5]
        )
        assert seen.get(201) and seen.get(400), seen  # both paths were exercised
    finally:
        logging.getLogger("kompetencehjulet").removeHandler(failures)
        loop.run_until_complete(server.stop())
        loop.run_until_complete(connector.stop())
        loop.close()


RAW = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"\xff\xfe\x00garbage",
    b'{"type": "message", "text": NaN}',
    b'{"type": "message", "text": Infinity}',
    b"1e999999",
    b"9" * 5000,
    b'"\\ud800"',
    b"\x00" * 100,
]


def test_raw_garbage_bodies_get_400(tmp_path):
    loop = asyncio.new_event_loop()
    server = BotServer(tmp_path / "data")
    loop.run_until_complete(server.start())
    try:
        for raw in RAW:
            status, _ = loop.run_until_complete(server.post(None, raw=raw))
            assert status == 400, (raw[:40], status)
    finally:
        loop.run_until_complete(server.stop())
        loop.close()


# -- malformed clicks and invokes, one by one ------------------------------------------------------
# Odd `value` payloads a client (or a hand-made request) can send; each must get a clean answer.
HUGE = 10**40
MALFORMED_CLICKS = {
    "goal without do": {"kh": "goal"},
    "goal set without competence": {"kh": "goal", "do": "set"},
    "goal set, competence a list": {"kh": "goal", "do": "set", "competence": ["innovation"]},
    "goal set, competence an object": {"kh": "goal", "do": "own", "competence": {"id": "innovation"}},
    "goal set, unknown stage": {"kh": "goal", "do": "set", "competence": "procurement", "stage": "x", "step": 0},
    "goal set, stage a list": {"kh": "goal", "do": "set", "competence": "procurement", "stage": [1], "step": 0},
    "goal set, huge step": {"kh": "goal", "do": "set", "competence": "procurement", "stage": "beginner", "step": HUGE},
    "goal set, negative step": {
        "kh": "goal",
        "do": "set",
        "competence": "procurement",
        "stage": "beginner",
        "step": -1,
    },
    "goal set, step a string": {
        "kh": "goal",
        "do": "set",
        "competence": "procurement",
        "stage": "beginner",
        "step": "0",
    },
    "goal set, step a float": {
        "kh": "goal",
        "do": "set",
        "competence": "procurement",
        "stage": "beginner",
        "step": 1e308,
    },
    "goal done, id a list": {"kh": "goal", "do": "done", "id": ["g1"]},
    "goal done, id an object": {"kh": "goal", "do": "keep", "id": {"a": 1}},
    "goal do a list": {"kh": "goal", "do": ["set"]},
    "goal do unknown": {"kh": "goal", "do": "explode"},
    "ask without competence": {"kh": "ask"},
    "ask, competence a list": {"kh": "ask", "competence": ["procurement"]},
    "ask, competence an object": {"kh": "ask", "intent": ["improve"], "competence": {"x": 1}},
    "ask, competence a number": {"kh": "ask", "competence": HUGE},
    "role a list": {"kh": "role", "role": ["specialist"]},
    "role an object": {"kh": "role", "role": {"id": "specialist"}},
    "role unknown": {"kh": "role", "role": "astronaut"},
    "decline, what a list": {"kh": "decline", "what": ["reminders"]},
    "mus with junk": {"kh": "mus", "extra": [1, 2, 3]},
    "keep data with junk": {"kh": "keep_data", "x": {"y": HUGE}},
    "say, text a number": {"kh": "say", "text": HUGE},
    "say, text a list": {"kh": "say", "text": ["hjælp"]},
    "say, no text": {"kh": "say"},
    "quick, nonce a list": {"kh": "quick", "nonce": ["x"], "implementation": "3"},
    "quick, huge scores": {
        "kh": "quick",
        "nonce": "x",
        "implementation": HUGE,
        "development": -HUGE,
        "innovation": 1e308,
    },
    "quick, scores as objects": {"kh": "quick", "nonce": "x", "implementation": {"a": 1}, "development": [3]},
    "deep, note an object": {"kh": "deep", "nonce": 5, "note": {"a": 1}},
    "kh a list": {"kh": ["goal"], "do": "set"},
    "kh an object": {"kh": {"goal": 1}},
    "kh a number": {"kh": HUGE},
    "kh unknown": {"kh": "self-destruct"},
    "an empty object": {},
    "a list instead of an object": [{"kh": "goal", "do": "later"}],
    "a string": "goal",
    "a huge number": HUGE,
    "true": True,
}
INVOKES = {
    "fileConsent, value a list": ("fileConsent/invoke", [1, 2]),
    "fileConsent, value a string": ("fileConsent/invoke", "accept"),
    "fileConsent, context a string": ("fileConsent/invoke", {"action": "accept", "context": "export"}),
    "fileConsent, kind a list": ("fileConsent/invoke", {"action": "accept", "context": {"kind": ["export"]}}),
    "fileConsent, uploadInfo a list": (
        "fileConsent/invoke",
        {"action": "accept", "context": {"kind": "export"}, "uploadInfo": ["https://x.sharepoint.com/"]},
    ),
    "fileConsent, upload url a number": (
        "fileConsent/invoke",
        {"action": "accept", "context": {"kind": "mus"}, "uploadInfo": {"uploadUrl": HUGE}},
    ),
    "fileConsent, action unknown": ("fileConsent/invoke", {"action": "maybe", "context": {"kind": "export"}}),
    "adaptiveCard/action, no value": ("adaptiveCard/action", None),
    "adaptiveCard/action, a list": ("adaptiveCard/action", [1]),
    "adaptiveCard/action, Execute with junk data": (
        "adaptiveCard/action",
        {"action": {"type": "Action.Execute", "verb": "x", "data": [HUGE]}, "trigger": 5},
    ),
    "adaptiveCard/action, Execute": (
        "adaptiveCard/action",
        {"action": {"type": "Action.Execute", "verb": "refresh", "data": {}}, "trigger": "manual"},
    ),
    "adaptiveCard/action, type unknown": ("adaptiveCard/action", {"action": {"type": "Action.Explode"}}),
    "an unknown name": ("made/up", {"anything": 1}),
    "task/fetch": ("task/fetch", {"data": {"kh": "goal"}}),
    "composeExtension/query": ("composeExtension/query", {"commandId": "x"}),
    "signin/verifyState": ("signin/verifyState", {"state": HUGE}),
    "no name": (None, {"anything": 1}),
}
APOLOGIES = [content.t(lang, "msg.error") for lang in content.LANGUAGES]


@pytest.fixture
async def onboarded(server, connector):
    user = TeamsUser(connector)
    for activity in (user.install(), user.message("Leder"), user.message("3")):
        status, _ = await server.post(activity)
        assert status == 201
    return user


@pytest.fixture
def turn_failures():
    failures = TurnFailures()
    logging.getLogger("kompetencehjulet").addHandler(failures)
    yield failures.records
    logging.getLogger("kompetencehjulet").removeHandler(failures)


@pytest.mark.parametrize("during", ["idle", "in the check"])
@pytest.mark.parametrize("case", list(MALFORMED_CLICKS))
async def test_a_malformed_click_gets_a_clean_answer(server, connector, onboarded, turn_failures, case, during):
    if during == "in the check":
        await server.post(onboarded.message("vurdering"))
    before = len(connector.activities)
    status, body = await server.post(onboarded.message(value=MALFORMED_CLICKS[case]))
    assert status == 201, body
    reply = connector.all_text(before)
    assert reply.strip(), "no answer at all"
    assert not any(a in reply for a in APOLOGIES), reply
    assert not turn_failures, [r.getMessage() for r in turn_failures]


@pytest.mark.parametrize("case", list(INVOKES))
async def test_a_malformed_or_unknown_invoke_gets_a_proper_invoke_response(
    server, connector, onboarded, turn_failures, case
):
    name, value = INVOKES[case]
    activity = onboarded.activity("invoke", value=value)
    if name is not None:
        activity["name"] = name
    before = len(connector.activities)
    status, body = await server.post(activity)
    assert 200 <= status < 500, (status, body)
    json.loads(body)  # a JSON body, not an error page
    assert not any(a in connector.all_text(before) for a in APOLOGIES)
    assert not turn_failures, [r.getMessage() for r in turn_failures]
