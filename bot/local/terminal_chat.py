"""`python app.py chat`: talk to the real bot in a terminal, no server and no Azure.

The same KompetenceBot, dialogs and storage (BOT_DATA_DIR) as the served bot, driven by
a small BotAdapter whose send_activities prints. Buttons on hero cards, suggested actions
and the choices of Adaptive Card choice sets are shown as numbered lines; typing a number
picks that line, anything else is sent as typed (the self-assessment card's questions can
be answered one by one with numbers, as in Teams). `quit`, `exit` or end of input ends.

Heavy imports happen inside run(), so `app.py ask` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hashlib
import itertools
import os
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TextIO

CHANNEL_ID = "terminal"
SERVICE_URL = "terminal://local"  # nothing is posted there; replies are printed
BOT_ID = "kompetencehjulet-bot"
QUIT_WORDS = {"quit", "exit", "afslut", ":q"}
LOCALES = {"da": "da-DK", "en": "en-US"}

_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


@dataclass
class Option:
    """One numbered line: typing its number sends `text` (and `value`, for card actions)."""

    label: str
    text: str | None = None
    value: Any = None


class Screen:
    """Turns bot activities into terminal text and remembers the numbered options shown last."""

    def __init__(
        self,
        out: TextIO,
        lang: str = "da",
        width: int | None = None,
        color: bool | None = None,
        bot_name: str = "Kompetencehjulet",
    ) -> None:
        self.out = out
        self.lang = lang
        self.width = max(40, min(width or shutil.get_terminal_size((100, 24)).columns, 100))
        self.color = out.isatty() if color is None else color
        self.bot_name = bot_name
        self.options: list[Option] = []
        self._shown: list[Option] | None = None

    # -- per turn ------------------------------------------------------------------------------
    def begin_turn(self) -> None:
        self._shown = None

    def end_turn(self) -> None:
        """Numbers refer to what the last turn showed; a turn that showed none clears them."""
        self.options = self._shown or []

    def pick(self, typed: str) -> Option | None:
        said = typed.strip().rstrip(".)")
        if said.isdigit() and 1 <= int(said) <= len(self.options):
            return self.options[int(said) - 1]
        return None

    # -- output --------------------------------------------------------------------------------
    def _word(self, name: str) -> str:
        """The chat's own few words (picture, attached ...), from the content files."""
        from model import content

        return content.t(self.lang, f"local.{name}")

    def _style(self, text: str, bold: bool = False, dim: bool = False) -> str:
        if not self.color or not text:
            return text
        code = "1" if bold else "2" if dim else ""
        return f"\033[{code}m{text}\033[0m" if code else text

    def _markdown(self, text: str) -> str:
        text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
        return _BOLD.sub(lambda m: self._style(m.group(1) or m.group(2), bold=True), text)

    def _write(self, text: str, indent: str = "  ") -> None:
        for paragraph in (text or "").split("\n"):
            if not paragraph.strip():
                self.out.write("\n")
                continue
            sub_indent = indent + (" " * (len(paragraph) - len(paragraph.lstrip(" -*•0123456789."))))
            lines = textwrap.wrap(
                self._markdown(paragraph.strip()),
                width=self.width - len(indent),
                break_long_words=False,
                break_on_hyphens=False,
            ) or [""]
            self.out.write(indent + lines[0] + "\n")
            for line in lines[1:]:
                self.out.write(sub_indent + line + "\n")

    def _numbered(self, options: list[Option]) -> None:
        for n, option in enumerate(options, start=1):
            self.out.write(f"    {self._style(f'{n})', bold=True)} {option.label}\n")
        self._shown = options

    def show(self, activity) -> None:
        """Print one activity the bot sent (an Activity object or a dict)."""
        data = activity if isinstance(activity, dict) else activity.serialize()
        if data.get("type", "message") != "message":
            return
        if data.get("text"):
            self._write(data["text"])
        for attachment in data.get("attachments") or []:
            self._attachment(attachment)
        actions = ((data.get("suggestedActions") or {}).get("actions")) or []
        if actions:
            self._numbered([_option(a) for a in actions])
        self.out.flush()

    def _attachment(self, attachment: dict) -> None:
        kind = attachment.get("contentType", "")
        content = attachment.get("content") or {}
        if kind == "application/vnd.microsoft.card.hero" or kind == "application/vnd.microsoft.card.thumbnail":
            for key in ("title", "subtitle", "text"):
                if content.get(key):
                    self._write(content[key], indent="  ")
            buttons = [_option(b) for b in content.get("buttons") or []]
            if buttons:
                self._numbered(buttons)
        elif kind == "application/vnd.microsoft.card.adaptive":
            self._adaptive(content)
        else:
            label = attachment.get("name") or kind
            self._write(self._style(f"[{self._word('attachment')}: {label}]", dim=True))

    def _adaptive(self, card: dict) -> None:
        has_inputs = False
        previous: list[tuple[str, str]] | None = None
        first_choices: list[Option] = []

        def walk(elements: list[dict], indent: str) -> None:
            nonlocal has_inputs, previous
            for element in elements or []:
                kind = element.get("type")
                if kind == "TextBlock":
                    text = element.get("text") or ""
                    bold = element.get("weight") == "Bolder" or element.get("size") in ("Medium", "Large")
                    text = self._style(text, bold=True) if bold and "**" not in text else text
                    self._write(text, indent=indent)
                elif kind == "RichTextBlock":
                    self._write(
                        "".join(i.get("text", "") for i in element.get("inlines") or [] if isinstance(i, dict)),
                        indent=indent,
                    )
                elif kind == "Image":
                    alt = element.get("altText") or ""
                    self._write(self._style(f"[{self._word('picture')}: {alt}]", dim=True), indent=indent)
                elif kind == "FactSet":
                    for fact in element.get("facts") or []:
                        self._write(f"{fact.get('title', '')}: {fact.get('value', '')}", indent=indent)
                elif kind == "Input.ChoiceSet":
                    has_inputs = True
                    if element.get("label"):
                        self._write(element["label"], indent=indent)
                    choices = [(c.get("title", ""), c.get("value", "")) for c in element.get("choices") or []]
                    if choices == previous:
                        self._write(self._style(self._word("same_choices"), dim=True), indent=indent + "  ")
                        continue
                    options = [Option(label=title, text=str(value)) for title, value in choices]
                    if not first_choices:
                        first_choices.extend(options)
                    for n, option in enumerate(options, start=1):
                        self.out.write(f"{indent}  {self._style(f'{n})', bold=True)} {option.label}\n")
                    previous = choices
                elif kind and kind.startswith("Input."):
                    has_inputs = True
                    label = element.get("label") or element.get("placeholder") or element.get("id")
                    if label:
                        self._write(self._style(f"[{label}]", dim=True), indent=indent)
                elif kind == "ActionSet":  # buttons stacked one per row in the card's body
                    body_actions.extend(element.get("actions") or [])
                elif kind in ("Container", "Column"):
                    walk(element.get("items") or [], indent)
                elif kind == "ColumnSet":
                    for column in element.get("columns") or []:
                        walk(column.get("items") or [], indent)

        body_actions: list[dict] = []
        walk(card.get("body") or [], "  ")
        actions = body_actions + list(card.get("actions") or [])
        buttons: list[Option] = []
        for action in actions:
            if action.get("type") == "Action.OpenUrl":
                self._write(f"{action.get('title', '')}: {action.get('url', '')}")
            elif action.get("type") == "Action.Submit" and not has_inputs:
                buttons.append(Option(label=action.get("title", ""), value=action.get("data")))
            # A submit that needs the inputs above is answered by typing, one question at a time.
        if buttons:
            self._numbered(buttons)
        elif first_choices:
            self._shown = first_choices  # typing "3" answers with the choice whose number is 3


def _option(action: dict) -> Option:
    kind = action.get("type")
    title = action.get("title") or str(action.get("value") or "")
    value = action.get("value")
    if kind == "messageBack":
        return Option(
            label=title,
            text=action.get("text") or action.get("displayText"),
            value=value if isinstance(value, dict) else None,
        )
    if kind == "openUrl":
        return Option(label=f"{title} ({value})", text=None)
    return Option(label=title, text=str(value) if value is not None else title)


def _local_timezone() -> str | None:
    tz = os.environ.get("TZ", "").lstrip(":")
    if "/" in tz:
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers)
        return "local"


class TerminalChat:
    """The bot, its storage and a printing adapter; `say` runs one turn."""

    def __init__(self, config, lang: str, user: str, screen: Screen) -> None:
        from botbuilder.core import BotAdapter, ConversationState
        from botbuilder.schema import ResourceResponse

        from dialogs.services import Services

        from ..handler import KompetenceBot
        from ..runtime import create_store
        from ..sdk.state_storage import DocStoreStorage

        self.lang = lang
        self.screen = screen
        self.store = create_store(config)
        services = Services.create(self.store)  # the same services as the served bot
        self.conversation_state = ConversationState(DocStoreStorage(self.store))
        self.bot = KompetenceBot(self.conversation_state, services)
        ids = itertools.count(1)

        class PrintingAdapter(BotAdapter):
            async def send_activities(inner, context, activities):  # noqa: N805 - closure over screen
                responses = []
                for activity in activities:
                    if activity.type == "delay":
                        await asyncio.sleep(min(float(activity.value or 0) / 1000, 2))
                    else:
                        screen.show(activity)
                    responses.append(ResourceResponse(id=f"out-{next(ids)}"))
                return responses

            async def update_activity(inner, context, activity):  # noqa: N805
                screen.show(activity)

            async def delete_activity(inner, context, reference):  # noqa: N805
                return None

        self.adapter = PrintingAdapter(self._on_error)
        digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:16]
        self.user = {"id": f"terminal:{user}", "name": user}
        self.conversation_id = f"terminal:{digest}"
        self.timezone = _local_timezone()
        self._n = itertools.count(1)

    async def _on_error(self, context, error: Exception) -> None:
        import logging

        from dialogs.turn import TURN
        from model import content
        from model.safe_log import without_message

        logging.getLogger("kompetencehjulet.chat").error("turn failed: %s", without_message(error))
        try:
            await self.conversation_state.delete(context)
        except Exception:  # noqa: BLE001
            pass
        if context.activity.type == "message":
            turn = context.turn_state.get(TURN)
            lang = turn.lang if turn else self.lang
            await context.send_activity(content.t(lang, "msg.error"))

    def activity(self, type_: str = "message", **fields):
        from botbuilder.schema import Activity

        entity = {"type": "clientInfo", "locale": LOCALES[self.lang]}
        if self.timezone:
            entity["timezone"] = self.timezone
        body = {
            "type": type_,
            "id": f"in-{next(self._n)}",
            "channelId": CHANNEL_ID,
            "serviceUrl": SERVICE_URL,
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "from": {**self.user, "role": "user"},
            "recipient": {"id": BOT_ID, "name": self.screen.bot_name, "role": "bot"},
            "conversation": {"id": self.conversation_id, "conversationType": "personal"},
            "locale": LOCALES[self.lang],
            "entities": [entity],
            **fields,
        }
        return Activity().deserialize(body)

    async def turn(self, activity) -> None:
        from botbuilder.core import TurnContext

        self.screen.begin_turn()
        await self.adapter.run_pipeline(TurnContext(self.adapter, activity), self.bot.on_turn)
        self.screen.end_turn()

    async def start(self) -> None:
        """As a chat client does when the conversation opens: the bot greets a new person."""
        await self.turn(self.activity("conversationUpdate", membersAdded=[dict(self.user)]))

    async def say(self, typed: str) -> None:
        option = self.screen.pick(typed)
        fields: dict[str, Any] = {}
        if option is not None:
            if option.text:
                fields["text"] = option.text
            if option.value is not None:
                fields["value"] = option.value
            if not fields:
                return
        else:
            fields["text"] = typed
        await self.turn(self.activity("message", **fields))

    async def close(self) -> None:
        await self.store.close()


async def chat(config, lang: str, user: str, read: Callable[[str], str], out: TextIO) -> int:
    from model import content

    screen = Screen(out, lang=lang, bot_name=content.t(lang, "bot_name"))
    session = TerminalChat(config, lang, user, screen)
    try:
        out.write(screen._style(content.t(lang, "local.terminal_hint"), dim=True) + "\n\n")
        await session.start()
        while True:
            try:
                typed = await asyncio.to_thread(read, "> ")
            except EOFError:
                out.write("\n")
                break
            if typed.strip().lower() in QUIT_WORDS:
                break
            if not typed.strip():
                continue
            out.write("\n")
            await session.say(typed.strip())
            out.write("\n")
    finally:
        await session.close()
    return 0


def run(args: argparse.Namespace) -> int:
    import logging

    from ..config import Config

    logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "WARNING"))
    config = Config.from_env()
    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401 - line editing and history for input()
        except ImportError:
            pass
    try:
        return asyncio.run(chat(config, args.lang, args.user or _default_user(), input, sys.stdout))
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 0
