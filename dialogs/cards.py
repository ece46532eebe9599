"""Adaptive Cards (schema 1.4, which Teams, Web Chat and mobile clients all render).
Every card is sent with a plain-text companion so the flow also works where cards don't.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from model import content
from model.assessment import SCALE, scale_label

CARD_VERSION = "1.4"


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


def card_activity(card: dict[str, Any], text: str | None = None) -> Activity:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
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
    return _card(body, content.t(lang, "assessment.card_submit"), {"kh": "quick", "nonce": nonce})


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
    return _card(body, content.t(lang, "assessment.card_submit"), {"kh": "deep", "nonce": nonce})


def _card(body: list[dict[str, Any]], submit: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": [{"type": "Action.Submit", "title": submit, "data": data}],
    }
