"""Adaptive Cards (schema 1.4, which Teams, Web Chat, the Agents Playground and mobile
clients all render), and the one kind of button the bot sends.

Buttons are `Action.Submit` with object data: the only button that works in Teams
(personal and shared chats), Web Chat and the Microsoft 365 Agents Playground alike
(hero-card imBack/messageBack/postBack are refused by the Playground, `data.msteams`
breaks there, messageBack's displayText is ignored by Web Chat's Adaptive Cards). A
button that stands for something the person could type carries `clicks.Say` (`{"kh":
"say", "text": ...}`, model/clicks.py); the router turns it into that typed text, so
every prompt understands a click and a typed answer the same way. A message with buttons
is one card holding its text too, so it arrives as one message, not a text followed by a
card of buttons.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, Attachment

from model import content
from model.clicks import Button, ClickData, DeepSubmit, QuickSubmit, Say
from model.domain.assessment import SCALE, scale_label

CARD_VERSION = "1.4"
STACK_OVER = 3  # more buttons than this are stacked one per row, so none is squeezed
_NUMBERED = re.compile(r"^\s*\d+[.)]\s")  # a numbered list item in Markdown: "1. ..." or "1) ..."


def action(title: str, value: str | ClickData) -> dict[str, Any]:
    """One button: a string value is what a click says for the person, a dict is its data."""
    data = value if isinstance(value, dict) else Say(text=value).data()
    return {"type": "Action.Submit", "title": title, "data": data}


def text_blocks(text: str) -> list[dict[str, Any]]:
    """Our texts as card text: one block per line (renderers differ on single line
    breaks), a blank line as a wider gap, Markdown bold and bullets as they are. The items
    of a numbered list share one block, one item a line: alone in its block, "2. ..." would
    be a list of its own, and Web Chat numbers every such list from 1 ("1. 1. 1.")."""
    blocks: list[dict[str, Any]] = []
    gap = False
    for line in (text or "").split("\n"):
        if not line.strip():
            gap = True
            continue
        if blocks and not gap and _NUMBERED.match(line) and _NUMBERED.match(blocks[-1]["text"].rsplit("\n", 1)[-1]):
            blocks[-1]["text"] += "\n" + line  # the next item of the same list
            continue
        block: dict[str, Any] = {"type": "TextBlock", "text": line, "wrap": True}
        if blocks:
            block["spacing"] = "Medium" if gap else "Small"
        blocks.append(block)
        gap = False
    return blocks


def message_card(text: str, buttons: Sequence[Button]) -> dict[str, Any]:
    """A message and its buttons as one card; more than STACK_OVER buttons one per row."""
    actions = [action(title, value) for title, value in buttons]
    body = text_blocks(text)
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if len(actions) > STACK_OVER:
        body += [{"type": "ActionSet", "actions": [a], "spacing": "Small"} for a in actions]
    else:
        card["actions"] = actions
    return card


def card_text(card: dict[str, Any]) -> str:
    """The text a card shows (its text blocks, one per line), without its buttons."""
    return "\n".join(
        str(block.get("text") or "") for block in card.get("body") or [] if block.get("type") == "TextBlock"
    )


def card_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Submit a card carries, in the order shown (tests and the terminal chat)."""
    found = list(card.get("actions") or [])
    for element in card.get("body") or []:
        if element.get("type") == "ActionSet":
            found += element.get("actions") or []
    return found


def _choice_set(lang: str, input_id: str, label: str, hint: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": label, "weight": "Bolder", "wrap": True, "spacing": "Medium"}
    ]
    if hint:
        blocks.append({"type": "TextBlock", "text": hint, "isSubtle": True, "wrap": True, "spacing": "None"})
    blocks.append(
        {
            "type": "Input.ChoiceSet",
            "id": input_id,
            "style": "compact",
            "isRequired": False,
            "placeholder": content.t(lang, "assessment.card_choice_placeholder"),
            "choices": [{"title": f"{s} - {scale_label(lang, s)}", "value": str(s)} for s in SCALE],
        }
    )
    return blocks


def card_attachment(card: dict[str, Any]) -> Attachment:
    """An Adaptive Card as an attachment. Sending it does not deep-copy it (the turn's
    SharingTurnContext in bot/sdk/adapter.py): nothing changes a card once it is built."""
    return CardFactory.adaptive_card(card)


def card_activity(card: dict[str, Any], text: str | None = None) -> Activity:
    activity = MessageFactory.attachment(card_attachment(card))
    if text:
        activity.text = text
    return activity


def quick_check_card(lang: str, subareas: list[str], nonce: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": content.t(lang, "assessment.card_title"),
            "size": "Medium",
            "weight": "Bolder",
            "wrap": True,
        },
        {"type": "TextBlock", "text": content.t(lang, "assessment.card_intro"), "wrap": True},
    ]
    for rank, sub in enumerate(subareas, start=1):
        body += _choice_set(
            lang,
            sub,
            content.t(lang, "assessment.card_question", rank=rank, name=content.subarea_name(lang, sub)),
            content.t(lang, f"subareas.{sub}.short"),
        )
    body += [
        {
            "type": "Input.Text",
            "id": "note",
            "label": content.t(lang, "assessment.card_note_label"),
            "maxLength": 280,
            "isMultiline": False,
        },
        {
            "type": "TextBlock",
            "text": content.t(lang, "assessment.card_skip_hint"),
            "isSubtle": True,
            "wrap": True,
            "size": "Small",
        },
    ]
    return _card(body, content.t(lang, "assessment.card_submit"), QuickSubmit(nonce=nonce).data())


def deep_card(lang: str, items: list[tuple[str, str]], nonce: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": content.t(lang, "assessment.deep_card_title"),
            "size": "Medium",
            "weight": "Bolder",
            "wrap": True,
        },
        {"type": "TextBlock", "text": content.t(lang, "assessment.deep_intro"), "wrap": True},
    ]
    for sub, comp in items:
        body += _choice_set(lang, comp, content.competence_name(lang, sub, comp))
    return _card(body, content.t(lang, "assessment.card_submit"), DeepSubmit(nonce=nonce).data())


def _card(body: list[dict[str, Any]], submit: str, data: ClickData) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.Submit", "title": submit, "data": data}],
    }
