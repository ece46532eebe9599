"""`mål` / `goals`: a personal development goal, proposed after a check, set by a click or in
the person's own words, followed up in the nudges and marked done, kept or dropped.

Goal buttons carry a `clicks.Goal` payload (model/clicks.py); the router hands every such
click here, whatever dialog is running, because a nudge's buttons can be clicked days
later. So are an answer's "Flere skridt" / "Mere om ..." buttons (`clicks.More`, `show_more`).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt

from model import content
from model.clicks import Button, Goal, More
from model.domain import answers, coaching, goals
from model.domain.answers import Reply
from model.domain.reminders import reminders_on

from .common import AskingDialog, message, with_buttons
from .presenting import as_activity
from .turn import is_personal, lang_of, now_of, services, user_key_of

OWN_GOAL = "own_goal"
OWN_GOAL_TEXT = "own_goal_text"


def _new_goal_button(lang: str) -> Button:
    return content.t(lang, "goals.new_button"), Goal(do="offer").data()


async def offer(context: TurnContext) -> None:
    """Steps for the competence with most to gain, none already a goal; without a check, an
    invitation to take one."""
    lang = lang_of(context)
    doc = await services(context).users.get(user_key_of(context)) or {}
    reply = coaching.goal_offer(
        lang,
        doc.get("profile") or {},
        doc.get("assessments") or [],
        services(context).resources,
        doc.get("goals") or [],
    )
    if reply is None:
        reply = Reply(
            content.t(lang, "goals.need_a_check"),
            [
                (content.t(lang, "msg.assessment_button"), content.t(lang, "commands.assessment.command")),
                (content.t(lang, "coaching.own_goal_button"), Goal(do="own").data()),
            ],
        )
    await context.send_activity(as_activity(reply))


async def show(context: TurnContext) -> None:
    """The person's goals: each open one with done / keep / drop, the closed ones as a list."""
    lang = lang_of(context)
    doc = await services(context).users.get(user_key_of(context)) or {}
    current, closed = goals.open_goals(doc), goals.closed_goals(doc)
    if not current and not closed:
        await offer(context)
        return
    for goal in current:
        lines = [content.t(lang, "goals.current_title"), goals.goal_line(lang, goal), goals.goal_text(lang, goal)]
        await context.send_activity(
            with_buttons(
                "\n".join(line for line in lines if line), goals.progress_buttons(lang, goal, ("done", "keep", "drop"))
            )
        )
    lines = [content.t(lang, "goals.closed_title")] + [goals.goal_line(lang, g) for g in closed[-10:]] if closed else []
    if not current:
        lines.insert(0, content.t(lang, "goals.none_open"))
    await context.send_activity(
        with_buttons("\n".join(lines) or content.t(lang, "goals.more_hint"), [_new_goal_button(lang)])
    )


async def on_click(context: TurnContext, click: Goal, begin_own: Callable[[str | None], Awaitable[None]]) -> None:
    """A goal button: set, own, done, keep, drop, other, offer or later."""
    lang = lang_of(context)
    key, now = user_key_of(context), now_of(context)
    store = services(context).goals
    do = click.do
    if do == "set" and click.competence not in {c for _, c in content.all_competences()}:
        await context.send_activity(message(context, "msg.stale_card"))
        return
    if do == "set" and click.competence is not None:
        audience = click.audience if click.audience in coaching.AUDIENCES else "use"  # older buttons
        found = (
            coaching.steps(lang, click.competence, str(click.stage), services(context).resources, str(audience))
            if click.stage in coaching.STAGES
            else []
        )
        index = click.step
        if index is None or not 0 <= index < len(found):
            await context.send_activity(message(context, "msg.stale_card"))
            return
        step = found[index]
        what: dict[str, Any] = {"competence": click.competence, "kind": step.kind}
        if step.own:  # the municipality's offer: in its own words
            what.update(title=step.title, text=step.text)
        else:
            what.update(stage=click.stage, audience=audience)
        goal, dropped = await store.add(key, what, now)
        await _confirm(context, goal, dropped)
    elif do == "own":
        await begin_own(None)
    elif do in ("done", "drop", "other", "keep"):
        doc = await services(context).users.get(key) or {}
        goal = next((g for g in goals.open_goals(doc) if g["id"] == click.id), None)
        if goal is None:
            await context.send_activity(message(context, "goals.already_closed"))
            return
        if do == "keep":
            await context.send_activity(message(context, "goals.kept", title=goals.goal_title(lang, goal)))
            return
        await store.close(key, goal["id"], goals.DONE if do == "done" else goals.DROPPED, now)
        if do == "done":
            await context.send_activity(
                with_buttons(
                    content.t(lang, "goals.congratulations", title=goals.goal_title(lang, goal)),
                    [
                        _new_goal_button(lang),
                        (content.t(lang, "msg.assessment_button"), content.t(lang, "commands.assessment.command")),
                    ],
                )
            )
        elif do == "drop":
            await context.send_activity(
                with_buttons(
                    content.t(lang, "goals.dropped", title=goals.goal_title(lang, goal)), [_new_goal_button(lang)]
                )
            )
        else:
            await offer(context)
    elif do == "offer":
        await offer(context)
    elif do == "later":
        await context.send_activity(message(context, "goals.later"))
    else:
        await context.send_activity(message(context, "msg.stale_card"))


async def _confirm(context: TurnContext, goal: dict | None, dropped: dict | None) -> None:
    lang = lang_of(context)
    if goal is None:
        await context.send_activity(message(context, "msg.stale_card"))
        return
    lines = [content.t(lang, "goals.set", title=goals.goal_title(lang, goal))]
    if goal.get("kind") == "own" and goal.get("competence"):  # where the person's words were filed
        lines.append(content.t(lang, "goals.own_filed", name=coaching.competence_name(lang, goal["competence"])))
    if dropped:
        lines.append(content.t(lang, "goals.made_room", title=goals.goal_title(lang, dropped)))
    doc = await services(context).users.get(user_key_of(context)) or {}
    if reminders_on(doc):
        lines.append(content.t(lang, "goals.followed_up"))
        await context.send_activity(with_buttons("\n".join(lines), []))
        return
    lines.append(content.t(lang, "goals.want_reminders"))
    await context.send_activity(
        with_buttons(
            "\n".join(lines),
            [
                (content.t(lang, "reminders.offer_button"), content.t(lang, "reminders.offer_value")),
                (content.t(lang, "assessment.no"), Goal(do="later").data()),
            ],
        )
    )


class OwnGoalDialog(AskingDialog):
    """'Skriv mit eget mål': one line in the person's own words, filed under the competence
    the words point to (the same understanding as questions), or under none. Asked again
    after a language switch, the question comes in the new language (AskingDialog)."""

    def __init__(self) -> None:
        super().__init__(OWN_GOAL)
        self.add_dialog(TextPrompt(OWN_GOAL_TEXT))
        self.add_dialog(WaterfallDialog("steps", [self.ask, self.save]))
        self.initial_dialog_id = "steps"

    async def question(self, context: TurnContext, prompt_id: str, steps: dict) -> PromptOptions | None:
        return PromptOptions(prompt=message(context, "goals.ask_own_free")) if prompt_id == OWN_GOAL_TEXT else None

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt(OWN_GOAL_TEXT, await self.question(step.context, OWN_GOAL_TEXT, {}))

    async def save(self, step: WaterfallStepContext) -> DialogTurnResult:
        text = goals.clean_text(step.result)
        if not text:
            await step.context.send_activity(message(step.context, "goals.later"))
            return await step.end_dialog()
        key = user_key_of(step.context)
        profile = await services(step.context).users.profile(key) or {}
        competence = coaching.pointed_competence(text, profile.get("role"), profile.get("level"))
        goal, dropped = await services(step.context).goals.add(
            key, {"competence": competence, "kind": "own", "text": text}, now_of(step.context)
        )
        await _confirm(step.context, goal, dropped)
        return await step.end_dialog()


async def show_more(context: TurnContext, click: More) -> None:
    """The rest of an answer, behind its buttons: a competence's other steps ("Flere
    skridt") or stages ("Mere om ..."), a sub-area's details without what was just said."""
    competence, what, topic = click.competence, click.what, click.topic
    doc = (await services(context).users.get(user_key_of(context)) or {}) if is_personal(context) else {}
    profile = doc.get("profile") or {}
    lang = lang_of(context)
    if what == "subarea" and topic in content.subarea_ids():
        listed = click.shown
        shown = [c for c in listed if c in content.competence_ids(str(topic))] if isinstance(listed, list) else []
        reply = answers.subarea_details(lang, str(topic), profile.get("role"), profile.get("level"), shown=shown)
    elif what in ("stages", "steps") and competence in {c for _, c in content.all_competences()}:
        reply = coaching.more_reply(
            lang, str(what), str(competence), profile, doc.get("assessments") or [], services(context).resources
        )
    else:
        await context.send_activity(message(context, "msg.stale_card"))
        return
    await context.send_activity(as_activity(reply))
