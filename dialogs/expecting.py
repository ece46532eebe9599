"""What the dialog waiting for an answer expects, so the router tells an answer from a
command or a question without reading the dialog's state.

A dialog says it with an `expects(state)` method (`Expecting`); botbuilder's prompts are
known by their class: a TextPrompt takes any text (ours have no validator), a ChoicePrompt
one of its choices, or also a typed answer it says it takes (`accepts_typed`: a job title
for the role question).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from botbuilder.dialogs import ComponentDialog, Dialog, DialogContext
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt


class Expects(Enum):
    TEXT = "text"  # any text is the answer (an own goal, a check's note)
    SCORE = "score"  # a score on the check's scale, or skip / stop
    YES_NO = "yes_no"  # yes or no ("Nej tak" is an answer here, not a thank-you)
    CHOICE = "choice"  # one of `choices` (label, synonym), or a number


@runtime_checkable
class Expecting(Protocol):
    """A dialog that says what answer it waits for, given its state."""

    def expects(self, state: dict[str, Any]) -> Expects: ...


@dataclass(frozen=True)
class Waiting:
    """The dialog that is actually waiting (inside component dialogs) and what it expects."""

    dialog_id: str
    expects: Expects
    choices: list[Choice] = field(default_factory=list)
    accepts_typed: Callable[[str], bool] | None = None  # a typed answer besides the choices


async def waiting_for(dc: DialogContext) -> Waiting | None:
    """What the innermost active dialog waits for; None when no dialog runs."""
    instance = dc.active_dialog
    if instance is None:
        return None
    dialog: Dialog | None = dc.find_dialog_sync(instance.id)
    state = instance.state
    while isinstance(state, dict) and state.get("dialogs") is not None and state["dialogs"].dialog_stack:
        instance = state["dialogs"].dialog_stack[0]
        state = instance.state
        dialog = await dialog.find_dialog(instance.id) if isinstance(dialog, ComponentDialog) else None
    if isinstance(dialog, TextPrompt):
        return Waiting(instance.id, Expects.TEXT)
    if isinstance(dialog, Expecting):
        return Waiting(instance.id, dialog.expects(state))
    options = state.get("options") if isinstance(state, dict) else None
    choices = list(options.choices or []) if isinstance(options, PromptOptions) else []
    return Waiting(instance.id, Expects.CHOICE, choices, getattr(dialog, "accepts_typed", None))
