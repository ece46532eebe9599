"""Decides what a message means for the conversation: a command, a question, or an answer
to the prompt that is waiting. The commands are model/commands.py's table (where each works,
which restart a flow, what help says); `ACTIONS` below says what each one does.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from botbuilder.core import ConversationState, MessageFactory, TurnContext
from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnStatus
from botbuilder.dialogs.prompts import PromptOptions

from model import commands, content
from model.domain import answers, coaching
from model.domain.assessment import parse_answer
from model.domain.reminders import reminders_on
from model.language.choices import match_choice, plain_answer
from model.language.understanding import Understanding, understand

from .assessment import ASSESSMENT, AssessmentDialog
from .cards import SAY
from .common import message, text, with_buttons, yes_or_no
from .goals import OWN_GOAL, OWN_GOAL_TEXT, OwnGoalDialog, show_more
from .goals import on_click as goal_click
from .goals import show as show_goals
from .history import show_history, show_mus_summary
from .onboarding import OnboardingDialog, greets_again
from .overviews import count_in, counted_text, leave_out, team_overview
from .presenting import as_activity, overview_for
from .privacy import DELETE, DeleteDialog, export
from .reminders import REMINDERS, RemindersDialog
from .reminders import snooze as snooze_reminders
from .reminders import stop as stop_reminders
from .turn import is_personal, lang_of, services, set_lang, user_key_of

FREE_TEXT_PROMPTS = {OWN_GOAL_TEXT}  # prompts that take any text (an own goal in the person's words)
MAX_CLICKED_TEXT = 300  # a button's text is ours; anything longer was not sent by our card
Handler = Callable[["Router", DialogContext, Understanding], Awaitable[None]]


class Router:
    def __init__(self, conversation_state: ConversationState) -> None:
        self.dialog_state = conversation_state.create_property("DialogState")
        self.dialogs = DialogSet(self.dialog_state)
        for dialog in (OnboardingDialog(), AssessmentDialog(), DeleteDialog(), RemindersDialog(), OwnGoalDialog()):
            self.dialogs.add(dialog)

    # -- entry points called by the activity handler -----------------------------------
    async def on_message(self, context: TurnContext) -> None:
        clicked = clicked_text(context.activity)
        dc = await self.dialogs.create_context(context)
        value = context.activity.value
        if isinstance(value, dict) and value.get("kh") in CLICKS:
            await self._click(dc, value)
            return
        said = (context.activity.text or "").strip()
        if dc.active_dialog is not None:
            if context.activity.value is not None or self._answers_prompt(dc, said):
                await self._continue(dc)
                return
            understood = understand(said)
            if await self._interrupt(dc, understood):
                return
            await self._continue(dc)
            return
        if context.activity.value is not None and not said:
            await self._stale_card(dc)
            return
        if clicked and is_personal(context) and not await self._has_profile(context):
            # a button from before: the person was deleted since, or never finished the questions
            await context.send_activity(message(context, "msg.unknown_click"))
            await self.start_onboarding(dc, greet=False)
            return
        understood = understand(said)
        if understood.intent in ACTIONS:
            await self._command(dc, understood)
        elif _answerable(understood):
            await self._answer(dc, understood)
        elif not await self._has_profile(context) and is_personal(context):
            if understood.intent is None and said:  # say what the bot can do before asking its questions
                await context.send_activity(message(context, "msg.out_of_scope"))
            await self.start_onboarding(dc)
        else:
            await context.send_activity(message(context, "msg.out_of_scope"))

    async def start_onboarding(self, dc: DialogContext, greet: bool = True, then: str | None = None) -> None:
        await dc.cancel_all_dialogs()
        await dc.begin_dialog("onboarding", {"greet": greet, "then": then})

    async def greet_if_new(self, context: TurnContext) -> None:
        """installationUpdate / conversationUpdate: greet once, unless something is running."""
        dc = await self.dialogs.create_context(context)
        if dc.active_dialog is None and not await self._has_profile(context):
            await self.start_onboarding(dc)

    # -- helpers -----------------------------------------------------------------------
    async def _command(self, dc: DialogContext, understood: Understanding) -> None:
        intent = understood.intent or ""
        if await self._allowed(dc.context, intent):
            await ACTIONS[intent](self, dc, understood)

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
    def _answers_prompt(dc: DialogContext, said: str) -> bool:
        """True when the text picks one of the waiting prompt's choices (so never an interruption)."""
        if dc.active_dialog is None:
            return False
        waiting, state = innermost(dc)
        expects = state.get("expects")
        if waiting in FREE_TEXT_PROMPTS or expects == "text":
            # whatever is typed there is the answer, not a command; only a language's name
            # alone ("english", "sprog") switches language, and the question comes again
            return not names_a_language_only(said)
        if expects == "score":
            return parse_answer(said) is not None
        if expects == "yes_no":  # "Nej tak" is an answer here, not a thank-you
            return yes_or_no(said) is not None
        options = state.get("options")
        if not isinstance(options, PromptOptions) or not options.choices:
            return plain_answer(said).isdigit()
        labels = {str(i): [c.value, *(c.synonyms or [])] for i, c in enumerate(options.choices)}
        return match_choice(said, labels, min_score=90) is not None or plain_answer(said).isdigit()

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
                again = greets_again(dc.active_dialog) if dc.active_dialog.id == "onboarding" else None
                if again is not None:  # a first meeting: the greeting again, in the language chosen
                    await dc.cancel_all_dialogs()
                    await dc.begin_dialog("onboarding", again)
                    return True
        elif _answerable(understood) and understood.confidence >= 0.5:
            await self._answer(dc, understood)
        else:
            return False
        await dc.context.send_activity(message(dc.context, "msg.resume"))
        await dc.reprompt_dialog()  # built afresh, so in the language now in use (dialogs/common.py)
        return True

    async def _answer(self, dc: DialogContext, understood: Understanding) -> None:
        context = dc.context
        lang = content.normalise_language(understood.language) if understood.language else lang_of(context)
        if understood.ambiguous and len(understood.alternatives) >= 2:
            a, b = understood.alternatives[:2]
            names = [answers.topic_name(lang, t) for t in (a, b)]
            await context.send_activity(
                as_activity(
                    answers.Reply(
                        content.t(lang, "msg.clarify_topic", a=names[0], b=names[1]),
                        [(n, content.t(lang, "msg.read_more_value", name=n)) for n in names],
                    )
                )
            )
            return
        doc = (await services(context).users.get(user_key_of(context)) or {}) if is_personal(context) else {}
        profile = doc.get("profile") or None
        if understood.role and understood.intent != "role":  # "... for en pædagog": answer for that job
            profile = {**(profile or {}), "role": understood.role}
        onboarding = dc.active_dialog is not None and dc.active_dialog.id == "onboarding"
        reply = self._reply_for(lang, understood, profile, doc, context, invite=not onboarding)
        await context.send_activity(as_activity(reply))

    @staticmethod
    def _reply_for(
        lang: str,
        understood: Understanding,
        profile: dict | None,
        doc: dict,
        context: TurnContext,
        invite: bool = True,
    ) -> answers.Reply:
        """The answer at the grain asked: a term, how to improve, a job, a competence, a sub-area."""
        checks = doc.get("assessments") or []
        resources = services(context).resources
        competence = getattr(understood, "competence", None)
        term = getattr(understood, "term", None)
        role = getattr(understood, "role", None)
        if understood.intent == "term" and term and competence:
            return coaching.term_reply(lang, term, competence)
        if understood.intent == "role" and role:
            return coaching.role_reply(lang, role, profile)
        if understood.intent == "improve" and (competence or understood.topic in content.subarea_ids()):
            if competence is None and understood.topic:
                p = profile or {}
                competence = answers.focus_competences(understood.topic, p.get("role"), p.get("level"))[0]
            if competence:
                return coaching.improve_reply(lang, competence, profile, checks, resources)
        if competence:
            return coaching.competence_reply(lang, competence, profile, checks, resources, invite=invite)
        return answers.topic_reply(
            lang,
            understood.topic or "overview",
            profile,
            detail=answers.wants_detail(context.activity.text or ""),
            invite=invite,
        )

    async def _click(self, dc: DialogContext, value: dict) -> None:
        """A button that does something (a goal, an answer, a role, the MUS summary): it works
        whatever runs, since a nudge's or an answer's buttons can be clicked days later."""
        kind = value["kh"]
        context = dc.context
        if not well_formed_click(value):  # not what our buttons send: answered, never a crash
            await self._stale_card(dc)
            return
        if not await self._allowed(context, CLICK_INTENTS.get(kind, "")):
            return
        running = dc.active_dialog is not None
        if kind == "goal":

            async def begin_own(competence: str | None) -> None:
                await dc.cancel_all_dialogs()
                await dc.begin_dialog(OWN_GOAL, {"competence": competence})

            if value.get("do") == "own":
                running = False
            await goal_click(context, value, begin_own)
        elif kind == "ask":
            competence = value.get("competence")
            if competence not in {c for _, c in content.all_competences()}:
                await self._stale_card(dc)
                return
            intent = "improve" if value.get("intent") == "improve" else "question"
            understood = Understanding(coaching.subarea_of(competence), intent, None, 1.0, competence=competence)
            await self._answer(dc, understood)
        elif kind == "role":
            running = await self._save_role(dc, value.get("role"))
        elif kind == "more":
            await show_more(context, value)
        elif kind == "mus":
            await show_mus_summary(context)
        elif kind == "decline":
            await context.send_activity(message(context, DECLINED.get(str(value.get("what")), "goals.later")))
        elif kind == "keep_data" and not context.responded:  # the handler answered if a warning was pending
            await context.send_activity(message(context, "retention.kept"))
        if running and dc.active_dialog is not None:
            await context.send_activity(message(context, "msg.resume"))
            await dc.reprompt_dialog()

    async def _save_role(self, dc: DialogContext, role: object) -> bool:
        """'Gem som min rolle': keep it; without an involvement level yet, ask for it."""
        from model.domain import relevance

        context = dc.context
        if role not in relevance.roles():
            await self._stale_card(dc)
            return dc.active_dialog is not None
        profile = await services(context).users.profile(user_key_of(context)) or {}
        if not profile.get("level"):
            await dc.cancel_all_dialogs()
            await dc.begin_dialog("onboarding", {"greet": False, "role": role})
            return False
        await services(context).users.save_profile(user_key_of(context), services(context).now(), role=role)
        lang = lang_of(context)
        await context.send_activity(message(context, "msg.role_saved", role=relevance.role_name(lang, str(role))))
        await context.send_activity(overview_for(lang, str(role), profile["level"]))
        return dc.active_dialog is not None

    @staticmethod
    async def _has_profile(context: TurnContext) -> bool:
        profile = await services(context).users.profile(user_key_of(context))
        return bool(profile and profile.get("role") and profile.get("level"))

    async def _stale_card(self, dc: DialogContext) -> None:
        await dc.context.send_activity(message(dc.context, "msg.stale_card"))


def well_formed_click(value: dict) -> bool:
    """Does every field of this click have the type our buttons give it (CLICK_FIELDS)?"""
    kind = value.get("kh")
    fields = CLICK_FIELDS.get(kind, {}) if isinstance(kind, str) else {}
    for name, kind in fields.items():
        given = value.get(name)
        if given is not None and (not isinstance(given, kind) or isinstance(given, bool)):
            return False
    return True


def clicked_text(activity) -> bool:
    """A button that stands for typed text (dialogs/cards.py) becomes that text, so prompts,
    commands and questions understand a click exactly as if it had been typed. True for a click."""
    value = activity.value
    if isinstance(value, dict) and value.get("kh") == SAY and isinstance(value.get("text"), str):
        activity.text = value["text"][:MAX_CLICKED_TEXT]
        activity.value = None
        return True
    return False


def innermost(dc: DialogContext) -> tuple[str, dict]:
    """Id and state of the dialog that is actually waiting (inside component dialogs)."""
    instance = dc.active_dialog
    state = instance.state
    while isinstance(state, dict) and state.get("dialogs") is not None and state["dialogs"].dialog_stack:
        instance = state["dialogs"].dialog_stack[0]
        state = instance.state
    return instance.id, state


# -- commands --------------------------------------------------------------------------
async def _help(router: Router, dc: DialogContext, _: Understanding) -> None:
    """Every command available in this chat, from the one table."""
    context = dc.context
    conversation = context.activity.conversation
    chat = commands.PERSONAL if is_personal(context) else commands.chat_kind(conversation.conversation_type)
    await context.send_activity(MessageFactory.text(commands.help_text(lang_of(context), chat)))


async def _start(router: Router, dc: DialogContext, _: Understanding) -> None:
    await router.start_onboarding(dc)


async def _profile(router: Router, dc: DialogContext, _: Understanding) -> None:
    context = dc.context
    await context.send_activity(
        MessageFactory.text(profile_text(context, await services(context).users.get(user_key_of(context))))
    )


def profile_text(context: TurnContext, doc: dict | None) -> str:
    lang = lang_of(context)
    profile = (doc or {}).get("profile") or {}
    if not profile.get("role"):
        return content.t(lang, "msg.profile_none")
    from model.domain import relevance

    return content.t(
        lang,
        "msg.profile",
        role=relevance.role_name(lang, profile.get("role")),
        level=relevance.level_name(lang, profile.get("level")),
        language=content.t(lang, "language_name"),
        created=content.format_date(lang, profile["created"]) if profile.get("created") else "",
        updated=content.format_date(lang, profile["updated"]) if profile.get("updated") else "",
        assessments=len((doc or {}).get("assessments", [])),
        reminders=content.t(lang, "msg.reminders_on" if reminders_on(doc or {}) else "msg.reminders_off"),
        counted=counted_text(lang, doc or {}, services(context).overviews.mode),
    )


def requested_language(text: str) -> str | None:
    """The language a message names ("english", "på dansk"), or None when it names none."""
    words = f" {plain_answer(text)} "
    for lang in content.LANGUAGES:
        if any(f" {plain_answer(alias)} " in words for alias in content.lookup(lang, "language_aliases")):
            return lang
    return None


def names_a_language_only(text: str) -> bool:
    """The whole message is a language's name or the language command ("english", "på dansk", "sprog")."""
    said = plain_answer(text)
    words = [plain_answer(commands.word(lang, "language")) for lang in content.LANGUAGES]
    words += [plain_answer(alias) for lang in content.LANGUAGES for alias in content.lookup(lang, "language_aliases")]
    return bool(said) and said in words


async def _language(router: Router, dc: DialogContext, understood: Understanding) -> None:
    """Say which language is on; switch only to a language the person named, or let them choose."""
    context = dc.context
    wanted = requested_language(context.activity.text or "")
    current = lang_of(context)
    if wanted is None:
        buttons = [
            (content.t(lang, "language_button"), content.lookup(lang, "language_aliases")[0])
            for lang in content.LANGUAGES
        ]
        await context.send_activity(with_buttons(text(context, "msg.language_choice"), buttons))
        return
    if wanted == current:
        await context.send_activity(message(context, "msg.language_already"))
        return
    set_lang(context, wanted)
    if is_personal(context):
        await services(context).users.save_profile(user_key_of(context), services(context).now(), language=wanted)
    await context.send_activity(message(context, "msg.language_set"))


async def _greeting(router: Router, dc: DialogContext, _: Understanding) -> None:
    if not await router._has_profile(dc.context) and is_personal(dc.context):
        await router.start_onboarding(dc)
        return
    await dc.context.send_activity(message(dc.context, "msg.greeting"))


def _say(key: str) -> Handler:
    """A command answered with one text."""

    async def handler(router: Router, dc: DialogContext, _: Understanding) -> None:
        await dc.context.send_activity(message(dc.context, key))

    return handler


def _begin(dialog_id: str) -> Handler:
    """A command that replaces whatever dialog runs with this one."""

    async def handler(router: Router, dc: DialogContext, _: Understanding) -> None:
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(dialog_id)

    return handler


def _run(action: Callable[[TurnContext], Awaitable[None]]) -> Handler:
    """A command done in one step on the turn."""

    async def handler(router: Router, dc: DialogContext, _: Understanding) -> None:
        await action(dc.context)

    return handler


def _answerable(understood: Understanding) -> bool:
    """A question the bot answers from its content: a sub-area, a competence, a term, a job."""
    if understood.intent == "role":
        return bool(getattr(understood, "role", None))
    return understood.intent in ("question", "term", "improve") and bool(understood.topic)


# Buttons that do something, by the `kh` of their data, and the command each counts as in
# the shared-chat guard (goals, roles and the MUS summary are personal).
CLICKS = ("goal", "ask", "more", "role", "mus", "decline", "keep_data")  # keep_data: the handler already answered
DECLINED = {"reminders": "reminders.declined"}  # "Nej tak" to an offer: what the bot says back
# The fields each kind of button carries and their types (model/domain/coaching.py, dialogs/goals.py);
# a click with another type in one of them is no click of ours.
CLICK_FIELDS: dict[str, dict[str, type]] = {
    "goal": {"do": str, "competence": str, "stage": str, "audience": str, "step": int, "id": str},
    "ask": {"intent": str, "competence": str},
    "more": {"what": str, "competence": str, "topic": str, "shown": list},
    "role": {"role": str},
    "decline": {"what": str},
}
CLICK_INTENTS = {"goal": "goals", "role": "profile", "mus": "history"}

# What each command of model/commands.py does. Which chats a command works in, whether it
# restarts a running flow and what `hjælp` says about it is the registry's business.
ACTIONS: dict[str, Handler] = {
    "help": _help,
    "start": _start,
    "profile": _profile,
    "language": _language,
    "greeting": _greeting,
    "thanks": _say("msg.thanks"),
    "assessment": _begin(ASSESSMENT),
    "history": _run(show_history),
    "goals": _run(show_goals),
    "leave_out": _run(leave_out),
    "count_in": _run(count_in),
    "team_overview": _run(team_overview),
    "export": _run(export),
    "delete": _begin(DELETE),
    "reminders": _begin(REMINDERS),
    "snooze": _run(snooze_reminders),
    "stop_reminders": _run(stop_reminders),
    "cancel": _say("msg.nothing_to_cancel"),
    "skip": _say("msg.nothing_to_cancel"),
}
if set(ACTIONS) != set(commands.ids()):  # a command in the table must do something, and only those
    raise RuntimeError(f"router ACTIONS and model/commands.py disagree on {set(ACTIONS) ^ set(commands.ids())}")
