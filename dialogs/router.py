"""Dispatch: decides what a message means for the conversation and hands it on. A command
goes to `ACTIONS` (dialogs/actions.py; model/commands.py's table says where each works,
which restart a flow, what help says), a question to dialogs/answering.py, an answer to the
dialog that waits for it (what it expects: dialogs/expecting.py), a button that does
something to its click handler.
"""

from __future__ import annotations

from botbuilder.core import ConversationState, TurnContext
from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnStatus
from botbuilder.schema import Activity

from model import clicks, commands, content
from model.domain import coaching, relevance
from model.domain.assessment import parse_answer
from model.language import follow_up
from model.language.choices import match_choice, plain_answer
from model.language.understanding import Understanding, understand

from .actions import ACTIONS, names_a_language_only, save_role
from .answering import answer, answerable, last_answer, offer_again, picked_from_offer
from .assessment import AssessmentDialog
from .common import message, reply_in, yes_or_no
from .expecting import Expects, waiting_for
from .goals import OWN_GOAL, OwnGoalDialog, show_more
from .goals import on_click as goal_click
from .history import show_mus_summary
from .onboarding import ONBOARDING, OnboardingDialog, greets_again, has_profile, start_onboarding
from .privacy import DeleteDialog
from .reminders import RemindersDialog
from .turn import is_personal, lang_of

MAX_CLICKED_TEXT = 300  # a button's text is ours; anything longer was not sent by our card


class Router:
    def __init__(self, conversation_state: ConversationState) -> None:
        self.dialog_state = conversation_state.create_property("DialogState")
        self.dialogs = DialogSet(self.dialog_state)
        for dialog in (OnboardingDialog(), AssessmentDialog(), DeleteDialog(), RemindersDialog(), OwnGoalDialog()):
            self.dialogs.add(dialog)

    # -- entry points called by the activity handler -----------------------------------
    async def on_message(self, context: TurnContext) -> None:
        last = last_answer(context)  # for this message only: the next one reads what this turn answers
        clicked = clicked_text(context.activity)
        dc = await self.dialogs.create_context(context)
        value = context.activity.value
        if clicks.kind_of(value) in ACTING:
            await self._click(dc, clicks.parse(value))
            return
        said = (context.activity.text or "").strip()
        if dc.active_dialog is not None:
            if context.activity.value is not None or await self._answers_prompt(dc, said):
                await self._continue(dc)
                return
            understood = understand(said, after=last)
            if await self._interrupt(dc, understood):
                return
            await self._continue(dc)
            return
        if context.activity.value is not None and not said:
            await self._stale_card(dc)
            return
        if clicked and is_personal(context) and not await has_profile(context):
            # a button from before: the person was deleted since, or never finished the questions
            await context.send_activity(message(context, "msg.unknown_click"))
            await start_onboarding(dc, greet=False)
            return
        if last is not None and last.offered and said and not clicked:
            picked = picked_from_offer(said, last)  # '2', 'den første' after "Mente du ...?"
            if picked is not None:
                await answer(dc, picked)
                return
        understood = understand(said, after=last)
        if understood.intent in ACTIONS:
            await self._command(dc, understood)
        elif await answers_it(context, understood):
            await answer(dc, understood)
        elif last is not None and last.offered and not clicked and follow_up.asks_for_more(said):
            await offer_again(context, last, understood.language)  # 'kan du give et eksempel?' before a pick
        elif not await has_profile(context) and is_personal(context):
            if understood.intent is None and said:  # say what the bot can do before asking its questions
                await context.send_activity(reply_in(context, understood.language, "msg.out_of_scope"))
            await start_onboarding(dc)
        else:
            await context.send_activity(reply_in(context, understood.language, "msg.out_of_scope"))

    async def greet_if_new(self, context: TurnContext) -> None:
        """installationUpdate / conversationUpdate: greet once, unless something is running."""
        dc = await self.dialogs.create_context(context)
        if dc.active_dialog is None and not await has_profile(context):
            await start_onboarding(dc)

    # -- helpers -----------------------------------------------------------------------
    async def _command(self, dc: DialogContext, understood: Understanding) -> None:
        intent = understood.intent or ""
        if await self._allowed(dc.context, intent):
            await ACTIONS[intent](dc, understood)

    @staticmethod
    async def _allowed(context: TurnContext, intent: str) -> bool:
        """The one place that keeps personal data out of shared chats."""
        command = commands.get(intent)
        if command is not None and command.personal_only and not is_personal(context):
            await context.send_activity(message(context, "msg.private_only"))
            return False
        return True

    async def _continue(self, dc: DialogContext) -> None:
        result = await dc.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dc.context.send_activity(message(dc.context, "msg.out_of_scope"))

    @staticmethod
    async def _answers_prompt(dc: DialogContext, said: str) -> bool:
        """True when the text is what the waiting dialog expects (so never an interruption)."""
        waiting = await waiting_for(dc)
        if waiting is None:
            return False
        if waiting.expects is Expects.TEXT:
            # whatever is typed there is the answer, not a command; only a language's name
            # alone ("english", "sprog") switches language, and the question comes again
            return not names_a_language_only(said)
        if waiting.expects is Expects.SCORE:
            return parse_answer(said) is not None
        if waiting.expects is Expects.YES_NO:  # "Nej tak" is an answer here, not a thank-you
            return yes_or_no(said) is not None
        if not waiting.choices:
            return plain_answer(said).isdigit()
        labels = {str(i): [c.value, *(c.synonyms or [])] for i, c in enumerate(waiting.choices)}
        if match_choice(said, labels, min_score=90) is not None or plain_answer(said).isdigit():
            return True
        return waiting.accepts_typed is not None and waiting.accepts_typed(said)

    async def _interrupt(self, dc: DialogContext, understood: Understanding) -> bool:
        """Commands and questions work mid-dialog: flows restart, answers re-prompt."""
        intent = understood.intent or ""
        if (command := commands.get(intent)) is not None and command.restarts:
            await dc.cancel_all_dialogs()
            await self._command(dc, understood)
            return True
        if intent == "cancel":
            await dc.cancel_all_dialogs()
            await dc.context.send_activity(message(dc.context, "msg.cancelled"))
            return True
        if intent == "greeting":  # "hej" in the middle of something: a hello, then the question again
            await dc.context.send_activity(message(dc.context, "msg.greeting_short"))
            await dc.reprompt_dialog()
            return True
        if intent in ACTIONS:
            before = lang_of(dc.context)
            await self._command(dc, understood)
            if lang_of(dc.context) != before and dc.active_dialog is not None:
                again = greets_again(dc.active_dialog) if dc.active_dialog.id == ONBOARDING else None
                if again is not None:  # a first meeting: the greeting again, in the language chosen
                    await dc.cancel_all_dialogs()
                    await dc.begin_dialog(ONBOARDING, again)
                    return True
        elif understood.confidence >= 0.5 and await answers_it(dc.context, understood):
            await answer(dc, understood)
        else:
            return False
        await dc.context.send_activity(message(dc.context, "msg.resume"))
        await dc.reprompt_dialog()  # built afresh, so in the language now in use (dialogs/common.py)
        return True

    async def _click(self, dc: DialogContext, click: clicks.Click | None) -> None:
        """A button that does something (a goal, an answer, a role, the MUS summary): it works
        whatever runs, since a nudge's or an answer's buttons can be clicked days later."""
        context = dc.context
        if click is None:  # not what our buttons send: answered, never a crash
            await self._stale_card(dc)
            return
        if not await self._allowed(context, CLICK_INTENTS.get(type(click), "")):
            return
        running = dc.active_dialog is not None
        match click:
            case clicks.Goal():

                async def begin_own(competence: str | None) -> None:
                    await dc.cancel_all_dialogs()
                    await dc.begin_dialog(OWN_GOAL, {"competence": competence})

                if click.do == "own":
                    running = False
                await goal_click(context, click, begin_own)
            case clicks.Ask(competence=competence):
                if competence is None or competence not in {c for _, c in content.all_competences()}:
                    await self._stale_card(dc)
                    return
                # the kind of question the "Mente du ...?" answered ('er det noget jeg skal kunne?': the job's)
                intent = click.intent if click.intent in ("improve", "role") else "question"
                role = click.role if click.role in relevance.roles() else None
                understood = Understanding(
                    coaching.subarea_of(competence), intent, None, 1.0, competence=competence, role=role
                )
                await answer(dc, understood)
            case clicks.Role():
                running = await save_role(dc, click.role)
            case clicks.More():
                await show_more(context, click)
            case clicks.Mus():
                await show_mus_summary(context)
            case clicks.Decline():
                await context.send_activity(message(context, DECLINED.get(str(click.what), "goals.later")))
            case clicks.KeepData() if not context.responded:  # the handler answered if a warning was pending
                await context.send_activity(message(context, "retention.kept"))
        if running and dc.active_dialog is not None:
            await context.send_activity(message(context, "msg.resume"))
            await dc.reprompt_dialog()

    async def _stale_card(self, dc: DialogContext) -> None:
        await dc.context.send_activity(message(dc.context, "msg.stale_card"))


async def answers_it(context: TurnContext, understood: Understanding) -> bool:
    """A question the bot answers here: from its content, and a job's question also from the
    job in the person's profile (the profile is only read for a job's question)."""
    return answerable(understood, understood.intent == "role" and await has_profile(context))


def clicked_text(activity: Activity) -> bool:
    """A button that stands for typed text (`clicks.Say`) becomes that text, so prompts,
    commands and questions understand a click exactly as if it had been typed. True for a click."""
    click = clicks.parse(activity.value)
    if isinstance(click, clicks.Say):
        activity.text = click.text[:MAX_CLICKED_TEXT]
        activity.value = None
        return True
    return False


# Buttons that do something (model/clicks.py), and the command each counts as in the
# shared-chat guard (goals, roles and the MUS summary are personal).
ACTING = {
    cls.KIND for cls in (clicks.Goal, clicks.Ask, clicks.More, clicks.Role, clicks.Mus, clicks.Decline, clicks.KeepData)
}  # KeepData: the handler already answered
CLICK_INTENTS: dict[type[clicks.Click], str] = {clicks.Goal: "goals", clicks.Role: "profile", clicks.Mus: "history"}
DECLINED = {"reminders": "reminders.declined"}  # "Nej tak" to an offer: what the bot says back
