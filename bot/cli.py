"""Sub-commands of app.py. Each is a small function so tests can call it directly."""
from __future__ import annotations

import argparse
import json
import sys

from model import answers, content, relevance
from model.understanding import understand


def ask(args: argparse.Namespace) -> int:
    """Answer questions as the bot would, without writing anything to the data directory."""
    profile = None
    if args.role or args.level:
        if args.role not in relevance.roles() or args.level not in relevance.levels():
            print(f"--role must be one of {relevance.roles()} and --level one of {relevance.levels()}",
                  file=sys.stderr)
            return 2
        profile = {"role": args.role, "level": args.level}
    for question in args.question:
        result = answer_question(question, args.lang, profile)
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"> {question}\n{result['answer']}\n")
    return 0


def answer_question(question: str, lang: str | None, profile: dict | None) -> dict:
    understood = understand(question)
    language = content.normalise_language(understood.language or lang or content.DEFAULT_LANGUAGE)
    if understood.intent == "question" and understood.topic:
        text = answers.topic_reply(language, understood.topic, profile,
                                   detail=answers.wants_detail(question)).text
    elif understood.intent in (None, ""):
        text = content.t(language, "msg.out_of_scope")
    else:
        text = content.t(language, "msg.command_hint", command=understood.intent)
    return {"question": question, "topic": understood.topic, "intent": understood.intent,
            "language": language, "confidence": round(float(understood.confidence), 3), "answer": text}


def send_nudges(args: argparse.Namespace) -> int:
    """Send what is due at --at (default now) once, print a JSON summary."""
    import asyncio
    from datetime import datetime, timezone

    from .config import Config
    from .runtime import build

    if args.at:
        try:
            at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        except ValueError:
            print(f"--at must be an ISO time such as 2026-12-01T09:00:00+01:00, not {args.at!r}", file=sys.stderr)
            return 2
        if at.tzinfo is None:
            from zoneinfo import ZoneInfo
            at = at.replace(tzinfo=ZoneInfo("Europe/Copenhagen"))
    else:
        at = datetime.now(timezone.utc)

    async def run() -> dict:
        config = Config.from_env()
        config.NUDGES = "off"
        runtime = build(config)
        try:
            report = await runtime.nudges.run(at.astimezone(timezone.utc))
        finally:
            runtime.app.freeze()
            await runtime.app.cleanup()  # closes pooled sessions and the store
        return report.as_dict()

    print(json.dumps(asyncio.run(run())))
    return 0


def package(args: argparse.Namespace) -> int:
    from . import teams_package

    argv = ["--app-id", args.app_id] + (["--out", args.out] if args.out else []) + \
        (["--version", args.version] if args.version else [])
    return teams_package.main(argv)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="app.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ask = sub.add_parser("ask", help="answer questions without a chat client")
    p_ask.add_argument("--json", action="store_true")
    p_ask.add_argument("--lang", choices=content.LANGUAGES)
    p_ask.add_argument("--role")
    p_ask.add_argument("--level")
    p_ask.add_argument("question", nargs="+")
    p_ask.set_defaults(func=ask)
    p_nudge = sub.add_parser("send-nudges", help="send the reminder nudges due at that instant, once")
    p_nudge.add_argument("--at", help="ISO time (default: now); without an offset, Danish time")
    p_nudge.set_defaults(func=send_nudges)
    p_pkg = sub.add_parser("package", help="build the Teams app package (zip)")
    p_pkg.add_argument("--app-id", required=True)
    p_pkg.add_argument("--out")
    p_pkg.add_argument("--version")
    p_pkg.set_defaults(func=package)
    for register in SUBCOMMANDS:
        register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


# Later features (send-nudges, package, chat, migrate) register their sub-commands here.
SUBCOMMANDS: list = []
