"""`python app.py chat`: the real bot in a terminal. Typed lines go in through stdin, as a
person would type them; what is stored lands in BOT_DATA_DIR like the served bot's data."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

from bot.config import Config
from bot.local.terminal_chat import Screen, chat
from model import answers, content, relevance
from model.tinydb_store import TinyDBStore
from model.users import Users, user_key

ROOT = Path(__file__).resolve().parents[1]


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

    def __init__(self, lines: list[str]) -> None:
        self.lines = list(lines)

    def __call__(self, prompt: str) -> str:
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


def _chat(tmp_path: Path, lines: list[str], lang: str = "da", user: str = "anna") -> str:
    out = io.StringIO()
    config = Config(DATA_DIR=tmp_path / "data", FSYNC=False, NUDGES="off")
    assert asyncio.run(chat(config, lang, user, Typist(lines), out)) == 0
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
