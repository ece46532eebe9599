"""The real aiohttp app over HTTP with Teams-shaped activities; replies are caught by a
stand-in connector service on loopback, as Teams' connector would receive them."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import BotServer, TeamsUser, say


async def test_install_greets_and_onboarding_completes_over_http(server, connector):
    user = TeamsUser(connector)
    reply = await say(server, connector, user.install())
    assert "Udvikling og implementering" in reply and "Hvad arbejder du med" in reply
    sent = connector.activities[-1]
    assert sent["_path"] == f"/v3/conversations/{user.conversation_id}/activities" or sent["_path"].startswith(
        f"/v3/conversations/{user.conversation_id}/activities/"
    )
    assert sent["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "Leder" in json.dumps(sent["attachments"][0]["content"], ensure_ascii=False)
    await say(server, connector, user.message("Leder"))
    reply = await say(server, connector, user.message("Jeg styrer udvikling og implementering"))
    for name in ("Implementering og anskaffelse", "Udvikling", "Innovation"):
        assert name in reply
    reply = await say(server, connector, user.message("profil"))
    assert "Leder" in reply and "Jeg styrer" in reply


async def test_profile_and_a_half_finished_onboarding_survive_a_restart(tmp_path, connector):
    first = BotServer(tmp_path / "data")
    await first.start()
    user = TeamsUser(connector, locale="en-US")
    await say(first, connector, user.install())
    await say(first, connector, user.message("Manager"))  # role answered, level pending
    await first.stop()

    second = BotServer(tmp_path / "data")
    await second.start()
    try:
        reply = await say(second, connector, user.message("3"))
        assert "You are a manager, and you steer" in reply
        before = await say(second, connector, user.message("profile"))
    finally:
        await second.stop()
    third = BotServer(tmp_path / "data")
    await third.start()
    try:
        after = await say(third, connector, user.message("profile"))
    finally:
        await third.stop()
    assert "Manager" in before and before == after


@pytest.mark.parametrize(
    "body,content_type,status",
    [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),
        (b'{"type": "message", "conversation": {"id": "c"}, "from": {"id": "u"}}', "application/json", 400),
        (
            b'{"type": "message", "conversation": {"id": "c"}, "from": {"id": "u"}, "serviceUrl": "file:///etc"}',
            "application/json",
            400,
        ),
        (
            b'{"type": 5, "conversation": {"id": "c"}, "from": {"id": "u"}, "serviceUrl": "http://x"}',
            "application/json",
            400,
        ),
        (
            b'{"type": "message", "conversation": "c", "from": {"id": "u"}, "serviceUrl": "http://x"}',
            "application/json",
            400,
        ),
        (b"hello", "text/plain", 415),
        (b"x" * (300 * 1024), "application/json", 413),
    ],
)
async def test_bad_requests_get_4xx_not_500(server, body, content_type, status):
    got, _ = await server.post(None, raw=body, content_type=content_type)
    assert got == status


@pytest.mark.parametrize(
    "field,value",
    [
        ("conversation", {"id": "a:1\nb"}),
        ("id", "1\r\n2"),
        ("replyToId", "x\ny"),
        ("from", {"id": "29:u\u0000"}),
        ("recipient", {"id": "28:b\tot"}),
    ],
)
async def test_an_id_with_a_line_break_is_refused_at_the_door_not_a_failed_turn(server, connector, field, value):
    # the reply's URL is built from these ids; before, a line break in the conversation id
    # crashed the turn when the reply could not be written (found by the fuzz test)
    user = TeamsUser(connector)
    activity = {**user.message("hjælp"), field: value}
    status, body = await server.post(activity)
    assert status == 400 and f"'{field}" in json.loads(body)["error"]
    assert connector.requests == []
    status, _ = await server.post(user.message("hjælp"))
    assert status == 201 and connector.requests


async def test_healthz(server):
    async with server.session.get(server.url + "/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_overlong_text_is_cut_and_still_answered(server, connector):
    user = TeamsUser(connector)
    await say(server, connector, user.install())
    reply = await say(server, connector, user.message("innovation " * 5000))
    assert reply  # answered, not crashed


async def test_assessment_history_export_and_delete_over_http(server, connector, tmp_path):
    user = TeamsUser(connector, locale="en-US")
    await say(server, connector, user.install())
    await say(server, connector, user.message("Specialist"))
    await say(server, connector, user.message("contribute"))
    turns_before = len(connector.activities)
    await say(server, connector, user.message("assessment"))
    card = next(
        a
        for a in connector.activities[turns_before:]
        if a.get("attachments") and a["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    nonce = card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]
    reply = await say(
        server,
        connector,
        user.message(
            value={"kh": "quick", "nonce": nonce, "implementation": "2", "development": "4", "innovation": "3"}
        ),
    )
    assert "saved" in reply
    await say(server, connector, user.message("no"))
    before = len(connector.activities)
    reply = await say(server, connector, user.message("history"))
    assert "4/5" in reply and "Suggestion" in reply
    history = connector.activities[before]
    image = history["attachments"][0]["content"]["body"][1]
    assert image["url"].startswith("data:image/png;base64,") and "Development 4 out of 5" in image["altText"]
    before = len(connector.activities)
    reply = await say(server, connector, user.message("export"))
    assert "Self-assessments: 1" in reply and "as a file" in reply  # a readable summary in the chat
    status, _ = await server.post(connector.accept_file(user, before))
    assert status == 200
    ((data, headers),) = connector.uploads.values()
    assert headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert json.loads(data)["assessments"][0]["scores"]["development"] == 4
    assert connector.activities[-1]["attachments"][0]["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    await say(server, connector, user.message("delete my data"))
    reply = await say(server, connector, user.message("Yes, delete everything"))
    assert "deleted everything" in reply
    for needle in (user.aad, user.user_id, user.conversation_id):
        found = subprocess.run(["grep", "-rl", needle, str(server.data_dir)], capture_output=True, text=True)
        assert found.stdout == "", f"{needle} still stored in {found.stdout}"


async def test_group_chat_never_shows_personal_data(server, connector):
    user = TeamsUser(connector, locale="en-US", conversation_type="groupChat")
    mention = {
        "type": "mention",
        "text": "<at>Kompetencehjulet</at>",
        "mentioned": {"id": "28:bot-id", "name": "Kompetencehjulet"},
    }
    activity = user.message("<at>Kompetencehjulet</at> history")
    activity["entities"].append(mention)
    reply = await say(server, connector, activity)
    assert "personal chat" in reply
    reply = await say(server, connector, user.message("<at>Kompetencehjulet</at> what is innovation?"))
    assert "Innovation" in reply
    for command in ("assessment", "profile", "export", "delete my data", "reminders", "snooze", "start"):
        reply = await say(server, connector, user.message(command))
        assert "personal chat" in reply, command
    assert not list(server.data_dir.glob("users/*/*.json"))  # nothing kept about people in shared chats


async def test_manager_who_steers_gets_a_personal_english_answer_over_http(server, connector):
    user = TeamsUser(connector, locale="da-DK")
    await say(server, connector, user.install())
    await say(server, connector, user.message("Leder"))
    await say(server, connector, user.message("Jeg styrer udvikling og implementering"))
    reply = await say(server, connector, user.message("what does Innovation mean for me?"))
    assert "You are a manager, and you steer the work when new solutions are developed and introduced." in reply
    assert "That is why **Innovation** matters to you" in reply


async def test_a_failing_turn_apologises_in_the_persons_language_and_resets_the_dialog(
    server, connector, monkeypatch, caplog
):
    import dialogs.router

    user = TeamsUser(connector, locale="en-US")
    await say(server, connector, user.install())
    await say(server, connector, user.message("Manager"))  # a dialog is waiting for the level

    def broken(_text, **_given):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(dialogs.router, "understand", broken)
    reply = await say(server, connector, user.message("private words 123"))
    assert "Sorry, something went wrong" in reply
    assert "RuntimeError" in caplog.text and "broken" in caplog.text  # type and stack frames
    assert "private words 123" not in caplog.text
    monkeypatch.undo()
    reply = await say(server, connector, user.message("3"))  # the old prompt is gone: a fresh start
    assert "How are you usually involved" not in reply and "As a manager" not in reply


# -- local mode is not an open relay (issue 14, defect 9) ------------------------------------


def test_local_mode_listens_on_loopback_unless_told_otherwise(monkeypatch):
    from bot.config import Config

    for name in ("HOST", "MicrosoftAppId", "LOCAL_SERVICE_URLS"):
        monkeypatch.delenv(name, raising=False)
    assert Config.from_env().HOST == "127.0.0.1"  # authentication is off: this machine only
    assert Config().HOST == "127.0.0.1"
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert Config.from_env().HOST == "0.0.0.0"  # asked for: a container, a LAN demo
    monkeypatch.delenv("HOST")
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-000000000001")
    assert Config.from_env().HOST == "0.0.0.0"  # with an app id: every interface, as before


def test_an_unknown_local_service_urls_setting_stops_start_up(monkeypatch):
    from bot.config import Config

    monkeypatch.setenv("LOCAL_SERVICE_URLS", "everything")
    with pytest.raises(SystemExit, match="LOCAL_SERVICE_URLS"):
        Config.from_env()


@pytest.mark.parametrize(
    "service_url",
    [
        "http://169.254.169.254/latest/meta-data/",  # a cloud metadata address
        "http://[fd00:ec2::254]/",
        "https://smba.trafficmanager.net/emea/",
        "http://10.0.0.5:8080/",
        "http://0.0.0.0:9/",
        "http://localhost.evil.example/",
        "http://127.0.0.1.nip.io/",
        "http://2130706433/",
        "http://127.1/",
        "http://[::ffff:10.0.0.1]/",
    ],
)
async def test_local_mode_refuses_a_service_url_off_this_machine(server, connector, service_url):
    user = TeamsUser(connector)
    for activity in (user.install(), user.message("hjælp")):
        activity["serviceUrl"] = service_url
        status, body = await server.post(activity)
        assert status == 400, (service_url, status, body)
        assert "'serviceUrl'" in json.loads(body)["error"]
    assert connector.requests == []
    assert not list(server.data_dir.rglob("*.json")), "something was stored"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST"])
async def test_local_mode_answers_a_loopback_service_url(server, connector, host):
    user = TeamsUser(connector, locale="en-US")
    activity = user.message("help")
    activity["serviceUrl"] = connector.url.replace("127.0.0.1", host)
    status, _ = await server.post(activity)
    assert status == 201 and "I can help you" in connector.all_text()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://127.8.9.10:1/x", "http://[::1]:3978/", "http://[::ffff:127.0.0.1]/"]
)
def test_loopback_addresses(url):
    from bot.activity_checks import is_loopback_url

    assert is_loopback_url(url)


async def test_local_service_urls_any_lets_other_service_urls_through(tmp_path, connector):
    server = BotServer(tmp_path / "data", LOCAL_SERVICE_URLS="any")
    await server.start()
    try:
        activity = TeamsUser(connector).message("hjælp")
        activity["serviceUrl"] = "http://0.0.0.0:1/"  # not loopback by the rule; nothing listens there
        status, _ = await server.post(activity)
        assert status == 201  # taken (the reply then fails to send)
    finally:
        await server.stop()


async def test_the_web_chats_own_direct_line_keeps_working_in_local_mode(server):
    """bot/local/directline.py hands the bot a loopback serviceUrl of its own."""
    async with server.session.post(server.url + "/v3/directline/conversations") as resp:
        assert resp.status == 201
        conversation = await resp.json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    url = f"{server.url}/v3/directline/conversations/{conversation['conversationId']}/activities"
    async with server.session.post(
        url, json={"type": "message", "text": "help", "locale": "en-US"}, headers=headers
    ) as resp:
        assert resp.status == 200
    async with server.session.get(url, headers=headers) as resp:
        texts = [a.get("text") or "" for a in (await resp.json())["activities"]]
    assert any("I can help you" in t for t in texts), texts


async def test_the_stored_conversation_reference_names_the_tenant_and_no_names(server, connector):
    """Nudges are paced per tenant and retention finds whose a document is by this tenant id;
    the SDK's own serialisation drops Teams' `tenantId`. Names are not needed to reach anyone."""
    user = TeamsUser(connector, tenant="tenant-xyz")
    await say(server, connector, user.install())
    reference = (await server.runtime.services.users.get(user.key))["conversation"]
    assert reference["conversation"]["tenantId"] == "tenant-xyz" and "tenantID" not in reference["conversation"]
    assert "name" not in reference["user"] and "name" not in reference.get("bot", {})


# -- old buttons after deletion ---------------------------------------------------------------------
ONBOARD = {"da": ("Leder", "3"), "en": ("Manager", "3")}
IMPROVE = {"da": "hvordan bliver jeg bedre til innovation", "en": "how do I get better at innovation"}
DELETE = {"da": ("slet mine data", "Ja, slet alt"), "en": ("delete my data", "Yes, delete everything")}
LOCALES = {"da": "da-DK", "en": "en-US"}


async def _onboarded(server, connector, lang) -> TeamsUser:
    user = TeamsUser(connector, locale=LOCALES[lang])
    await say(server, connector, user.install())
    for text in ONBOARD[lang]:
        await say(server, connector, user.message(text))
    return user


def _nothing_stored_about(server, user) -> None:
    for needle in (user.aad, user.user_id, user.conversation_id):
        found = subprocess.run(["grep", "-rl", needle, str(server.data_dir)], capture_output=True, text=True)
        assert found.stdout == "", f"{needle} stored again in {found.stdout}"


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_a_goal_button_clicked_after_deletion_stores_nothing_and_says_the_card_is_gone(server, connector, lang):
    from model import content

    user = await _onboarded(server, connector, lang)
    before = len(connector.activities)
    await say(server, connector, user.message(IMPROVE[lang]))
    goal = next(b["data"] for b in connector.buttons(before) if b["data"].get("kh") == "goal")
    for text in DELETE[lang]:
        await say(server, connector, user.message(text))
    assert await server.runtime.services.users.get(user.key) is None

    reply = await say(server, connector, user.message(value=goal))
    assert reply == content.t(lang, "msg.stale_click")
    assert await server.runtime.services.users.get(user.key) is None
    _nothing_stored_about(server, user)
    reply = await say(server, connector, user.message("start"))  # and the way back works
    assert content.t(lang, "msg.ask_role") in reply


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_keep_my_data_clicked_after_retention_deleted_the_person_gets_an_answer(server, connector, lang):
    from model import content

    user = await _onboarded(server, connector, lang)
    await server.runtime.services.users.delete(user.key)  # what retention does to a silent person
    reply = await say(server, connector, user.message(value={"kh": "keep_data"}))
    assert reply == content.t(lang, "msg.stale_click")
    assert await server.runtime.services.users.get(user.key) is None
    _nothing_stored_about(server, user)


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_keep_my_data_clicked_again_gets_an_answer_too(server, connector, lang):
    from model import content

    user = await _onboarded(server, connector, lang)
    reply = await say(server, connector, user.message(value={"kh": "keep_data"}))
    assert reply == content.t(lang, "retention.kept")


async def test_a_file_consent_accepted_after_deletion_uploads_nothing(server, connector):
    from model import content

    user = await _onboarded(server, connector, "da")
    before = len(connector.activities)
    await say(server, connector, user.message("eksport"))
    accept = connector.accept_file(user, before)
    for text in DELETE["da"]:
        await say(server, connector, user.message(text))
    after = len(connector.activities)
    status, _ = await server.post(accept)
    assert status == 200 and connector.uploads == {}
    assert connector.all_text(after) == content.t("da", "msg.stale_click")
    _nothing_stored_about(server, user)


async def test_a_new_person_in_web_chat_can_click_the_greeting_buttons(server, connector):
    """Web Chat greets on conversationUpdate, before anything is stored: the first click on
    the greeting's buttons is onboarding, not a stale card (a dialog is running)."""
    user = TeamsUser(connector)
    update = user.activity("conversationUpdate", membersAdded=[{"id": user.user_id}])
    before = len(connector.activities)
    await say(server, connector, update)
    from model import content

    frontline = content.t("da", "roles.frontline.button")
    role = next(b["data"] for b in connector.buttons(before) if b.get("title") == frontline)
    reply = await say(server, connector, user.message(value=role))

    assert content.t("da", "msg.ask_level") in reply and content.t("da", "msg.stale_click") not in reply
