"""Step 2 of a request (see bot/http/__init__.py): the body read and checked, after the
token and before the SDK sees anything. Content type (415), size (413), a deadline for the
body (408: it must arrive HTTP_BODY_TIMEOUT_SECONDS after its head), JSON (400), the
activity's shape (400, `bot/activity_checks.py`); in local mode a loopback `serviceUrl` (400)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from botbuilder.schema import Activity

from ..activity_checks import is_loopback_url, parse_json, validate_activity
from ..config import Config
from .responses import problem


async def read_activity(request: web.Request, config: Config) -> Activity | web.Response:
    """The checked activity, or the answer that refuses the request."""
    if request.content_type != "application/json":
        return problem(415, "send the activity as application/json")
    if request.content_length is not None and request.content_length > config.MAX_BODY_BYTES:
        return problem(413, "the request body is too large")
    try:
        async with asyncio.timeout(config.HTTP_BODY_TIMEOUT_SECONDS):
            raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "the request body is too large")
    except TimeoutError:
        response = problem(408, "the request body came too slowly")
        response.force_close()
        return response
    try:
        body = parse_json(raw)
    except ValueError:  # also UnicodeDecodeError
        return problem(400, "the body is not valid JSON")
    activity, reason = validate_activity(body, config.MAX_TEXT_CHARS)
    if activity is None:
        return problem(400, reason or "bad activity")
    if config.local_mode and config.LOCAL_SERVICE_URLS != "any" and not is_loopback_url(activity.service_url):
        # No token binds serviceUrl here: without this the bot would post (and keep for
        # nudges) wherever a request said, a cloud metadata address included.
        return problem(400, "in local mode 'serviceUrl' must be a loopback address (see LOCAL_SERVICE_URLS)")
    return activity
