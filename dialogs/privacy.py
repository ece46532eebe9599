"""Self-service privacy: export everything, delete everything (after a confirmation)."""

from __future__ import annotations

import base64
import json

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import FoundChoice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptValidatorContext
from botbuilder.schema import Attachment

from model import content

from .cards import card_activity
from .common import button_prompt, message, yes_or_no
from .turn import lang_of, services, turn_of, user_key_of

DELETE = "delete"


async def export(context: TurnContext) -> None:
    """Teams can't take a file from a bot without a consent flow, so there it is a card."""
    lang = lang_of(context)
    data = await services(context).export(user_key_of(context))
    text = json.dumps(data, ensure_ascii=False, indent=2)
    intro = content.t(lang, "privacy.export_intro", size=len(text))
    if context.activity.channel_id == "msteams":
        card = {
            "type": "AdaptiveCard",
            "version": "1.4",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "body": [
                {"type": "TextBlock", "text": content.t(lang, "privacy.export_card_title"), "weight": "Bolder"},
                {"type": "TextBlock", "text": text, "wrap": True, "fontType": "Monospace", "size": "Small"},
            ],
        }
        await context.send_activity(card_activity(card, intro))
        return
    activity = MessageFactory.text(intro)
    activity.attachments = [
        Attachment(
            content_type="application/json",
            name=content.t(lang, "privacy.export_filename"),
            content_url="data:application/json;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii"),
        )
    ]
    await context.send_activity(activity)


async def _validate(prompt: PromptValidatorContext) -> bool:
    if prompt.recognized.succeeded:
        return True
    found = yes_or_no(
        prompt.context.activity.text or "",
        {
            "yes": [content.t(lg, "privacy.confirm_yes") for lg in content.LANGUAGES],
            "no": [content.t(lg, "privacy.confirm_no") for lg in content.LANGUAGES],
        },
    )
    if found is None:
        return False
    prompt.recognized.value = FoundChoice(value=found, index=0 if found == "yes" else 1, score=1.0)
    return True


class DeleteDialog(ComponentDialog):
    """Asks once, then removes every trace of the person."""

    def __init__(self) -> None:
        super().__init__(DELETE)
        self.add_dialog(ChoicePrompt("confirm_delete", _validate))
        self.add_dialog(WaterfallDialog("steps", [self.ask, self.act]))
        self.initial_dialog_id = "steps"

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        lang = lang_of(context)
        yes, no = content.t(lang, "privacy.confirm_yes"), content.t(lang, "privacy.confirm_no")
        return await step.prompt(
            "confirm_delete",
            button_prompt(
                content.t(lang, "privacy.confirm_delete"),
                [(yes, [], yes), (no, [], no)],
                retry=content.t(lang, "privacy.confirm_retry"),
            ),
        )

    async def act(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        if step.result.index != 0:
            await context.send_activity(message(context, "privacy.kept"))
            return await step.end_dialog()
        turn = turn_of(context)
        await turn.services.users.delete(turn.user_key, [turn.state_key] if turn.state_key else [])
        turn.deleted = True  # the handler must not write this turn's state back
        await context.send_activity(message(context, "privacy.deleted"))
        return await step.end_dialog()
