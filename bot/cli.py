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

    from model.leadership import leader_for, run_as_leader

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
        leader = leader_for(runtime.store)
        try:
            led, report = await run_as_leader(leader, lambda: runtime.nudges.run(at.astimezone(timezone.utc)))
            await leader.release()
        finally:
            runtime.app.freeze()
            await runtime.app.cleanup()  # closes pooled sessions and the store
        if not led:
            return {"leader": False, "note": "another instance is sending nudges"}
        return report.as_dict() if report else {"leader": True, "note": "lost the lease mid-run"}

    print(json.dumps(asyncio.run(run())))
    return 0


def migrate(args: argparse.Namespace) -> int:
    """Copy every document from one backend to another; running it again changes nothing."""
    import asyncio

    from model.migrate import copy_all

    from .config import Config
    from .runtime import create_store

    async def run() -> dict:
        source_config, target_config = Config.from_env(), Config.from_env()
        source_config.STORAGE, target_config.STORAGE = args.source, args.target
        source, target = create_store(source_config), create_store(target_config)
        try:
            return await copy_all(source, target)
        finally:
            await source.close()
            await target.close()

    if args.source == args.target:
        print("--from and --to must differ", file=sys.stderr)
        return 2
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
    p_mig = sub.add_parser("migrate", help="copy all data between storage backends (idempotent)")
    p_mig.add_argument("--from", dest="source", choices=("tinydb", "azure-blob"), required=True)
    p_mig.add_argument("--to", dest="target", choices=("tinydb", "azure-blob"), required=True)
    p_mig.set_defaults(func=migrate)
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
from . import terminal_chat; SUBCOMMANDS.append(terminal_chat.register)  # noqa: E402,E702 - python app.py chat
