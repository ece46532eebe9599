"""Nudge wave benchmark: N people due in the same minute, a connector that enforces the
Teams rate limit with 429 + Retry-After, and normal turns running at the same time.

    python bench/nudges.py --users 5000 --rate 30

Prints achieved sends/s, retries, lost and duplicated nudges, and the turn p50/p99 of a
person chatting during the wave, beside the same turns with no wave (same run). Writes
are fsynced as in production (--no-fsync to skip).
Targets: >= 0.9 x the rate limit, 0 lost, 0 duplicated, turn p99 at most 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, web  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # the time profiles are saved at

CONNECTOR = r"""
import collections, json, sys, time
from aiohttp import web
limit = float(sys.argv[2]); window = collections.deque(); counts = collections.Counter(); stats = {"429": 0}
async def activities(request):
    now = time.monotonic()
    while window and now - window[0] > 1.0:
        window.popleft()
    if len(window) >= limit:
        stats["429"] += 1
        return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"})
    window.append(now)
    counts[request.match_info["conv"]] += 1
    return web.json_response({"id": "x"})
async def chat(request):  # the chatting person's replies: another tenant, not rate-limited here
    return web.json_response({"id": "c"})
async def report(_):
    return web.json_response({"counts": counts, "throttled": stats["429"]})
app = web.Application()
app.router.add_post("/v3/conversations/{conv}/activities", activities)
app.router.add_post("/v3/conversations/{conv}/activities/{reply}", activities)
app.router.add_get("/report", report)
app.router.add_post("/chat/{tail:.*}", chat)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


async def build_store(data_dir: Path, service_url: str, users: int) -> list[str]:
    from model import schedule
    from model.reminders import Reminders
    from model.tinydb_store import TinyDBStore
    from model.users import Users, user_key

    store = TinyDBStore(data_dir, fsync=False)
    people, reminders = Users(store), Reminders(store)
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    prefs = schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00")
    conversations = []
    for i in range(users):
        key = user_key("bench-tenant", f"aad-{i}")
        await people.save_profile(key, NOW, role="it", level="use", language="da")
        ref = {
            "bot": {"id": "28:bot"},
            "user": {"id": f"29:u{i}"},
            "channelId": "msteams",
            "conversation": {"id": f"c{i}", "tenantId": "bench-tenant", "conversationType": "personal"},
            "serviceUrl": service_url,
        }
        await people.remember_conversation(key, ref, None, True)
        await reminders.configure(key, prefs, monday)
        conversations.append(f"c{i}")
    return conversations


async def chat_latencies(session: ClientSession, bot_url: str, service_url: str, seconds: float) -> list[float]:
    """One person asking questions back to back, as the wave goes out."""
    activity = {
        "type": "message",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "text": "hvad er innovation?",
        "from": {"id": "29:chatter", "aadObjectId": "chatter"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "chatter", "conversationType": "personal", "tenantId": "bench-tenant"},
        "channelData": {"tenant": {"id": "bench-tenant"}},
        "locale": "da-DK",
    }
    latencies, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        async with session.post(bot_url + "/api/messages", json=activity) as resp:
            await resp.read()
        latencies.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.02)
    return latencies


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


async def main(args: argparse.Namespace) -> dict:
    from bot.config import Config
    from bot.runtime import build

    port = free_port()
    connector = subprocess.Popen([sys.executable, "-c", CONNECTOR, str(port), str(args.rate)])
    service_url = f"http://127.0.0.1:{port}/"
    data_dir = Path(tempfile.mkdtemp(prefix="nudge-bench-"))
    try:
        t0 = time.perf_counter()
        conversations = await build_store(data_dir, service_url, args.users)
        build_s = time.perf_counter() - t0
        runtime = build(Config(DATA_DIR=data_dir, NUDGES="off", FSYNC=args.fsync, NUDGE_RATE_PER_SECOND=args.rate))
        runner = web.AppRunner(runtime.app)
        await runner.setup()
        bot_port = free_port()
        await web.TCPSite(runner, "127.0.0.1", bot_port).start()
        bot_url = f"http://127.0.0.1:{bot_port}"
        async with ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(service_url + "report"):
                        break
                except OSError:
                    await asyncio.sleep(0.05)
            chat_url = service_url + "chat/"  # the chatter is in another tenant: its own rate budget
            quiet = await chat_latencies(session, bot_url, chat_url, args.quiet_seconds)
            at = datetime(2026, 12, 1, 8, 0, 30, tzinfo=timezone.utc)
            wave = asyncio.create_task(runtime.nudges.run(at))
            busy = await chat_latencies(session, bot_url, chat_url, min(args.quiet_seconds, args.users / args.rate))
            report = await wave
            again = await runtime.nudges.run(at)
            async with session.get(service_url + "report") as resp:
                seen = await resp.json()
        await runner.cleanup()
    finally:
        connector.terminate()
        connector.wait()
    counts = Counter(seen["counts"])
    nudged = [counts.get(c, 0) for c in conversations]
    result = {
        "users": args.users,
        "rate_limit": args.rate,
        "store_build_s": round(build_s, 1),
        "sends_per_s": round(report.outcomes["sent"] / report.seconds, 1),
        "sent": report.outcomes["sent"],
        "retries": report.retries,
        "throttled_by_connector": seen["throttled"],
        "lost": nudged.count(0),
        "duplicated": sum(1 for n in nudged if n > 1),
        "second_run_sent": again.outcomes["sent"],
        "turn_p50_ms_quiet": round(pct(quiet, 50), 2),
        "turn_p99_ms_quiet": round(pct(quiet, 99), 2),
        "turn_p50_ms_during_wave": round(pct(busy, 50), 2),
        "turn_p99_ms_during_wave": round(pct(busy, 99), 2),
    }
    result["turn_p99_ratio"] = round(result["turn_p99_ms_during_wave"] / result["turn_p99_ms_quiet"], 2)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument(
        "--quiet-seconds",
        type=float,
        default=10.0,
        help="how long the chatting person is measured without and then during the wave",
    )
    parser.add_argument(
        "--fsync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fsync every write, as production does (default); --no-fsync to skip",
    )
    result = asyncio.run(main(parser.parse_args()))
    for key, value in result.items():
        print(f"{key:28s} {value}")
