"""Small helpers every dialog uses to say things: texts in the turn's language, buttons,
choices, dates, yes/no; and the base of dialogs whose questions are asked again afresh."""

from __future__ import annotations

from typing import Sequence

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import ComponentDialog, DialogInstance
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity

from model import content
from model.clicks import Button

from .cards import card_attachment, message_card
from .turn import lang_of, lang_said


def text(context: TurnContext, key: str, **values: object) -> str:
    return content.t(lang_of(context), key, **values)


def message(context: TurnContext, key: str, **values: object) -> Activity:
    return MessageFactory.text(text(context, key, **values))


def reply_in(context: TurnContext, language: str | None, key: str) -> Activity:
    """A text in the language the message was written in when that is clear ('thanks', a
    question the bot cannot help with), else in the person's setting."""
    return MessageFactory.text(content.t(lang_said(context, language), key))


def with_buttons(body: str, buttons: Sequence[Button]) -> Activity:
    """Text and its buttons as one message (see dialogs/cards.py); without buttons, plain text."""
    if not buttons:
        return MessageFactory.text(body)
    return MessageFactory.attachment(card_attachment(message_card(body, buttons)))


def button_prompt(text: str, options: list[tuple[str, list[str], str]], retry: str | None = None) -> PromptOptions:
    """A choice prompt as one card: the text (which spells out the options in full) and a
    button per option. `options` are (label, synonyms, button title); a click says the
    label, which the prompt recognises exactly; typed labels, synonyms and numbers work too."""
    buttons = [(title, label) for label, _, title in options]
    return PromptOptions(
        prompt=with_buttons(text, buttons),
        retry_prompt=with_buttons(retry, buttons) if retry else None,
        choices=choices([(label, synonyms) for label, synonyms, _ in options]),
        style=ListStyle.none,
    )


def choices(labels: list[tuple[str, list[str]]]) -> list[Choice]:
    """Choices shown by label; synonyms let typed answers in either language match."""
    return [Choice(value=label, synonyms=synonyms) for label, synonyms in labels]


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
    from model.language.choices import match_choice

    options = yes_no_options()
    for answer, words in (extra or {}).items():
        options[answer] = options[answer] + words
    return match_choice(said, options, min_score=90)


class AskingDialog(ComponentDialog):
    """A component dialog (a waterfall and its prompts) whose questions `question()` builds.

    A prompt keeps the question it first sent, in the language of that moment. Asked again
    (after a question was answered mid-dialog, a button was clicked, or the person switched
    language with `english`/`sprog`), the waiting question is built afresh by `question()`,
    so it comes in the language now in use, with its buttons and choices in that language.
    """

    async def question(self, context: TurnContext, prompt_id: str, steps: dict) -> PromptOptions | None:
        """The prompt `prompt_id` as it would be asked now; `steps` is the waterfall's state
        (its "values" and "options"). None keeps the question as first sent."""
        return None

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        stack = instance.state[self.persisted_dialog_state].dialog_stack
        if len(stack) >= 2:  # [the waiting prompt, ..., the waterfall that asked it]
            waiting, steps = stack[0], stack[-1]
            fresh = await self.question(context, waiting.id, steps.state)
            if fresh is not None:
                waiting.state["options"] = fresh  # botbuilder's Prompt keeps its options here
        await super().reprompt_dialog(context, instance)
