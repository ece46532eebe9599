"""`python app.py chat`: talk to the real bot in a terminal, no server and no Azure.

The same KompetenceBot, dialogs, services (RESOURCES_FILE included) and storage
(BOT_DATA_DIR) as the served bot (bot/runtime.py `create_services`, `create_bot`), driven by
a small BotAdapter whose send_activities prints. Buttons on hero cards, suggested actions
and the choices of Adaptive Card choice sets are shown as numbered lines, each number once
on screen (see `Screen`); typing a number picks that line, anything else is sent as typed
(the self-assessment card's questions can be answered one by one with numbers, as in
Teams). A file the bot sends (`eksport`) is written to the current folder and its path
printed. `quit`, `exit` or end of input ends.

Heavy imports happen inside run(), so `app.py ask` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
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
from pathlib import Path
from typing import Callable, TextIO

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
    value: dict[str, object] | None = None


class Screen:
    """Turns bot activities into terminal text and remembers the numbered options shown last.

    A turn's activities are printed together when the turn ends, so every number on screen
    is unique across all of them: the options of the turn's last message that has any (the
    question the bot now waits for, e.g. the role question or the self-assessment's scale)
    are 1..n, and the buttons of its earlier messages are numbered on from there, in the
    order shown. A file the bot attaches (the `eksport` JSON, the MUS summary) is written
    into `files` and its path printed.
    """

    def __init__(
        self,
        out: TextIO,
        lang: str = "da",
        width: int | None = None,
        color: bool | None = None,
        bot_name: str = "Kompetencehjulet",
        files: Path | None = None,
    ) -> None:
        self.out = out
        self.lang = lang
        self.width = max(40, min(width or shutil.get_terminal_size((100, 24)).columns, 100))
        self.color = out.isatty() if color is None else color
        self.bot_name = bot_name
        self.files = files if files is not None else Path.cwd()
        self.options: list[Option] = []
        self._next = 1  # the number the next option printed gets
        self._scale: list[tuple[str, str]] = []  # the choices of the message being printed
        self._pending: list[dict] | None = None

    # -- per turn ------------------------------------------------------------------------------
    def begin_turn(self) -> None:
        self._pending = []

    def end_turn(self) -> None:
        """Print what the turn sent; numbers refer to it (a turn that showed none clears them)."""
        pending, self._pending = self._pending or [], None
        self._render(pending)

    def pick(self, typed: str) -> Option | None:
        said = typed.strip().rstrip(".)")
        if said.isdigit() and 1 <= int(said) <= len(self.options):
            return self.options[int(said) - 1]
        return None

    # -- output --------------------------------------------------------------------------------
    def _word(self, name: str, **values: object) -> str:
        """The chat's own few words (picture, attached ...), from the content files."""
        from model import content

        return content.t(self.lang, f"local.{name}", **values)

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
        for option in options:
            self.out.write(f"    {self._style(f'{self._next})', bold=True)} {option.label}\n")
            self._next += 1

    def show(self, activity) -> None:
        """One activity the bot sent (an Activity object or a dict): kept for the end of the
        turn, or printed at once outside a turn."""
        data = activity if isinstance(activity, dict) else activity.serialize()
        if self._pending is not None:
            self._pending.append(data)
        else:
            self._render([data])

    def _render(self, activities: list[dict]) -> None:
        messages = [a for a in activities if a.get("type", "message") == "message"]
        offered = [_options(m) for m in messages]
        waiting = [i for i, found in enumerate(offered) if found][-1:]  # the last message with options
        order = waiting + [i for i, found in enumerate(offered) if found and i not in waiting]
        first, n = {}, 1
        for i in order:
            first[i], n = n, n + len(offered[i])
        self.options = [option for i in order for option in offered[i]]
        for i, data in enumerate(messages):
            self._next = first.get(i, n)
            self._scale = _first_scale(data)
            self._show(data)
        self.out.flush()

    def _show(self, data: dict) -> None:
        if data.get("text"):
            self._write(data["text"])
        for attachment in data.get("attachments") or []:
            self._attachment(attachment)
        actions = ((data.get("suggestedActions") or {}).get("actions")) or []
        if actions:
            self._numbered([_option(a) for a in actions])

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
            saved = self._save(attachment)
            self._write(self._style(f"[{self._word('attachment')}: {label}]", dim=True))
            if saved:
                self._write(self._word("file_saved", path=saved))

    def _save(self, attachment: dict) -> Path | None:
        """A file sent inline (a data: URL) is written into `files` under its own name, never
        over an existing file, readable by the owner only (it holds the person's data)."""
        url = attachment.get("contentUrl") or ""
        if not url.startswith("data:") or ";base64," not in url:
            return None
        data = base64.b64decode(url.split(";base64,", 1)[1])
        name = Path(attachment.get("name") or "file").name or "file"
        self.files.mkdir(parents=True, exist_ok=True)
        stem, suffix = Path(name).stem, Path(name).suffix
        for n in itertools.count(1):
            path = self.files / (name if n == 1 else f"{stem}-{n}{suffix}")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return path.resolve()
        return None  # unreachable: count() never ends

    def _adaptive(self, card: dict) -> None:
        previous: list[tuple[str, str]] | None = None

        def walk(elements: list[dict], indent: str) -> None:
            nonlocal previous
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
                    if element.get("label"):
                        self._write(element["label"], indent=indent)
                    choices = _choices(element)
                    if choices == previous:
                        self._write(self._style(self._word("same_choices"), dim=True), indent=indent + "  ")
                        continue
                    numbered = choices == self._scale  # the message's first choice set: picked by number
                    for title, _ in choices:
                        mark = "-"
                        if numbered:
                            mark, self._next = f"{self._next})", self._next + 1
                        self.out.write(f"{indent}  {self._style(mark, bold=True)} {title}\n")
                    if numbered:
                        self._scale = []
                    previous = choices
                elif kind and kind.startswith("Input."):
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
        for action in body_actions + list(card.get("actions") or []):
            if action.get("type") == "Action.OpenUrl":
                self._write(f"{action.get('title', '')}: {action.get('url', '')}")
        self._numbered(_card_buttons(card))


def _options(activity: dict) -> list[Option]:
    """What a message offers to pick, in the order it is printed: its Adaptive Cards' first
    choice set or buttons, its hero cards' buttons, then its suggested actions."""
    found: list[Option] = []
    scale = _first_scale(activity)  # numbered where it is printed (Screen._adaptive)
    for attachment in activity.get("attachments") or []:
        kind = attachment.get("contentType", "")
        card = attachment.get("content") or {}
        if kind in ("application/vnd.microsoft.card.hero", "application/vnd.microsoft.card.thumbnail"):
            found += [_option(b) for b in card.get("buttons") or []]
        elif kind == "application/vnd.microsoft.card.adaptive":
            if scale and _scale_of(card) == scale:
                found += [Option(label=title, text=value) for title, value in scale]
                scale = []
            found += _card_buttons(card)
    found += [_option(a) for a in ((activity.get("suggestedActions") or {}).get("actions")) or []]
    return found


def _card_buttons(card: dict) -> list[Option]:
    """An Adaptive Card's Submit buttons as options. A submit that needs the card's inputs is
    no option: those questions are answered by typing, one at a time."""
    if _has_inputs(card.get("body") or []):
        return []
    actions = _body_actions(card.get("body") or []) + list(card.get("actions") or [])
    return [Option(label=a.get("title", ""), value=a.get("data")) for a in actions if a.get("type") == "Action.Submit"]


def _children(element: dict) -> list[dict]:
    return list(element.get("items") or []) + [i for c in element.get("columns") or [] for i in c.get("items") or []]


def _has_inputs(elements: list[dict]) -> bool:
    return any(str(e.get("type", "")).startswith("Input.") or _has_inputs(_children(e)) for e in elements)


def _body_actions(elements: list[dict]) -> list[dict]:
    found: list[dict] = []
    for element in elements:
        if element.get("type") == "ActionSet":
            found += element.get("actions") or []
        elif element.get("type") in ("Container", "Column", "ColumnSet"):
            found += _body_actions(_children(element))
    return found


def _choices(element: dict) -> list[tuple[str, str]]:
    return [(str(c.get("title", "")), str(c.get("value", ""))) for c in element.get("choices") or []]


def _scale_of(card: dict) -> list[tuple[str, str]]:
    """The choices of an Adaptive Card's first choice set (the question the person answers by
    typing a number), or none."""

    def find(elements: list[dict]) -> list[tuple[str, str]]:
        for element in elements:
            if element.get("type") == "Input.ChoiceSet" and element.get("choices"):
                return _choices(element)
            if found := find(_children(element)):
                return found
        return []

    return find(card.get("body") or [])


def _first_scale(activity: dict) -> list[tuple[str, str]]:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            if found := _scale_of(attachment.get("content") or {}):
                return found
    return []


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
        from botbuilder.core import BotAdapter
        from botbuilder.schema import ResourceResponse

        from ..runtime import create_bot, create_services

        self.lang = lang
        self.screen = screen
        services = create_services(config)  # the same services and state class as the served bot
        self.store = services.store
        self.bot, self.conversation_state = create_bot(config, services)
        ids = itertools.count(1)

        class PrintingAdapter(BotAdapter):
            # Each method's first argument is `inner`: `self` here is the TerminalChat.
            async def send_activities(inner, context, activities):
                responses = []
                for activity in activities:
                    if activity.type == "delay":
                        await asyncio.sleep(min(float(activity.value or 0) / 1000, 2))
                    else:
                        screen.show(activity)
                    responses.append(ResourceResponse(id=f"out-{next(ids)}"))
                return responses

            async def update_activity(inner, context, activity):
                screen.show(activity)

            async def delete_activity(inner, context, reference):
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
        fields: dict[str, object] = {}
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


async def chat(config, lang: str, user: str, read: Callable[[str], str], out: TextIO, files: Path | None = None) -> int:
    """Talk until `quit` or end of input; files the bot sends go into `files` (default: here)."""
    from model import content

    screen = Screen(out, lang=lang, bot_name=content.t(lang, "bot_name"), files=files)
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
