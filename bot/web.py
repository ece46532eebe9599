"""The HTTP host: /api/messages with strict input checks, /healthz.

The stock sample hands every request to CloudAdapter.process, which answers 500 to bad
input. Here bad input gets the 4xx it deserves before the SDK sees it, and an activity
is parsed once.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from .config import Config

log = logging.getLogger("kompetencehjulet.web")

REQUIRED = ("type", "conversation", "from", "serviceUrl")


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def validate_activity(body: Any, max_text: int) -> tuple[Activity | None, str | None]:
    """Parse and check an incoming activity; (activity, None) or (None, reason)."""
    if not isinstance(body, dict):
        return None, "the body must be a JSON object (an activity)"
    for name in REQUIRED:
        if not body.get(name):
            return None, f"the activity has no '{name}'"
    if not isinstance(body["type"], str):
        return None, "'type' must be a string"
    for name in ("conversation", "from"):
        part = body[name]
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return None, f"'{name}.id' must be a non-empty string"
    service_url = body["serviceUrl"]
    if not isinstance(service_url, str) or not service_url.lower().startswith(("http://", "https://")):
        return None, "'serviceUrl' must be an http(s) URL"
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        return None, "'text' must be a string"
    if isinstance(text, str) and len(text) > max_text:
        body["text"] = text[:max_text]  # cut before anything reads it
    try:
        activity = Activity().deserialize(body)
    except Exception:  # noqa: BLE001 - msrest raises many kinds on odd shapes
        return None, "the activity could not be read"
    if activity.conversation is None or activity.from_property is None:
        return None, "the activity could not be read"
    return activity, None


def create_app(config: Config, adapter: CloudAdapter, bot: Bot, extra_routes=None) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _problem(415, "send the activity as application/json")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, "the request body is too large")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "the body is not valid JSON")
        activity, reason = validate_activity(body, config.MAX_TEXT_CHARS)
        if activity is None:
            return _problem(400, reason or "bad activity")
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await adapter.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError:
            return _problem(401, "unauthorized")
        except Exception as err:  # noqa: BLE001 - auth library errors on forged tokens
            if _is_auth_error(err):
                return _problem(401, "unauthorized")
            raise
        if invoke_response:
            return web.json_response(serializer_helper(invoke_response.body) if invoke_response.body is not None
                                     else None, status=invoke_response.status)
        return web.Response(status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=config.MAX_BODY_BYTES)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    for add in extra_routes or []:
        add(app)
    return app


def _is_auth_error(err: Exception) -> bool:
    name = type(err).__name__
    module = type(err).__module__ or ""
    return module.startswith("jwt") or "Unauthorized" in name or "Authentication" in name
