"""The web application: its routes, and /api/messages as the four steps of
bot/http/__init__.py in order, each answering for itself."""

from __future__ import annotations

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter

from model.storage.docstore import DocStore

from ..auth import RefusalLog
from ..config import Config
from .gate import Gate
from .readiness import Readiness, healthz
from .reading import read_activity
from .turn import run_turn

READINESS = web.AppKey("kh.readiness", Readiness)
REFUSALS = web.AppKey("kh.refusals", RefusalLog)


def create_app(config: Config, adapter: CloudAdapter, bot: Bot, store: DocStore) -> web.Application:
    gate = Gate(config, adapter)
    readiness = Readiness(store)

    async def messages(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        refused = await gate.before_body(header)
        if refused is not None:
            return refused
        activity = await read_activity(request, config)
        if isinstance(activity, web.Response):
            return activity
        auth_result = await gate.after_body(activity, header)
        if isinstance(auth_result, web.Response):
            return auth_result
        return await run_turn(adapter, bot, auth_result, activity)

    app = web.Application(client_max_size=config.MAX_BODY_BYTES)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readiness.readyz)
    app[READINESS] = readiness
    app[REFUSALS] = gate.refusals
    return app
