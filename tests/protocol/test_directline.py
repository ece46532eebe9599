"""The app's own Direct Line 3.0 endpoint (bot/local/directline.py) over HTTP, as Web Chat uses it:
start a conversation, poll with a watermark, post activities; the bot's replies come back
through the connector endpoint the activity's serviceUrl points at. Plus the page, local
mode only, and the bounded in-memory store."""

from __future__ import annotations

import json

import aiohttp
import pytest
from conftest import BotServer, readable

from bot.local.directline import CONNECTOR, DIRECTLINE_KEY, ConversationStore
from model import content
from model.domain.users import user_key

DL = "/v3/directline"


class Client:
    """What botframework-directlinejs does, over plain HTTP."""

    def __init__(self, server: BotServer, user_id: str = "web_0123456789abcdef", locale: str | None = "da-DK"):
        self.server = server
        self.user_id = user_id
        self.locale = locale
        self.token = ""
        self.conversation_id = ""
        self.watermark = ""
        self.seen: list[dict] = []

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token or 'undefined'}"}

    async def start(self) -> dict:
        body = {"user": {"id": self.user_id}}
        if self.locale:
            body["locale"] = self.locale
        async with self.server.session.post(
            self.server.url + DL + "/conversations", json=body, headers=self.headers
        ) as resp:
            assert resp.status == 201, await resp.text()
            data = await resp.json()
        self.token, self.conversation_id = data["token"], data["conversationId"]
        return data

    async def poll(self) -> list[dict]:
        url = f"{self.server.url}{DL}/conversations/{self.conversation_id}/activities?watermark={self.watermark}"
        async with self.server.session.get(url, headers=self.headers) as resp:
            assert resp.status == 200, await resp.text()
            data = await resp.json()
        self.watermark = data["watermark"]
        self.seen += data["activities"]
        return data["activities"]

    async def post(self, activity: dict) -> tuple[int, dict]:
        activity = {"from": {"id": self.user_id, "role": "user"}, "locale": self.locale, **activity}
        url = f"{self.server.url}{DL}/conversations/{self.conversation_id}/activities"
        async with self.server.session.post(url, json=activity, headers=self.headers) as resp:
            return resp.status, await resp.json()

    async def say(self, text: str | None = None, value: dict | None = None) -> list[dict]:
        activity: dict = {"type": "message", "channelData": {"clientActivityID": f"c{len(self.seen)}"}}
        if text is not None:
            activity["text"] = text
        if value is not None:
            activity["value"] = value
        status, body = await self.post(activity)
        assert status == 200, body
        return await self.poll()


def text_of(activities: list[dict]) -> str:
    return "\n".join(p for act in activities for p in readable(act) if p)


async def test_a_conversation_starts_with_the_greeting(server):
    client = Client(server)
    data = await client.start()
    assert data["expires_in"] > 0 and data["token"] and data["conversationId"]
    greeting = await client.poll()
    said = text_of(greeting)
    assert content.t("da", "msg.ask_role") in said and "Udvikling og implementering" in said
    assert all(a["from"]["role"] == "bot" and a["channelId"] == "directline" for a in greeting)
    assert all("serviceUrl" not in a and a["timestamp"].endswith("Z") for a in greeting)
    assert greeting[-1]["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert client.watermark == str(len(greeting))
    assert await client.poll() == []  # nothing new past the watermark
    assert client.watermark == str(len(greeting))


async def test_the_users_message_is_echoed_then_answered_in_order(server):
    client = Client(server)
    await client.start()
    await client.poll()
    status, body = await client.post({"type": "message", "text": "Leder", "channelData": {"clientActivityID": "abc-1"}})
    assert status == 200 and body["id"].startswith(client.conversation_id + "|")
    activities = await client.poll()
    echo, replies = activities[0], activities[1:]
    assert echo["id"] == body["id"] and echo["text"] == "Leder"
    assert echo["from"] == {"id": client.user_id, "role": "user"}
    assert echo["channelData"] == {"clientActivityID": "abc-1"}  # how Web Chat recognises its own message
    assert content.t("da", "msg.ask_level") in text_of(replies)
    ids = [a["id"] for a in activities]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_onboarding_and_the_assessment_card_submit_over_direct_line(server):
    client = Client(server)
    await client.start()
    await client.poll()
    await client.say("Leder")
    overview = text_of(await client.say("Jeg styrer udvikling og implementering"))
    assert "Innovation" in overview
    card_activities = await client.say("vurdering")
    card = next(
        att["content"]
        for act in card_activities
        for att in act.get("attachments") or []
        if att["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    data = card["actions"][0]["data"]
    ids = [e["id"] for e in card["body"] if e.get("type") == "Input.ChoiceSet"]
    value = {**data, **{i: str(n) for n, i in enumerate(ids, start=2)}, "note": "mere om anskaffelse"}
    saved = text_of(await client.say(value=value))
    assert "2/5" in saved and "4/5" in saved
    key = user_key(None, client.user_id)
    doc = await server.runtime.services.users.get(key)
    assert doc["profile"]["role"] == "manager"
    assert doc["assessments"][0]["scores"] == {i: n for n, i in enumerate(ids, start=2)}
    assert doc["assessments"][0]["note"] == "mere om anskaffelse"


async def test_english_locale_greets_in_english(server):
    client = Client(server, locale="en-US")
    await client.start()
    said = text_of(await client.poll())
    assert content.t("en", "msg.ask_role") in said
    assert "Development and implementation" in said


async def test_service_url_is_the_socket_address_not_the_host_header(server):
    client = Client(server)
    async with server.session.post(
        server.url + DL + "/conversations", json={"user": {"id": "web_x"}}, headers={"Host": "evil.example:4444"}
    ) as resp:
        data = await resp.json()
    client.token, client.conversation_id = data["token"], data["conversationId"]
    client.user_id = "web_x"
    await client.say("hjælp")
    doc = await server.runtime.services.users.get(user_key(None, "web_x"))
    service_url = doc["conversation"]["serviceUrl"]
    assert service_url.startswith(server.url + CONNECTOR + "/"), service_url
    assert doc["conversation"]["channelId"] == "directline"


async def test_tokens_generate_then_start_gives_the_same_conversation_and_one_greeting(server):
    async with server.session.post(
        server.url + DL + "/tokens/generate", json={"user": {"id": "web_gen"}, "locale": "da-DK"}
    ) as resp:
        assert resp.status == 200
        generated = await resp.json()
    client = Client(server, user_id="web_gen")
    client.token = generated["token"]
    started = await client.start()
    assert started["conversationId"] == generated["conversationId"]
    greeting = text_of(await client.poll())
    assert greeting.count(content.t("da", "msg.ask_role")) == 1
    async with server.session.post(server.url + DL + "/tokens/refresh", headers=client.headers) as resp:
        assert resp.status == 200 and (await resp.json())["token"] == client.token
    async with server.session.get(
        f"{server.url}{DL}/conversations/{client.conversation_id}", headers=client.headers
    ) as resp:
        assert resp.status == 200 and (await resp.json())["conversationId"] == client.conversation_id


async def test_wrong_token_unknown_conversation_and_bad_activities_are_refused(server):
    client = Client(server)
    await client.start()
    base = f"{server.url}{DL}/conversations"
    async with server.session.get(
        f"{base}/{client.conversation_id}/activities", headers={"Authorization": "Bearer nope"}
    ) as resp:
        assert resp.status == 403  # directlinejs: expired token
    async with server.session.get(f"{base}/{client.conversation_id}/activities") as resp:
        assert resp.status == 403
    async with server.session.get(
        f"{base}/{client.conversation_id}/activities",
        headers={"Authorization": "Bearer bl\u00e5b\u00e6r".encode().decode("latin-1")},
    ) as resp:
        assert resp.status == 403
    async with server.session.get(f"{base}/does-not-exist/activities", headers=client.headers) as resp:
        assert resp.status == 404  # directlinejs: conversation ended
    async with server.session.post(
        f"{base}/{client.conversation_id}/activities",
        data=b"{nope",
        headers={**client.headers, "Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
    before = await client.poll()
    for bad in ({"type": "invoke", "name": "x"}, {"text": "no type"}, {"type": "message", "text": 5}):
        status, _ = await client.post(bad)
        assert status == 400, bad
    assert before and await client.poll() == []  # refused activities are not echoed either
    async with server.session.post(
        server.url + DL + "/tokens/refresh", headers={"Authorization": "Bearer nope"}
    ) as resp:
        assert resp.status == 403


async def test_over_long_text_is_cut_before_the_bot_sees_it(server):
    client = Client(server)
    await client.start()
    await client.poll()
    status, _ = await client.post({"type": "message", "text": "x" * 10_000})
    assert status == 200
    echo, *replies = await client.poll()
    assert echo["text"] == "x" * server.runtime.config.MAX_TEXT_CHARS  # what the bot was handed
    assert replies  # and it answered normally


async def test_only_the_bot_can_post_to_the_connector(server):
    client = Client(server)
    await client.start()
    for wrong in ("wrong-key", "n%C3%B8gle"):
        url = f"{server.url}{CONNECTOR}/{wrong}/v3/conversations/{client.conversation_id}/activities"
        async with server.session.post(url, json={"type": "message", "text": "forged"}) as resp:
            assert resp.status == 404
    key = server.runtime.app[DIRECTLINE_KEY].key
    url = f"{server.url}{CONNECTOR}/{key}/v3/conversations/unknown/activities"
    async with server.session.post(url, json={"type": "message", "text": "x"}) as resp:
        assert resp.status == 404
    url = f"{server.url}{CONNECTOR}/{key}/v3/conversations/{client.conversation_id}/activities/act-1"
    async with server.session.post(
        url,
        json={
            "type": "message",
            "text": "hej",
            "replyToId": "act-1",
            "from": {"id": "someone", "name": "X", "role": "user"},
        },
    ) as resp:
        assert resp.status == 200
    last = (await client.poll())[-1]
    assert last["text"] == "hej" and last["from"]["role"] == "bot" and "replyToId" not in last


async def test_conversations_do_not_mix(server):
    a, b = Client(server, user_id="web_aaaa"), Client(server, user_id="web_bbbb", locale="en-US")
    await a.start()
    await b.start()
    await a.poll()
    await b.poll()
    said_a = text_of(await a.say("Leder"))
    said_b = text_of(await b.say("help"))
    assert content.t("da", "msg.ask_level") in said_a and content.t("da", "msg.ask_level") not in said_b
    assert all(x["conversation"]["id"] == a.conversation_id for x in a.seen)
    assert all(x["conversation"]["id"] == b.conversation_id for x in b.seen)


async def test_page_icon_and_local_webchat_js(tmp_path):
    script = tmp_path / "webchat.js"
    script.write_text("window.WebChat = {};")
    server = BotServer(tmp_path / "data", WEBCHAT_JS=str(script))
    await server.start()
    try:
        async with server.session.get(server.url + "/") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
            page = await resp.text()
        config = json.loads(page.split('type="application/json">', 1)[1].split("</script>", 1)[0])
        assert config["webchatSrc"] == "/webchat.js" and config["directLine"] == DL
        assert config["botName"]["da"] == content.t("da", "bot_name")
        async with server.session.get(server.url + "/webchat.js") as resp:
            assert resp.status == 200 and await resp.text() == "window.WebChat = {};"
        async with server.session.get(server.url + "/icon.png") as resp:
            assert resp.status == 200 and (await resp.read())[:8] == b"\x89PNG\r\n\x1a\n"
        for asset in ("webchat.css", "webchat-page.js"):
            async with server.session.get(server.url + "/webchat/" + asset) as resp:
                assert resp.status == 200
        async with server.session.get(server.url + "/webchat/../directline.py") as resp:
            assert resp.status == 404
    finally:
        await server.stop()


async def test_page_uses_the_official_cdn_by_default(server):
    async with server.session.get(server.url + "/") as resp:
        page = await resp.text()
    assert "https://cdn.botframework.com/botframework-webchat/4.18.1/webchat.js" in page
    async with server.session.get(server.url + "/webchat.js") as resp:
        assert resp.status == 404


async def test_nothing_of_this_exists_outside_local_mode(tmp_path):
    server = BotServer(
        tmp_path / "data",
        APP_ID="00000000-0000-0000-0000-000000000001",
        APP_PASSWORD="not-a-real-secret",
        WEBCHAT_JS=str(tmp_path / "webchat.js"),
    )
    await server.start()
    try:
        for method, path in (
            ("GET", "/"),
            ("GET", "/webchat.js"),
            ("GET", "/icon.png"),
            ("GET", "/webchat/webchat-page.js"),
            ("POST", DL + "/conversations"),
            ("POST", DL + "/tokens/generate"),
            ("GET", DL + "/conversations/x/activities"),
            ("POST", CONNECTOR + "/k/v3/conversations/x/activities"),
        ):
            async with server.session.request(method, server.url + path, json={}) as resp:
                assert resp.status in (404, 405), (method, path, resp.status)
                assert resp.status == 404 or method == "POST"
    finally:
        await server.stop()


@pytest.mark.slow
def test_the_served_app_prints_the_web_chat_url(tmp_path):
    """`make run` runs `python app.py`: in local mode it names the page's address."""
    import browser_setup as bs

    with bs.app_server(tmp_path / "data", tmp_path / "logs") as url:
        port = url.rsplit(":", 1)[1]
    log = next((tmp_path / "logs").glob("app-*.log")).read_text()
    assert f"web chat: open http://localhost:{port}/ in a browser" in log


# -- the bounded store ---------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_store_evicts_the_least_recently_used_conversation():
    store = ConversationStore(max_conversations=3)
    convs = [store.create({"id": f"u{i}"}, None) for i in range(3)]
    store.get(convs[0].id)  # used again: now the newest
    fourth = store.create({"id": "u3"}, None)
    assert len(store) == 3
    assert store.get(convs[1].id) is None and store.by_token(convs[1].token) is None
    assert store.get(convs[0].id) is convs[0] and store.get(fourth.id) is fourth


def test_store_caps_activities_and_bytes_and_keeps_the_watermark_absolute():
    store = ConversationStore(max_activities=5, max_bytes=10_000)
    conv = store.create({"id": "u"}, None)
    for i in range(8):
        store.append(conv, {"type": "message", "text": f"m{i}"})
    activities, mark = store.since(conv, 0)
    assert [a["text"] for a in activities] == ["m3", "m4", "m5", "m6", "m7"] and mark == "8"
    assert [a["text"] for a in store.since(conv, 6)[0]] == ["m6", "m7"]
    store.append(conv, {"type": "message", "text": "x" * 9_000})
    activities, mark = store.since(conv, 0)
    assert conv.bytes <= 10_000 and activities[-1]["text"].startswith("xxx") and mark == "9"
    store.append(conv, {"type": "message", "text": "y" * 20_000})  # alone over the budget: not kept
    assert conv.bytes <= 10_000 and store.since(conv, 0) == ([], "10")


def test_store_expires_idle_conversations():
    clock = Clock()
    store = ConversationStore(idle_seconds=60, clock=clock)
    old = store.create({"id": "a"}, None)
    clock.now += 30
    fresh = store.create({"id": "b"}, None)
    clock.now += 40  # old idle 70 s, fresh 40 s
    assert store.get(old.id) is None and store.by_token(old.token) is None
    assert store.get(fresh.id) is fresh
    clock.now += 61
    store.create({"id": "c"}, None)  # creating sweeps
    assert len(store) == 1


@pytest.mark.parametrize("watermark", ["", "abc", "-1", "0"])
async def test_odd_watermarks_mean_from_the_start(server, watermark):
    client = Client(server)
    await client.start()
    url = f"{server.url}{DL}/conversations/{client.conversation_id}/activities?watermark={watermark}"
    async with server.session.get(url, headers=client.headers) as resp:
        data = await resp.json()
    assert data["activities"] and data["watermark"] == str(len(data["activities"]))


async def test_an_aiohttp_client_without_a_body_can_start(server):
    async with aiohttp.ClientSession() as session:
        async with session.post(server.url + DL + "/conversations") as resp:
            assert resp.status == 201
            data = await resp.json()
        async with session.get(
            f"{server.url}{DL}/conversations/{data['conversationId']}/activities",
            headers={"Authorization": f"Bearer {data['token']}"},
        ) as resp:
            activities = (await resp.json())["activities"]
    assert activities and activities[0]["recipient"]["id"].startswith("kh_")


# -- other web pages in the same browser ---------------------------------------------------------
def _state_files(server) -> int:
    folder = server.data_dir / "state"
    return sum(1 for _ in folder.rglob("*.json")) if folder.exists() else 0


CROSS_SITE = {
    # what a page on another site can send without a CORS preflight: a form or no-cors fetch
    "text/plain from another site": (
        {"Content-Type": "text/plain", "Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"},
        b'{"user": {"id": "web_attacker"}}',
    ),
    "text/plain without browser headers": ({"Content-Type": "text/plain"}, b'{"user": {"id": "web_attacker"}}'),
    "a form post": ({"Content-Type": "application/x-www-form-urlencoded"}, b"user=web_attacker"),
    "JSON from another origin": (
        {"Content-Type": "application/json", "Origin": "http://localhost:1"},
        b'{"user": {"id": "web_attacker"}}',
    ),
    "JSON marked cross-site": (
        {"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
        b'{"user": {"id": "web_attacker"}}',
    ),
    "an empty post from another site": ({"Origin": "https://attacker.example"}, b""),
    "origin null (a sandboxed frame)": ({"Content-Type": "application/json", "Origin": "null"}, b"{}"),
}


@pytest.mark.parametrize("case", list(CROSS_SITE))
async def test_other_sites_cannot_start_conversations_or_post(server, case):
    headers, body = CROSS_SITE[case]
    directline = server.runtime.app[DIRECTLINE_KEY]
    client = Client(server)
    await client.start()  # one real conversation, to post into
    conversations, states = len(directline.store), _state_files(server)
    for path in ("/conversations", "/tokens/generate", f"/conversations/{client.conversation_id}/activities"):
        for _ in range(20):
            async with server.session.post(
                server.url + DL + path, data=body, headers={**client.headers, **headers}
            ) as resp:
                assert 400 <= resp.status < 500, (path, resp.status)
    assert len(directline.store) == conversations, "a conversation was created"
    assert _state_files(server) == states, "dialog state was written"
    assert all(a.get("from", {}).get("id") != "web_attacker" for a in await client.poll())


async def test_the_page_itself_still_starts_and_posts_with_its_own_origin(server):
    """What Web Chat's Direct Line client sends from the page: JSON, Origin = this server,
    Sec-Fetch-Site: same-origin."""
    browser = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    async with server.session.post(
        server.url + DL + "/conversations", json={"user": {"id": "web_page"}, "locale": "da-DK"}, headers=browser
    ) as resp:
        assert resp.status == 201
        data = await resp.json()
    client = Client(server, user_id="web_page")
    client.token, client.conversation_id = data["token"], data["conversationId"]
    url = f"{server.url}{DL}/conversations/{client.conversation_id}/activities"
    async with server.session.post(
        url,
        json={"type": "message", "text": "hjælp", "from": {"id": "web_page"}},
        headers={**client.headers, **browser},
    ) as resp:
        assert resp.status == 200
    assert "Du kan skrive" in text_of(await client.poll())
    async with server.session.post(server.url + DL + "/tokens/refresh", headers={**client.headers, **browser}) as resp:
        assert resp.status == 200  # Web Chat refreshes without a body
