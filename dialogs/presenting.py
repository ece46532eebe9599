"""Turns model Replies into activities (text plus clickable buttons)."""

from __future__ import annotations

from botbuilder.schema import Activity

from model.domain import answers

from .common import with_buttons


def as_activity(reply: answers.Reply) -> Activity:
    return with_buttons(reply.text, reply.buttons)


def overview_for(lang: str, role: str, level: str) -> Activity:
    return as_activity(answers.overview_reply(lang, role, level))
