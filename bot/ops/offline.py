"""The real bot, run turn by turn in memory: what `ask` prints is what a chat would answer.

Each question is one message from a new person in a personal Teams chat, through the same
handler, router and dialogs as a served turn, with the same services (bot/runtime.py
`create_services`: RESOURCES_FILE included), on an in-memory store, so nothing is ever
written to BOT_DATA_DIR. What the router understood is reported beside the answer.
"""

from __future__ import annotations

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from dialogs.cards import card_text
from model import content
from model.domain.users import user_key
from model.language.understanding import understand, warm_up
from model.storage.memory_store import MemoryStore

from ..config import Config
from ..runtime import create_bot, create_services
from ..turn_errors import apologising_error_handler

LOCALES = {"da": "da-DK", "en": "en-US"}


def _reply_text(activity: Activity) -> str:
    parts = [activity.text or ""]
    for attachment in activity.attachments or []:
        if isinstance(attachment.content, dict):
            parts.append(card_text(attachment.content))
    return "\n".join(p for p in parts if p)


async def answer_all(
    questions: list[str], lang: str | None, profile: dict | None, config: Config | None = None
) -> list[dict[str, object]]:
    """Each question's answer and what was understood; `config` (default: the environment)
    gives the services, on a store of its own in memory."""
    warm_up()
    config = config or Config.from_env()
    services = create_services(config, MemoryStore())
    bot, state = create_bot(config, services)
    results: list[dict[str, object]] = []
    for number, question in enumerate(questions):
        person = f"ask-{number}"
        template = Activity(
            channel_id="msteams",
            service_url="https://ask.invalid",
            from_property=ChannelAccount(id=person, name="ask"),
            recipient=ChannelAccount(id="bot", name=content.t("da", "bot_name")),
            conversation=ConversationAccount(id=person, conversation_type="personal"),
        )
        adapter = TestAdapter(bot.on_turn, template)
        adapter.on_turn_error = apologising_error_handler(state)
        if profile:
            await services.users.save_profile(
                user_key(None, person), services.now(), language=content.normalise_language(lang), **profile
            )
        understood = understand(question)
        language = content.normalise_language(understood.language or lang or content.DEFAULT_LANGUAGE)
        await adapter.receive_activity(Activity(type=ActivityTypes.message, text=question, locale=LOCALES[language]))
        answer = "\n\n".join(t for t in (_reply_text(a) for a in adapter.activity_buffer) if t)
        results.append(
            {
                "question": question,
                "topic": understood.topic,
                "competence": understood.competence,
                "role": understood.role,
                "intent": understood.intent,
                "language": language,
                "confidence": round(float(understood.confidence), 3),
                # the ids offered as "did you mean ...?" when the meaning was unsure, else empty
                "alternatives": list(understood.alternatives),
                "answer": answer,
            }
        )
    return results
