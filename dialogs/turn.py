"""What the handler learns once per turn, for every dialog to read.

The handler builds one `Turn` at the start of each turn and puts it into `turn_state`;
dialogs read it through `turn_of(context)`, so no dialog parses activities itself and
the person's document is read once per turn, not once per dialog step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botbuilder.core import TurnContext

from model import content

from .services import Services

TURN = "kh.turn"


@dataclass
class Turn:
    services: Services
    user_key: str
    personal: bool  # a 1:1 chat: the only place personal data is shown
    tenant: str | None
    lang: str  # the language this turn answers in
    timezone: str | None = None  # the Teams client's IANA zone, when it sends one
    state_key: str | None = None  # this conversation's dialog-state document
    deleted: bool = False  # the person was deleted this turn: write nothing back


def turn_of(context: TurnContext) -> Turn:
    return context.turn_state[TURN]


def lang_of(context: TurnContext) -> str:
    turn = context.turn_state.get(TURN)
    return turn.lang if turn else content.normalise_language(getattr(context.activity, "locale", None))


def lang_said(context: TurnContext, language: str | None) -> str:
    """The language to answer a message in: the message's own when it is clear (a Danish
    setting, an English question: English), else the person's setting."""
    return content.normalise_language(language) if language else lang_of(context)


def set_lang(context: TurnContext, lang: str) -> None:
    turn_of(context).lang = lang


def user_key_of(context: TurnContext) -> str:
    return turn_of(context).user_key


def services(context: TurnContext) -> Services:
    return turn_of(context).services


def is_personal(context: TurnContext) -> bool:
    turn = context.turn_state.get(TURN)
    return turn.personal if turn else True


def tenant_of(context: TurnContext) -> str | None:
    return turn_of(context).tenant


def now_of(context: TurnContext) -> datetime:
    return services(context).now()
