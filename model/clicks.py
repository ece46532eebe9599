"""Button payloads: every kind of button that does something, and its fields.

A button's data is `{"kh": <kind>, <field>: <value>, ...}` (an Adaptive Card Action.Submit,
see dialogs/cards.py). Each kind is one class below; `Click.data()` builds the payload a
button carries, `parse()` reads a clicked one back: the click, or None when the payload is
not what our buttons send (a field of another type, a required field missing). A card's
submit carries its inputs beside the kind (`QuickSubmit`, `DeepSubmit`: `answers`).

    Say(text)                                  as if the person typed `text` (dialogs/router.py)
    Goal(do="set", competence, stage, audience, step)   make that suggested step the goal
    Goal(do="own" | "later" | "offer")         write an own goal / no goal now / offer one
    Goal(do="done" | "keep" | "drop" | "other", id)     an open goal: done, still on it, ...
    Ask(intent="question" | "improve" | "role", competence, role)  answer about a competence
                                               (a job's question: for `role`, else the profile's)
    More(what="stages" | "steps", competence)  the rest of a competence answer
    More(what="subarea", topic, shown)         a sub-area's details, without what was shown
    Role(role)                                 save this job as the person's role
    Mus()                                      the MUS summary
    Decline(what="reminders")                  "Nej tak" to an offer
    KeepData()                                 keep my data (the retention warning)
    QuickSubmit(nonce) / DeepSubmit(nonce)     the self-assessment cards' Save

Pure Python (no SDK): model/ builds payloads too (model/domain/coaching.py, model/domain/answers.py).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar, Union, get_args, get_origin, get_type_hints

KEY = "kh"  # the field that names a payload's kind

ClickData = dict[str, object]  # a payload as a button carries it
Button = tuple[str, Union[str, ClickData]]  # (title, what a click says for the person, or its data)


@dataclass(frozen=True)
class Click:
    KIND: ClassVar[str]

    def data(self) -> ClickData:
        """The payload a button carries: the kind, then every field that has a value."""
        out: ClickData = {KEY: self.KIND}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and f.name != "answers":
                out[f.name] = list(value) if isinstance(value, list) else value
        return out


@dataclass(frozen=True)
class Say(Click):
    KIND: ClassVar[str] = "say"
    text: str


@dataclass(frozen=True)
class Goal(Click):
    KIND: ClassVar[str] = "goal"
    do: str | None = None
    competence: str | None = None
    stage: str | None = None
    audience: str | None = None
    step: int | None = None
    id: str | None = None


@dataclass(frozen=True)
class Ask(Click):
    KIND: ClassVar[str] = "ask"
    intent: str | None = None
    competence: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class More(Click):
    KIND: ClassVar[str] = "more"
    what: str | None = None
    competence: str | None = None
    topic: str | None = None
    shown: list[object] | None = None


@dataclass(frozen=True)
class Role(Click):
    KIND: ClassVar[str] = "role"
    role: str | None = None


@dataclass(frozen=True)
class Mus(Click):
    KIND: ClassVar[str] = "mus"


@dataclass(frozen=True)
class Decline(Click):
    KIND: ClassVar[str] = "decline"
    what: str | None = None


@dataclass(frozen=True)
class KeepData(Click):
    KIND: ClassVar[str] = "keep_data"


@dataclass(frozen=True)
class QuickSubmit(Click):
    """The quick check card's Save; `answers` are the card's inputs (sub-area -> score, note)."""

    KIND: ClassVar[str] = "quick"
    nonce: str | None = None
    answers: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DeepSubmit(Click):
    """The deeper check card's Save; `answers` are its inputs (competence -> score)."""

    KIND: ClassVar[str] = "deep"
    nonce: str | None = None
    answers: dict[str, object] = field(default_factory=dict)


KINDS: dict[str, type[Click]] = {
    cls.KIND: cls for cls in (Say, Goal, Ask, More, Role, Mus, Decline, KeepData, QuickSubmit, DeepSubmit)
}


def kind_of(value: object) -> str | None:
    """The kind a payload names, when it is one of ours (whether or not its fields are right)."""
    kind = value.get(KEY) if isinstance(value, dict) else None
    return kind if isinstance(kind, str) and kind in KINDS else None


def parse(value: object) -> Click | None:
    """The click a payload stands for; None when it is no payload of ours or malformed."""
    kind = kind_of(value)
    if kind is None or not isinstance(value, dict):
        return None
    cls = KINDS[kind]
    given: dict[str, object] = {}
    for name, (expected, required) in _FIELDS[kind].items():
        if name == "answers":
            given[name] = {k: v for k, v in value.items() if k not in (KEY, "nonce")}
            continue
        found = value.get(name)
        if found is None:
            if required:
                return None
            continue
        if not isinstance(found, expected) or isinstance(found, bool):
            return None
        given[name] = found
    return cls(**given)


def _fields(cls: type[Click]) -> dict[str, tuple[type, bool]]:
    """Each field's plain type (str, int, list, dict) and whether a payload must have it."""
    hints = get_type_hints(cls)
    out: dict[str, tuple[type, bool]] = {}
    for f in fields(cls):
        options = [a for a in get_args(hints[f.name]) if a is not type(None)] or [hints[f.name]]
        if get_origin(hints[f.name]) in (list, dict):
            options = [hints[f.name]]
        plain = get_origin(options[0]) or options[0]
        required = f.default is MISSING and f.default_factory is MISSING
        out[f.name] = (plain, required)
    return out


_FIELDS = {kind: _fields(cls) for kind, cls in KINDS.items()}
