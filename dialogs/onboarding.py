"""Onboarding: role, involvement level, then the three sub-areas ordered for this person."""

from __future__ import annotations

from botbuilder.dialogs import ComponentDialog, DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import FoundChoice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, PromptValidatorContext

from model import content, relevance
from model.choices import match_choice
from model.understanding import match_role

from .common import button_prompt, message, text
from .presenting import overview_for
from .turn import lang_of, services, user_key_of

ROLE_PROMPT = "role_prompt"
LEVEL_PROMPT = "level_prompt"


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
        found = match_choice(said, _options(kind, ids))
        if found is None and kind == "roles":
            found = match_role(said)  # a job title typed in: "sygeplejerske", "teamleder i hjemmeplejen"
        if found is None:
            return False
        prompt.recognized.value = FoundChoice(value=found, index=ids.index(found), score=1.0)
        return True

    return validate


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


class OnboardingDialog(ComponentDialog):
    """At most four turns from hello to a personal overview; `start` re-runs it."""

    def __init__(self, dialog_id: str = "onboarding") -> None:
        super().__init__(dialog_id)
        self.add_dialog(ChoicePrompt(ROLE_PROMPT, _validator("roles", relevance.roles())))
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
                await step.context.send_activity(message(step.context, "msg.welcome"))
                await step.context.send_activity(privacy_line(step.context))
        return await step.prompt(
            ROLE_PROMPT, self._prompt(step, "roles", relevance.roles(), "msg.ask_role", "msg.ask_role_retry")
        )

    async def ask_level(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["role"] = relevance.roles()[step.result.index]
        return await step.prompt(
            LEVEL_PROMPT, self._prompt(step, "levels", relevance.levels(), "msg.ask_level", "msg.ask_level_retry")
        )

    async def explain(self, step: WaterfallStepContext) -> DialogTurnResult:
        role = step.values["role"]
        level = relevance.levels()[step.result.index]
        lang = lang_of(step.context)
        await services(step.context).users.save_profile(
            user_key_of(step.context), services(step.context).now(), role=role, level=level, language=lang
        )
        await step.context.send_activity(overview_for(lang, role, level))
        then = (step.options or {}).get("then")
        if then:
            return await step.replace_dialog(then)
        return await step.end_dialog({"role": role, "level": level})

    @staticmethod
    def _prompt(step: WaterfallStepContext, kind: str, ids: list[str], ask: str, retry: str) -> PromptOptions:
        lang = lang_of(step.context)
        options, lines = [], [text(step.context, ask)]
        for oid in ids:
            item = content.lookup(lang, f"{kind}.{oid}")
            synonyms = [item.get("in_sentence", "")] + item.get("aliases", [])
            options.append((item["name"], [s for s in synonyms if s], item.get("button") or item["name"]))
            lines.append(content.t(lang, f"msg.option_line_{kind}", name=item["name"], hint=item.get("hint", "")))
        return button_prompt("\n".join(lines), options, retry=text(step.context, retry, count=len(ids)))
