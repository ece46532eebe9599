"""The HTTP host: /api/messages with strict input checks, /healthz.

The stock sample hands every request to CloudAdapter.process, which answers 500 to bad
input and to most forged tokens. Here a request goes through three steps, and each step
answers for itself:

1. **read**: content type (415), size (413), JSON (400), activity shape (400): every field
   the Bot Framework schema knows must have the schema's type, ids must be non-empty
   strings, `serviceUrl` an http(s) URL with a host, text is cut to MAX_TEXT_CHARS before
   anything reads it; unknown fields are ignored.
2. **authenticate**: with an app id, the SDK's Bot Framework JWT validation (signature
   against the OpenID metadata's keys, issuer, audience = our app id, expiry and
   not-before, the `serviceurl` claim = the activity's serviceUrl, channel endorsements).
   Whatever the SDK raises for a bad or missing token is a 401 (it raises PermissionError,
   PyJWT errors, IndexError for an unknown key id, plain Exception for endorsements...).
   Only "the key server could not be reached (in time)" is a 503.
   Without an app id (local mode) authentication is off and any Authorization header is
   ignored.
3. **turn**: the already-authenticated activity goes to the adapter; failures inside the
   bot are the adapter's on_turn_error's job (an apology, 2xx).

The SDK fetches OpenID metadata and signing keys with blocking `requests` calls without
a timeout. So that a slow or hanging key server cannot freeze the event loop (and every
conversation with it), authentication with an app id runs on a small dedicated thread
pool, with a time limit.

Logs name the reason for a refusal, never the token, the text or any value.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import traceback
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from .activity_codec import read_activity
from .config import Config

log = logging.getLogger("kompetencehjulet.web")

# channelId too: the SDK keys conversation state by it and checks token endorsements against it.
REQUIRED = ("type", "conversation", "from", "serviceUrl", "channelId")
MAX_DEPTH = 64  # real Teams activities are < 20 levels deep; deeper is garbage
AUTH_TIMEOUT_SECONDS = 20.0
AUTH_THREADS = 4

# Fields of Teams' own entities and channelData that the bot reads; the Bot Framework
# schema types them as "object", so they are checked here.
ENTITY_FIELDS = {
    "clientInfo": {"locale": "str", "country": "str", "platform": "str", "timezone": "str"},
    "mention": {"text": "str", "mentioned": "ChannelAccount"},
}
# The schema maps ConversationAccount.tenant_id to "tenantID"; Teams sends "tenantId".
EXTRA_FIELDS = {"ConversationAccount": {"tenantId": "str"}}
CHANNEL_DATA_FIELDS = {
    "tenant": "TeamsRef", "team": "TeamsRef", "channel": "TeamsRef",
    "eventType": "str",
}


class AuthUnavailable(Exception):
    """The signing keys could not be fetched; not the caller's fault."""


def _problem(status: int, reason: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers)


# --- step 1: reading the activity ---------------------------------------------------------

def _too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _models() -> dict[str, Any]:
    import botbuilder.schema as schema

    return schema.__dict__


def _type_problem(type_name: str, value: Any, where: str) -> str | None:
    """Does `value` (from JSON) fit the msrest type name of the Bot Framework schema?"""
    if value is None:
        return None
    if type_name in ("str", "iso-8601"):
        return None if isinstance(value, str) else f"'{where}' must be a string"
    if type_name == "bool":
        return None if isinstance(value, bool) else f"'{where}' must be true or false"
    if type_name in ("int", "long"):
        return None if isinstance(value, int) and not isinstance(value, bool) else f"'{where}' must be a whole number"
    if type_name == "float":
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else f"'{where}' must be a number"
    if type_name == "object":
        return None
    if type_name.startswith("[") and type_name.endswith("]"):
        if not isinstance(value, list):
            return f"'{where}' must be a list"
        for i, item in enumerate(value):
            problem = _type_problem(type_name[1:-1], item, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if type_name.startswith("{") and type_name.endswith("}"):
        if not isinstance(value, dict):
            return f"'{where}' must be an object"
        for key, item in value.items():
            problem = _type_problem(type_name[1:-1], item, f"{where}.{key}")
            if problem:
                return problem
        return None
    if type_name == "TeamsRef":  # channelData.tenant/team/channel: {"id": str, "name": str}
        if not isinstance(value, dict):
            return f"'{where}' must be an object"
        for key in ("id", "name"):
            if value.get(key) is not None and not isinstance(value[key], str):
                return f"'{where}.{key}' must be a string"
        return None
    model = _models().get(type_name)
    if model is None or not hasattr(model, "_attribute_map"):
        return None  # a type this check does not know: msrest decides
    if not isinstance(value, dict):
        return f"'{where}' must be an object"
    return _model_problem(model, value, where)


def _model_problem(model: Any, data: dict, where: str) -> str | None:
    for spec in model._attribute_map.values():
        key = spec["key"]
        if key in data:
            problem = _type_problem(spec["type"], data[key], f"{where}.{key}" if where else key)
            if problem:
                return problem
    for key, type_name in EXTRA_FIELDS.get(model.__name__, {}).items():
        problem = _type_problem(type_name, data.get(key), f"{where}.{key}")
        if problem:
            return problem
    if model.__name__ == "Entity":
        for key, type_name in ENTITY_FIELDS.get(data.get("type"), {}).items():
            problem = _type_problem(type_name, data.get(key), f"{where}.{key}")
            if problem:
                return problem
    return None


def _shape_problem(body: dict) -> str | None:
    problem = _model_problem(Activity, body, "")
    if problem:
        return problem
    if body.get("type") == "invoke" and body.get("name") == "adaptiveCard/action":
        value = body.get("value")  # the SDK calls value["action"].get(...) unguarded
        if isinstance(value, dict) and value.get("action") is not None and not isinstance(value["action"], dict):
            return "'value.action' must be an object"
    channel_data = body.get("channelData")
    if channel_data is not None:
        if not isinstance(channel_data, dict):
            return "'channelData' must be an object"
        for key, type_name in CHANNEL_DATA_FIELDS.items():
            problem = _type_problem(type_name, channel_data.get(key), f"channelData.{key}")
            if problem:
                return problem
    return None


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def validate_activity(body: Any, max_text: int) -> tuple[Activity | None, str | None]:
    """Parse and check an incoming activity; (activity, None) or (None, reason)."""
    if not isinstance(body, dict):
        return None, "the body must be a JSON object (an activity)"
    for name in REQUIRED:
        if not body.get(name):
            return None, f"the activity has no '{name}'"
    for name in ("type", "channelId"):
        if not isinstance(body[name], str) or not body[name].strip():
            return None, f"'{name}' must be a non-empty string"
    for name in ("conversation", "from"):
        part = body[name]
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"].strip():
            return None, f"'{name}.id' must be a non-empty string"
    service_url = body["serviceUrl"]
    if not isinstance(service_url, str) or not _is_http_url(service_url):
        return None, "'serviceUrl' must be an http(s) URL"
    if _too_deep(body):
        return None, "the activity is nested too deeply"
    problem = _shape_problem(body)
    if problem:
        return None, problem
    text = body.get("text")
    if isinstance(text, str) and len(text) > max_text:
        body["text"] = text[:max_text]  # cut before anything reads it
    try:
        activity = read_activity(body)
    except Exception:  # noqa: BLE001 - msrest raises many kinds on odd shapes
        return None, "the activity could not be read"
    if activity.conversation is None or activity.from_property is None:
        return None, "the activity could not be read"
    return activity, None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """json.loads without NaN/Infinity; ValueError for anything that is not plain JSON."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    try:  # "\ud800" escapes parse into strings that cannot be stored or sent on
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise ValueError("not valid Unicode") from None
    return body


# --- step 2: authentication ---------------------------------------------------------------

def _unavailable(err: BaseException) -> bool:
    """Was this the key server (network, HTTP status), not the token?"""
    try:
        import requests
    except ImportError:  # pragma: no cover - the SDK depends on requests
        return isinstance(err, (TimeoutError, ConnectionError))
    return isinstance(err, (TimeoutError, ConnectionError, requests.ConnectionError,
                            requests.Timeout, requests.HTTPError))


class Authenticator:
    """Runs the SDK's request authentication and sorts its outcomes into 401 / 503."""

    def __init__(self, config: Config, adapter: CloudAdapter) -> None:
        self.config = config
        self.adapter = adapter
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    async def __call__(self, activity: Activity, header: str | None) -> AuthenticateRequestResult:
        auth = self.adapter.bot_framework_authentication
        if self.config.local_mode:
            # Auth is off: the SDK gives an anonymous identity for a missing header. A header
            # is ignored (with no app id it could never be valid, and checking it would
            # make the SDK fetch Microsoft's keys for nothing).
            return await auth.authenticate_request(activity, None)
        header = (header or "").strip()
        if not header:
            raise PermissionError("no Authorization header")
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(AUTH_THREADS, thread_name_prefix="bf-auth")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, _run_in_own_loop, auth, activity, header)
        try:
            return await asyncio.wait_for(future, AUTH_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            raise AuthUnavailable("timed out") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _run_in_own_loop(auth: Any, activity: Activity, header: str) -> AuthenticateRequestResult:
    return asyncio.run(auth.authenticate_request(activity, header))


# --- the app ----------------------------------------------------------------------------

def _where(err: BaseException) -> str:
    """Exception type and the innermost frames, never the message (it may quote input)."""
    frames = traceback.extract_tb(err.__traceback__)[-3:]
    return type(err).__name__ + " at " + " <- ".join(
        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))


def invoke_body(body: Any) -> Any:
    """The body of an invoke response as JSON-ready data.

    Two bodies the stock host cannot write (a 500 there): `deliveryMode: expectReplies`
    gives a dict that is already serialised, and a malformed `adaptiveCard/action` gives an
    AdaptiveCardInvokeResponse whose value is an Exception; that one is written out in the
    Universal Actions error format by hand."""
    if body is None:
        return None
    try:
        data = body if isinstance(body, (dict, list, str, int, float, bool)) else serializer_helper(body)
        json.dumps(data)
        return data
    except Exception:  # noqa: BLE001 - see the docstring
        pass
    status, value = getattr(body, "status_code", None), getattr(body, "value", None)
    if isinstance(value, Exception):
        args = [str(a) for a in value.args]
        value = {"code": args[0] if args else "Error", "message": args[1] if len(args) > 1 else ""}
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value = None
    if status is None:
        return None
    return {"statusCode": int(status), "type": getattr(body, "type", None) or "application/vnd.microsoft.error",
            "value": value}


def _refusal(err: BaseException, header: str) -> str:
    """Why a token was refused, for the log. The SDK's own wording is kept for PermissionError,
    its plain Exceptions ("Could not validate endorsement key") and PyJWT errors ("Invalid
    AppId passed on token: ...", "Signature has expired"), which quote no input, unless it
    would contain a piece of the presented header."""
    where = _where(err)
    if isinstance(err, PermissionError) or type(err) is Exception or (type(err).__module__ or "").startswith("jwt"):
        message = " ".join(str(a) for a in err.args if a not in (None, ""))[:200]
        pieces = [p for p in header.replace(" ", ".").split(".") if len(p) >= 12]
        if message and not any(p in message for p in pieces):
            return f"{message} [{where}]"
    return where


def create_app(config: Config, adapter: CloudAdapter, bot: Bot, extra_routes=None) -> web.Application:
    authenticate = Authenticator(config, adapter)

    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _problem(415, "send the activity as application/json")
        if request.content_length is not None and request.content_length > config.MAX_BODY_BYTES:
            return _problem(413, "the request body is too large")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, "the request body is too large")
        try:
            body = parse_json(raw)
        except ValueError:  # also UnicodeDecodeError
            return _problem(400, "the body is not valid JSON")
        activity, reason = validate_activity(body, config.MAX_TEXT_CHARS)
        if activity is None:
            return _problem(400, reason or "bad activity")

        try:
            auth_result = await authenticate(activity, request.headers.get("Authorization"))
        except Exception as err:  # noqa: BLE001 - see the module docstring
            if isinstance(err, AuthUnavailable) or _unavailable(err):
                log.warning("could not check a token: signing keys unavailable (%s)", type(err).__name__)
                return _problem(503, "authentication is temporarily unavailable", {"Retry-After": "10"})
            log.info("refused a request (401): %s", _refusal(err, request.headers.get("Authorization") or ""))
            return _problem(401, "unauthorized", {"WWW-Authenticate": "Bearer"})

        try:
            invoke_response = await adapter.process_activity(auth_result, activity, bot.on_turn)
        except Exception as err:  # noqa: BLE001 - the turn itself reports through on_turn_error
            # Only set-up outside the bot's turn can land here (connector client, credentials):
            # a server-side fault, so a 500, logged without the message (it may quote input).
            log.error("could not process an activity of type %r: %s", activity.type[:40], _where(err))
            return _problem(500, "the activity could not be processed")
        if invoke_response:
            return web.json_response(invoke_body(invoke_response.body), status=int(invoke_response.status or 200))
        return web.Response(status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def close_auth(_: web.Application) -> None:
        authenticate.close()

    app = web.Application(client_max_size=config.MAX_BODY_BYTES)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.on_cleanup.append(close_auth)
    pool = getattr(adapter, "connector_pool", None)  # bot/connector.py's pooled HTTP session
    if pool is not None and hasattr(pool, "on_cleanup"):
        app.on_cleanup.append(pool.on_cleanup)
    for add in extra_routes or []:
        add(app)
    return app
