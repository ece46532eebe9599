"""Turn throughput and latency: the real bot beside a stock Bot Framework echo bot and a
plain-aiohttp floor, each in its own process, against one stand-in connector process.

Run: .venv/bin/python bench/turns.py [--users 16] [--seconds 8] [--warmup 2] [--rounds 1]
                                      [--only stock,stock-pooled,floor,skeleton,skeleton-nowrite,
                                              bot,bot-nofsync,bot-blob]
                                      [--latency-users 1] [--profile DIR [--pyspy]] [--json]

Targets, each a process of its own:
  stock         the echo sample as shipped: ActivityHandler + CloudAdapter(
                ConfigurationBotFrameworkAuthentication(config)), route calling adapter.process
  stock-pooled  the same echo sample on this project's reply path (bot/connector.py), to show
                what the reply path alone is worth
  floor         plain aiohttp: read the activity, post one reply over a pooled session
  skeleton      the least a bot on this project's fixed stack does, without product logic:
                stock-pooled plus ConversationState on our TinyDB storage (fsync on) and a
                botbuilder-dialogs TextPrompt answered and asked again each turn, so each
                message turn reads the state, continues a dialog, replies once and writes
  skeleton-nowrite  the same asking the same question each turn: the state comes out
                unchanged and nothing is written. What botbuilder-core + -dialogs and a
                state read cost alone: an upper bound for any bot on this stack.
                (Not by default: skeleton-nofsync, and skeleton-memory with the state in
                botbuilder's MemoryStorage, which deep-copies and is slower than our files.)
  bot           the real app as production runs it (`python app.py`, LOG_LEVEL=INFO, nudge
                scheduler on, local mode), fsync on (BOT_FSYNC=1, the default)
  bot-nofsync   the same with BOT_FSYNC=0

Every target gets the same Teams-shaped traffic: `--users` concurrent people in personal
chats, each posting its next activity when the previous HTTP response arrived: install,
onboarding by typed numbers, questions ("hvad betyder innovation for mig?"), a
self-assessment typed number by number, more questions. A turn's latency runs from the
POST to the end of the /api/messages response; replies reach the connector during the turn.
With --rounds N the targets run interleaved N times; throughput is reported as the best
round (noise on a shared machine only ever slows a run down) and the median, CPU per turn
(the bot process's own user+system time) as the lowest. A last pass with --latency-users
(default 1) people gives the service time without queueing.

Targets (issue "Ten times the stock Bot Framework bot"): bot >= 10x stock at 16 users,
bot >= 0.3x floor, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, drive, new_people, start, start_bot, start_connector, wait_listening, wait_quiet  # noqa: E402

SAMPLES = (
    "stock",
    "stock-pooled",
    "floor",
    "skeleton",
    "skeleton-nofsync",
    "skeleton-nowrite",
    "skeleton-memory",
)  # served by bench/common.py, not by app.py


async def run_target(name: str, connector_url: str, args, tmp: Path, users: int, seconds: float, round_: int):
    log = tmp / f"{name}-{round_}-{users}.log"
    if name in SAMPLES:
        server = start(
            name,
            [PYTHON, "bench/common.py", name, "{port}"],
            log=log,
            env={"BOT_DATA_DIR": str(tmp / f"data-{name}-{round_}-{users}")},
        )
        make = new_people(connector_url)
    else:
        suffix = ".txt" if args.pyspy else ".prof"
        profile = (
            (Path(args.profile) / f"{name}{suffix}") if args.profile and round_ == 0 and users == args.users else None
        )
        extra = None
        if name == "bot-blob":  # the same bot on Azure Blob Storage (Azurite on loopback)
            extra = {
                "STORAGE": "azure-blob",
                "AZURE_STORAGE_CONNECTION_STRING": args.blob_connection,
                "AZURE_STORAGE_CONTAINER": f"bench-{round_}-{users}",
            }
        server = start_bot(
            tmp / f"data-{name}-{round_}-{users}",
            fsync=name != "bot-nofsync",
            log=log,
            profile=profile,
            extra_env=extra,
        )
        make = new_people(connector_url)
    try:
        wait_listening(server)
        if args.wait_quiet:
            wait_quiet(args.wait_quiet)
        result = await drive(name, server.url, make, users=users, duration=seconds, warmup=args.warmup, server=server)
        result.peak_rss = server.peak_rss_mb()
    finally:
        server.stop()
    return result


def summary(runs: list) -> dict:
    best = max(runs, key=lambda r: r.rate)
    cpu = [r.cpu_seconds * 1000 / r.turns for r in runs if r.turns and r.cpu_seconds]
    return {
        "best": best,
        "rate_best": best.rate,
        "rate_median": statistics.median(r.rate for r in runs),
        "cpu_ms_min": min(cpu) if cpu else None,
        "rates": [round(r.rate) for r in runs],
    }


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--only",
        default="stock,stock-pooled,floor,skeleton,skeleton-nowrite,bot,bot-nofsync,bot-blob",
        help="bot-blob runs the bot on Azure Blob Storage via Azurite (skipped if unavailable)",
    )
    parser.add_argument(
        "--latency-users", type=int, default=1, help="a last pass with this many people for stock and bot (0: skip)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each target, wait up to this long for other processes to go quiet "
        "(a shared machine); each line shows the other load seen while measuring",
    )
    parser.add_argument("--profile", help="directory for a profile of the real bot (first round)")
    parser.add_argument(
        "--pyspy",
        action="store_true",
        help="profile with py-spy (raw stacks; BENCH_PYSPY=path to the binary) instead of cProfile",
    )
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    azurite = None
    if "bot-blob" in names:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from azurite import Azurite, AzuriteUnavailable

        try:
            azurite = Azurite(Path(tempfile.mkdtemp(prefix="bench-azurite-")))
            azurite.start()
            args.blob_connection = azurite.connection_string
        except AzuriteUnavailable as err:
            print(f"bot-blob skipped: Azurite unavailable ({err})")
            names.remove("bot-blob")
            azurite = None
    connector = start_connector()
    runs: dict[str, list] = {n: [] for n in names}
    latency: dict[str, object] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-turns-") as tmp:
            for round_ in range(args.rounds):
                for name in names:
                    result = await run_target(
                        name, connector.url + "/", args, Path(tmp), args.users, args.seconds, round_
                    )
                    runs[name].append(result)
                    print(result.line() + f"  peak RSS {result.peak_rss:.0f} MB", flush=True)
            if args.latency_users:
                for name in [n for n in ("stock", "bot") if n in names]:
                    result = await run_target(
                        name, connector.url + "/", args, Path(tmp), args.latency_users, min(args.seconds, 5.0), 0
                    )
                    result.name = f"{name} ({args.latency_users} user{'s' if args.latency_users > 1 else ''})"
                    latency[name] = result
                    print(result.line(), flush=True)
    finally:
        connector.stop()
        if azurite:
            azurite.stop()

    stats = {n: summary(r) for n, r in runs.items() if r}
    print(
        f"\n{args.users} concurrent users, {args.seconds:g} s measured after {args.warmup:g} s warm-up, "
        f"{args.rounds} round(s); turns/s best (median), bot CPU per turn lowest"
    )
    for name, st in stats.items():
        cpu = f"  CPU {st['cpu_ms_min']:.2f} ms/turn" if st["cpu_ms_min"] else ""
        print(
            f"  {name:<16} {st['rate_best']:7.0f} ({st['rate_median']:.0f}) turns/s  "
            f"p50 {st['best'].pct(50):6.1f} ms  p99 {st['best'].pct(99):6.1f} ms{cpu}"
        )
    for bot in ("bot", "bot-nofsync", "bot-blob"):
        if bot not in stats:
            continue
        r = stats[bot]
        backend = {"bot": "TinyDB, fsync on", "bot-nofsync": "TinyDB, fsync off"}.get(bot, "Azure Blob via Azurite")
        parts = [f"{bot} ({backend}):"]
        if "stock" in stats:
            parts.append(f"bot/stock {r['rate_best'] / stats['stock']['rate_best']:4.1f}x (target >= 10)")
            if r["cpu_ms_min"] and stats["stock"]["cpu_ms_min"]:
                parts.append(f"CPU/turn stock/bot {stats['stock']['cpu_ms_min'] / r['cpu_ms_min']:4.1f}x")
        if "floor" in stats:
            parts.append(f"bot/floor {r['rate_best'] / stats['floor']['rate_best']:4.2f}x (target >= 0.3)")
        parts.append(f"p99 {r['best'].pct(99):.1f} ms at {args.users} users (target <= 50)")
        print("  ".join(parts))
    for name in [n for n in stats if n.startswith("skeleton")]:
        r = stats[name]  # the same three targets, met or not by the stack itself
        parts = [f"{name} (no product logic):"]
        if "stock" in stats:
            parts.append(f"/stock {r['rate_best'] / stats['stock']['rate_best']:4.1f}x")
        if "floor" in stats:
            parts.append(f"/floor {r['rate_best'] / stats['floor']['rate_best']:4.2f}x")
        parts.append(f"p99 {r['best'].pct(99):.1f} ms")
        if "bot" in stats:
            parts.append(f"bot/{name} {stats['bot']['rate_best'] / r['rate_best']:4.2f}x")
        print("  ".join(parts))
    if "stock-pooled" in stats and "stock" in stats:
        print(
            f"echo sample, reply path only: stock-pooled/stock "
            f"{stats['stock-pooled']['rate_best'] / stats['stock']['rate_best']:.1f}x"
        )
    for result in latency.values():
        print(f"{result.name}: p50 {result.pct(50):.1f} ms, p99 {result.pct(99):.1f} ms")
    if args.json:
        print(
            json.dumps(
                {
                    "users": args.users,
                    "seconds": args.seconds,
                    "rounds": args.rounds,
                    "results": {
                        n: {
                            **st["best"].as_dict(),
                            "turns_per_s_median": round(st["rate_median"], 1),
                            "rounds_turns_per_s": st["rates"],
                            "cpu_ms_per_turn_min": round(st["cpu_ms_min"], 3) if st["cpu_ms_min"] else None,
                            "peak_rss_mb": round(st["best"].peak_rss, 1),
                        }
                        for n, st in stats.items()
                    },
                    "latency": {n: r.as_dict() for n, r in latency.items()},
                },
                ensure_ascii=False,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
