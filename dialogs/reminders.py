"""`påmindelser`: how often, which weekday, what time; then the next nudge as a date."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.choices import FoundChoice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, PromptValidatorContext

from model import content
from model.domain import schedule
from model.domain.reminders import parse as schedule_parse
from model.domain.reminders import prefs_of
from model.language.choices import match_choice

from .common import AskingDialog, button_prompt, message
from .turn import lang_of, now_of, services, turn_of, user_key_of

REMINDERS = "reminders"
SNOOZE_WINDOW = timedelta(hours=24)  # "remind me tomorrow" answers a nudge sent within this
TIMES = ["08:00", "09:00", "10:00", "12:00", "14:00", "15:30"]
WORKDAYS = list(schedule.WORKDAYS)
_TIME = re.compile(r"^\D*(\d{1,2})(?:[:.](\d{2}))?\D*$")


def parse_time(text: str, start: str = schedule.WORK_START, end: str = schedule.WORK_END) -> str | None:
    """'10', 'kl. 10.30', '10:30' -> '10:30' when inside working hours."""
    match = _TIME.match((text or "").strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    value = f"{hour:02d}:{minute:02d}"
    return value if start <= value <= end else None


def _frequency_options() -> dict[str, list[str]]:
    return {
        f: [
            w
            for lg in content.LANGUAGES
            for w in [
                content.t(lg, f"reminders.frequency.{f}"),
                *content.lookup(lg, f"reminders.frequency_aliases.{f}"),
            ]
        ]
        for f in schedule.FREQUENCIES
    }


def _weekday_options() -> dict[str, list[str]]:
    return {str(d): [content.lookup(lg, "calendar.weekdays")[d] for lg in content.LANGUAGES] for d in WORKDAYS}


def _validator(options):
    async def validate(prompt: PromptValidatorContext) -> bool:
        if prompt.recognized.succeeded:
            return True
        opts = options()
        found = match_choice(prompt.context.activity.text or "", opts)
        if found is None:
            return False
        prompt.recognized.value = FoundChoice(value=found, index=list(opts).index(found), score=1.0)
        return True

    return validate


async def _time_validator(prompt: PromptValidatorContext) -> bool:
    if prompt.recognized.succeeded:
        return True
    value = parse_time(prompt.context.activity.text or "")
    if value is None:
        return False
    prompt.recognized.value = FoundChoice(value=value, index=-1, score=1.0)
    return True


def when_text(lang: str, when: datetime | None, tz: str) -> str:
    if when is None:
        return ""
    return schedule.format_when(when, tz, content.lookup(lang, "calendar"))


class RemindersDialog(AskingDialog):
    def __init__(self) -> None:
        super().__init__(REMINDERS)
        self.add_dialog(ChoicePrompt("frequency", _validator(_frequency_options)))
        self.add_dialog(ChoicePrompt("weekday", _validator(_weekday_options)))
        self.add_dialog(ChoicePrompt("time", _time_validator))
        self.add_dialog(WaterfallDialog("steps", [self.ask_frequency, self.ask_weekday, self.ask_time, self.save]))
        self.initial_dialog_id = "steps"

    async def ask_frequency(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("frequency", await self.question(step.context, "frequency", {}))

    async def ask_weekday(self, step: WaterfallStepContext) -> DialogTurnResult:
        frequency = schedule.FREQUENCIES[step.result.index]
        step.values["frequency"] = frequency
        if frequency == "off":
            await services(step.context).reminders.stop(user_key_of(step.context), now_of(step.context))
            await step.context.send_activity(message(step.context, "reminders.off"))
            return await step.end_dialog()
        return await step.prompt("weekday", await self.question(step.context, "weekday", {}))

    async def ask_time(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["weekday"] = WORKDAYS[step.result.index]
        return await step.prompt("time", await self.question(step.context, "time", {}))

    async def question(self, context: TurnContext, prompt_id: str, steps: dict) -> PromptOptions | None:
        lang = lang_of(context)
        if prompt_id == "frequency":
            doc = await services(context).users.get(user_key_of(context)) or {}
            return button_prompt(
                current_text(lang, doc) + "\n\n" + content.t(lang, "reminders.ask_frequency"),
                [
                    (content.t(lang, f"reminders.frequency.{f}"), [], content.t(lang, f"reminders.frequency.{f}"))
                    for f in schedule.FREQUENCIES
                ],
            )
        if prompt_id == "weekday":
            names = content.lookup(lang, "calendar.weekdays")
            return button_prompt(
                content.t(lang, "reminders.ask_weekday"),
                [(names[d].capitalize(), [], names[d].capitalize()) for d in WORKDAYS],
            )
        if prompt_id == "time":
            return button_prompt(
                content.t(lang, "reminders.ask_time", start=schedule.WORK_START, end=schedule.WORK_END),
                [(t, [], t) for t in TIMES],
                retry=content.t(lang, "reminders.time_retry", start=schedule.WORK_START, end=schedule.WORK_END),
            )
        return None

    async def save(self, step: WaterfallStepContext) -> DialogTurnResult:
        context = step.context
        lang = lang_of(context)
        found = step.result
        chosen = found.value if found.index < 0 else TIMES[found.index]
        sent = turn_of(context).timezone
        # Teams on Windows may send a Windows zone name or a UTC offset; what cannot be
        # understood falls back to Danish time, and the person is told so.
        tz, understood = schedule.resolve_zone(sent) if sent else (schedule.DEFAULT_TZ, True)
        try:
            prefs = schedule.ReminderPrefs(
                frequency=step.values["frequency"], weekday=step.values["weekday"], time=chosen, tz=tz
            )
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError: Danish time
            understood = False
            prefs = schedule.ReminderPrefs(
                frequency=step.values["frequency"], weekday=step.values["weekday"], time=chosen
            )
        nxt = await services(context).reminders.configure(user_key_of(context), prefs, now_of(context))
        lines = [
            content.t(
                lang,
                "reminders.saved",
                frequency=content.t(lang, f"reminders.saved_frequency.{prefs.frequency}"),
                next=when_text(lang, nxt, prefs.tz),
            )
        ]
        if not understood:
            lines.append(content.t(lang, "reminders.timezone_fallback"))
        lines.append(content.t(lang, "reminders.rules", start=prefs.work_start, end=prefs.work_end))
        await context.send_activity(MessageFactory.text("\n\n".join(lines)))
        return await step.end_dialog()


def current_text(lang: str, doc: dict) -> str:
    """The reminder as it stands (a stored field that cannot be read counts as missing)."""
    prefs = prefs_of(doc)
    nxt = schedule_parse((doc.get("reminder") or {}).get("next")) if isinstance(doc.get("reminder"), dict) else None
    if prefs.frequency == "off" or nxt is None:
        return content.t(lang, "reminders.current_off")
    return content.t(
        lang,
        "reminders.current",
        frequency=content.t(lang, f"reminders.saved_frequency.{prefs.frequency}"),
        next=when_text(lang, nxt, prefs.tz),
    )


async def snooze(context: TurnContext) -> None:
    lang = lang_of(context)
    key = user_key_of(context)
    doc = await services(context).users.get(key) or {}
    prefs = prefs_of(doc)
    if prefs.frequency == "off":
        await context.send_activity(message(context, "reminders.nothing_to_snooze"))
        return
    stored = doc.get("reminder")
    reminder: dict = stored if isinstance(stored, dict) else {}
    sent = schedule_parse(reminder.get("last_sent"))
    if sent is None or now_of(context) - sent > SNOOZE_WINDOW:  # no nudge to put off: never move one earlier
        upcoming = schedule_parse(reminder.get("next"))
        await context.send_activity(
            message(
                context,
                "reminders.nothing_to_snooze_yet",
                next=when_text(lang, upcoming, prefs.tz) if upcoming else "",
            )
        )
        return
    nxt = await services(context).reminders.snooze(key, now_of(context))
    await context.send_activity(
        MessageFactory.text(content.t(lang, "reminders.snoozed", next=when_text(lang, nxt, prefs.tz)))
    )


async def stop(context: TurnContext) -> None:
    await services(context).reminders.stop(user_key_of(context), now_of(context))
    await context.send_activity(message(context, "reminders.stopped"))
