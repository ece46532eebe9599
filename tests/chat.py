"""One person talking to the real bot through botbuilder's TestAdapter (the dialog-level
tests' harness; the `da` and `en` fixtures in conftest.py give one per language)."""

from __future__ import annotations

from datetime import datetime, timezone

from botbuilder.core import ConversationState
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes
from conftest import readable

from bot.handler import KompetenceBot
from bot.sdk.state_storage import DocStoreStorage
from dialogs.services import Services
from model.domain.users import user_key
from model.storage.tinydb_store import TinyDBStore


def _texts(activity: Activity) -> str:
    return "\n".join(readable(activity.serialize()))


class Chat:
    """One person talking to the real bot through the TestAdapter."""

    def __init__(self, tmp_path, locale="da-DK"):
        self.store = TinyDBStore(tmp_path / "data", fsync=False)
        self.now = None
        self.services = Services.create(self.store, clock=lambda: self.now or datetime.now(timezone.utc))
        self.users = self.services.users
        state = ConversationState(DocStoreStorage(self.store))
        self.bot = KompetenceBot(state, self.services)
        self.adapter = TestAdapter(self.bot.on_turn)
        self.adapter.locale = locale
        self.locale = locale

    async def send(self, text: str | None = None, value: dict | None = None) -> str:
        activity = Activity(type=ActivityTypes.message, text=text, value=value, locale=self.locale)
        await self.adapter.receive_activity(activity)
        self.last = []
        while self.adapter.activity_buffer:
            self.last.append(self.adapter.activity_buffer.pop(0))
        return "\n".join(_texts(a) for a in self.last)

    @property
    def key(self) -> str:
        return user_key(None, self.adapter.template.from_property.id)

    async def card_nonce(self) -> str:
        """Start the check and read the nonce from the card's submit action, as a client would."""
        await self.send("vurdering")
        for activity in self.last:
            for att in activity.attachments or []:
                if att.content_type == "application/vnd.microsoft.card.adaptive":
                    return att.content["actions"][0]["data"]["nonce"]
        raise AssertionError("no Adaptive Card was sent")

    async def submit_check(
        self, implementation: str, development: str, innovation: str, note: str | None = None
    ) -> tuple[str, str]:
        """Open the quick check and submit its card with these scores (and the note, when
        given); returns its nonce and what the bot said."""
        nonce = await self.card_nonce()
        value = {
            "kh": "quick",
            "nonce": nonce,
            "implementation": implementation,
            "development": development,
            "innovation": innovation,
        }
        if note is not None:
            value["note"] = note
        return nonce, await self.send(value=value)

    def buttons(self) -> list[dict]:
        """Every button of every card in the last reply (hero cards and Adaptive Cards)."""
        from dialogs.cards import card_buttons

        return [
            b
            for a in self.last
            for att in a.attachments or []
            if isinstance(att.content, dict)
            for b in card_buttons(att.content)
        ]


async def _onboard(chat: Chat, role="2", level="2") -> None:
    """Onboard with typed answers: greet, pick the job (`role`) and the level, as a person would."""
    await chat.send("hej")
    await chat.send(role)
    await chat.send(level)


async def _card_nonce(chat: Chat) -> str:
    return await chat.card_nonce()
