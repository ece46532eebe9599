"""The conversation's shell (issue 25): a language switch re-asks the open question in the new
language, help lists every command of the chat from the one command table, the first
message offers the other language in one click, and numbered lists stay numbered 1. 2. 3."""

from __future__ import annotations

import re

import pytest
from chat import _card_nonce, _onboard
from conftest import TeamsUser, say
from test_teams_behaviour import in_team

from dialogs.cards import card_buttons
from model import commands, content

# The brief's list: what `hjælp` must name in a personal chat.
PERSONAL_COMMANDS = {
    "da": [
        "hjælp",
        "start",
        "profil",
        "vurdering",
        "historik",
        "mål",
        "påmindelser",
        "eksport",
        "slet mine data",
        "sprog",
        "tæl mig ikke med",
        "tæl mig med",
    ],
    "en": [
        "help",
        "start",
        "profile",
        "assessment",
        "history",
        "goals",
        "reminders",
        "export",
        "delete my data",
        "language",
        "leave me out",
        "count me in",
    ],
}


def _question(lang: str, key: str) -> str:
    return content.t(lang, key).split("?")[0]


# -- the language switch re-asks in the new language --------------------------------------------
async def test_english_at_the_first_question_greets_and_asks_again_in_english(da):
    reply = await da.send("hej")
    assert _question("da", "msg.ask_role") in reply
    reply = await da.send("english")
    assert content.t("en", "msg.language_set") in reply
    assert content.t("en", "msg.welcome").split("\n")[0] in reply and _question("en", "msg.ask_role") in reply
    assert _question("da", "msg.ask_role") not in reply and content.lookup("da", "roles.manager")["name"] not in reply
    assert content.lookup("en", "roles.manager")["name"] in reply  # the buttons too
    reply = await da.send("Manager")
    assert _question("en", "msg.ask_level") in reply


async def test_dansk_at_the_second_question_asks_it_again_in_danish(en):
    await en.send("hello")
    reply = await en.send("Manager")
    assert _question("en", "msg.ask_level") in reply
    reply = await en.send("dansk")
    assert content.t("da", "msg.language_set") in reply and content.t("da", "msg.resume") in reply
    assert _question("da", "msg.ask_level") in reply and _question("en", "msg.ask_level") not in reply
    reply = await en.send("3")
    assert (await en.users.profile(en.key))["language"] == "da"


async def test_a_switch_in_the_middle_of_the_reminder_questions_asks_the_weekday_in_the_new_language(en):
    await _onboard(en)
    await en.send("reminders")
    reply = await en.send(content.t("en", "reminders.frequency.monthly"))
    assert content.t("en", "reminders.ask_weekday") in reply and "Tuesday" in reply
    reply = await en.send("dansk")
    assert content.t("da", "msg.resume") in reply
    assert content.t("da", "reminders.ask_weekday") in reply and "Tirsdag" in reply
    assert content.t("en", "reminders.ask_weekday") not in reply and "Tuesday" not in reply
    reply = await en.send("Tirsdag")
    assert _question("da", "reminders.ask_time") in reply  # the dialog carries on, in Danish


async def test_a_switch_during_the_self_assessment_asks_the_score_in_the_new_language(da):
    await _onboard(da)
    await _card_nonce(da)
    reply = await da.send("english")
    assert content.t("en", "msg.resume") in reply and "1-5" in reply
    assert content.t("en", "assessment.card_title") in reply and content.t("da", "assessment.card_title") not in reply
    reply = await da.send("danish")
    assert content.t("da", "msg.resume") in reply and content.t("da", "assessment.card_title") in reply


async def test_a_switch_at_the_delete_question_asks_it_again_in_the_new_language(da):
    await _onboard(da)
    reply = await da.send("slet mine data")
    assert content.t("da", "privacy.confirm_yes") in reply
    reply = await da.send("english")
    assert content.t("en", "privacy.confirm_delete") in reply and content.t("da", "privacy.confirm_delete") not in reply
    reply = await da.send(content.t("en", "privacy.confirm_no"))
    assert await da.users.get(da.key) is not None


async def test_a_switch_while_the_own_goal_is_asked_for_asks_it_again_in_the_new_language(da):
    await _onboard(da)
    reply = await da.send(value={"kh": "goal", "do": "own"})
    assert content.t("da", "goals.ask_own_free") in reply
    reply = await da.send("english")
    assert content.t("en", "goals.ask_own_free") in reply and content.t("da", "goals.ask_own_free") not in reply


# -- help from the one command table ------------------------------------------------------------
def _listed(reply: str) -> list[str]:
    """The commands a help text names: its "- **word** – ..." lines."""
    return re.findall(r"^- \*\*(.+?)\*\* ", reply.replace("  \n", "\n"), flags=re.M)


@pytest.mark.parametrize("lang", content.LANGUAGES)
async def test_help_in_a_personal_chat_lists_every_personal_command(request, lang):
    chat = request.getfixturevalue(lang)
    await _onboard(chat)
    listed = _listed(await chat.send(content.t(lang, "commands.help.command")))
    assert listed == PERSONAL_COMMANDS[lang]
    assert listed == [commands.word(lang, c.id) for c in commands.listed(commands.PERSONAL)]


async def test_help_in_a_team_channel_and_a_group_chat_lists_only_what_works_there(server, connector):
    for kind, lang, locale in (("channel", "en", "en-US"), ("groupChat", "da", "da-DK")):
        user = TeamsUser(connector, locale=locale, conversation_type=kind)
        activity = user.message(content.t(lang, "commands.help.command"))
        if kind == "channel":
            in_team(activity)
        listed = _listed(await say(server, connector, activity))
        chat = commands.chat_kind(kind)
        assert listed == [commands.word(lang, c.id) for c in commands.listed(chat)], kind
        assert commands.word(lang, "language") in listed and commands.word(lang, "export") not in listed
        assert (commands.word(lang, "team_overview") in listed) == (kind == "channel")


def test_every_listed_command_is_understood_as_itself_and_every_chat_kind_has_help():
    from model.language.understanding import understand

    for lang in content.LANGUAGES:
        for command in commands.listed(commands.PERSONAL) + commands.listed(commands.TEAM):
            assert understand(commands.word(lang, command.id)).intent == command.id, (lang, command.id)
    for chat in commands.CHATS:
        assert commands.listed(chat)[0].id == "help"


# -- first contact in the right language --------------------------------------------------------
async def _first_contact(server, connector, locale: str, lang: str, other: str) -> None:
    user = TeamsUser(connector, locale=locale)
    since = len(connector.activities)
    reply = await say(server, connector, user.install())
    assert content.t(lang, "msg.welcome").split("\n")[0] in reply and _question(lang, "msg.ask_role") in reply
    assert content.t(other, "msg.language_offer") in reply  # said in the language it offers
    (switch,) = [b for b in connector.buttons(since) if b["title"] == content.t(other, "msg.language_offer_button")]
    reply = await say(server, connector, user.message(value=switch["data"]))  # one click, as Teams sends it
    assert content.t(other, "msg.welcome").split("\n")[0] in reply and _question(other, "msg.ask_role") in reply
    assert _question(lang, "msg.ask_role") not in reply
    users = server.runtime.services.users
    assert (await users.profile(user.key))["language"] == other  # kept for the next messages too
    reply = await say(server, connector, user.message("1"))
    assert _question(other, "msg.ask_level") in reply


async def test_english_teams_reaches_danish_in_one_click_from_the_first_message(server, connector):
    await _first_contact(server, connector, "en-US", "en", "da")


async def test_danish_teams_reaches_english_in_one_click_from_the_first_message(server, connector):
    await _first_contact(server, connector, "da-DK", "da", "en")


# -- numbered lists -----------------------------------------------------------------------------
_ITEM = re.compile(r"^\s*(\d+)[.)]\s")


def shown_numbers(blocks: list[str]) -> tuple[list[int], list[int]]:
    """(written, shown) numbers of the numbered list items in texts rendered one by one as
    Markdown, the way Web Chat does: each run of items is a list, numbered from 1 (it drops
    the start number), and a line that is no item ends the run."""
    written: list[int] = []
    shown: list[int] = []
    for block in blocks:
        run = 0
        for line in block.replace("  \n", "\n").split("\n"):
            match = _ITEM.match(line)
            if match:
                run += 1
                written.append(int(match.group(1)))
                shown.append(run)
            elif line.strip():
                run = 0
    return written, shown


def _rendered_texts(activities) -> list[str]:
    """What a client renders as separate Markdown texts: a message's text, each card text block."""
    texts = []
    for activity in activities:
        data = activity.serialize()
        if data.get("text"):
            texts.append(data["text"])
        for attachment in data.get("attachments") or []:
            card = attachment.get("content") or {}
            texts += [b["text"] for b in card.get("body") or [] if b.get("type") == "TextBlock"]
    return texts


def test_the_numbering_check_catches_items_in_blocks_of_their_own():
    written, shown = shown_numbers(["1. **a** (x): y", "2. **b** (x): y", "3. **c** (x): y"])
    assert written == [1, 2, 3] and shown == [1, 1, 1]  # the old shape: Web Chat showed "1. 1. 1."


@pytest.mark.parametrize("lang", content.LANGUAGES)
async def test_goal_steps_are_numbered_one_two_three_in_every_client(request, lang):
    chat = request.getfixturevalue(lang)
    await _onboard(chat, role="1", level="1")
    nonce = await _card_nonce(chat)
    await chat.send(value={"kh": "quick", "nonce": nonce, "implementation": "2", "development": "2", "innovation": "1"})
    await chat.send(content.t(lang, "assessment.no"))
    written, shown = shown_numbers(_rendered_texts(chat.last))
    assert written == [1, 2, 3] and shown == written, _rendered_texts(chat.last)
    await chat.send(content.t(lang, "commands.goals.command"))
    written, shown = shown_numbers(_rendered_texts(chat.last))
    assert shown == written, _rendered_texts(chat.last)


# -- a readable export --------------------------------------------------------------------------
_CLASS_PATH = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+:[A-Za-z_]\w*")  # module.path:Class


async def test_the_export_is_plain_fields_without_sdk_class_names(en):
    import base64
    import json

    await _onboard(en, role="1", level="1")
    nonce = await _card_nonce(en)
    await en.send(value={"kh": "quick", "nonce": nonce, "implementation": "2", "development": "3", "innovation": "1"})
    await en.send(content.t("en", "assessment.no"))
    buttons = [b for a in en.last for att in a.attachments or [] for b in card_buttons(att.content or {})]
    step = next(b for b in buttons if b["data"].get("do") == "set")
    await en.send(value=step["data"])  # a suggested step becomes the goal
    await en.send("reminders")
    for answer in (content.t("en", "reminders.frequency.monthly"), "Tuesday", "10:00"):
        await en.send(answer)
    await en.send("assessment")
    await en.send("4")  # a second check, one score typed, then left open
    await en.send("export")
    attached = next(att for a in en.last for att in a.attachments or [] if att.content_type == "application/json")
    raw = base64.b64decode(attached.content_url.split(",", 1)[1]).decode("utf-8")
    assert "botbuilder" not in raw and not _CLASS_PATH.search(raw), _CLASS_PATH.findall(raw)[:3]
    data = json.loads(raw)
    assert (data["profile"]["role"], data["profile"]["level"], data["profile"]["language"]) == (
        "frontline",
        "use",
        "en",
    )
    assert [a["scores"] for a in data["assessments"]] == [{"implementation": 2, "development": 3, "innovation": 1}]
    assert [g["title"] for g in data["goals"]] == [step["title"]]
    reminders = data["reminders"]
    assert (reminders["on"], reminders["frequency"], reminders["weekday"], reminders["time"]) == (
        True,
        "monthly",
        "tuesday",
        "10:00",
    )
    assert reminders["next"]
    (open_check,) = data["unfinished_dialogs"]  # the check left open: the score given so far
    assert open_check["dialog"] == "assessment" and list(open_check["answers_so_far"]["scores"].values()) == [4]
    assert set(data["technical"]) >= {"conversation_reference", "schema"}  # the bot's bookkeeping, named so
    assert data["counted_in_overviews"] in (True, False)


async def test_a_language_name_alone_at_the_note_question_switches_instead_of_becoming_the_note(da):
    await _onboard(da)
    await da.send("vurdering")
    for score in ("4", "3", "2"):
        reply = await da.send(score)
    assert content.t("da", "assessment.ask_note").split(".")[0] in reply
    reply = await da.send("english")
    assert content.t("en", "msg.language_set") in reply and content.t("en", "assessment.ask_note") in reply
    await da.send("Use tablets with citizens")
    (check,) = (await da.users.get(da.key))["assessments"]
    assert check["note"] == "Use tablets with citizens"
