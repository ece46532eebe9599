"""What happens when a turn fails: an apology in the person's language, the stack in the
log (never the message text), and the conversation's dialog state cleared so the next
message starts clean.

A reply that could not be delivered (the activity's serviceUrl unreachable, the connection
broken or timed out: msrest's `ClientRequestError`) is not the bot's fault and no apology
could reach the person either: it is logged as a warning, no apology is tried, and the
dialog state is kept, so that the person's place (mid-onboarding, mid-check) is still there
when the connector answers again.

A failed install (installationUpdate add, or conversationUpdate with members added in a
personal chat) gets the static welcome instead of the apology, unless the turn already
said something: the greeting writes the person's document first, so with a full disk a
new person used to get no answer at all, and the welcome needs no write."""

from __future__ import annotations

import logging
from typing import Awaitable, Callable

from botbuilder.core import ConversationState, TurnContext
from msrest.exceptions import ClientRequestError

from dialogs.turn import lang_of
from model import content
from model.safe_log import without_message

log = logging.getLogger("kompetencehjulet.adapter")


def apologising_error_handler(
    conversation_state: ConversationState,
) -> Callable[[TurnContext, Exception], Awaitable[None]]:
    async def on_error(context: TurnContext, error: Exception) -> None:
        if isinstance(error, ClientRequestError):
            log.warning(
                "reply not delivered: activity type=%s channel=%s: the connector could not be reached (%s)",
                context.activity.type,
                context.activity.channel_id,
                type(error.inner_exception or error).__name__,
            )
            return
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
        key: str | None
        if context.activity.type == "message":
            key = "msg.error"
        else:
            key = welcome_for(context.activity) if not context.responded else None
        if key is None:
            return
        try:
            await context.send_activity(content.t(lang_of(context), key))
        except Exception as send_error:  # noqa: BLE001
            log.error(
                "could not send the %s: %s", "apology" if key == "msg.error" else "welcome", without_message(send_error)
            )

    return on_error


def welcome_for(activity) -> str | None:
    """The welcome a failed greeting turn should still give, as the handler would greet."""
    personal = getattr(activity.conversation, "conversation_type", None) in (None, "", "personal")
    if activity.type == "installationUpdate" and activity.action in ("add", "add-upgrade"):
        return "msg.welcome" if personal else "msg.welcome_team"
    if activity.type == "conversationUpdate" and activity.members_added and personal:
        return "msg.welcome"
    return None
