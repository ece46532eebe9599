"""What happens when a turn fails: an apology in the person's language, the stack in the
log (never the message text), and the conversation's dialog state cleared so the next
message starts clean."""

from __future__ import annotations

import logging
import traceback
from typing import Awaitable, Callable

from botbuilder.core import ConversationState, TurnContext

from dialogs.turn import lang_of
from model import content

log = logging.getLogger("kompetencehjulet.adapter")


def apologising_error_handler(
    conversation_state: ConversationState,
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error(
            "turn failed: activity type=%s channel=%s: %s",
            context.activity.type,
            context.activity.channel_id,
            without_message(error),
        )
        try:
            await conversation_state.delete(context)
        except Exception as cleanup_error:  # noqa: BLE001 - the apology matters more than the cleanup
            log.error("could not clear conversation state: %s", without_message(cleanup_error))
        if context.activity.type == "message":
            try:
                await context.send_activity(content.t(lang_of(context), "msg.error"))
            except Exception as send_error:  # noqa: BLE001
                log.error("could not send the apology: %s", without_message(send_error))

    return on_error


def without_message(error: BaseException) -> str:
    """Exception type and stack frames, never the message: messages (int("…"),
    KeyError('…')) can quote what the person typed."""
    return f"{type(error).__name__}\n" + "".join(traceback.format_tb(error.__traceback__))
