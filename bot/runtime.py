"""Wiring: storage backend, services, state, adapter, bot and HTTP app, built from Config."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import CloudAdapter

from model.docstore import DocStore
from model.tinydb_store import TinyDBStore
from model.users import Users

from .adapter import create_adapter
from .config import Config
from .handler import KompetenceBot, Services
from .state_storage import DocStoreStorage
from .web import create_app

log = logging.getLogger("kompetencehjulet")


def create_store(config: Config) -> DocStore:
    if config.STORAGE in ("tinydb", ""):
        return TinyDBStore(config.DATA_DIR, fsync=config.FSYNC)
    if config.STORAGE == "azure-blob":
        from model.blob_store import BlobStore  # optional backend, imported only when chosen
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


def build(config: Config) -> Runtime:
    store = create_store(config)
    services = Services(users=Users(store), store=store, config=config)
    conversation_state = ConversationState(DocStoreStorage(store))
    adapter = create_adapter(config, conversation_state)
    bot = KompetenceBot(conversation_state, services)
    routes = []
    for hook in EXTRA_ROUTES:
        routes.append(lambda app, hook=hook: hook(app, config, adapter, bot, services))
    app = create_app(config, adapter, bot, routes)

    async def close_store(_: web.Application) -> None:
        await store.close()

    app.on_cleanup.append(close_store)
    return Runtime(config, store, services, adapter, bot, app)


# Later features (local web chat, nudge scheduler) register route/startup hooks here.
EXTRA_ROUTES: list = []
