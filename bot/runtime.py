"""The composition root: storage backend, services, state, adapter, bot and HTTP app, built
from Config. Production only: the local try-out channels (bot/local) are mounted by the
entry point, in local mode, on top of what this builds.

`create_services` and `create_bot` are the one factory of what answers a person: the served
bot (`build`), the terminal chat (bot/local/terminal_chat.py), `ask` (bot/ops/offline.py)
and the operator commands (bot/ops/cli.py) all make their services and bot here, so they
run the same offers (RESOURCES_FILE), overviews, retention period and dialog-state class."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from dialogs.services import Clock, Services
from model.domain.aggregates import Overviews
from model.domain.resources import Resources, ResourcesError
from model.domain.resources import load as load_resources_file
from model.language.understanding import warm_up
from model.storage.docstore import DocStore
from model.storage.leadership import leader_for
from model.storage.tinydb_store import TinyDBStore
from model.storage.wave_shares import nudge_job

from .config import Config
from .handler import KompetenceBot
from .http.app import create_app
from .nudge_sender import NudgeSender
from .retention_job import RetentionJob
from .scheduler import scheduler
from .sdk.adapter import create_adapter
from .sdk.state_storage import DocStoreStorage, JsonConversationState
from .turn_errors import apologising_error_handler

OFF = ("off", "0", "false", "no")
RETENTION_FIRST_RUN_AFTER = 300.0  # seconds after start: the daily scan waits until start-up has settled


def create_store(config: Config) -> DocStore:
    if config.STORAGE in ("tinydb", ""):
        return TinyDBStore(config.DATA_DIR, fsync=config.FSYNC)
    if config.STORAGE == "azure-blob":
        from model.storage.blob_store import BlobStore  # optional backend, imported only when chosen

        if not (config.AZURE_STORAGE_CONNECTION_STRING or config.AZURE_STORAGE_ACCOUNT_NAME):
            raise SystemExit(
                "STORAGE=azure-blob needs AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with a "
                "managed identity or service principal (and optionally AZURE_STORAGE_CONTAINER)"
            )
        try:
            return BlobStore(
                config.AZURE_STORAGE_CONNECTION_STRING,
                config.AZURE_STORAGE_CONTAINER,
                account_name=config.AZURE_STORAGE_ACCOUNT_NAME,
            )
        except ValueError as err:  # names the setting's problem, never its value
            raise SystemExit(f"AZURE_STORAGE_CONNECTION_STRING: {err}") from None
    raise SystemExit(f"STORAGE must be 'tinydb' or 'azure-blob', not {config.STORAGE!r}")


def load_resources(path: str) -> Resources:
    """The municipality's offers; a malformed file ends start-up with its line, never a turn."""
    try:
        return load_resources_file(path)
    except ResourcesError as err:
        raise SystemExit(f"RESOURCES_FILE: {err}") from None


def create_overviews(config: Config, store: DocStore) -> Overviews:
    try:
        return Overviews(store, config.AGGREGATES, config.AGGREGATES_MIN_GROUP)
    except ValueError as err:
        raise SystemExit(f"AGGREGATES / AGGREGATES_MIN_GROUP: {err}") from None


def create_services(config: Config, store: DocStore | None = None, clock: Clock | None = None) -> Services:
    """The services every entry point runs: the municipality's offers (RESOURCES_FILE; a
    mistake ends start-up naming the line), the overviews (AGGREGATES), RETENTION_DAYS, on
    `store` (default: the configured backend, STORAGE)."""
    resources = load_resources(config.RESOURCES_FILE)
    store = create_store(config) if store is None else store
    return Services.create(
        store,
        clock=clock,
        resources=resources,
        overviews=create_overviews(config, store),
        retention_days=config.RETENTION_DAYS,
    )


def create_bot(config: Config, services: Services) -> tuple[KompetenceBot, JsonConversationState]:
    """The bot over `services`, and its dialog state, stored as the served bot stores it."""
    conversation_state = JsonConversationState(DocStoreStorage(services.store))
    return KompetenceBot(conversation_state, services, upload_hosts=config.upload_hosts), conversation_state


@dataclass
class Runtime:
    config: Config
    store: DocStore
    services: Services
    adapter: CloudAdapter
    bot: KompetenceBot
    app: web.Application
    nudges: NudgeSender
    retention: RetentionJob


def build(config: Config, credentials_factory: ServiceClientCredentialsFactory | None = None) -> Runtime:
    """Everything the served bot is made of. `credentials_factory` replaces the credentials
    built from MicrosoftAppId/Password/Type (tests)."""
    services = create_services(config)  # a mistake in RESOURCES_FILE stops start-up, naming the line
    warm_up()  # the vocabulary and the semantic model, loaded now rather than in someone's turn
    store = services.store
    bot, conversation_state = create_bot(config, services)
    adapter = create_adapter(config, credentials_factory)
    adapter.on_turn_error = apologising_error_handler(conversation_state)
    app = create_app(config, adapter, bot, store)
    sender = NudgeSender(adapter, services, app_id=config.APP_ID, rate=config.NUDGE_RATE_PER_SECOND)
    retention = RetentionJob(services, sender, config.RETENTION_DAYS)
    if config.NUDGES not in OFF:

        async def due() -> list[str]:  # who is due, before an instance claims shares of the wave
            return await services.reminders.due(services.now())

        # On Blob every instance sends its shares; a stopping instance takes no more.
        job, leader = nudge_job(store, sender.run, leader_for(store), due, stopping=lambda: sender.stopping)
        app.cleanup_ctx.append(scheduler(job, leader, config.NUDGE_INTERVAL_SECONDS))

        async def stop_nudges(_: web.Application) -> None:
            # On SIGTERM/SIGINT, before the scheduler is cancelled (cleanup contexts run after
            # on_shutdown): what is claimed finishes and is settled; then the scheduler's exit
            # releases this instance's shares and takes it off the roll.
            await sender.stop(config.NUDGE_STOP_GRACE_SECONDS)

        app.on_shutdown.append(stop_nudges)
    if config.RETENTION_JOB not in OFF and config.RETENTION_DAYS > 0:
        job = scheduler(
            retention.run,
            leader_for(store, "retention"),
            config.RETENTION_INTERVAL_SECONDS,
            name="retention run",
            first_delay=RETENTION_FIRST_RUN_AFTER,
        )
        app.cleanup_ctx.append(job)

    async def close(_: web.Application) -> None:
        await store.close()
        await adapter.connector_pool.on_cleanup(_)  # the pooled HTTP session of the reply path

    app.on_cleanup.append(close)
    return Runtime(config, store, services, adapter, bot, app, sender, retention)
