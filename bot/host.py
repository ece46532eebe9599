"""The HTTP host: /api/messages with strict input checks, /healthz.

A request goes through these steps, and each step answers for itself:

1. **the Authorization header** (`auth.header_problem`, with an app id): 401 for what can
   never be a valid token, before a byte of the body is read;
2. **read** (`activity_checks`): content type (415), size (413), JSON (400), list lengths
   and size, activity shape (400);
3. **authenticate** (`auth`, the SDK): 401 for a bad or missing token, 503 when the
   signing keys cannot be fetched;
4. **turn**: the already-authenticated activity goes to the adapter; failures inside the
   bot are the adapter's on_turn_error's job (an apology, 2xx).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter

from .activity_checks import parse_json, validate_activity
from .auth import Authenticator, AuthUnavailable, refusal, unavailable, where
from .config import Config

log = logging.getLogger("kompetencehjulet.web")


def _problem(status: int, reason: str, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers)


def _unauthorized() -> web.Response:
    return _problem(401, "unauthorized", {"WWW-Authenticate": "Bearer"})


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
    return {
        "statusCode": int(status),
        "type": getattr(body, "type", None) or "application/vnd.microsoft.error",
        "value": value,
    }


def create_app(config: Config, adapter: CloudAdapter, bot: Bot) -> web.Application:
    authenticate = Authenticator(config, adapter)

    async def messages(request: web.Request) -> web.StreamResponse:
        early = authenticate.refuse_early(request.headers.get("Authorization"))
        if early:  # nothing of the body is read: junk without a token costs nothing
            log.info("refused a request (401): %s [before reading the body]", early)
            return _unauthorized()
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
            if unavailable(err):
                why = str(err) if isinstance(err, AuthUnavailable) else type(err).__name__  # our own words
                log.warning("could not check a token: signing keys unavailable (%s)", why)
                return _problem(503, "authentication is temporarily unavailable", {"Retry-After": "10"})
            log.info("refused a request (401): %s", refusal(err, request.headers.get("Authorization") or ""))
            return _unauthorized()

        try:
            invoke_response = await adapter.process_activity(auth_result, activity, bot.on_turn)
        except Exception as err:  # noqa: BLE001 - the turn itself reports through on_turn_error
            # Only set-up outside the bot's turn can land here (connector client, credentials):
            # a server-side fault, so a 500, logged without the message (it may quote input).
            log.error("could not process an activity of type %r: %s", activity.type[:40], where(err))
            return _problem(500, "the activity could not be processed")
        if invoke_response:
            return web.json_response(invoke_body(invoke_response.body), status=int(invoke_response.status or 200))
        return web.Response(status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=config.MAX_BODY_BYTES)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app
