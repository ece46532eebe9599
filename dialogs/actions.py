"""What each command of model/commands.py does (`ACTIONS`), and what the role button does
(`save_role`). Which chats a command works in, whether it restarts a running flow and what
`hjælp` says about it is the registry's business; when to run one is the router's
(dialogs/router.py)."""

from __future__ import annotations

from typing import Awaitable, Callable

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import DialogContext

from model import commands, content
from model.domain import relevance
from model.domain.reminders import reminders_on
from model.language.choices import plain_answer
from model.language.understanding import Understanding

from .assessment import ASSESSMENT
from .common import message, reply_in, text, with_buttons
from .goals import show as show_goals
from .history import show_history
from .onboarding import ONBOARDING, has_profile, start_onboarding
from .overviews import count_in, counted_text, leave_out, team_overview
from .presenting import overview_for
from .privacy import DELETE, export
from .reminders import REMINDERS
from .reminders import snooze as snooze_reminders
from .reminders import stop as stop_reminders
from .turn import is_personal, lang_of, services, set_lang, user_key_of

Handler = Callable[[DialogContext, Understanding], Awaitable[None]]


async def _help(dc: DialogContext, _: Understanding) -> None:
    """Every command available in this chat, from the one table."""
    context = dc.context
    conversation = context.activity.conversation
    chat = commands.PERSONAL if is_personal(context) else commands.chat_kind(conversation.conversation_type)
    await context.send_activity(MessageFactory.text(commands.help_text(lang_of(context), chat)))


async def _start(dc: DialogContext, _: Understanding) -> None:
    await start_onboarding(dc)


async def _profile(dc: DialogContext, _: Understanding) -> None:
    context = dc.context
    await context.send_activity(
        MessageFactory.text(profile_text(context, await services(context).users.get(user_key_of(context))))
    )


def profile_text(context: TurnContext, doc: dict | None) -> str:
    lang = lang_of(context)
    profile = (doc or {}).get("profile") or {}
    if not profile.get("role"):
        return content.t(lang, "msg.profile_none")
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


async def _language(dc: DialogContext, understood: Understanding) -> None:
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


async def _greeting(dc: DialogContext, _: Understanding) -> None:
    if not await has_profile(dc.context) and is_personal(dc.context):
        await start_onboarding(dc)
        return
    await dc.context.send_activity(message(dc.context, "msg.greeting"))


def _say(key: str) -> Handler:
    """A command answered with one text, in the language it was written in ('thanks')."""

    async def handler(dc: DialogContext, understood: Understanding) -> None:
        await dc.context.send_activity(reply_in(dc.context, understood.language, key))

    return handler


def _begin(dialog_id: str) -> Handler:
    """A command that replaces whatever dialog runs with this one."""

    async def handler(dc: DialogContext, _: Understanding) -> None:
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(dialog_id)

    return handler


def _run(action: Callable[[TurnContext], Awaitable[None]]) -> Handler:
    """A command done in one step on the turn."""

    async def handler(dc: DialogContext, _: Understanding) -> None:
        await action(dc.context)

    return handler


async def save_role(dc: DialogContext, role: str | None) -> bool:
    """'Gem som min rolle' (`clicks.Role`): keep it; without an involvement level yet, ask
    for it. True when the dialog that ran before still waits."""
    context = dc.context
    if role not in relevance.roles():
        await context.send_activity(message(context, "msg.stale_card"))
        return dc.active_dialog is not None
    profile = await services(context).users.profile(user_key_of(context)) or {}
    if not profile.get("level"):
        await dc.cancel_all_dialogs()
        await dc.begin_dialog(ONBOARDING, {"greet": False, "role": role})
        return False
    await services(context).users.save_profile(user_key_of(context), services(context).now(), role=role)
    lang = lang_of(context)
    await context.send_activity(message(context, "msg.role_saved", role=relevance.role_name(lang, str(role))))
    await context.send_activity(overview_for(lang, str(role), profile["level"]))
    return dc.active_dialog is not None


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
    raise RuntimeError(f"ACTIONS and model/commands.py disagree on {set(ACTIONS) ^ set(commands.ids())}")
