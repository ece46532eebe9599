"""Real clients for the browser tests and the README screenshots.

- the official Web Chat bundle (`dist/webchat.js` of the npm package botframework-webchat,
  fetched with `npm pack`, pinned, unpacked into .cache/node-browser; the bundle has no
  run-time dependencies, so the 500 MB of its npm dependency tree is not needed);
- `offline-directline` (npm, pinned), a third-party Direct Line and connector emulator;
- the system Chromium (Debian package `chromium`), driven by Playwright for Python;
- the real app (`python app.py`) on a free loopback port, in local mode.

What is missing is installed when possible (npm packages always; Chromium with apt-get
only as root under CI=true). Anything that still cannot be had raises Unavailable: tests
skip on a developer machine without it and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from processes import free_port, npm_install_command, stop_process

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / ".cache" / "node-browser"
WEBCHAT_VERSION = "4.18.1"
OFFLINE_DIRECTLINE_VERSION = "1.3.1"
WEBCHAT_DIR = NODE_DIR / f"botframework-webchat-{WEBCHAT_VERSION}"
WEBCHAT_JS = WEBCHAT_DIR / "dist" / "webchat.js"
OFFLINE_DIRECTLINE = NODE_DIR / "node_modules" / "offline-directline"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Flags seen to work here (shared/NOTES.md); headless comes from Playwright itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60


class Unavailable(RuntimeError):
    """A real client or a tool it needs is missing and could not be installed."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _run(cmd: list[str], cwd: Path | None = None, timeout: int = INSTALL_TIMEOUT) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise Unavailable(f"`{' '.join(cmd)}` failed: {err}") from err
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise Unavailable(f"`{' '.join(cmd)}` failed (exit {proc.returncode}): {tail}")
    return proc


def _npm() -> str:
    if not shutil.which("node"):
        raise Unavailable("Node.js (node) is not installed; it runs offline-directline")
    npm = shutil.which("npm")
    if not npm:
        raise Unavailable("npm is not installed; it fetches botframework-webchat and offline-directline")
    return npm


# -- Chromium ---------------------------------------------------------------------------------
def find_chromium() -> str | None:
    for path in (os.environ.get("CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if path and os.access(path, os.X_OK):
            return path
    return None


def ensure_chromium() -> str:
    found = find_chromium()
    if found:
        return found
    if in_ci() and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, stdin=subprocess.DEVNULL
            )
            if proc.returncode != 0:
                raise Unavailable(f"`{' '.join(cmd)}` failed: {(proc.stderr or proc.stdout)[-1500:]}")
        found = find_chromium()
        if found:
            return found
    raise Unavailable(
        "Chromium is not installed (Debian: `apt-get install chromium`; the tests install it "
        "themselves only as root with CI=true)"
    )


# -- npm packages -------------------------------------------------------------------------------
def ensure_webchat() -> Path:
    """dist/webchat.js of botframework-webchat, from the npm registry through `npm pack`."""
    if WEBCHAT_JS.is_file():
        return WEBCHAT_JS
    npm = _npm()
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=NODE_DIR) as tmp:
        proc = _run(
            [npm, "pack", "--silent", "--pack-destination", tmp, f"botframework-webchat@{WEBCHAT_VERSION}"],
            cwd=Path(tmp),
        )
        tarball = Path(tmp) / proc.stdout.strip().splitlines()[-1]
        staging = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            wanted = [
                m
                for m in tar.getmembers()
                if m.isfile()
                and m.name
                in (
                    "package/package.json",
                    "package/LICENSE",
                    "package/dist/webchat.js",
                    "package/dist/webchat.js.LICENSE.txt",
                )
            ]
            tar.extractall(staging, members=wanted, filter="data")
        meta = json.loads((staging / "package" / "package.json").read_text())
        if meta.get("version") != WEBCHAT_VERSION or not (staging / "package/dist/webchat.js").is_file():
            raise Unavailable(f"npm pack botframework-webchat@{WEBCHAT_VERSION} gave an unexpected package")
        shutil.rmtree(WEBCHAT_DIR, ignore_errors=True)
        (staging / "package").rename(WEBCHAT_DIR)
    return WEBCHAT_JS


def ensure_offline_directline() -> Path:
    """offline-directline's command line script (`directline -d PORT -b BOT_URL`)."""
    script = OFFLINE_DIRECTLINE / "dist" / "cmdutil.js"
    try:
        version = json.loads((OFFLINE_DIRECTLINE / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        version = None
    if version == OFFLINE_DIRECTLINE_VERSION and script.is_file():
        return script
    npm = _npm()
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    _run(npm_install_command(npm, NODE_DIR, f"offline-directline@{OFFLINE_DIRECTLINE_VERSION}"))
    if not script.is_file():
        raise Unavailable("npm installed offline-directline, but dist/cmdutil.js is missing")
    return script


def ensure_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        raise Unavailable(
            "the Python package `playwright` is not installed (`pip install -e .[test]` brings it)"
        ) from err
    return sync_playwright


# -- processes ------------------------------------------------------------------------------------
def wait_http(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


@contextmanager
def app_server(
    data_dir: Path, log_dir: Path, webchat_js: Path | None = None, extra_env: dict | None = None
) -> Iterator[str]:
    """`python app.py` in local mode on a free loopback port; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "BOT_DATA_DIR": str(data_dir),
            "NUDGES": "off",
            "BOT_FSYNC": "0",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "WEBCHAT_JS": str(webchat_js or ""),
        }
    )
    env.update(extra_env or {})
    with _serving(
        [sys.executable, str(ROOT / "app.py")],
        ROOT,
        env,
        log_dir / f"app-{port}.log",
        f"http://127.0.0.1:{port}/healthz",
    ):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def offline_directline(bot_url: str, log_dir: Path) -> Iterator[str]:
    """offline-directline in front of the bot's /api/messages; yields its Direct Line domain."""
    script = ensure_offline_directline()
    port = free_port()
    with _serving(
        [shutil.which("node") or "node", str(script), "-d", str(port), "-b", f"{bot_url}/api/messages"],
        NODE_DIR,
        None,
        log_dir / f"offline-directline-{port}.log",
        f"http://127.0.0.1:{port}/directline",
    ):
        yield f"http://127.0.0.1:{port}/directline"


@contextmanager
def _serving(args: list[str], cwd: Path, env: dict | None, log_path: Path, ready_url: str) -> Iterator[None]:
    """A server process with its output in `log_path`, running until the block ends."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_http(ready_url, proc, log_path)
        yield
    finally:
        stop_process(proc)


@contextmanager
def browser(playwright, viewport: dict | None = None):
    """System Chromium with a fresh profile; yields a browser context."""
    chromium = ensure_chromium()
    with tempfile.TemporaryDirectory(prefix="kh-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=viewport or {"width": 1000, "height": 900},
            locale="da-DK",
            timezone_id="Europe/Copenhagen",
        )
        try:
            yield context
        finally:
            context.close()


def prepare(with_offline_directline: bool = False) -> dict:
    """Everything the browser journeys need; raises Unavailable naming what is missing."""
    tools = {"sync_playwright": ensure_playwright(), "chromium": ensure_chromium(), "webchat_js": ensure_webchat()}
    if with_offline_directline:
        tools["offline_directline"] = ensure_offline_directline()
    return tools


# -- the journey through the page, shared by tests/processes/test_browser.py and docs/screenshots.py ----------
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TRANSCRIPT = ".webchat__basic-transcript__transcript"
SEND_BOX = '[data-id="webchat-sendbox-input"]'
WAIT_MS = 30_000
ASSESSMENT_COMMAND = {"da": "vurdering", "en": "assessment"}
HISTORY_COMMAND = {"da": "historik", "en": "history"}


def plain(text: str) -> str:
    """Text as a reader sees it: no markdown emphasis, straight quotes, single spaces."""
    import re

    text = text.replace("**", "").replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


class WebChatPage:
    """Drives the real Web Chat like a person: clicks buttons, picks in cards, types."""

    def __init__(self, page, lang: str = "da") -> None:
        self.page = page
        self.lang = lang

    def transcript_text(self) -> str:
        transcript = self.page.locator(TRANSCRIPT)
        return plain(transcript.first.inner_text()) if transcript.count() else ""

    def expect_text(self, text: str, timeout: int = WAIT_MS) -> None:
        wanted = plain(text)
        deadline = time.monotonic() + timeout / 1000
        while time.monotonic() < deadline:
            if wanted in self.transcript_text():
                return
            self.page.wait_for_timeout(150)
        raise AssertionError(f"the web chat never showed {wanted!r}; it shows:\n{self.transcript_text()[-3000:]}")

    def click(self, name: str) -> None:
        button = self.page.get_by_role("button", name=name, exact=True).last
        button.wait_for(state="visible", timeout=WAIT_MS)
        button.click()

    def wait_connected(self, timeout: int = WAIT_MS) -> None:
        """Direct Line is Online (2); before that, Web Chat drops what is typed."""
        self.page.wait_for_function(
            "() => window.khDirectLine && window.khDirectLine.connectionStatus$.getValue() === 2", timeout=timeout
        )

    def send(self, text: str) -> None:
        self.wait_connected()
        box = self.page.locator(SEND_BOX)
        box.fill(text)
        box.press("Enter")

    def settle(self, ms: int = 600) -> None:
        """Let the last activity finish rendering and scrolling (screenshots)."""
        self.page.wait_for_timeout(ms)

    def scroll_to_bottom(self) -> None:
        """Typing into a card's input un-sticks Web Chat from the bottom; put it back."""
        self.page.locator(".webchat__basic-transcript__scrollable").evaluate(
            "el => { el.scrollTop = el.scrollHeight; }"
        )

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        self.settle()
        self.scroll_to_bottom()
        self.settle(300)
        self.page.screenshot(path=str(path))
        return path


@dataclass
class Person:
    role: str = "frontline"
    level: str = "contribute"
    scores: dict = field(default_factory=lambda: {"development": 4, "innovation": 3, "implementation": 2})
    note: str = "Blive bedre til at teste nye løsninger med borgerne"


def onboard(chat: WebChatPage, person: Person, greeted: bool = True) -> None:
    """Role and involvement by clicking the hero-card buttons; the overview appears."""
    from model import content

    lang = chat.lang
    if not greeted:
        chat.send("start")
    chat.expect_text(content.t(lang, "msg.ask_role"))
    chat.click(content.lookup(lang, f"roles.{person.role}")["button"])
    chat.expect_text(content.t(lang, "msg.ask_level"))
    chat.click(content.lookup(lang, f"levels.{person.level}")["button"])
    for sub in content.subarea_ids():
        chat.expect_text(content.subarea_name(lang, sub))
    chat.expect_text(_first_paragraph(_overview(lang, person)))


def _overview(lang: str, person: Person) -> str:
    from model.domain import answers

    return answers.overview_reply(lang, person.role, person.level).text


def _first_paragraph(text: str) -> str:
    return text.split("\n")[0]


def open_assessment(chat: WebChatPage, person: Person) -> None:
    """The overview's own button starts the self-assessment card."""
    from model import content
    from model.domain import answers

    buttons = answers.overview_reply(chat.lang, person.role, person.level).buttons
    check = [title for title, value in buttons if value in ASSESSMENT_COMMAND.values()]
    assert check, f"the overview has no button that starts the self-assessment: {buttons}"
    chat.click(check[-1])
    chat.page.locator(f"{TRANSCRIPT} select").last.wait_for(state="visible", timeout=WAIT_MS)
    chat.expect_text(content.t(chat.lang, "assessment.card_title"))
    chat.expect_text(content.t(chat.lang, "assessment.text_path"))  # the typed way, right below the card


def fill_assessment(chat: WebChatPage, person: Person) -> None:
    """Pick a value in each of the card's choice sets, type the note, press the card's submit."""
    from model.domain import relevance

    ranked = [r.subarea for r in relevance.ranked_subareas(person.role, person.level)]
    card = chat.page.locator(".ac-adaptiveCard").filter(has=chat.page.locator("select")).last
    selects = card.locator("select")
    assert selects.count() == len(ranked), f"expected {len(ranked)} choice sets, saw {selects.count()}"
    for i, sub in enumerate(ranked):
        selects.nth(i).select_option(str(person.scores[sub]))
    card.locator("input.ac-textInput").fill(person.note)


def submit_assessment(chat: WebChatPage, person: Person) -> None:
    from model import content
    from model.domain import assessment

    chat.click(content.t(chat.lang, "assessment.card_submit"))
    for sub, score in person.scores.items():
        line = content.t(
            chat.lang,
            "assessment.saved_line",
            name=content.subarea_name(chat.lang, sub),
            score=score,
            label=assessment.scale_phrase(chat.lang, score),
            change="",
        )
        chat.expect_text(line.lstrip("-* "))


def ask_innovation(chat: WebChatPage, person: Person, question: str = "hvad betyder innovation for mig?") -> None:
    from model.domain import answers

    chat.send(question)
    chat.expect_text(question)  # the person's own message, echoed
    reply = answers.topic_reply(chat.lang, "innovation", {"role": person.role, "level": person.level})
    chat.expect_text(_first_paragraph(reply.text))


def show_history(chat: WebChatPage, person: Person) -> None:
    from model.rendering.wheel_picture import alt_text

    chat.send(HISTORY_COMMAND[chat.lang])
    image = chat.page.locator(f'{TRANSCRIPT} img[src^="data:image/png"]').last
    image.wait_for(state="visible", timeout=WAIT_MS)
    assert image.get_attribute("alt") == alt_text(person.scores, chat.lang)
    width = image.evaluate("img => img.naturalWidth")
    assert width and width >= 200, f"the wheel picture did not load (natural width {width})"
    image.scroll_into_view_if_needed()
