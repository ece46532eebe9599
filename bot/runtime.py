"""The composition root: storage backend, services, state, adapter, bot and HTTP app, built
from Config. Production only: the local try-out channels (bot/local) are mounted by the
entry point, in local mode, on top of what this builds."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from dialogs.services import Services
from model.docstore import DocStore
from model.leadership import leader_for
from model.tinydb_store import TinyDBStore

from .config import Config
from .handler import KompetenceBot
from .host import create_app
from .nudge_sender import NudgeSender
from .scheduler import scheduler
from .sdk.adapter import create_adapter
from .sdk.state_storage import DocStoreStorage, JsonConversationState
from .turn_errors import apologising_error_handler


def create_store(config: Config) -> DocStore:
    if config.STORAGE in ("tinydb", ""):
        return TinyDBStore(config.DATA_DIR, fsync=config.FSYNC)
    if config.STORAGE == "azure-blob":
        from model.blob_store import BlobStore  # optional backend, imported only when chosen

        if not config.AZURE_STORAGE_CONNECTION_STRING:
            raise SystemExit(
                "STORAGE=azure-blob needs AZURE_STORAGE_CONNECTION_STRING (and optionally AZURE_STORAGE_CONTAINER)"
            )
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


def build(config: Config, credentials_factory: ServiceClientCredentialsFactory | None = None) -> Runtime:
    """Everything the served bot is made of. `credentials_factory` replaces the credentials
    built from MicrosoftAppId/Password/Type (tests)."""
    store = create_store(config)
    services = Services.create(store)
    conversation_state = JsonConversationState(DocStoreStorage(store))
    adapter = create_adapter(config, credentials_factory)
    adapter.on_turn_error = apologising_error_handler(conversation_state)
    bot = KompetenceBot(conversation_state, services)
    app = create_app(config, adapter, bot, store)
    sender = NudgeSender(adapter, services, app_id=config.APP_ID, rate=config.NUDGE_RATE_PER_SECOND)
    if config.NUDGES not in ("off", "0", "false", "no"):
        app.cleanup_ctx.append(scheduler(sender.run, leader_for(store), config.NUDGE_INTERVAL_SECONDS))

    async def close(_: web.Application) -> None:
        await store.close()
        await adapter.connector_pool.on_cleanup(_)  # the pooled HTTP session of the reply path

    app.on_cleanup.append(close)
    return Runtime(config, store, services, adapter, bot, app, sender)
