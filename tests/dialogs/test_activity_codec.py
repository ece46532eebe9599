"""The planned activity codec gives exactly what msrest gives, on every shape the bot
receives and sends, and takes the fast path for the everyday ones."""

from __future__ import annotations

import copy
import datetime

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    HeroCard,
    Mention,
    SuggestedActions,
)
from botframework.connector import models
from msrest.serialization import Serializer

from bot.sdk.activity_codec import FastSerializer, Unsupported, codec, read_activity

BASE = {
    "type": "message",
    "id": "1",
    "timestamp": "2026-11-26T10:00:00.1234567Z",
    "localTimestamp": "2026-11-26T11:00:00.123+01:00",
    "localTimezone": "Europe/Copenhagen",
    "serviceUrl": "https://smba.trafficmanager.net/emea/",
    "channelId": "msteams",
    "from": {"id": "29:a", "name": "Mette", "aadObjectId": "aad-1"},
    "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t-1"},
    "recipient": {"id": "28:bot", "name": "Kompetencehjulet"},
    "channelData": {"tenant": {"id": "t-1"}, "source": None, "list": [1, 2.5, True, None, "x"]},
    "locale": "da-DK",
    "text": "hvad betyder innovation for mig?",
    "entities": [{"type": "clientInfo", "locale": "da-DK", "timezone": "Europe/Copenhagen"}],
}

INCOMING = {
    "teams message": BASE,
    "card submit": {**BASE, "text": None, "value": {"score": "3", "nested": {"a": [1, {"b": None}]}}},
    "install": {**BASE, "type": "installationUpdate", "action": "add"},
    "members added": {
        **BASE,
        "type": "conversationUpdate",
        "membersAdded": [{"id": "28:bot"}, {"id": "29:a", "role": "user"}],
    },
    "mention": {
        **BASE,
        "entities": [{"type": "mention", "text": "<at>Bot</at>", "mentioned": {"id": "28:bot", "name": "Bot"}}],
    },
    "suggested actions": {
        **BASE,
        "suggestedActions": {"to": ["x"], "actions": [{"type": "imBack", "title": "Ja", "value": "ja"}]},
    },
    "attachments": {
        **BASE,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard", "body": []}}
        ],
    },
    "reactions": {**BASE, "type": "messageReaction", "reactionsAdded": [{"type": "like"}]},
    "relates to": {
        **BASE,
        "relatesTo": {
            "activityId": "9",
            "channelId": "msteams",
            "conversation": {"id": "a:1"},
            "serviceUrl": "https://x/",
        },
    },
    "unknown keys": {**BASE, "somethingNew": {"x": 1}, "from": {"id": "29:a", "userRole": "admin"}},
    "bool and list of strings": {**BASE, "historyDisclosed": True, "listenFor": ["a", "b"]},
    # Odd shapes msrest converts: handed to msrest, so still identical.
    "number as text": {**BASE, "text": 42},
    "bool as string": {**BASE, "historyDisclosed": "true"},
    "int where bool": {**BASE, "historyDisclosed": 1},
}


@pytest.mark.parametrize("name", sorted(INCOMING))
def test_reading_an_activity_equals_msrest(name):
    body = INCOMING[name]
    assert read_activity(copy.deepcopy(body)) == Activity().deserialize(copy.deepcopy(body))


def test_unknown_keys_are_kept_as_msrest_keeps_them():
    activity = read_activity(copy.deepcopy(INCOMING["unknown keys"]))
    assert activity.additional_properties == {"somethingNew": {"x": 1}}
    assert activity.from_property.additional_properties == {"userRole": "admin"}
    assert activity.conversation.additional_properties == {"tenantId": "t-1"}


@pytest.mark.parametrize("name", ["teams message", "card submit", "install", "mention", "attachments"])
def test_everyday_incoming_shapes_take_the_fast_path(name):
    codec().from_dict(Activity, copy.deepcopy(INCOMING[name]))  # raises Unsupported if not


def _outgoing() -> dict[str, Activity]:
    reference = TurnContext.get_conversation_reference(read_activity(copy.deepcopy(BASE)))

    def addressed(activity: Activity) -> Activity:
        return TurnContext.apply_conversation_reference(activity, reference)

    card = CardFactory.adaptive_card(
        {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": "Hvor sikker er du?", "wrap": True}],
            "actions": [{"type": "Action.Submit", "title": "Gem", "data": {"score": 3}}],
        }
    )
    with_actions = MessageFactory.text("Vælg en rolle")
    with_actions.suggested_actions = SuggestedActions(
        actions=[CardAction(type="imBack", title=t, value=t) for t in ("1", "2", "3")]
    )
    mention = MessageFactory.text("Hej <at>Mette</at>")
    mention.entities = [
        Mention(mentioned=ChannelAccount(id="29:a", name="Mette"), text="<at>Mette</at>", type="mention")
    ]
    typed = Activity(type=ActivityTypes.message, text="enum type", text_format="markdown")
    dated = MessageFactory.text("dated")
    dated.timestamp = datetime.datetime(2026, 11, 26, 9, 30, 1, 250000, tzinfo=datetime.timezone.utc)
    dated.local_timestamp = datetime.datetime(
        2026, 11, 26, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    nudge = MessageFactory.text("Påmindelse")
    nudge.channel_data = {"notification": {"alert": True}, "n": 1.5, "none": None}
    nudge.conversation = ConversationAccount(id="a:1", tenant_id="t-1", conversation_type="personal")
    hero = MessageFactory.attachment(CardFactory.hero_card(HeroCard(title="Model inside object")))
    image = MessageFactory.attachment(
        Attachment(content_type="image/png", content_url="data:image/png;base64,AA", name="hjul.png")
    )
    typing = Activity(type=ActivityTypes.typing)
    return {
        "text": addressed(MessageFactory.text("Hej Mette")),
        "card": addressed(MessageFactory.attachment(card)),
        "suggested actions": addressed(with_actions),
        "mention": addressed(mention),
        "enum type": addressed(typed),
        "datetimes": addressed(dated),
        "proactive nudge": addressed(nudge),
        "hero card (model inside object)": addressed(hero),
        "image": addressed(image),
        "typing": addressed(typing),
    }


OUTGOING = _outgoing()


@pytest.mark.parametrize("name", sorted(OUTGOING))
def test_serialising_a_reply_equals_msrest(name):
    deps = {k: v for k, v in vars(models).items() if isinstance(v, type)}
    expected = Serializer(deps).body(copy.deepcopy(OUTGOING[name]), "Activity")
    assert FastSerializer(deps).body(copy.deepcopy(OUTGOING[name]), "Activity") == expected


@pytest.mark.parametrize(
    "name",
    [
        "text",
        "card",
        "suggested actions",
        "mention",
        "enum type",
        "datetimes",
        "proactive nudge",
        "image",
        "typing",
        "hero card (model inside object)",
    ],
)
def test_everyday_replies_take_the_fast_path(name):
    codec().to_dict(OUTGOING[name])


def test_odd_values_inside_plain_json_go_to_msrest():
    odd = MessageFactory.text("x")
    odd.channel_data = {"when": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)}
    with pytest.raises(Unsupported):
        codec().to_dict(odd)
    deps = {k: v for k, v in vars(models).items() if isinstance(v, type)}
    assert FastSerializer(deps).body(copy.deepcopy(odd), "Activity") == Serializer(deps).body(
        copy.deepcopy(odd), "Activity"
    )


def test_a_stored_conversation_reference_equals_msrest():
    from bot.sdk.activity_codec import to_json_dict

    reference = TurnContext.get_conversation_reference(read_activity(copy.deepcopy(BASE)))
    assert to_json_dict(reference) == reference.serialize()
    codec().to_dict(reference)  # the fast path
