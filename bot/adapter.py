"""The CloudAdapter with Bot Framework auth from configuration and a turn error handler
that apologises in the person's language, logs the stack (never message text) and
clears the conversation's dialog state so the next message starts clean.

Replies go out through `bot.connector`: connector clients reused per (service URL, app id,
audience), one pooled aiohttp session, outgoing tokens cached until shortly before they
expire, user-token clients only when used. Authentication is the SDK's
(`ConfigurationBotFrameworkAuthentication`), fully on when an app id is set. The pool is
`adapter.connector_pool`; close it on app cleanup: `app.on_cleanup.append(adapter.connector_pool.on_cleanup)`.
"""
from __future__ import annotations

import logging
import traceback

from botbuilder.core import ConversationState, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import ServiceClientCredentialsFactory

from dialogs.common import LANG
from model import content

from .config import Config
from .connector import ConnectorPool, PooledBotFrameworkAuthentication

log = logging.getLogger("kompetencehjulet.adapter")


def create_authentication(config: Config, pool: ConnectorPool | None = None,
                          credentials_factory: ServiceClientCredentialsFactory | None = None
                          ) -> PooledBotFrameworkAuthentication:
    """The SDK's configuration-driven authentication, with pooled connector clients.
    `credentials_factory` replaces the one built from MicrosoftAppId/Password/Type (tests)."""
    inner = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
    return PooledBotFrameworkAuthentication(inner, pool)


def create_adapter(config: Config, conversation_state: ConversationState,
                   credentials_factory: ServiceClientCredentialsFactory | None = None) -> CloudAdapter:
    if config.local_mode:
        log.warning("MicrosoftAppId is not set: Bot Framework authentication is OFF (local mode). "
                    "Never expose this instance to the internet.")
    auth = create_authentication(config, credentials_factory=credentials_factory)
    adapter = CloudAdapter(auth)
    adapter.connector_pool = auth.pool  # close on app cleanup: app.on_cleanup.append(pool.on_cleanup)

    async def on_error(context: TurnContext, error: Exception) -> None:
        # The stack, not the exception's message: messages (int("…"), KeyError('…')) can
        # quote what the person typed.
        log.error("turn failed: activity type=%s channel=%s: %s", context.activity.type,
                  context.activity.channel_id, _without_message(error))
        try:
            await conversation_state.delete(context)
        except Exception as cleanup_error:  # noqa: BLE001 - the apology matters more than the cleanup
            log.error("could not clear conversation state: %s", _without_message(cleanup_error))
        if context.activity.type == "message":
            try:
                lang = context.turn_state.get(LANG) or content.normalise_language(context.activity.locale)
                await context.send_activity(content.t(lang, "msg.error"))
            except Exception as send_error:  # noqa: BLE001
                log.error("could not send the apology: %s", _without_message(send_error))

    adapter.on_turn_error = on_error
    return adapter


def _without_message(error: BaseException) -> str:
    """Exception type and stack frames, never the message: messages (int("…"),
    KeyError('…')) can quote what the person typed."""
    return f"{type(error).__name__}\n" + "".join(traceback.format_tb(error.__traceback__))
