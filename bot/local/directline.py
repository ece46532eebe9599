"""A small Direct Line 3.0 service inside the app, and the web chat page that uses it.

Local mode only (no MicrosoftAppId): without an app id nothing here is registered, so
every route below answers 404. It lets anyone try the bot in a browser with the official
Bot Framework Web Chat, no Azure Bot resource needed:

    GET  /                                          the web chat page (Web Chat from its CDN,
                                                    or from WEBCHAT_JS served at /webchat.js)
    POST /v3/directline/tokens/generate             a conversation id and token, not started yet
    POST /v3/directline/tokens/refresh              the same token, with a new lifetime
    POST /v3/directline/conversations               start a conversation (greets the person)
    GET  /v3/directline/conversations/{id}          reconnect (polling only: no streamUrl)
    GET  /v3/directline/conversations/{id}/activities?watermark=N
    POST /v3/directline/conversations/{id}/activities

The user's activity gets its id, timestamp, from, recipient, conversation, channelId
"directline" and a serviceUrl, is queued for the client (real Direct Line echoes the
user's own activities too) and handed to the bot as the Bot Framework would. The bot
answers through its ConnectorClient, which posts to serviceUrl; serviceUrl points at a
small connector endpoint served here (`/v3/directline/_connector/{key}/v3/conversations/...`,
`key` random per process so that only the bot itself can post as the bot), which queues
the reply for the client. Memory is bounded: conversations, activities and bytes per
conversation are capped and idle conversations expire.

**Other web pages cannot use it.** Any page open in the same browser can send a "simple"
cross-site POST (`text/plain`, no preflight) to localhost, and 200 of them made 200
conversations and state files. So a POST with a body must be `application/json` (415
otherwise; a browser sends that cross-site only after a CORS preflight, which this server
never grants), and a POST from a browser must come from this server's own page: an
`Origin` header, when there is one, must be this server's origin, and
`Sec-Fetch-Site: cross-site` is refused (403). Web Chat's Direct Line client sends JSON
from the page itself; command-line clients send neither header.
"""

from __future__ import annotations

import copy
import json
import logging
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from model.safe_log import without_message

from ..config import Config

log = logging.getLogger("kompetencehjulet.directline")

PREFIX = "/v3/directline"
CONNECTOR = PREFIX + "/_connector"
CHANNEL_ID = "directline"
BOT_ID = "kompetencehjulet-bot"
WEBCHAT_VERSION = "4.18.1"  # the version the browser tests run; the CDN's "latest" could change under us
WEBCHAT_CDN = f"https://cdn.botframework.com/botframework-webchat/{WEBCHAT_VERSION}/webchat.js"
PAGE_DIR = Path(__file__).resolve().parent / "webchat"

MAX_CONVERSATIONS = 100  # the least recently used one goes first
MAX_ACTIVITIES = 300  # per conversation, oldest dropped first
MAX_BYTES = 4 * 1024 * 1024  # per conversation (a wheel picture is about 30 KB)
IDLE_SECONDS = 1800  # a conversation nobody touched for this long is gone
CLIENT_TYPES = ("message", "event", "typing")  # what a client may send
_CLIENT_FIELDS = (
    "type",
    "text",
    "textFormat",
    "value",
    "name",
    "locale",
    "channelData",
    "entities",
    "attachments",
    "attachmentLayout",
    "inputHint",
    "speak",
    "localTimestamp",
    "localTimezone",
    "valueType",
    "label",
)
_MAX_ID = 128


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _size(activity: dict) -> int:
    return len(json.dumps(activity, ensure_ascii=False, separators=(",", ":")))


@dataclass
class Conversation:
    id: str
    token: str
    user: dict
    locale: str | None
    last_used: float
    started: bool = False
    next_seq: int = 0
    bytes: int = 0
    service_url: str = ""
    bot_name: str = "Bot"
    queue: deque = field(default_factory=deque)  # (seq, activity, size)

    def seen(self, activity_id: str) -> bool:
        return any(act.get("id") == activity_id for _, act, _ in self.queue)


class ConversationStore:
    """In-memory conversations with their activity queues, bounded in number, size and age."""

    def __init__(
        self,
        *,
        max_conversations: int = MAX_CONVERSATIONS,
        max_activities: int = MAX_ACTIVITIES,
        max_bytes: int = MAX_BYTES,
        idle_seconds: float = IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_conversations = max_conversations
        self.max_activities = max_activities
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._conversations: "OrderedDict[str, Conversation]" = OrderedDict()
        self._by_token: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._conversations)

    def create(self, user: dict, locale: str | None) -> Conversation:
        self.sweep()
        while len(self._conversations) >= self.max_conversations:
            _, oldest = self._conversations.popitem(last=False)
            self._by_token.pop(oldest.token, None)
        cid = secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")
        conv = Conversation(id=cid, token=secrets.token_urlsafe(32), user=user, locale=locale, last_used=self.clock())
        self._conversations[cid] = conv
        self._by_token[conv.token] = cid
        return conv

    def get(self, cid: str) -> Conversation | None:
        conv = self._conversations.get(cid)
        if conv is None:
            return None
        if self.clock() - conv.last_used > self.idle_seconds:
            self._drop(conv)
            return None
        conv.last_used = self.clock()
        self._conversations.move_to_end(cid)
        return conv

    def by_token(self, token: str) -> Conversation | None:
        cid = self._by_token.get(token or "")
        return self.get(cid) if cid else None

    def sweep(self) -> None:
        cutoff = self.clock() - self.idle_seconds
        for conv in [c for c in self._conversations.values() if c.last_used < cutoff]:
            self._drop(conv)

    def _drop(self, conv: Conversation) -> None:
        self._conversations.pop(conv.id, None)
        self._by_token.pop(conv.token, None)

    def append(self, conv: Conversation, activity: dict) -> str:
        """Queue an activity for the client; gives it the next id; drops the oldest past the caps."""
        seq = conv.next_seq
        conv.next_seq += 1
        activity["id"] = f"{conv.id}|{seq:07d}"
        size = _size(activity)
        conv.queue.append((seq, activity, size))
        conv.bytes += size
        while conv.queue and (len(conv.queue) > self.max_activities or conv.bytes > self.max_bytes):
            _, _, dropped = conv.queue.popleft()
            conv.bytes -= dropped
        conv.last_used = self.clock()
        return activity["id"]

    @staticmethod
    def since(conv: Conversation, watermark: int) -> tuple[list[dict], str]:
        activities = [act for seq, act, _ in conv.queue if seq >= watermark]
        return activities, str(conv.next_seq)


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def _same(given: str, secret: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (compare_digest on str does not)."""
    return secrets.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _foreign(request: web.Request) -> web.Response | None:
    """403 for a POST another site's page sent, 415 for a body that is not JSON, else None
    (see the module docstring)."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return _error(403, "Forbidden", "Requests from other sites are not accepted")
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower().rstrip("/") != f"{request.scheme}://{request.host}".lower():
        return _error(403, "Forbidden", "Requests from other origins are not accepted")
    if request.body_exists and request.content_type != "application/json":
        return _error(415, "BadArgument", "Send the body as application/json")
    return None


def _guarded(handler: Callable[[Any, web.Request], Any]) -> Callable[[Any, web.Request], Any]:
    """A POST handler that first refuses what _foreign refuses."""

    async def guarded(self: Any, request: web.Request) -> web.StreamResponse:
        return _foreign(request) or await handler(self, request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


def _clean_str(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class DirectLine:
    """The Direct Line endpoints and the connector endpoint the bot replies to."""

    def __init__(
        self, config: Config, adapter, bot, store: ConversationStore | None = None, bot_name: str = "Kompetencehjulet"
    ) -> None:
        from ..activity_checks import validate_activity  # the same checks as /api/messages

        self.config = config
        self.adapter = adapter
        self.bot = bot
        self.store = store or ConversationStore()
        self.bot_name = bot_name
        self.key = secrets.token_hex(16)
        self._validate = validate_activity

    # -- helpers ---------------------------------------------------------------------------
    def service_url(self, request: web.Request) -> str:
        """Where the bot posts its replies: this very server, at the address the request came
        in on (the socket's, not the Host header's, so a client cannot point the bot elsewhere)."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if isinstance(sockname, tuple) and len(sockname) >= 2:
            host, port = sockname[0], sockname[1]
            if host in ("0.0.0.0", "::", ""):
                host = "127.0.0.1"
            if ":" in host:
                host = f"[{host}]"
            base = f"http://{host}:{port}"
        else:
            base = str(request.url.origin())
        return f"{base}{CONNECTOR}/{self.key}"

    def _bot_account(self) -> dict:
        return {"id": BOT_ID, "name": self.bot_name, "role": "bot"}

    def _conversation_for(self, request: web.Request) -> Conversation | web.Response:
        """The conversation a client request names, or the answer that refuses it."""
        conv = self.store.get(request.match_info["conversation_id"])
        if conv is None:
            return _error(404, "BadArgument", "Conversation not found or expired")
        if not _same(_bearer(request), conv.token):
            return _error(403, "TokenExpired", "Missing or wrong token for this conversation")
        return conv

    def _conversation_json(self, conv: Conversation, status: int = 200) -> web.Response:
        return web.json_response(
            {"conversationId": conv.id, "token": conv.token, "expires_in": int(self.store.idle_seconds)}, status=status
        )

    async def _to_bot(self, activity) -> bool:
        """Hand one activity to the bot, as the Bot Framework would; False when the turn failed."""
        try:
            await self.adapter.process_activity("", activity, self.bot.on_turn)
        except Exception as err:  # noqa: BLE001 - the turn error handler already apologised
            log.error(
                "the bot failed on a %s activity from the local Direct Line: %s", activity.type, without_message(err)
            )
            return False
        return True

    async def _start(self, request: web.Request, conv: Conversation) -> None:
        """conversationUpdate with the user added, so the bot greets, as Direct Line does."""
        conv.started = True
        conv.service_url = self.service_url(request)
        update = {
            "type": "conversationUpdate",
            "id": f"{conv.id}|start",
            "timestamp": _now_iso(),
            "channelId": CHANNEL_ID,
            "serviceUrl": conv.service_url,
            "conversation": {"id": conv.id},
            "from": dict(conv.user),
            "recipient": self._bot_account(),
            "membersAdded": [dict(conv.user)],
            "membersRemoved": [],
        }
        if conv.locale:
            update["locale"] = conv.locale
        activity, reason = self._validate(update, self.config.MAX_TEXT_CHARS)
        if activity is None:  # cannot happen with the fields above; kept loud if it ever does
            log.error("conversationUpdate rejected: %s", reason)
            return
        await self._to_bot(activity)

    # -- Direct Line: tokens and conversations -------------------------------------------------
    def _new_conversation(self, body: Any) -> Conversation:
        body = body if isinstance(body, dict) else {}
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        user_id = _clean_str(user.get("id"), _MAX_ID) or f"kh_{secrets.token_hex(8)}"
        account = {"id": user_id, "role": "user"}
        name = _clean_str(user.get("name"), 100)
        if name:
            account["name"] = name
        return self.store.create(account, _clean_str(body.get("locale"), 20))

    async def _json_body(self, request: web.Request) -> Any:
        if not request.body_exists:
            return None
        try:
            return await request.json()
        except (ValueError, UnicodeDecodeError):
            return None

    @_guarded
    async def generate_token(self, request: web.Request) -> web.Response:
        conv = self._new_conversation(await self._json_body(request))
        return self._conversation_json(conv)

    @_guarded
    async def refresh_token(self, request: web.Request) -> web.Response:
        conv = self.store.by_token(_bearer(request))
        if conv is None:
            return _error(403, "TokenExpired", "Unknown or expired token")
        return self._conversation_json(conv)

    @_guarded
    async def start_conversation(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        conv = self.store.by_token(_bearer(request))  # a token from tokens/generate
        if conv is None:
            conv = self._new_conversation(body)
        elif isinstance(body, dict) and not conv.locale:
            conv.locale = _clean_str(body.get("locale"), 20)
        created = not conv.started
        if created:
            await self._start(request, conv)
        return self._conversation_json(conv, status=201 if created else 200)

    async def reconnect(self, request: web.Request) -> web.Response:
        conv = self._conversation_for(request)
        return conv if isinstance(conv, web.Response) else self._conversation_json(conv)

    # -- Direct Line: activities ------------------------------------------------------------------
    async def get_activities(self, request: web.Request) -> web.Response:
        conv = self._conversation_for(request)
        if isinstance(conv, web.Response):
            return conv
        raw = request.query.get("watermark", "")
        watermark = int(raw) if raw.isdigit() else 0
        activities, mark = self.store.since(conv, watermark)
        return web.json_response({"activities": activities, "watermark": mark})

    @_guarded
    async def post_activity(self, request: web.Request) -> web.Response:
        conv = self._conversation_for(request)
        if isinstance(conv, web.Response):
            return conv
        body = await self._json_body(request)
        if not isinstance(body, dict):
            return _error(400, "BadArgument", "The body must be a JSON activity")
        if body.get("type") not in CLIENT_TYPES:
            return _error(400, "BadArgument", f"'type' must be one of {', '.join(CLIENT_TYPES)}")
        activity = {k: copy.deepcopy(body[k]) for k in _CLIENT_FIELDS if k in body}
        if isinstance(activity.get("text"), str):
            activity["text"] = activity["text"][: self.config.MAX_TEXT_CHARS]  # what the bot will see
        sender = dict(conv.user)
        name = _clean_str((body.get("from") or {}).get("name") if isinstance(body.get("from"), dict) else None, 100)
        if name:
            sender["name"] = name
        activity.update(
            {
                "timestamp": _now_iso(),
                "channelId": CHANNEL_ID,
                "from": sender,
                "conversation": {"id": conv.id},
                "recipient": self._bot_account(),
            }
        )
        if conv.locale and not activity.get("locale"):
            activity["locale"] = conv.locale
        turn = copy.deepcopy(activity)
        turn.update({"id": "pending", "serviceUrl": conv.service_url or self.service_url(request)})
        parsed, reason = self._validate(turn, self.config.MAX_TEXT_CHARS)
        if parsed is None:
            return _error(400, "BadArgument", reason or "bad activity")
        if not conv.started:  # a token from tokens/generate, used without starting the conversation
            await self._start(request, conv)
        parsed.id = self.store.append(conv, activity)  # the client's echo, queued before any reply
        if not await self._to_bot(parsed):
            return _error(502, "BotError", "The bot could not handle the activity")
        return web.json_response({"id": parsed.id})

    # -- the connector the bot replies to ------------------------------------------------------------
    def _connector_conversation(self, request: web.Request) -> Conversation | web.Response:
        """The conversation a connector request names, or the answer that refuses it."""
        if not _same(request.match_info["key"], self.key):
            return _error(404, "NotFound", "Unknown connector")
        conv = self.store.get(request.match_info["conversation_id"])
        if conv is None:
            return _error(404, "ConversationNotFound", "Conversation not found or expired")
        return conv

    @_guarded
    async def bot_activity(self, request: web.Request) -> web.Response:
        """ConnectorClient: send_to_conversation and reply_to_activity land here."""
        conv = self._connector_conversation(request)
        if isinstance(conv, web.Response):
            return conv
        body = await self._json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _error(400, "BadArgument", "The body must be a JSON activity")
        body.pop("serviceUrl", None)  # the client has no use for it
        body["conversation"] = {"id": conv.id}
        body["channelId"] = CHANNEL_ID
        sender = body.get("from")
        given = {k: v for k, v in sender.items() if k in ("id", "name")} if isinstance(sender, dict) else {}
        body["from"] = {**self._bot_account(), **given}
        body["from"]["role"] = "bot"
        body["recipient"] = dict(conv.user)
        body.setdefault("timestamp", _now_iso())
        reply_to = body.get("replyToId")
        if reply_to and not conv.seen(reply_to):
            body.pop("replyToId")  # e.g. the greeting answers the conversationUpdate the client never saw
        return web.json_response({"id": self.store.append(conv, body)})

    async def members(self, request: web.Request) -> web.Response:
        conv = self._connector_conversation(request)
        if isinstance(conv, web.Response):
            return conv
        return web.json_response([conv.user, self._bot_account()])


# -- the page ------------------------------------------------------------------------------------------
DIRECTLINE_KEY = web.AppKey("kh.directline", DirectLine)


def page_config(config: Config) -> dict:
    from model import content

    return {
        "webchatSrc": "/webchat.js" if config.WEBCHAT_JS else WEBCHAT_CDN,
        "directLine": PREFIX,
        "botName": {lang: content.t(lang, "bot_name") for lang in content.LANGUAGES},
        "description": {lang: content.t(lang, "bot_short_description") for lang in content.LANGUAGES},
        "texts": {lang: content.lookup(lang, "local") for lang in content.LANGUAGES},
    }


def render_page(config: Config) -> str:
    template = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    blob = json.dumps(page_config(config), ensure_ascii=False).replace("<", "\\u003c")
    return template.replace("/*KH_CONFIG*/{}", blob)


def mount(app: web.Application, config: Config, adapter: Any, bot: Any) -> None:
    """The page and the Direct Line routes; the entry point calls this in local mode only."""
    from model import content

    directline = DirectLine(config, adapter, bot, bot_name=content.t(content.DEFAULT_LANGUAGE, "bot_name"))
    app[DIRECTLINE_KEY] = directline
    page = render_page(config)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8", headers=headers)

    icon: list[bytes] = []

    async def icon_png(_: web.Request) -> web.Response:
        if not icon:
            from ..ops.teams_package import color_icon

            icon.append(color_icon(96))
        return web.Response(body=icon[0], content_type="image/png", headers={"Cache-Control": "max-age=3600"})

    static = {name: PAGE_DIR / name for name in ("webchat.css", "webchat-page.js")}

    async def asset(request: web.Request) -> web.StreamResponse:
        path = static.get(request.match_info["name"])
        if path is None or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers=headers)

    r = app.router
    r.add_get("/", index)
    r.add_get("/icon.png", icon_png)
    r.add_get("/webchat/{name}", asset)
    if config.WEBCHAT_JS:
        script = Path(config.WEBCHAT_JS).expanduser()
        if not script.is_file():
            log.warning("WEBCHAT_JS=%s is not a file; the web chat page will not load", script)

        async def webchat_js(_: web.Request) -> web.StreamResponse:
            if not script.is_file():
                raise web.HTTPNotFound(text="WEBCHAT_JS does not point at a file")
            return web.FileResponse(script, headers={"Cache-Control": "max-age=300"})

        r.add_get("/webchat.js", webchat_js)
    r.add_post(PREFIX + "/tokens/generate", directline.generate_token)
    r.add_post(PREFIX + "/tokens/refresh", directline.refresh_token)
    r.add_post(PREFIX + "/conversations", directline.start_conversation)
    r.add_get(PREFIX + "/conversations/{conversation_id}", directline.reconnect)
    r.add_get(PREFIX + "/conversations/{conversation_id}/activities", directline.get_activities)
    r.add_post(PREFIX + "/conversations/{conversation_id}/activities", directline.post_activity)
    base = CONNECTOR + "/{key}/v3/conversations/{conversation_id}"
    r.add_post(base + "/activities", directline.bot_activity)
    r.add_post(base + "/activities/{activity_id}", directline.bot_activity)
    r.add_get(base + "/members", directline.members)

    if config.PORT:

        async def announce(_: web.Application) -> None:
            log.info("web chat: open http://localhost:%s/ in a browser (local mode)", config.PORT)

        app.on_startup.append(announce)
