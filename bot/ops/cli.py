"""Sub-commands of app.py. Each is a small function so tests can call it directly."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from model import content, relevance

from . import offline


def ask(args: argparse.Namespace) -> int:
    """Answer questions as the bot would in a chat, without writing anything anywhere."""
    profile = None
    if args.role or args.level:
        if args.role not in relevance.roles() or args.level not in relevance.levels():
            print(f"--role must be one of {relevance.roles()} and --level one of {relevance.levels()}", file=sys.stderr)
            return 2
        profile = {"role": args.role, "level": args.level}
    for result in asyncio.run(offline.answer_all(args.question, args.lang, profile)):
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"> {result['question']}\n{result['answer']}\n")
    return 0


def send_nudges(args: argparse.Namespace) -> int:
    """Send what is due at --at (default now) once, print a JSON summary."""
    from datetime import datetime, timezone

    from model.leadership import leader_for, run_as_leader

    from ..config import Config
    from ..runtime import build

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
    from model.migrate import copy_all

    from ..config import Config
    from ..runtime import create_store

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

    argv = (
        ["--app-id", args.app_id]
        + (["--out", args.out] if args.out else [])
        + (["--version", args.version] if args.version else [])
    )
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
    p_chat = sub.add_parser("chat", help="talk to the bot in this terminal (data in BOT_DATA_DIR)")
    p_chat.add_argument(
        "--lang", choices=content.LANGUAGES, default="da", help="the language the conversation starts in (default: da)"
    )
    p_chat.add_argument(
        "--user", help="who you are to the bot (default: your login name); each name has its own profile and history"
    )
    p_chat.set_defaults(func=chat)
    args = parser.parse_args(argv)
    return args.func(args)


def chat(args: argparse.Namespace) -> int:
    """The terminal chat is a local try-out channel: imported only when asked for."""
    from ..local import terminal_chat

    return terminal_chat.run(args)
