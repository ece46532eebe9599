"""Self-service privacy: export everything, delete everything (after a confirmation)."""

from __future__ import annotations

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import FoundChoice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, PromptValidatorContext

from model import content
from model.domain.reminders import reminders_on

from .common import AskingDialog, button_prompt, message, yes_or_no
from .files import offer_file
from .turn import lang_of, services, turn_of, user_key_of

DELETE = "delete"


async def export(context: TurnContext) -> None:
    """A readable summary in the chat, and everything as a JSON file (in Teams through its
    file consent flow: Teams collapses long text and caps a message's size)."""
    lang = lang_of(context)
    doc = await services(context).users.get(user_key_of(context)) or {}
    await context.send_activity(MessageFactory.text(export_summary(lang, doc)))
    await offer_file(context, "export")


def export_summary(lang: str, doc: dict) -> str:
    """What is stored, in words: the parts and how many of each, never as raw JSON."""
    from model.domain import relevance

    profile = doc.get("profile") or {}
    checks = doc.get("assessments") or []
    goal_list = doc.get("goals") or []
    return content.t(
        lang,
        "privacy.export_intro",
        role=relevance.role_name(lang, profile.get("role")) or content.t(lang, "privacy.nothing"),
        assessments=len(checks),
        latest=content.format_date(lang, checks[-1]["at"]) if checks else content.t(lang, "privacy.nothing"),
        notes=sum(1 for c in checks if c.get("note")),
        goals=len(goal_list),
        reminders=content.t(lang, "msg.reminders_on" if reminders_on(doc) else "msg.reminders_off"),
    )


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


class DeleteDialog(AskingDialog):
    """Asks once, then removes every trace of the person."""

    def __init__(self) -> None:
        super().__init__(DELETE)
        self.add_dialog(ChoicePrompt("confirm_delete", _validate))
        self.add_dialog(WaterfallDialog("steps", [self.ask, self.act]))
        self.initial_dialog_id = "steps"

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("confirm_delete", await self.question(step.context, "confirm_delete", {}))

    async def question(self, context: TurnContext, prompt_id: str, steps: dict) -> PromptOptions | None:
        lang = lang_of(context)
        yes, no = content.t(lang, "privacy.confirm_yes"), content.t(lang, "privacy.confirm_no")
        return button_prompt(
            content.t(lang, "privacy.confirm_delete"),
            [(yes, [], yes), (no, [], no)],
            retry=content.t(lang, "privacy.confirm_retry"),
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
