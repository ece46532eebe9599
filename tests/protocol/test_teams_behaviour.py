"""How the bot behaves with what Teams really sends: mentions in channels and group chats,
installation and membership updates, invokes, reactions and unknown activity types, the
client's locale and time zone, and the commands the Teams package advertises."""

from __future__ import annotations

import json
import zipfile

import pytest
from conftest import TeamsUser, say

import bot.ops.teams_package as tp
from model import content
from model.language.understanding import understand

BOT = {"id": "28:bot-id", "name": "Kompetencehjulet"}
TEAM = {
    "team": {"id": "19:team@thread.tacv2", "name": "Digitalisering"},
    "channel": {"id": "19:general@thread.tacv2", "name": "General"},
}


def team_user(connector, kind: str = "channel", locale: str = "en-US") -> TeamsUser:
    user = TeamsUser(connector, locale=locale, conversation_type=kind)
    if kind == "channel":
        user.conversation_id = "19:general@thread.tacv2;messageid=1700000000000"
    return user


def in_team(activity: dict) -> dict:
    activity["channelData"] = {**activity["channelData"], **TEAM}
    activity["conversation"]["isGroup"] = True
    return activity


def mention(text: str = "<at>Kompetencehjulet</at>") -> dict:
    return {"type": "mention", "text": text, "mentioned": dict(BOT)}


def spy_on_router(server) -> list:
    """What the router (the bot's logic) receives: the turn's activity text and turn state."""
    seen: list = []
    router = server.runtime.bot.router
    original = router.on_message

    async def spy(context):
        from dialogs.turn import turn_of

        seen.append({"text": context.activity.text, "turn": turn_of(context)})
        await original(context)

    router.on_message = spy
    return seen


# --- mentions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["channel", "groupChat"])
@pytest.mark.parametrize("with_entity", [True, False])
async def test_the_bot_mention_is_removed_before_the_text_is_read(server, connector, kind, with_entity):
    seen = spy_on_router(server)
    user = team_user(connector, kind)
    activity = user.message("<at>Kompetencehjulet</at> help")
    if with_entity:
        activity["entities"].append(mention())
    if kind == "channel":
        in_team(activity)
    reply = await say(server, connector, activity)
    assert seen[-1]["text"] == "help"
    assert "I can help you" in reply


async def test_a_mention_in_the_middle_is_removed_too(server, connector):
    seen = spy_on_router(server)
    user = team_user(connector, "groupChat")
    activity = user.message("what does <at>Kompetencehjulet</at> innovation mean?")
    activity["entities"].append(mention())
    reply = await say(server, connector, activity)
    assert "<at>" not in seen[-1]["text"] and "Kompetencehjulet" not in seen[-1]["text"]
    assert "Innovation" in reply


async def test_in_a_personal_chat_the_text_is_left_alone(server, connector):
    seen = spy_on_router(server)
    user = TeamsUser(connector, locale="en-US")
    await say(server, connector, user.message("help"))
    assert seen[-1]["text"] == "help"


# --- installation and membership --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["channel", "groupChat"])
async def test_installed_in_a_team_or_group_it_greets_once_and_not_each_new_member(server, connector, kind):
    user = team_user(connector, kind)
    install = user.install()
    if kind == "channel":
        in_team(install)
    reply = await say(server, connector, install)
    assert len(connector.activities) == 1 and "Hi everyone" in reply
    assert "What kind of work do you do" not in reply  # no personal onboarding in a shared conversation

    # Teams also says the bot itself was added, and later that people joined
    bot_added = user.activity("conversationUpdate", membersAdded=[dict(BOT)])
    people = user.activity(
        "conversationUpdate",
        membersAdded=[{"id": f"29:new-{i}", "aadObjectId": f"aad-{i}", "name": f"Person {i}"} for i in range(3)],
    )
    for activity in (bot_added, people):
        if kind == "channel":
            in_team(activity)
            activity["channelData"]["eventType"] = "teamMemberAdded"
        status, _ = await server.post(activity)
        assert status in (200, 201)
    assert len(connector.activities) == 1


async def test_personal_install_greets_once_although_teams_sends_two_updates(server, connector):
    user = TeamsUser(connector, locale="en-US")
    await say(server, connector, user.activity("conversationUpdate", membersAdded=[dict(BOT), {"id": user.user_id}]))
    await say(server, connector, user.install())
    assert connector.all_text().count("What kind of work do you do?") == 1


async def test_team_members_removed_and_uninstall_are_quiet(server, connector):
    user = team_user(connector, "channel")
    for activity in (
        user.activity("conversationUpdate", membersRemoved=[{"id": "29:gone"}]),
        user.activity("installationUpdate", action="remove"),
        user.activity(
            "conversationUpdate", channelData={"eventType": "teamRenamed", "tenant": {"id": "tenant-1"}, **TEAM}
        ),
    ):
        status, _ = await server.post(in_team(activity))
        assert status in (200, 201)
    assert connector.activities == []


# --- invokes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "composeExtension/query",
        "task/fetch",
        "config/fetch",
        "tab/fetch",
        "message/submitAction",
        "actionableMessage/executeAction",
        "signin/verifyState",
        "made/up",
        None,
    ],
)
async def test_invokes_the_bot_does_not_handle_get_400_not_5xx(server, connector, name):
    user = TeamsUser(connector, locale="en-US")
    activity = user.activity("invoke", value={"anything": 1})
    if name is not None:
        activity["name"] = name
    answers = []
    for _ in range(2):
        status, body = await server.post(activity)
        answers.append(status)
        json.loads(body)  # a JSON body (null), not an HTML error page
    assert answers == [400, 400]  # a request the bot does not take; the SDK's own answer was 501
    assert connector.activities == []


async def test_adaptive_card_action_is_answered_consistently(server, connector):
    user = TeamsUser(connector, locale="en-US")
    execute = user.activity(
        "invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "refresh", "data": {}}, "trigger": "manual"},
    )
    answers = [await server.post(execute) for _ in range(2)]
    assert [status for status, _ in answers] == [400, 400]  # not implemented (cards use Action.Submit)
    assert all(json.loads(body)["value"]["code"] == "NotSupported" for _, body in answers)


@pytest.mark.parametrize(
    "value,code",
    [
        (None, "BadRequest"),
        ({}, "BadRequest"),
        ([1], "BadRequest"),
        ({"action": {"type": "Action.Submit"}}, "NotSupported"),
    ],
)
async def test_a_malformed_adaptive_card_action_gets_the_universal_actions_error_not_500(
    server, connector, value, code
):
    user = TeamsUser(connector, locale="en-US")
    activity = user.activity("invoke", name="adaptiveCard/action")
    if value is not None:
        activity["value"] = value
    for _ in range(2):
        status, body = await server.post(activity)
        assert status == 400, body
        data = json.loads(body)
        assert data["statusCode"] == 400 and data["type"] == "application/vnd.microsoft.error"
        assert data["value"]["code"] == code and data["value"]["message"]
    assert connector.activities == []


async def test_an_adaptive_card_action_that_is_not_an_object_is_refused_at_the_door(server, connector):
    user = TeamsUser(connector, locale="en-US")
    status, body = await server.post(user.activity("invoke", name="adaptiveCard/action", value={"action": "x"}))
    assert status == 400 and "value.action" in json.loads(body)["error"]


async def test_expect_replies_returns_the_replies_in_the_response(server, connector):
    """deliveryMode expectReplies (used by some Bot Framework clients): the replies come back
    in the HTTP answer instead of going to the connector."""
    user = TeamsUser(connector, locale="en-US")
    status, body = await server.post({**user.message("help"), "deliveryMode": "expectReplies"})
    assert status == 200
    replies = json.loads(body)["activities"]
    assert any("I can help you" in (a.get("text") or "") for a in replies)
    assert connector.activities == []


# --- reactions and other activity types -------------------------------------------------------


@pytest.mark.parametrize(
    "activity",
    [
        {"type": "messageReaction", "reactionsAdded": [{"type": "like"}], "replyToId": "reply-1"},
        {"type": "messageReaction", "reactionsRemoved": [{"type": "heart"}], "replyToId": "reply-1"},
        {"type": "typing"},
        {"type": "event", "name": "application/vnd.microsoft.meetingStart", "value": {"Id": "m"}},
        {"type": "messageUpdate", "text": "edited", "channelData": {"eventType": "editMessage", "tenant": {"id": "t"}}},
        {"type": "messageDelete", "channelData": {"eventType": "softDeleteMessage", "tenant": {"id": "t"}}},
        {"type": "endOfConversation", "code": "userCancelled"},
        {"type": "somethingTeamsInventsNextYear", "value": {"x": [1, 2]}},
        {"type": "trace", "name": "x"},
        {"type": "handoff"},
    ],
)
async def test_reactions_and_unknown_activity_types_are_ignored_politely(server, connector, activity):
    user = TeamsUser(connector, locale="en-US")
    status, body = await server.post(user.activity(activity.pop("type"), **activity))
    assert 200 <= status < 300, (status, body)
    assert connector.activities == []
    # and the conversation goes on normally
    assert "I can help you" in await say(server, connector, user.message("help"))


# --- locale and time zone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "locale,entity_locale,expected",
    [
        ("en-US", "en-US", "What kind of work do you do?"),
        ("en-GB", "en-GB", "What kind of work do you do?"),
        ("da-DK", "da-DK", "Hvad arbejder du med?"),
        (None, "en-US", "What kind of work do you do?"),  # only the clientInfo entity says it
        (None, None, "Hvad arbejder du med?"),  # nothing said: Danish first
        ("nb-NO", "nb-NO", "What kind of work do you do?"),  # not Danish: English
    ],
)
async def test_the_greeting_follows_the_users_locale(server, connector, locale, entity_locale, expected):
    user = TeamsUser(connector)
    activity = user.install()
    activity.pop("locale")
    activity["entities"] = [{"type": "clientInfo", "timezone": "Europe/Copenhagen"}]
    if locale:
        activity["locale"] = locale
    if entity_locale:
        activity["entities"][0]["locale"] = entity_locale
    reply = await say(server, connector, activity)
    assert expected in reply


async def test_the_client_time_zone_is_read_from_client_info(server, connector):
    seen = spy_on_router(server)
    user = TeamsUser(connector, locale="en-US")
    activity = user.message("help")
    activity["entities"] = [
        {"type": "clientInfo", "locale": "en-US", "timezone": "America/New_York", "country": "US", "platform": "Web"}
    ]
    await say(server, connector, activity)
    assert seen[-1]["turn"].timezone == "America/New_York"


async def test_reminders_are_scheduled_in_the_clients_time_zone(server, connector):
    user = TeamsUser(connector, locale="da-DK")

    def with_zone(activity: dict) -> dict:
        activity["entities"] = [{"type": "clientInfo", "locale": "da-DK", "timezone": "America/New_York"}]
        return activity

    await say(server, connector, with_zone(user.install()))
    await say(server, connector, with_zone(user.message("Leder")))
    await say(server, connector, with_zone(user.message("3")))
    await say(server, connector, with_zone(user.message("påmindelser")))
    await say(server, connector, with_zone(user.message("Hver uge")))
    await say(server, connector, with_zone(user.message("tirsdag")))
    await say(server, connector, with_zone(user.message("09:00")))
    from model.domain.users import user_key

    doc = await server.runtime.services.users.get(user_key(user.tenant, user.aad))
    assert doc["reminder"]["prefs"]["tz"] == "America/New_York"


async def test_the_activity_local_timezone_is_used_when_there_is_no_client_info(server, connector):
    seen = spy_on_router(server)
    user = TeamsUser(connector, locale="en-US")
    activity = user.message("help")
    activity["entities"] = []
    activity["localTimezone"] = "America/New_York"
    await say(server, connector, activity)
    assert seen[-1]["turn"].timezone == "America/New_York"


# --- the package's commands -------------------------------------------------------------------

EXPECTED = {  # every command in the content files is understood as itself
    lang: list(content.texts(lang)["commands"]) for lang in ("da", "en")
}
COMMAND_WORDS = {
    "hjælp": "help",
    "help": "help",
    "start": "start",
    "profil": "profile",
    "profile": "profile",
    "vurdering": "assessment",
    "assessment": "assessment",
    "historik": "history",
    "history": "history",
    "påmindelser": "reminders",
    "reminders": "reminders",
    "eksport": "export",
    "export": "export",
    "slet mine data": "delete",
    "delete my data": "delete",
    "mål": "goals",
    "goals": "goals",
    "sprog": "language",
    "language": "language",
    "tæl mig ikke med": "leave_out",
    "leave me out": "leave_out",
    "tæl mig med": "count_in",
    "count me in": "count_in",
    "holdets billede": "team_overview",
    "team overview": "team_overview",
}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_command_in_the_content_is_understood(lang):
    commands = [c["command"] for c in content.texts(lang)["commands"].values()]
    assert [understand(c).intent for c in commands] == EXPECTED[lang], commands
    for command in commands:
        assert COMMAND_WORDS[command] == understand(command).intent


def test_every_command_in_the_teams_package_is_understood(tmp_path):
    path = tp.build_package("3f2504e0-4f89-41d3-9a0c-0305e82c3301", tmp_path / "app.zip")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        english = json.loads(zf.read(tp.ENGLISH_FILE))
    titles = [cmd["title"] for lst in manifest["bots"][0]["commandLists"] for cmd in lst["commands"]]
    titles += [v for k, v in english.items() if k.endswith(".title") and ".commands[" in k]
    assert titles and set(titles) <= set(COMMAND_WORDS)
    for title in titles:
        assert understand(title).intent == COMMAND_WORDS[title], title


@pytest.mark.parametrize("command", sorted(COMMAND_WORDS))
async def test_each_command_gets_a_real_answer_over_http(server, connector, command):
    danish = {c["command"] for c in content.texts("da")["commands"].values()} | {"tæl mig ikke med", "tæl mig med"}
    user = TeamsUser(connector, locale="da-DK" if command in danish else "en-US")
    await say(server, connector, user.install())
    await say(server, connector, user.message("Leder" if user.locale == "da-DK" else "Manager"))
    await say(server, connector, user.message("3"))
    reply = await say(server, connector, user.message(command))
    assert reply
    for lang in ("da", "en"):
        assert content.t(lang, "msg.out_of_scope") not in reply
        assert content.t(lang, "msg.error") not in reply


async def test_a_malformed_file_consent_invoke_is_a_400_never_a_500(server, connector):
    user = TeamsUser(connector, locale="en-US")
    await say(server, connector, user.install())  # someone the bot knows (else a click is a stale card)
    for value in (
        {"anything": 1},
        {"action": "accept", "context": {"kind": "export"}, "uploadInfo": {"uploadUrl": "file:///etc/passwd"}},
        {"action": "accept", "context": {"kind": "secrets"}},
    ):
        status, body = await server.post(user.activity("invoke", name="fileConsent/invoke", value=value))
        assert status == 400, (value, body)
    assert connector.uploads == {}
