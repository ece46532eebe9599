"""What a person's `eksport` (and `python app.py export-user`) holds, in fields a person can read.

`Users.export` reads the person's document and the dialog-state documents their chats left
behind; this module turns them into plain data: the profile, the checks, the goals (with title and
text in the person's language) and the
reminder settings as named fields, an unfinished dialog as the answers given so far, and
the bot's own bookkeeping (the conversation address for nudges, the reminder's delivery
marks, the data version) under `technical`. No SDK class names: dialog state is stored
with the codec's tags (`bot/sdk/state_codec.py`: `{"__t": "obj", "c": <class>, "d": ...}`),
which are taken off here, so nothing in the export names a Python class.
"""

from __future__ import annotations

from typing import Any

from model import content
from model.storage.docstore import Doc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# What a dialog keeps of the person's own answers while it runs (model/assessment's check,
# a waterfall's chosen values); the rest of its state is the bot's machinery.
ANSWER_FIELDS = ("values", "scores", "competences", "note")
_TAG = "__t"  # the state codec's marker (bot/sdk/state_codec.py)


def readable(doc: Doc, dialog_states: list[Doc], exported: str, schema: int) -> Doc:
    """Everything stored about the person, as plain named fields."""
    reminder = doc.get("reminder") or {}
    lang = content.normalise_language((doc.get("profile") or {}).get("language"))
    return {
        "exported": exported,
        "profile": doc.get("profile"),
        "assessments": doc.get("assessments", []),
        "goals": [readable_goal(lang, goal) for goal in doc.get("goals") or [] if isinstance(goal, dict)],
        "reminders": reminder_settings(reminder),
        "last_seen": doc.get("seen"),
        "retention_warned": doc.get("retention_warned"),
        "unfinished_dialogs": [d for state in dialog_states for d in unfinished(state)],
        "technical": {
            "conversation_reference": doc.get("conversation"),
            "reminder_delivery": {
                k: v for k, v in reminder.items() if k not in ("prefs", "next", "paused", "last_sent")
            },
            "schema": doc.get("schema", schema),
        },
    }


def readable_goal(lang: str, goal: Doc) -> Doc:
    """A goal as stored, with its title and text written out in the person's language (a
    suggested step is stored as what it is: competence, stage, audience and kind)."""
    from model.domain.goals import goal_text, goal_title

    return {**goal, "title": goal_title(lang, goal), "text": goal_text(lang, goal)}


def reminder_settings(reminder: Doc) -> Doc:
    """The reminder choices as a person would say them, and when the next one comes."""
    prefs = reminder.get("prefs") or {}
    frequency = prefs.get("frequency", "off")
    weekday = prefs.get("weekday")
    on = frequency != "off"
    return {
        "on": on,
        "frequency": frequency,
        "weekday": WEEKDAYS[weekday] if on and isinstance(weekday, int) and 0 <= weekday < 7 else None,
        "time": prefs.get("time") if on else None,
        "time_zone": prefs.get("tz") if on else None,
        "working_hours": f"{prefs['work_start']}-{prefs['work_end']}"
        if on and prefs.get("work_start") and prefs.get("work_end")
        else None,
        "next": reminder.get("next") if on else None,
        "snoozed_until": prefs.get("snoozed_until"),
        "paused": reminder.get("paused") or bool(prefs.get("paused")),
        "last_sent": reminder.get("last_sent"),
    }


def unfinished(state: Doc) -> list[Doc]:
    """Each dialog open in one stored dialog state, with the person's answers so far (an
    onboarding half done, a check with two of three scores); none when nothing runs."""
    found = []
    for instance in _stack(_plain(state)):
        answers = _answers(instance.get("state"))
        found.append({"dialog": instance.get("id"), "answers_so_far": answers})
    return found


def _plain(value: Any) -> Any:
    """Stored dialog state without the codec's tags: objects become their fields, enums
    and dates their values."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if not isinstance(value, dict):
        return value
    if _TAG in value:
        return _plain(value.get("d")) if value[_TAG] == "obj" else value.get("v")
    return {str(k): _plain(v) for k, v in value.items()}


def _stack(node: Any) -> list[Doc]:
    """The dialog stack somewhere in a plain state document (botbuilder's DialogState)."""
    if isinstance(node, dict):
        stack = node.get("_dialog_stack", node.get("dialog_stack"))
        if isinstance(stack, list):
            return [i for i in stack if isinstance(i, dict)]
        for value in node.values():
            if found := _stack(value):
                return found
    return []


def _answers(state: Any) -> Doc:
    """The person's answers in one dialog's state, and in the dialogs running inside it."""
    if not isinstance(state, dict):
        return {}
    answers: Doc = {}
    for field in ANSWER_FIELDS:
        value = state.get(field)
        if value in (None, {}, []):
            continue
        if field == "values" and isinstance(value, dict):
            answers.update(value)
        else:
            answers[field] = value
    for inner in _stack(state.get("dialogs")):
        answers.update(_answers(inner.get("state")))
    return answers
