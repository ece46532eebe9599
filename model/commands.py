"""Every command the bot knows, in one table: the router, the help text and the Teams
command menus all read it, so they never disagree about what can be typed where.

Adding a command is one `Command` entry here plus its words and texts:

- the phrases that mean it: `intents.<id>` in `model/content/terms.json` (what
  `model.language.understanding` recognises);
- for a listed command, its name and one-line description: `commands.<id>.command` /
  `.description` in `da.json` and `en.json` (shown in `hjælp`/`help` and the Teams menus);
- what it does: `dialogs/actions.py` `ACTIONS[<id>]` (start-up fails when one is missing).

Chat kinds are the Teams scopes: `personal` (the 1:1 chat), `team` (a channel) and
`groupChat`. Pure data and small lookups: no SDK imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from model import content

PERSONAL, TEAM, GROUP = "personal", "team", "groupChat"
CHATS = (PERSONAL, TEAM, GROUP)
EVERYWHERE = CHATS


@dataclass(frozen=True)
class Command:
    id: str  # the intent in terms.json, the key under "commands" in da.json/en.json
    chats: tuple[str, ...] = (PERSONAL,)  # where it is answered; personal only = about the person's own data
    listed: bool = True  # named by `hjælp` and (see `menu`) in Teams' command menu for those chats
    menu: bool = True  # in Teams' menu (at most 10 per chat kind); `listed` without it: help only
    restarts: bool = False  # begins a flow: typed mid-dialog, it replaces the one running

    @property
    def personal_only(self) -> bool:
        return self.chats == (PERSONAL,)


# In the order `hjælp` lists them and Teams shows them.
COMMANDS: tuple[Command, ...] = (
    Command("help", EVERYWHERE),
    Command("start", restarts=True),
    Command("profile"),
    Command("assessment", restarts=True),
    Command("history"),
    Command("goals"),
    Command("reminders", restarts=True),
    Command("export"),
    Command("delete", restarts=True),
    Command("language", EVERYWHERE),
    Command("leave_out", menu=False),
    Command("count_in", menu=False),
    Command("team_overview", (TEAM,)),  # elsewhere it explains that it needs a team channel
    # Understood and answered, but not offered as commands:
    Command("greeting", EVERYWHERE, listed=False),
    Command("thanks", EVERYWHERE, listed=False),
    Command("snooze", listed=False),  # "remind me tomorrow" under a nudge
    Command("stop_reminders", listed=False),
    Command("cancel", EVERYWHERE, listed=False),  # mid-dialog the router ends the flow instead
    Command("skip", EVERYWHERE, listed=False),
)
BY_ID = {c.id: c for c in COMMANDS}


def ids() -> list[str]:
    return [c.id for c in COMMANDS]


def get(command_id: str | None) -> Command | None:
    return BY_ID.get(command_id or "")


def chat_kind(conversation_type: str | None) -> str:
    """The Teams scope of a conversation type: a channel is `team`, no type is the 1:1 chat."""
    return {"channel": TEAM, "groupChat": GROUP}.get(conversation_type or "", PERSONAL)


def listed(chat: str) -> list[Command]:
    """The commands `hjælp` names in this kind of chat."""
    return [c for c in COMMANDS if c.listed and chat in c.chats]


def menu(chat: str) -> list[Command]:
    """The commands in Teams' command menu for this kind of chat."""
    return [c for c in listed(chat) if c.menu]


def word(lang: str, command_id: str) -> str:
    """What a person types for the command in this language ("hjælp", "help")."""
    return content.t(lang, f"commands.{command_id}.command")


def description(lang: str, command_id: str) -> str:
    return content.t(lang, f"commands.{command_id}.description")


def help_text(lang: str, chat: str) -> str:
    """`hjælp`: every command available in this kind of chat, one line each."""
    lines = [content.t(lang, "msg.help_intro")]
    lines += [
        content.t(lang, "msg.help_line", command=word(lang, c.id), description=description(lang, c.id))
        for c in listed(chat)
    ]
    # after a blank line, so Markdown does not read it as part of the last item
    lines += ["", content.t(lang, "msg.help_outro" if chat == PERSONAL else "msg.help_outro_shared")]
    return "\n".join(lines)
