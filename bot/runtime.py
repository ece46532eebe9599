"""Wiring: storage backend, services, state, adapter, bot and HTTP app, built from Config."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter

from model.docstore import DocStore
from model.leadership import leader_for, run_as_leader
from model.tinydb_store import TinyDBStore

from .adapter import create_adapter
from .config import Config
from .handler import KompetenceBot, Services
from .nudges import NudgeSender
from .state_storage import DocStoreStorage, JsonConversationState
from .web import create_app

log = logging.getLogger("kompetencehjulet")


def create_store(config: Config) -> DocStore:
    if config.STORAGE in ("tinydb", ""):
        return TinyDBStore(config.DATA_DIR, fsync=config.FSYNC)
    if config.STORAGE == "azure-blob":
        from model.blob_store import BlobStore  # optional backend, imported only when chosen

        if not config.AZURE_STORAGE_CONNECTION_STRING:
            raise SystemExit("STORAGE=azure-blob needs AZURE_STORAGE_CONNECTION_STRING "
                             "(and optionally AZURE_STORAGE_CONTAINER)")
        return BlobStore(config.AZURE_STORAGE_CONNECTION_STRING, config.AZURE_STORAGE_CONTAINER)
    raise SystemExit(f"STORAGE must be 'tinydb' or 'azure-blob', not {config.STORAGE!r}")


@dataclass
class Runtime:
    config: Config
    store: DocStore
    services: Services
    adapter: CloudAdapter
    bot: KompetenceBot
    app: web.Application
    nudges: NudgeSender


def build(config: Config) -> Runtime:
    store = create_store(config)
    services = Services.create(store, config)
    conversation_state = JsonConversationState(DocStoreStorage(store))
    adapter = create_adapter(config, conversation_state)
    bot = KompetenceBot(conversation_state, services)
    routes = []
    for hook in EXTRA_ROUTES:
        routes.append(lambda app, hook=hook: hook(app, config, adapter, bot, services))
    app = create_app(config, adapter, bot, routes)
    sender = NudgeSender(adapter, services, app_id=config.APP_ID, rate=config.NUDGE_RATE_PER_SECOND)
    if config.NUDGES not in ("off", "0", "false", "no"):
        app.cleanup_ctx.append(scheduler(sender, leader_for(store), config.NUDGE_INTERVAL_SECONDS))

    async def close_store(_: web.Application) -> None:
        await store.close()

    app.on_cleanup.append(close_store)
    app.on_cleanup.append(adapter.connector_pool.on_cleanup)  # the pooled HTTP session of the reply path
    return Runtime(config, store, services, adapter, bot, app, sender)


def scheduler(sender: NudgeSender, leader, interval: float):
    """In-process nudge scheduler: one run a minute, by the one instance that holds the
    lease (always this one with TinyDB). NUDGES=off when an external scheduler calls
    `python app.py send-nudges` instead."""
    async def context(_: web.Application):
        async def loop() -> None:
            while True:
                try:
                    await run_as_leader(leader, sender.run)
                except Exception:  # noqa: BLE001 - keep the scheduler alive
                    log.exception("nudge run failed")
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await leader.release()

    return context


# Later features (local web chat, nudge scheduler) register route/startup hooks here.
EXTRA_ROUTES: list = []
from . import directline; EXTRA_ROUTES.append(directline.register)  # noqa: E402,E702 - local web chat
