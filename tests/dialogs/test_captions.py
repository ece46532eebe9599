"""A text and the card that follows it reach the person as one message (bot/captions.py):
one bubble in Teams and one request against its 7 messages a second per conversation."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import HeroCard
from chat import _onboard

from bot.captions import hold_captions, release_caption
from bot.turn_errors import apologising_error_handler
from model import content


def _card(title: str):
    return MessageFactory.attachment(CardFactory.hero_card(HeroCard(title=title)))


def _shown(activities) -> list[tuple[str | None, list[str]]]:
    return [(a.text, [att.content.title for att in a.attachments or []]) for a in activities]


async def _sent(*messages) -> list[tuple[str | None, list[str]]]:
    async def logic(context: TurnContext) -> None:
        context.on_send_activities(hold_captions)
        try:
            for message in messages:
                await context.send_activity(message)
        finally:
            await release_caption(context)

    adapter = TestAdapter(logic)
    await adapter.send("hej")
    return _shown(adapter.activity_buffer)


async def test_a_text_becomes_the_caption_of_the_card_after_it():
    assert await _sent("Gemt.", _card("Næste skridt")) == [("Gemt.", ["Næste skridt"])]


async def test_texts_are_never_joined_and_the_order_is_kept():
    sent = await _sent("En.", "To.", _card("Kort"), "Tre.", MessageFactory.text("Fire."))
    assert sent == [("En.", []), ("To.", ["Kort"]), ("Tre.", []), ("Fire.", [])]


async def test_a_card_that_has_its_own_text_keeps_it_and_the_text_before_stays_apart():
    captioned = _card("Kort")
    captioned.text = "Kortets egen tekst"
    assert await _sent("Før.", captioned) == [("Før.", []), ("Kortets egen tekst", ["Kort"])]


async def test_a_saved_check_and_the_offer_after_it_are_one_message(da):
    await _onboard(da)
    await da.submit_check("3", "2", "4")
    assert len(da.last) == 1
    (message,) = da.last
    assert "gemt" in message.text and message.attachments[0].content_type.endswith("adaptive")


async def test_a_turn_that_fails_still_sends_what_it_said_before_the_apology(da, monkeypatch):
    from dialogs.router import Router

    await _onboard(da)

    async def fails_after_a_sentence(self, context):
        await context.send_activity("Et øjeblik.")
        raise RuntimeError("boom")

    monkeypatch.setattr(Router, "on_message", fails_after_a_sentence)
    da.adapter.on_turn_error = apologising_error_handler(da.bot.conversation_state)
    await da.send("historik")
    assert [a.text for a in da.last] == ["Et øjeblik.", content.t("da", "msg.error")]
