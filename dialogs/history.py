"""`historik`: scores, change, a suggestion and the wheel picture; the MUS summary on request."""

from __future__ import annotations

import asyncio
import base64

from botbuilder.core import MessageFactory, TurnContext

from model import content
from model.clicks import Mus
from model.domain import assessment, history
from model.rendering.wheel_picture import alt_text, made_wheel, render_wheel_compact

from .cards import card_activity
from .files import offer_file
from .turn import lang_of, services, user_key_of

MUS_ACTION = Mus().data()


async def show_history(context: TurnContext) -> None:
    lang = lang_of(context)
    doc = await services(context).users.get(user_key_of(context)) or {}
    items = doc.get("assessments", [])
    profile = doc.get("profile") or {}
    body = history.history_text(lang, profile, items, goal_list=doc.get("goals") or [])
    if not items:
        await context.send_activity(MessageFactory.text(body))
        return
    scores = assessment.latest_scores(items)
    png = made_wheel(scores, lang)
    if png is None:  # a new picture: drawn beside the loop, which keeps serving other turns
        png = await asyncio.to_thread(render_wheel_compact, scores, lang)
    card = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "body": [
            {"type": "TextBlock", "text": content.t(lang, "history.wheel_caption"), "weight": "Bolder"},
            {
                "type": "Image",
                "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                "altText": alt_text(scores, lang),
                "size": "Stretch",
            },
        ],
        "actions": [{"type": "Action.Submit", "title": content.t(lang, "history.mus_button"), "data": MUS_ACTION}],
    }
    activity = card_activity(card, body)
    await context.send_activity(activity)


async def show_mus_summary(context: TurnContext) -> None:
    """The summary as text to copy, and as a file (in Teams through its file consent flow)."""
    lang = lang_of(context)
    doc = await services(context).users.get(user_key_of(context)) or {}
    text = history.mus_summary(lang, doc.get("profile") or {}, doc.get("assessments", []), doc.get("goals") or [])
    await context.send_activity(MessageFactory.text(text))
    await offer_file(context, "mus")
