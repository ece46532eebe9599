"""`python app.py chat`: the real bot in a terminal. Typed lines go in through stdin, as a
person would type them; what is stored lands in BOT_DATA_DIR like the served bot's data."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from bot.config import Config
from bot.local.terminal_chat import Screen, chat
from model import content
from model.domain import answers, goals, relevance
from model.domain.users import Users, user_key
from model.storage.tinydb_store import TinyDBStore

ROOT = Path(__file__).resolve().parents[2]


def run_chat(data_dir: Path, typed: str, *args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update({"BOT_DATA_DIR": str(data_dir), "BOT_FSYNC": "0", "NUDGES": "off", "PYTHONIOENCODING": "utf-8"})
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "chat", *args],
        input=typed,
        text=True,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        encoding="utf-8",
    )


async def stored(data_dir: Path, user: str) -> dict:
    store = TinyDBStore(data_dir, fsync=False)
    try:
        return await Users(store).get(user_key(None, f"terminal:{user}")) or {}
    finally:
        await store.close()


def test_onboarding_completes_by_typing_numbers(tmp_path):
    proc = run_chat(tmp_path / "data", "1\n2\nquit\n", "--user", "mette")
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert content.t("da", "msg.ask_role") in out
    assert f"1) {content.lookup('da', 'roles.frontline')['name']}" in out  # buttons as numbered lines
    assert content.t("da", "msg.ask_level") in out
    for sub in content.subarea_ids():
        assert content.subarea_name("da", sub) in out
    assert "**" not in out and "\033[" not in out  # markdown and colours only on a real terminal
    doc = asyncio.run(stored(tmp_path / "data", "mette"))
    assert doc["profile"]["role"] == relevance.roles()[0]
    assert doc["profile"]["level"] == relevance.levels()[1]
    assert doc["profile"]["language"] == "da"


def test_english_typed_answers_and_end_of_input(tmp_path):
    proc = run_chat(
        tmp_path / "data", "Manager\nI steer development and implementation\n", "--lang", "en", "--user", "sam"
    )
    assert proc.returncode == 0, proc.stderr
    assert content.t("en", "msg.ask_role") in proc.stdout
    assert "Development and implementation" in proc.stdout
    doc = asyncio.run(stored(tmp_path / "data", "sam"))
    assert (doc["profile"]["role"], doc["profile"]["level"], doc["profile"]["language"]) == ("manager", "steer", "en")


def test_the_next_run_remembers_the_person(tmp_path):
    run_chat(tmp_path / "data", "5\n3\nexit\n", "--user", "lis")
    proc = run_chat(tmp_path / "data", "profil\nquit\n", "--user", "lis")
    assert proc.returncode == 0, proc.stderr
    assert content.t("da", "msg.ask_role") not in proc.stdout  # no second onboarding
    assert content.lookup("da", "roles.manager")["name"] in proc.stdout


class Typist:
    """Feeds lines to chat() and records the screen between them."""

    def __init__(self, lines: list[str], echo: io.StringIO | None = None) -> None:
        self.lines = list(lines)
        self.echo = echo  # where the prompt and the typed line show, as input() would print them

    def __call__(self, prompt: str) -> str:
        if not self.lines:
            raise EOFError
        if self.echo is not None:
            self.echo.write(f"{prompt}{self.lines[0]}\n")
        return self.lines.pop(0)


def _chat(tmp_path: Path, lines: list[str], lang: str = "da", user: str = "anna") -> str:
    out = io.StringIO()
    config = Config(DATA_DIR=tmp_path / "data", FSYNC=False, NUDGES="off")
    assert asyncio.run(chat(config, lang, user, Typist(lines, out), out, files=tmp_path / "files")) == 0
    return out.getvalue()


def test_assessment_by_numbers_then_history_and_a_question(tmp_path):
    overview_buttons = 4  # "more about" x3, then the check
    out = _chat(
        tmp_path,
        ["2", "3", str(overview_buttons), "4", "3", "2", "spring over", "historik", "hvad betyder innovation for mig?"],
    )
    card_title = content.t("da", "assessment.card_title")
    assert card_title in out
    assert out.count("5) 5 - ") == 1 and "(samme svarmuligheder)" in out  # one scale, shown once
    assert "4/5" in out and "3/5" in out and "2/5" in out
    assert "[billede: " in out  # the wheel picture, by its alt text
    answer = answers.topic_reply("da", "innovation", {"role": "administrative", "level": "steer"}).text
    assert answer.split("\n")[0].replace("**", "") in " ".join(out.split())  # wrapped lines joined
    doc = asyncio.run(stored(tmp_path / "data", "anna"))
    ranked = [r.subarea for r in relevance.ranked_subareas("administrative", "steer")]
    assert doc["assessments"][0]["scores"] == dict(zip(ranked, [4, 3, 2], strict=True))


def test_screen_numbers_buttons_and_card_actions():
    out = io.StringIO()
    screen = Screen(out, lang="en", width=80, color=False)
    screen.begin_turn()
    screen.show(
        {
            "type": "message",
            "text": "Pick **one**",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.hero",
                    "content": {
                        "buttons": [
                            {"type": "imBack", "title": "Yes", "value": "yes please"},
                            {"type": "messageBack", "title": "No", "text": "no", "value": {"k": 1}},
                        ]
                    },
                }
            ],
        }
    )
    screen.end_turn()
    assert "Pick one" in out.getvalue() and "1) Yes" in out.getvalue() and "2) No" in out.getvalue()
    assert screen.pick("1").text == "yes please" and screen.pick("2").value == {"k": 1}
    assert screen.pick("3") is None and screen.pick("yes") is None

    screen.begin_turn()
    screen.show(
        {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "type": "AdaptiveCard",
                        "body": [{"type": "Image", "url": "data:,", "altText": "A wheel"}],
                        "actions": [{"type": "Action.Submit", "title": "Summary", "data": {"kh": "mus"}}],
                    },
                }
            ],
        }
    )
    screen.end_turn()
    assert "[picture: A wheel]" in out.getvalue()
    assert screen.pick("1").value == {"kh": "mus"}  # a card without inputs: its button is a numbered line

    screen.begin_turn()
    screen.show({"type": "message", "text": "no buttons"})
    screen.end_turn()
    assert screen.pick("1") is None  # numbers only refer to what the last turn showed


def test_on_a_pseudo_terminal_choices_are_bold_and_onboarding_completes(tmp_path):
    import pty
    import select
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update({"BOT_DATA_DIR": str(tmp_path / "data"), "BOT_FSYNC": "0", "TERM": "xterm", "COLUMNS": "90"})
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "chat", "--user", "tty"],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=ROOT,
        env=env,
        close_fds=True,
    )
    os.close(child)
    seen = b""

    def read_until(marker: bytes, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
        assert marker in seen, seen.decode(errors="replace")[-2000:]

    try:
        read_until(content.t("da", "msg.ask_role").encode())
        read_until(b"> ")
        os.write(main, b"6\r")
        read_until(content.t("da", "msg.ask_level").encode())
        os.write(main, b"3\r")
        read_until(answers.overview_reply("da", "project_lead", "steer").buttons[-1][0].encode())
        read_until(b"> ")
        os.write(main, b"quit\r")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert b"\033[1m1)\033[0m" in seen  # numbered choices in bold on a terminal
    doc = asyncio.run(stored(tmp_path / "data", "tty"))
    assert (doc["profile"]["role"], doc["profile"]["level"]) == ("project_lead", "steer")


def _turns(out: str) -> list[str]:
    """The screen split at each typed line: what one turn printed."""
    return re.split(r"^> .*$", out, flags=re.M)


def _numbers(screen: str) -> list[str]:
    return re.findall(r"^\s+(\d+)\) ", screen, flags=re.M)


def test_two_cards_in_one_turn_never_show_the_same_number_and_each_number_picks_its_line(tmp_path):
    # After the first check and "Nej tak" to the deeper round, one turn shows the goal offer
    # (a card of steps) and the reminder offer (another card): both used to count from 1.
    out = _chat(tmp_path, ["2", "3", "4", "4", "3", "2", "spring over", "2", "3"])
    turn = _turns(out)[-2]  # the turn that answered "2" (Nej tak)
    flat = " ".join(turn.split())  # lines wrapped for the terminal joined again
    assert content.t("da", "coaching.goal_offer_pick") in flat and content.t("da", "reminders.offer") in flat
    numbers = _numbers(turn)
    assert len(numbers) >= 5 and sorted(numbers, key=int) == [str(n) for n in range(1, len(numbers) + 1)], turn
    # the offer the bot asked last has 1 and 2; the goal steps come after it, so "3" is the first step
    first_step = re.search(r"^\s+(\d+)\) (.+)$", turn, re.M)
    assert first_step and first_step.group(1) == "3", turn
    doc = asyncio.run(stored(tmp_path / "data", "anna"))
    assert [goals.goal_title("da", g) for g in doc["goals"]] == [first_step.group(2).strip()]


def test_screen_numbers_are_unique_across_the_messages_of_a_turn():
    out = io.StringIO()
    screen = Screen(out, lang="en", width=80, color=False)

    def card(*titles: str) -> dict:
        actions = [{"type": "Action.Submit", "title": t, "data": {"kh": "say", "text": t}} for t in titles]
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {"type": "AdaptiveCard", "body": [], "actions": actions},
                }
            ],
        }

    screen.begin_turn()
    screen.show(card("Step A", "Step B", "Step C"))
    screen.show(card("Yes", "No"))
    screen.end_turn()
    shown = out.getvalue()
    assert _numbers(shown) == ["3", "4", "5", "1", "2"], shown  # the latest question is 1..n, the rest after
    assert [screen.pick(n).value["text"] for n in "12345"] == ["Yes", "No", "Step A", "Step B", "Step C"]


def test_export_writes_the_file_and_prints_where(tmp_path):
    out = _chat(tmp_path, ["2", "3", "eksport"])
    saved = list((tmp_path / "files").iterdir())
    assert len(saved) == 1 and saved[0].name == content.t("da", "privacy.export_filename")
    assert str(saved[0]) in " ".join(out.split()) or str(saved[0]) in out.replace("\n    ", "")
    data = json.loads(saved[0].read_text(encoding="utf-8"))
    assert data["profile"]["role"] == relevance.roles()[1]
    assert oct(saved[0].stat().st_mode & 0o777) == "0o600"  # the person's data: readable by the owner only
    _chat(tmp_path, ["eksport"])  # a second export never overwrites the first
    assert len(list((tmp_path / "files").iterdir())) == 2


def test_the_terminal_chat_suggests_the_municipalitys_offers_from_resources_file(tmp_path, monkeypatch):
    offers = tmp_path / "offers.yaml"
    offers.write_text(
        "trends:\n  - title: Kommunens AI-café\n    text: Kom til AI-caféen hver torsdag.\n    kind: course\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RESOURCES_FILE", str(offers))
    proc = run_chat(tmp_path / "data", "hvordan bliver jeg bedre til at følge med i trends\nquit\n", "--user", "kaj")
    assert proc.returncode == 0, proc.stderr
    assert "Kommunens AI-café" in proc.stdout
