"""The CloudAdapter with Bot Framework auth from configuration and a turn error handler
that apologises in the person's language, logs the stack (never message text) and
clears the conversation's dialog state so the next message starts clean.
"""
from __future__ import annotations

import logging

from botbuilder.core import ConversationState, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from dialogs.common import LANG
from model import content

from .config import Config

log = logging.getLogger("kompetencehjulet.adapter")


def create_adapter(config: Config, conversation_state: ConversationState) -> CloudAdapter:
    if config.local_mode:
        log.warning("MicrosoftAppId is not set: Bot Framework authentication is OFF (local mode). "
                    "Never expose this instance to the internet.")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))

    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error("turn failed: activity type=%s channel=%s", context.activity.type,
                  context.activity.channel_id, exc_info=error)
        try:
            await conversation_state.delete(context)
        except Exception:  # noqa: BLE001 - the apology matters more than the cleanup
            log.exception("could not clear conversation state")
        if context.activity.type == "message":
            try:
                lang = context.turn_state.get(LANG) or content.normalise_language(context.activity.locale)
                await context.send_activity(content.t(lang, "msg.error"))
            except Exception:  # noqa: BLE001
                log.exception("could not send the apology")

    adapter.on_turn_error = on_error
    return adapter
