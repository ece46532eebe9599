"""The two-minute self-assessment: one Adaptive Card, or the same questions typed one by one.

A small state machine (not a waterfall) because a card submit can answer everything at
once while typed answers come one at a time; its state is plain data, so it survives a
restart like any dialog state. Nothing is stored until the quick check is complete.
"""

from __future__ import annotations

import uuid
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from model import clicks, content
from model.clicks import Decline
from model.domain import assessment as model
from model.domain import coaching, goals, relevance
from model.domain.reminders import reminders_on

from .cards import card_activity, deep_card, quick_check_card
from .common import message, text, with_buttons, yes_or_no
from .expecting import Expects
from .goals import offer as offer_goal
from .overviews import first_check_line
from .turn import lang_of, now_of, services, tenant_of, user_key_of

ASSESSMENT = "assessment"


def note_line(lang: str, note: str, profile: dict) -> str:
    """The note acknowledged: with the wish it points to (the goal offer starts there)."""
    competence = coaching.pointed_competence(note, profile.get("role"), profile.get("level"))
    if competence is None:
        return content.t(lang, "coaching.note_thanks")
    return content.t(lang, "coaching.note_thanks_competence", wish=content.t(lang, f"coaching.wishes.{competence}"))


def _saved_key(count: int) -> str:
    """'… af 1 eksempel', not '1 eksempler' (a walk read that)."""
    return "assessment.deep_saved_one" if count == 1 else "assessment.deep_saved"


class AssessmentDialog(Dialog):
    def __init__(self, dialog_id: str = ASSESSMENT) -> None:
        super().__init__(dialog_id)

    # -- Dialog API ----------------------------------------------------------------------
    async def begin_dialog(self, dc: DialogContext, options: object = None) -> DialogTurnResult:
        context = dc.context
        profile = await services(context).users.profile(user_key_of(context)) or {}
        if not (profile.get("role") and profile.get("level")):
            return await dc.replace_dialog("onboarding", {"greet": True, "then": ASSESSMENT})
        items = [r.subarea for r in relevance.ranked_subareas(profile["role"], profile["level"])]
        state = dc.active_dialog.state
        state.update(
            {
                "phase": "quick",
                "items": items,
                "i": 0,
                "scores": {},
                "competences": {},
                "note": None,
                "nonce": uuid.uuid4().hex[:12],
            }
        )
        await self._send_quick(context, state)
        return Dialog.end_of_turn

    def expects(self, state: dict[str, Any]) -> Expects:
        """What the router should take as the answer (dialogs/expecting.py): a score, the
        note's free text, or yes/no to the deeper check."""
        return {"note": Expects.TEXT, "offer_deep": Expects.YES_NO}.get(str(state.get("phase")), Expects.SCORE)

    async def continue_dialog(self, dc: DialogContext) -> DialogTurnResult:
        context = dc.context
        state = dc.active_dialog.state
        value = context.activity.value
        if clicks.kind_of(value) in (clicks.QuickSubmit.KIND, clicks.DeepSubmit.KIND):
            return await self._on_submit(dc, state, clicks.parse(value))
        said = context.activity.text or ""
        phase = state["phase"]
        if phase in ("quick", "deep"):
            return await self._on_typed_score(dc, state, said)
        if phase == "note":
            answer = model.parse_answer(said) if len(said) < 20 else None
            if answer == model.STOP:
                await context.send_activity(message(context, "assessment.stopped"))
                return await dc.end_dialog()
            state["note"] = None if answer == model.SKIP else model.clean_note(said)
            return await self._save_quick(dc, state)
        if phase == "offer_deep":
            return await self._on_offer(dc, state, said)
        return await dc.end_dialog()

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        state = instance.state
        if state["phase"] == "quick" and state["i"] == 0:
            await self._send_quick(context, state)
        else:
            await self._ask_current(context, state)

    # -- steps ---------------------------------------------------------------------------
    async def _send_quick(self, context: TurnContext, state: dict) -> None:
        lang = lang_of(context)
        card = quick_check_card(lang, state["items"], state["nonce"])
        await context.send_activity(card_activity(card))
        await context.send_activity(
            MessageFactory.text(text(context, "assessment.text_path") + "\n\n" + self._item_question(lang, state))
        )

    def _current(self, state: dict) -> tuple[str, str]:
        """(name key kind, id) of the item being asked: a sub-area or a competence."""
        item = state["items"][state["i"]]
        return ("sub", item) if state["phase"] == "quick" else ("comp", item)

    def _item_name(self, lang: str, state: dict) -> str:
        kind, item = self._current(state)
        if kind == "sub":
            return content.subarea_name(lang, item)
        return content.competence_name(lang, content.subarea_of(item), item)

    def _item_question(self, lang: str, state: dict) -> str:
        """The scale's meaning is said with the first question of a round, not every time."""
        return content.t(
            lang,
            "assessment.ask_item" if state["i"] == 0 else "assessment.ask_item_short",
            name=self._item_name(lang, state),
            l1=model.scale_phrase(lang, 1),
            l3=model.scale_phrase(lang, 3),
            l5=model.scale_phrase(lang, 5),
        )

    async def _ask_current(self, context: TurnContext, state: dict) -> None:
        lang = lang_of(context)
        if state["phase"] == "note":
            await context.send_activity(message(context, "assessment.ask_note"))
        elif state["phase"] == "offer_deep":
            await self._send_offer(context)
        else:
            await context.send_activity(MessageFactory.text(self._item_question(lang, state)))

    async def _on_typed_score(self, dc: DialogContext, state: dict, said: str) -> DialogTurnResult:
        context = dc.context
        answer = model.parse_answer(said)
        if answer == model.STOP:
            key = "assessment.stopped" if state["phase"] == "quick" else "assessment.stopped_deep"
            await context.send_activity(message(context, key))
            return await dc.end_dialog()
        if answer is None:
            await context.send_activity(
                MessageFactory.text(
                    text(context, "assessment.retry_item", name=self._item_name(lang_of(context), state))
                )
            )
            return Dialog.end_of_turn
        target = "scores" if state["phase"] == "quick" else "competences"
        if answer != model.SKIP:
            state[target][state["items"][state["i"]]] = answer
        state["i"] += 1
        if state["i"] < len(state["items"]):
            await self._ask_current(context, state)
            return Dialog.end_of_turn
        if state["phase"] == "quick":
            if not state["scores"]:
                await context.send_activity(message(context, "assessment.nothing_scored"))
                return await dc.end_dialog()
            state["phase"] = "note"
            await self._ask_current(context, state)
            return Dialog.end_of_turn
        return await self._save_deep(dc, state)

    async def _on_submit(self, dc: DialogContext, state: dict, submit: clicks.Click | None) -> DialogTurnResult:
        """A card's Save; None for a submit that is not what our card sends (answered as stale)."""
        context = dc.context
        lang = lang_of(context)
        if not isinstance(submit, (clicks.QuickSubmit, clicks.DeepSubmit)):
            await context.send_activity(message(context, "msg.stale_card"))
            await self._ask_current(context, state)
            return Dialog.end_of_turn
        kind, value = submit.KIND, submit.answers
        if kind == "quick" and submit.nonce == state.get("nonce") and state.get("saved_at"):
            # The Save button clicked again (or the card submitted twice): it counts once.
            await context.send_activity(message(context, "assessment.already_saved"))
            await self._ask_current(context, state)
            return Dialog.end_of_turn
        if submit.nonce != state.get("nonce") or kind != ("deep" if state["phase"] == "deep" else "quick"):
            await context.send_activity(message(context, "msg.stale_card"))
            await self._ask_current(context, state)
            return Dialog.end_of_turn
        items = state["items"] if kind == "quick" else [c for _, c in content.all_competences()]
        scores, problems = model.validate_scores(value, items)
        if problems:
            names = [
                content.t(lang, "assessment.empty_submit")
                if p in ("empty", "format")
                else content.t(lang, "assessment.invalid_value", name=self._name_of(lang, p))
                for p in problems
            ]
            await context.send_activity(
                MessageFactory.text(content.t(lang, "assessment.invalid_submit", problems="; ".join(names)))
            )
            return Dialog.end_of_turn
        if kind == "quick":
            state["scores"] = scores
            state["note"] = model.clean_note(value.get("note"))
            return await self._save_quick(dc, state)
        state["competences"] = scores
        return await self._save_deep(dc, state)

    @staticmethod
    def _name_of(lang: str, item: str) -> str:
        if item in content.subarea_ids():
            return content.subarea_name(lang, item)
        sub = next((s for s, c in content.all_competences() if c == item), None)
        return content.competence_name(lang, sub, item) if sub else item

    async def _save_quick(self, dc: DialogContext, state: dict) -> DialogTurnResult:
        """Store the completed quick check, then show it with the change since last time."""
        context = dc.context
        lang = lang_of(context)
        users = services(context).users
        key = user_key_of(context)
        doc = await users.get(key) or {}
        profile = doc.get("profile") or {}
        now = now_of(context)
        entry = model.record(
            tenant_of(context), profile, state["scores"], {}, state.get("note"), lang, now, check_id=state["nonce"]
        )
        saved, _ = await users.add_assessment(key, entry)
        history = saved.get("assessments", [])
        state["saved_at"] = entry["at"]
        state["first"] = len(history) == 1
        lines = [content.t(lang, "assessment.saved", date=content.format_date(lang, now))]
        changes = {c.subarea: c for c in model.progress(history)}
        for sub in state["items"]:
            score = state["scores"].get(sub)
            name = content.subarea_name(lang, sub)
            if score is None:
                lines.append(content.t(lang, "assessment.saved_skipped", name=name))
                continue
            arrow = changes[sub].arrow
            lines.append(
                content.t(
                    lang,
                    "assessment.saved_line",
                    name=name,
                    score=score,
                    label=model.scale_phrase(lang, score),
                    change=f" {arrow}" if arrow else "",
                )
            )
        if state.get("note"):  # said back in a line: what the note points to, never the note itself
            lines += ["", note_line(lang, state["note"], profile)]  # a paragraph, not part of the list
        if state["first"] and (line := first_check_line(context)):
            lines += ["", line]  # said once: how the scores count in anonymous overviews
        await context.send_activity(MessageFactory.text("\n".join(lines)))
        state["phase"] = "offer_deep"
        await self._send_offer(context)
        return Dialog.end_of_turn

    async def _send_offer(self, context: TurnContext) -> None:
        lang = lang_of(context)
        await context.send_activity(
            with_buttons(
                content.t(lang, "assessment.offer_deep", count=len(content.all_competences())),
                [
                    (content.t(lang, "assessment.yes"), content.t(lang, "assessment.yes")),
                    (content.t(lang, "assessment.no"), content.t(lang, "assessment.no")),
                ],
            )
        )

    async def _on_offer(self, dc: DialogContext, state: dict, said: str) -> DialogTurnResult:
        context = dc.context
        lang = lang_of(context)
        answer = yes_or_no(said)
        if answer == "yes":
            state.update(
                {"phase": "deep", "items": [c for _, c in content.all_competences()], "i": 0, "competences": {}}
            )
            card = deep_card(lang, content.all_competences(), state["nonce"])
            await context.send_activity(card_activity(card))
            await context.send_activity(
                MessageFactory.text(text(context, "assessment.text_path") + "\n\n" + self._item_question(lang, state))
            )
            return Dialog.end_of_turn
        if answer == "no" or not said.strip():
            return await self._finish(dc, state)
        await self._send_offer(context)
        return Dialog.end_of_turn

    async def _save_deep(self, dc: DialogContext, state: dict) -> DialogTurnResult:
        context = dc.context
        await services(context).users.add_competence_scores(
            user_key_of(context), state.get("saved_at"), state["competences"]
        )
        await context.send_activity(
            MessageFactory.text(text(context, _saved_key(len(state["competences"])), count=len(state["competences"])))
        )
        return await self._finish(dc, state)

    async def _finish(self, dc: DialogContext, state: dict) -> DialogTurnResult:
        """After a check: where to see it, a goal to work on (unless one is open), and, after
        the first check, an offer of reminders (opt-in, never on by default)."""
        context = dc.context
        lang = lang_of(context)
        await context.send_activity(message(context, "assessment.done"))
        doc = await services(context).users.get(user_key_of(context)) or {}
        if not goals.open_goals(doc):
            await offer_goal(context)
        if state.get("first") and not reminders_on(doc):
            await context.send_activity(
                with_buttons(
                    content.t(lang, "reminders.offer"),
                    [
                        (content.t(lang, "reminders.offer_button"), content.t(lang, "reminders.offer_value")),
                        (content.t(lang, "assessment.no"), Decline(what="reminders").data()),
                    ],
                )
            )
        return await dc.end_dialog({"saved_at": state.get("saved_at")})
