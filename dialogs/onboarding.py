"""Onboarding: role, involvement level, then the three sub-areas ordered for this person."""

from __future__ import annotations

import dataclasses
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext, DialogInstance, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import FoundChoice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, PromptValidatorContext
from botbuilder.schema import Activity

from model import content
from model.domain import relevance
from model.language.choices import match_choice
from model.language.understanding import Understanding, fold, match_role, understand

from .common import AskingDialog, button_prompt, message, text, with_buttons
from .presenting import overview_for
from .turn import lang_of, services, user_key_of

ONBOARDING = "onboarding"
ASKED_KINDS = ("question", "term", "improve", "compare")  # a question typed with the job title
ROLE_PROMPT = "role_prompt"
LEVEL_PROMPT = "level_prompt"


async def start_onboarding(dc: DialogContext, greet: bool = True, then: str | None = None) -> None:
    """The questions from the start, in place of whatever runs (`then`: the flow after them)."""
    await dc.cancel_all_dialogs()
    await dc.begin_dialog(ONBOARDING, {"greet": greet, "then": then})


async def has_profile(context: TurnContext) -> bool:
    """Has this person answered the questions (a role and an involvement level)?"""
    profile = await services(context).users.profile(user_key_of(context))
    return bool(profile and profile.get("role") and profile.get("level"))


def _options(kind: str, ids: list[str]) -> dict[str, list[str]]:
    """Every label and alias in every language, so a Danish label typed in English works."""
    out: dict[str, list[str]] = {}
    for oid in ids:
        labels: list[str] = []
        for lang in content.LANGUAGES:
            item = content.lookup(lang, f"{kind}.{oid}")
            labels += [item["name"], item.get("in_sentence", ""), *item.get("aliases", [])]
        out[oid] = [label for label in labels if label]
    return out


def _validator(kind: str, ids: list[str]):
    async def validate(prompt: PromptValidatorContext) -> bool:
        if prompt.recognized.succeeded:
            return True
        said = prompt.context.activity.text or ""
        # a job title typed in ("sygeplejerske", "teamleder i hjemmeplejen"), also in a longer
        # message, before a fuzzy likeness of the whole message to an option's label
        found = RolePrompt.typed_role(said) if kind == "roles" else None
        if found is None:
            found = match_choice(said, _options(kind, ids))
        if found is None:
            return False
        prompt.recognized.value = FoundChoice(value=found, index=ids.index(found), score=1.0)
        return True

    return validate


def _named_a_job(activity: Activity, said: str, role: str) -> bool:
    """True when the role came from a job title typed in ('sygeplejerske', 'jeg er sosu-assistent
    i hjemmeplejen'), not from a click, a number or the role's own name in either language."""
    if activity.value is not None or RolePrompt.typed_role(said) is None:
        return False
    names = {
        fold(content.lookup(lang, f"roles.{role}").get(key) or "")
        for lang in content.LANGUAGES
        for key in ("name", "in_sentence", "button")
    }
    return fold(said.strip()) not in names


class RolePrompt(ChoicePrompt):
    """The role question: a button, a role's name, or a job title typed in ("I'm head of the
    elder care department"), which the router must not take for a question about that job."""

    @staticmethod
    def typed_role(said: str) -> str | None:
        """The role of a person naming their own job ("jeg er sygeplejerske"), also with a
        question ("I'm a nurse, what is a business case?": answered once the level is known,
        OnboardingDialog); None for someone else's ("the nurses want ...") or none."""
        role = match_role(said)
        return role if role is not None and understand(said, by_meaning=False).role is not None else None

    @staticmethod
    def accepts_typed(said: str) -> bool:
        """What the router asks (dialogs/expecting.py): does this typed text answer the prompt?"""
        return RolePrompt.typed_role(said) is not None


def privacy_line(context):
    """What is kept and for how long, in one line (retention can be off: then until deleted)."""
    if services(context).retention_days <= 0:
        return message(context, "msg.privacy_line_no_expiry")
    return message(context, "msg.privacy_line", period=retention_period(context))


def retention_period(context) -> str:
    """RETENTION_DAYS in words: whole years as years, anything else as days."""
    days = services(context).retention_days
    if days % 365 == 0:
        return text(context, "msg.years", n=days // 365)
    return text(context, "msg.days", n=days)


def welcome(context: TurnContext):
    """The first words to a new person, with one button to the other language: a Teams set
    to English (common in Danish workplaces) gets the welcome in English, and Danish is one
    click away; the other way round too. The click says the language's name, as if typed."""
    lang = lang_of(context)
    other = next(lg for lg in content.LANGUAGES if lg != lang)
    body = text(context, "msg.welcome") + "\n\n" + content.t(other, "msg.language_offer")
    button = content.t(other, "msg.language_offer_button")
    return with_buttons(body, [(button, content.lookup(other, "language_aliases")[0])])


def greets_again(instance: DialogInstance) -> dict | None:
    """While the onboarding waits at its first question after greeting: the options it was
    begun with, so a switch of language can start it over with the greeting in the new
    language. None at any other point."""
    stack = instance.state[OnboardingDialog.persisted_dialog_state].dialog_stack
    if len(stack) < 2 or stack[0].id != ROLE_PROMPT:
        return None
    options = stack[-1].state.get("options") or {}
    return dict(options) if options.get("greet", True) else None


class OnboardingDialog(AskingDialog):
    """At most four turns from hello to a personal overview; `start` re-runs it."""

    def __init__(self, dialog_id: str = ONBOARDING) -> None:
        super().__init__(dialog_id)
        self.add_dialog(RolePrompt(ROLE_PROMPT, _validator("roles", relevance.roles())))
        self.add_dialog(ChoicePrompt(LEVEL_PROMPT, _validator("levels", relevance.levels())))
        self.add_dialog(WaterfallDialog("steps", [self.ask_role, self.ask_level, self.explain]))
        self.initial_dialog_id = "steps"

    async def ask_role(self, step: WaterfallStepContext) -> DialogTurnResult:
        opts = step.options or {}
        if opts.get("role") in relevance.roles():  # the role is known already ("Gem som min rolle")
            return await step.next(
                FoundChoice(value=opts["role"], index=relevance.roles().index(opts["role"]), score=1.0)
            )
        if opts.get("greet", True):
            known = await services(step.context).users.profile(user_key_of(step.context))
            if known and known.get("role"):
                await step.context.send_activity(message(step.context, "msg.welcome_back"))
            else:
                await step.context.send_activity(welcome(step.context))
                await step.context.send_activity(privacy_line(step.context))
        return await step.prompt(ROLE_PROMPT, await self.question(step.context, ROLE_PROMPT, {}))

    async def ask_level(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["role"] = role = relevance.roles()[step.result.index]
        said = step.context.activity.text or ""
        if _named_a_job(step.context.activity, said, role):
            # 'jeg er sosu-assistent i hjemmeplejen': say which role that was read as, before the next
            # question, so a wrong reading is seen at once and not only in the overview
            in_sentence = content.lookup(lang_of(step.context), f"roles.{role}")["in_sentence"]
            await step.context.send_activity(message(step.context, "msg.role_understood", role=in_sentence))
        asked = understand(said)
        if asked.topic is not None and asked.intent in ASKED_KINDS:
            # 'jeg er sygeplejerske, hvad er lean?': the job answers the question asked, and the
            # question is answered once the level is known (what was understood, not the text)
            step.values["asked"] = dataclasses.asdict(asked)
        return await step.prompt(LEVEL_PROMPT, await self.question(step.context, LEVEL_PROMPT, {}))

    async def explain(self, step: WaterfallStepContext) -> DialogTurnResult:
        role = step.values["role"]
        level = relevance.levels()[step.result.index]
        lang = lang_of(step.context)
        await services(step.context).users.save_profile(
            user_key_of(step.context), services(step.context).now(), role=role, level=level, language=lang
        )
        await step.context.send_activity(overview_for(lang, role, level))
        if step.values.get("asked"):
            from .answering import answer  # answering imports this module

            kept: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in step.values["asked"].items()}
            await answer(step, Understanding(**kept))
        then = (step.options or {}).get("then")
        if then:
            return await step.replace_dialog(then)
        return await step.end_dialog({"role": role, "level": level})

    async def question(self, context: TurnContext, prompt_id: str, steps: dict) -> PromptOptions | None:
        if prompt_id == ROLE_PROMPT:
            return self._prompt(context, "roles", relevance.roles(), "msg.ask_role", "msg.ask_role_retry")
        if prompt_id == LEVEL_PROMPT:
            return self._prompt(context, "levels", relevance.levels(), "msg.ask_level", "msg.ask_level_retry")
        return None

    @staticmethod
    def _prompt(context: TurnContext, kind: str, ids: list[str], ask: str, retry: str) -> PromptOptions:
        lang = lang_of(context)
        options, lines = [], [text(context, ask)]
        for oid in ids:
            item = content.lookup(lang, f"{kind}.{oid}")
            synonyms = [item.get("in_sentence", "")] + item.get("aliases", [])
            options.append((item["name"], [s for s in synonyms if s], item.get("button") or item["name"]))
            lines.append(content.t(lang, f"msg.option_line_{kind}", name=item["name"], hint=item.get("hint", "")))
        return button_prompt("\n".join(lines), options, retry=text(context, retry, count=len(ids)))
