"""Small helpers every dialog uses to say things: texts in the turn's language, buttons,
choices, dates, yes/no."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs.choices import Choice
from botbuilder.schema import ActionTypes, Activity, CardAction, HeroCard

from model import content

from .turn import lang_of


def text(context: TurnContext, key: str, **values: Any) -> str:
    return content.t(lang_of(context), key, **values)


def message(context: TurnContext, key: str, **values: Any) -> Activity:
    return MessageFactory.text(text(context, key, **values))


def with_buttons(body: str, buttons: list[tuple[str, str]]) -> Activity:
    """Text plus a hero card of imBack buttons: clickable in Teams and Web Chat, typeable anywhere."""
    card = HeroCard(
        buttons=[CardAction(type=ActionTypes.im_back, title=title, value=value) for title, value in buttons]
    )
    activity = MessageFactory.text(body)
    activity.attachments = [CardFactory.hero_card(card)]
    return activity


def choices(labels: list[tuple[str, list[str]]]) -> list[Choice]:
    """Choices shown by label; synonyms let typed answers in either language match."""
    return [Choice(value=label, synonyms=synonyms) for label, synonyms in labels]


def format_date(lang: str, when) -> str:
    """A date in the person's language, words from the content file."""
    cal = content.lookup(lang, "calendar")
    return cal["date_format"].format(day=when.day, month=cal["months"][when.month - 1], year=when.year)


def yes_no_options() -> dict[str, list[str]]:
    """Yes/no in both languages: the button labels and the usual typed words."""
    return {
        answer: [
            w
            for lang in content.LANGUAGES
            for w in [content.t(lang, f"assessment.{answer}"), *content.lookup(lang, f"assessment.{answer}_words")]
        ]
        for answer in ("yes", "no")
    }


def yes_or_no(said: str, extra: dict[str, list[str]] | None = None) -> str | None:
    from model.choices import match_choice

    options = yes_no_options()
    for answer, words in (extra or {}).items():
        options[answer] = options[answer] + words
    return match_choice(said, options, min_score=90)
