"""Regenerates the README screenshots of the local web chat.

    .venv/bin/python docs/screenshots.py            # writes docs/webchat-*.png
    .venv/bin/python docs/screenshots.py --out DIR

The same machinery as tests/processes/test_browser.py: the real app (`python app.py`, local mode,
a fresh temporary data directory), the official Web Chat bundle from npm, the system
Chromium driven by Playwright. Needs Chromium, Node.js/npm and the `playwright` package.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import browser_setup as bs  # noqa: E402

from model import content  # noqa: E402

VIEWPORT = {"width": 900, "height": 980}
SHOTS = (
    "webchat-onboarding.png",
    "webchat-assessment.png",
    "webchat-history.png",
    "webchat-goal-offer.png",  # a care worker's note steers the goal offer
    "webchat-first-answer.png",  # the short first answer about one competence
)
NOTE = "Jeg vil gerne blive bedre til at bruge velfærdsteknologi og tablets sammen med borgerne"
QUESTION = "hvorfor skal jeg kunne kortlægge arbejdsgange?"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default: docs/)")
    args = parser.parse_args(argv)
    try:
        tools = bs.prepare()
    except bs.Unavailable as err:
        print(f"cannot take screenshots: {err}", file=sys.stderr)
        return 1
    person = bs.Person(role="frontline", level="use", note=NOTE)
    with (
        tempfile.TemporaryDirectory(prefix="kh-screenshots-") as tmp,
        bs.app_server(Path(tmp) / "data", Path(tmp) / "logs", tools["webchat_js"]) as url,
        tools["sync_playwright"]() as playwright,
        bs.browser(playwright, viewport=VIEWPORT) as context,
    ):
        page = context.new_page()
        page.goto(url + "/")
        chat = bs.WebChatPage(page, "da")
        bs.onboard(chat, person)
        written = [chat.screenshot(args.out / SHOTS[0])]
        bs.open_assessment(chat, person)
        bs.fill_assessment(chat, person)
        written.append(chat.screenshot(args.out / SHOTS[1]))
        bs.submit_assessment(chat, person)
        chat.send("nej")  # no to the longer check: the goal offer follows, steered by the note
        chat.expect_text(content.t("da", "assessment.done"))
        chat.expect_text(content.t("da", "coaching.goal_offer_pick"))
        written.append(chat.screenshot(args.out / SHOTS[3]))
        bs.show_history(chat, person)
        written.append(chat.screenshot(args.out / SHOTS[2]))
        chat.send(QUESTION)
        chat.expect_text(QUESTION)
        chat.expect_text(content.t("da", "coaching.more_steps_button"))
        written.append(chat.screenshot(args.out / SHOTS[4]))
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
