"""Sub-commands of app.py. Each is a small function so tests can call it directly."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from model import content
from model.domain import relevance

from . import offline


def ask(args: argparse.Namespace) -> int:
    """Answer questions as the bot would in a chat, without writing anything anywhere."""
    profile = None
    if args.role or args.level:
        if args.role not in relevance.roles() or args.level not in relevance.levels():
            print(f"--role must be one of {relevance.roles()} and --level one of {relevance.levels()}", file=sys.stderr)
            return 2
        profile = {"role": args.role, "level": args.level}
    from ..config import Config

    for result in asyncio.run(offline.answer_all(args.question, args.lang, profile, Config.from_env())):
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(f"> {result['question']}\n{result['answer']}\n")
    return 0


def _instant(at: str | None):
    """--at as an aware datetime (UTC); without an offset it is Danish time; None is now."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    if not at:
        return datetime.now(timezone.utc)
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"--at must be an ISO time such as 2026-12-01T09:00:00+01:00, not {at!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("Europe/Copenhagen"))
    return when.astimezone(timezone.utc)


def _run_led(lease: str, job) -> dict:
    """Build the bot without its background jobs, run `job(runtime)` while holding `lease`
    (so it never runs beside the served bot's own scheduler on shared storage), clean up."""
    from model.storage.leadership import leader_for, run_as_leader

    from ..config import Config
    from ..runtime import build

    async def run() -> dict:
        config = Config.from_env()
        config.NUDGES = config.RETENTION_JOB = "off"
        runtime = build(config)
        leader = leader_for(runtime.store, lease)
        try:
            led, result = await run_as_leader(leader, lambda: job(runtime))
            await leader.release()
        finally:
            runtime.app.freeze()
            await runtime.app.cleanup()  # closes pooled sessions and the store
        if not led:
            return {"leader": False, "note": f"another instance holds the {lease} lease"}
        return result if isinstance(result, dict) else {"leader": True, "note": "lost the lease mid-run"}

    return asyncio.run(run())


def send_nudges(args: argparse.Namespace) -> int:
    """Send what is due at --at (default now) once, print a JSON summary."""
    try:
        at = _instant(args.at)
    except SystemExit as err:
        print(err, file=sys.stderr)
        return 2

    async def job(runtime) -> dict:
        return (await runtime.nudges.run(at)).as_dict()

    print(json.dumps(_run_led("nudge-sender", job)))
    return 0


def expire(args: argparse.Namespace) -> int:
    """Retention once: delete people silent for RETENTION_DAYS, warn those 30 days from it;
    --dry-run counts and changes nothing; --tenant limits it to one tenant's people. Prints
    counts, never anyone's data."""
    try:
        at = _instant(args.at)
    except SystemExit as err:
        print(err, file=sys.stderr)
        return 2

    from ..config import Config

    days = Config.from_env().RETENTION_DAYS
    if days <= 0:  # the served bot reads this as "no retention job"; here it would delete everyone
        print(f"RETENTION_DAYS is {days}: retention is off, so nothing expires", file=sys.stderr)
        return 2

    async def job(runtime) -> dict:
        outcome = await runtime.retention.run(at, dry_run=args.dry_run, tenant=args.tenant)
        counts = {**outcome.as_dict(), "dry_run": bool(args.dry_run), "retention_days": runtime.retention.days}
        return {**counts, "tenant": args.tenant} if args.tenant else counts

    print(json.dumps(_run_led("retention", job)))
    return 0


def report(args: argparse.Namespace) -> int:
    """The anonymous overview of one tenant for HR and competence developers (groups of at
    least k, never a person), as JSON, CSV or one self-contained HTML file. Without --tenant
    the store's only tenant; a store with several refuses (exit 2) rather than mix them."""
    import os

    from model.domain import aggregates
    from model.rendering import report_html

    from ..config import Config
    from ..runtime import create_services

    config = Config.from_env()
    if config.AGGREGATES == "off":
        print("AGGREGATES=off: this installation keeps no overviews", file=sys.stderr)
        return 2
    if hasattr(os, "nice"):
        os.nice(10)  # a report reads everyone: the served bot's chats come first on a shared machine

    async def run() -> tuple[dict, dict]:
        services = create_services(config)
        try:
            return await services.overviews.report(args.by, services.now(), args.tenant)
        finally:
            await services.store.close()

    try:
        found, previous = asyncio.run(run())
    except aggregates.SeveralTenants as err:  # never mix two municipalities' people in one group
        print(
            f"this store holds people of {err.count} tenants: give --tenant TENANT_ID for the one to report on",
            file=sys.stderr,
        )
        return 2
    if found.get("skipped_checks"):
        print(f"left out {found['skipped_checks']} check(s) that could not be read (a bad date)", file=sys.stderr)
    if args.format == "csv":
        text = aggregates.as_csv(found)
    elif args.format == "html":
        text = report_html.render(found, previous, args.lang)
    else:
        text = json.dumps(found, ensure_ascii=False, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        print(text)
    return 0


def _people(args: argparse.Namespace):
    """The stored services and the keys an operator request names (one person, or a tenant)."""
    from dialogs.services import Services
    from model.domain.users import USERS, key_of, user_key

    from ..config import Config
    from ..runtime import create_services

    async def keys(services: Services) -> list[str]:
        if not getattr(args, "all", False):
            return [user_key(args.tenant, args.user)]
        found = []
        async for _name, doc in services.store.scan(USERS):
            key = key_of(doc)
            if key and key.startswith(f"{args.tenant}|"):
                found.append(key)
        return found

    def make() -> Services:
        return create_services(Config.from_env())

    return make, keys


def forget(args: argparse.Namespace) -> int:
    """Delete one person (or every person of a tenant) exactly as `slet mine data` does, for
    HR when someone leaves or a request under GDPR article 17. Idempotent; prints counts."""
    if not args.all and not args.user:
        print("give --user AAD_OBJECT_ID, or --all for the whole tenant", file=sys.stderr)
        return 2
    make, keys = _people(args)

    async def run() -> dict:
        services = make()
        try:
            deleted = [await services.users.delete(key) for key in await keys(services)]
        finally:
            await services.store.close()
        return {"tenant": args.tenant, "deleted_people": sum(deleted), "nothing_stored": deleted.count(False)}

    print(json.dumps(asyncio.run(run())))
    return 0


def export_user(args: argparse.Namespace) -> int:
    """What is stored about one person (GDPR article 15): the same JSON as their own `eksport`."""
    make, keys = _people(args)

    async def run() -> dict | None:
        services = make()
        try:
            (key,) = await keys(services)
            if await services.users.get(key) is None:
                return None
            return await services.export(key)
        finally:
            await services.store.close()

    data = asyncio.run(run())
    if data is None:
        print("nothing is stored about that person", file=sys.stderr)
        return 1
    print(json.dumps(data, ensure_ascii=False, indent=2))
    return 0


def migrate(args: argparse.Namespace) -> int:
    """Copy every document from one backend to another; running it again changes nothing."""
    from model.domain.stored import COLLECTIONS
    from model.storage.migrate import copy_all

    from ..config import Config
    from ..runtime import create_store

    async def run() -> dict:
        source_config, target_config = Config.from_env(), Config.from_env()
        source_config.STORAGE, target_config.STORAGE = args.source, args.target
        source, target = create_store(source_config), create_store(target_config)
        try:
            return await copy_all(source, target, COLLECTIONS)
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


def _tenant_option(parser: argparse.ArgumentParser, required: bool) -> None:
    """--tenant, the same for every command that acts on people: a shared deployment stores
    several tenants (person keys are `tenant|aadObjectId`), and each command acts on one."""
    parser.add_argument(
        "--tenant",
        required=required,
        help="the Entra tenant id"
        + ("" if required else " (needed when the store holds people of more than one tenant)"),
    )


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
    p_rep = sub.add_parser("report", help="the anonymous overview (groups of at least 5, never a person)")
    p_rep.add_argument("--by", choices=("role", "level", "team", "quarter"), required=True)
    p_rep.add_argument("--format", choices=("json", "csv", "html"), default="json")
    p_rep.add_argument("--out", help="write to this file instead of printing")
    p_rep.add_argument("--lang", choices=content.LANGUAGES, default="da", help="language of the HTML report")
    _tenant_option(p_rep, required=False)
    p_rep.set_defaults(func=report)
    p_exp = sub.add_parser("expire", help="retention once: delete the long silent, warn those close to it")
    p_exp.add_argument("--at", help="ISO time (default: now); without an offset, Danish time")
    p_exp.add_argument("--dry-run", action="store_true", help="count only; change and send nothing")
    p_exp.add_argument("--tenant", help="only this Entra tenant's people (a store several tenants share)")
    p_exp.set_defaults(func=expire)
    p_forget = sub.add_parser("forget", help="delete one person (or a whole tenant) as 'slet mine data' does")
    _tenant_option(p_forget, required=True)
    who = p_forget.add_mutually_exclusive_group()
    who.add_argument("--user", help="the person's Entra (AAD) object id")
    who.add_argument("--all", action="store_true", help="every person of the tenant")
    p_forget.set_defaults(func=forget)
    p_xu = sub.add_parser("export-user", help="print what is stored about one person (as their own eksport)")
    _tenant_option(p_xu, required=True)
    p_xu.add_argument("--user", required=True)
    p_xu.set_defaults(func=export_user)
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
