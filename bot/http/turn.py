"""Step 4 of a request (see bot/http/__init__.py): the authenticated activity through the
adapter and the bot, and its answer: an invoke's response, else 201. Failures inside the
bot are the adapter's on_turn_error's job (an apology, 2xx); only set-up outside the turn
lands here, as a 500."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from ..auth import where
from .responses import problem

log = logging.getLogger("kompetencehjulet.web")


async def run_turn(
    adapter: CloudAdapter, bot: Bot, auth_result: AuthenticateRequestResult, activity: Activity
) -> web.Response:
    try:
        invoke_response = await adapter.process_activity(auth_result, activity, bot.on_turn)
    except Exception as err:  # noqa: BLE001 - the turn itself reports through on_turn_error
        # Only set-up outside the bot's turn can land here (connector client, credentials):
        # a server-side fault, so a 500, logged without the message (it may quote input).
        log.error("could not process an activity of type %r: %s", str(activity.type)[:40], where(err))
        return problem(500, "the activity could not be processed")
    if invoke_response:
        return web.json_response(invoke_body(invoke_response.body), status=int(invoke_response.status or 200))
    return web.Response(status=201)


def invoke_body(body: object) -> object:
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
