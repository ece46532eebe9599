"""A short text followed by a card goes out as one message: the text as the card's caption.

Dialogs say a sentence and then show a card ("Din vurdering er gemt", then the goal offer).
Sent as two messages that is two bubbles in Teams and two requests to the connector, which
counts each against Teams' 7 messages per second per conversation. So a plain text is held
back within the turn: if the next message is a card without text, the text becomes its
caption; anything else (or the end of the turn) sends the held text first, so the order
people read never changes.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

_HELD = "kompetencehjulet.held_caption"
_TURN_ENDED = "kompetencehjulet.captions_released"


def _message(activity: Activity) -> bool:
    return getattr(activity, "type", "message") in (None, "message")


def _plain_text(activity: Activity) -> bool:
    return (
        _message(activity)
        and bool(activity.text)
        and not activity.attachments
        and not activity.suggested_actions
        and not activity.entities
        and not activity.value
    )


def _bare_card(activity: Activity) -> bool:
    return _message(activity) and bool(activity.attachments) and not activity.text


async def hold_captions(
    context: TurnContext, activities: list[Activity], next_send: Callable[[], Awaitable[object]]
) -> object:
    """An on_send_activities handler: rewrites the outgoing list in place (the SDK sends it)."""
    held = context.turn_state.pop(_HELD, None)
    outgoing: list[Activity] = []
    for activity in activities:
        if held is not None:
            if _bare_card(activity):
                activity.text = held.text  # the caption joins its card
            else:
                outgoing.append(held)
            held = None
        if _plain_text(activity) and not context.turn_state.get(_TURN_ENDED):
            held = activity
        else:
            outgoing.append(activity)
    if held is not None:
        context.turn_state[_HELD] = held
    activities[:] = outgoing
    return await next_send()


async def release_caption(context: TurnContext) -> None:
    """At the end of a turn (also one that failed, before its apology): send a text still
    held back, and hold nothing from now on."""
    context.turn_state[_TURN_ENDED] = True
    held = context.turn_state.pop(_HELD, None)
    if held is not None:
        await context.send_activity(held)
