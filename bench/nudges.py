"""Nudge wave benchmark: people due in the same minute, a connector that enforces the Teams
rate limits with 429 + Retry-After, and a person chatting at the same time.

    python bench/nudges.py --users 5000                          one tenant (as before)
    python bench/nudges.py --tenants 50 --users-per-tenant 1000   a sector-wide wave
                                                                  (`make bench-wave`)

The stand-in connector (its own process) enforces each tenant's limit separately, `--rate`
requests per second per tenant (default 30, Teams' per-app-per-tenant limit), and 7 per
second per conversation (`--conversation-rate`); beyond either it answers 429 with
Retry-After: 1. It counts what it accepted per conversation and per tenant.

The people are written through the project's own classes: each person's document is
composed by model.domain.users.Users and model.domain.reminders.Reminders (a weekly reminder, Tuesday
09:00, all due at the same instant) over an in-memory DocStore, then written with
TinyDBStore.write in `--workers` processes (fsync off while building); the schedule index
gets all of them at once through Reminders.reindex_many (one write per index document).
People of different tenants are interleaved in the index in a random order, as people
setting up reminders over time would be (`--order grouped` puts each tenant's people
together). 50,000 people take about a minute to build.

Each person's conversation reference is made as the bot makes it from a Teams message
(`--reference bot`, the default: bot/handler.py's path, which writes the tenant as
conversation.tenantId, where the nudge sender paces per tenant). `--reference legacy`
leaves it out, as references stored before that fix were (botbuilder 4.17.1 reads a
conversation's tenant from "tenantID" while Teams sends "tenantId"): every tenant is then
paced in one shared bucket. `make bench-wave` runs both (the second with 20 people per tenant: at one
shared 30/s it would otherwise take half an hour).

Then the bot's runtime (bot.runtime.build, as app.py serves it, in this process) serves a
chatting person (another tenant, not rate-limited) for `--quiet-seconds` with no wave, then
during the wave, and the wave runs once (NudgeSender.run), then once more for the same
instant (it must send nothing). Writes are fsynced as in production (--no-fsync to skip).

Printed: the wave's duration against what the platform allows (people per tenant / rate,
tenants in parallel; target within 1.2x), sends/s overall and per tenant (min, median, max),
retries, 429s, lost and duplicated nudges, the CPU the process used per nudge, and the turn
p50/p99 of the chatting person during the wave against quiet (target within 2x).
Targets: wave within 1.2x of the platform's time, 0 lost, 0 duplicated, turn p99 at most 2x.
--profile FILE writes a cProfile of the wave (slower; for where the time goes).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import os
import random
import shutil
import statistics
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
from common import Person, _proc_cpu, describe_machine, free_port, system_busy  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # the time profiles are saved at
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)  # when the reminders were set
WAVE_AT = datetime(2026, 12, 1, 8, 0, 30, tzinfo=timezone.utc)  # Tuesday 09:00:30 in Copenhagen
CHAT_TENANT = "chat-tenant"

CONNECTOR = r"""
import collections, sys, time
from aiohttp import web
tenant_limit, conversation_limit = float(sys.argv[2]), float(sys.argv[3])
tenant_window = collections.defaultdict(collections.deque)
conversation_window = collections.defaultdict(collections.deque)
counts = collections.Counter()
per_tenant = {}  # tenant: [accepted, first, last]
per_second = collections.Counter()
throttled = collections.Counter()
refused = collections.Counter()  # conversation: 429s answered to it
started = time.monotonic()
def full(window, now, limit):
    while window and now - window[0] >= 1.0:
        window.popleft()
    return len(window) >= limit
async def activities(request):
    await request.read()
    conversation = request.match_info["conv"]
    tenant = conversation.rsplit(":", 1)[0]  # "a:<tenant>:<person>": Teams knows a conversation's tenant
    now = time.monotonic()
    for kind, window, limit in (
        ("tenant", tenant_window[tenant], tenant_limit),
        ("conversation", conversation_window[conversation], conversation_limit),
    ):
        if full(window, now, limit):
            throttled[kind] += 1
            refused[conversation] += 1
            return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"})
    tenant_window[tenant].append(now)
    conversation_window[conversation].append(now)
    counts[conversation] += 1
    seen = per_tenant.setdefault(tenant, [0, now, now])
    seen[0] += 1
    seen[2] = now
    per_second[int(now - started)] += 1
    return web.json_response({"id": "x"})
async def chat(request):  # the chatting person's replies: another tenant, not rate-limited here
    await request.read()
    return web.json_response({"id": "c"})
async def report(_):
    return web.json_response(
        {
            "counts": counts,
            "throttled": throttled,
            "refused": refused,
            "per_tenant": per_tenant,
            "per_second": per_second,
        }
    )
app = web.Application()
app.router.add_post("/v3/conversations/{conv}/activities", activities)
app.router.add_post("/v3/conversations/{conv}/activities/{reply}", activities)
app.router.add_get("/report", report)
app.router.add_post("/chat/{tail:.*}", chat)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


# -- the people -------------------------------------------------------------------------------
def tenant_name(t: int) -> str:
    return f"bench-tenant-{t:02d}"


def person_of(n: int, tenants: int) -> tuple[str, str, str]:
    """Person n: (tenant, AAD object id, conversation id); tenants take turns. The stand-in
    connector tells a conversation's tenant from its id ("a:<tenant>:<person>"), as Teams
    knows which tenant a conversation belongs to."""
    t, i = n % tenants, n // tenants
    return tenant_name(t), f"aad-{t}-{i}", f"a:{t:02d}:{i}"


def reference_of(n: int, tenants: int, service_url: str, with_tenant: bool) -> dict:
    """Person n's conversation reference as the bot stores it from their last Teams message
    (bot/handler.py: TurnContext.get_conversation_reference, then stored_reference, which
    writes the tenant from channelData as conversation.tenantId). with_tenant=False takes it
    out again, as references stored before that fix were (botbuilder 4.17.1 reads "tenantID",
    Teams sends "tenantId"), to show what sharing one pace costs."""
    from botbuilder.core import TurnContext
    from botbuilder.schema import Activity

    from bot.handler import stored_reference

    tenant, aad, conversation = person_of(n, tenants)
    person = Person(service_url, tenant=tenant, aad=aad, user_id=f"29:u{n}", conversation_id=conversation)
    reference = stored_reference(
        TurnContext.get_conversation_reference(Activity().deserialize(person.message("hej"))), tenant
    )
    if not with_tenant:
        reference["conversation"].pop("tenantId", None)
    return reference


async def _compose(n: int, tenants: int, service_url: str, with_tenant: bool):
    """Person n's document, made by the project's own classes over an in-memory store, and
    the move that puts them in the schedule index."""
    from model.domain import schedule
    from model.domain.reminders import Reminders
    from model.domain.users import USERS, Users, user_key
    from model.storage.memory_store import MemoryStore

    tenant, aad, _ = person_of(n, tenants)
    key = user_key(tenant, aad)
    memory = MemoryStore()
    people = Users(memory)
    await people.save_profile(key, NOW, role="it", level="use", language="da")
    await people.remember_conversation(key, reference_of(n, tenants, service_url, with_tenant), None, True)
    prefs = schedule.ReminderPrefs(frequency="weekly", weekday=1, time="09:00")
    nxt = await Reminders(memory).configure(key, prefs, MONDAY)
    doc, _ = await memory.read(USERS, key)
    return key, doc, nxt


def _build_range(job: tuple) -> list:
    """Worker process: compose people lo..hi-1 and write their documents (fsync off)."""
    data_dir, lo, hi, tenants, service_url, with_tenant = job
    from model.domain.users import USERS
    from model.storage.tinydb_store import TinyDBStore

    async def run() -> list:
        store = TinyDBStore(data_dir, fsync=False)
        moves = []
        for n in range(lo, hi):
            key, doc, nxt = await _compose(n, tenants, service_url, with_tenant)
            await store.write(USERS, key, doc)
            moves.append((n, key, nxt.isoformat() if nxt else None))
        await store.close()
        return moves

    return asyncio.run(run())


async def build_store(
    data_dir: Path, service_url: str, tenants: int, per_tenant: int, workers: int, order: str, with_tenant: bool
) -> dict:
    """Every person's document, then the schedule index in one pass. Returns the
    conversation ids and the build's seconds."""
    from model.domain.reminders import Reminders
    from model.storage.tinydb_store import TinyDBStore

    started = time.perf_counter()
    total = tenants * per_tenant
    step = max(1, -(-total // (workers * 8)))
    jobs = [
        (str(data_dir), lo, min(total, lo + step), tenants, service_url, with_tenant) for lo in range(0, total, step)
    ]
    moves: list = []

    def compose() -> None:  # in a thread: the workers run their own event loops
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for part in pool.imap_unordered(_build_range, jobs):
                moves.extend(part)

    await asyncio.to_thread(compose)
    if order == "grouped":  # each tenant's people together, tenant after tenant
        moves.sort(key=lambda m: (m[0] % tenants, m[0]))
    else:  # people of all tenants interleaved at random, as reminders set over time are
        moves.sort(key=lambda m: m[0])
        random.Random(1).shuffle(moves)

    store = TinyDBStore(data_dir, fsync=True)
    await Reminders(store).reindex_many([(key, None, datetime.fromisoformat(nxt)) for _, key, nxt in moves if nxt])
    await store.close()
    return {
        "conversations": [person_of(n, tenants)[2] for n in range(total)],
        "seconds": time.perf_counter() - started,
    }


# -- measuring --------------------------------------------------------------------------------
async def chat_latencies(session: ClientSession, bot_url: str, service_url: str, seconds: float) -> list[float]:
    """One person asking questions back to back, as the wave goes out."""
    activity = {
        "type": "message",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "text": "hvad er innovation?",
        "from": {"id": "29:chatter", "aadObjectId": "chatter"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "chatter", "conversationType": "personal", "tenantId": CHAT_TENANT},
        "channelData": {"tenant": {"id": CHAT_TENANT}},
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


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


async def main(args: argparse.Namespace) -> dict:
    from bot.config import Config
    from bot.runtime import build

    tenants, per_tenant = args.tenants, args.users_per_tenant
    people = tenants * per_tenant
    port = free_port()
    connector = subprocess.Popen(
        [sys.executable, "-c", CONNECTOR, str(port), str(args.rate), str(args.conversation_rate)]
    )
    service_url = f"http://127.0.0.1:{port}/"
    data_dir = Path(tempfile.mkdtemp(prefix="nudge-bench-"))
    try:
        print(f"building {people} people in {tenants} tenant(s) ...", flush=True)
        built = await build_store(
            data_dir, service_url, tenants, per_tenant, args.workers, args.order, args.reference == "bot"
        )
        conversations = built["conversations"]
        print(f"built in {built['seconds']:.1f} s; the wave starts", flush=True)
        runtime = build(Config(DATA_DIR=data_dir, NUDGES="off", FSYNC=args.fsync, NUDGE_RATE_PER_SECOND=args.rate))
        if args.sender_workers:
            runtime.nudges.concurrency = args.sender_workers
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
            profiler = cProfile.Profile() if args.profile else None
            cpu0, busy0, connector0 = cpu_seconds(), system_busy(), _proc_cpu(connector.pid)
            if profiler:
                profiler.enable()
            wave = asyncio.create_task(runtime.nudges.run(WAVE_AT))
            allowed_s = per_tenant / args.rate
            busy = await chat_latencies(session, bot_url, chat_url, min(args.quiet_seconds, allowed_s))
            report = await wave
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            wave_cpu = cpu_seconds() - cpu0
            connector_cpu = _proc_cpu(connector.pid) - connector0
            others = max(system_busy() - busy0 - wave_cpu - connector_cpu, 0.0)
            again = await runtime.nudges.run(WAVE_AT)
            async with session.get(service_url + "report") as resp:
                seen = await resp.json()
        await runner.cleanup()
    finally:
        connector.terminate()
        connector.wait()
        shutil.rmtree(data_dir, ignore_errors=True)  # 50,000 people are about 200 MB
    counts = Counter(seen["counts"])
    nudged = [counts.get(c, 0) for c in conversations]
    rates = []
    for accepted, first, last in seen["per_tenant"].values():
        if accepted > 1 and last > first:
            rates.append((accepted - 1) / (last - first))
    per_second = sorted(seen["per_second"].values())
    sent = report.outcomes["sent"]
    result = {
        "people": people,
        "tenants": tenants,
        "people_per_tenant": per_tenant,
        "rate_limit_per_tenant": args.rate,
        "order": args.order,
        "reference": args.reference,
        "store_build_s": round(built["seconds"], 1),
        "wave_s": round(report.seconds, 1),
        "platform_allows_s": round(allowed_s, 1),
        "wave_vs_platform": round(report.seconds / allowed_s, 2),
        "sent": sent,
        "outcomes": dict(report.outcomes),
        "sends_per_s": round(sent / report.seconds, 1) if report.seconds else None,
        "sends_per_s_allowed": tenants * args.rate,
        "busiest_second": per_second[-1] if per_second else 0,
        "per_tenant_sends_per_s_min": round(min(rates), 1) if rates else None,
        "per_tenant_sends_per_s_median": round(statistics.median(rates), 1) if rates else None,
        "per_tenant_sends_per_s_max": round(max(rates), 1) if rates else None,
        "retries": report.retries,
        "throttled_by_connector": seen["throttled"],
        "lost": nudged.count(0),
        "duplicated": sum(1 for n in nudged if n > 1),
        "second_run_sent": again.outcomes["sent"],
        "cpu_ms_per_nudge": round(wave_cpu * 1000 / max(report.due, 1), 2),
        "cores_used_by_wave": round(wave_cpu / report.seconds, 2) if report.seconds else None,
        "cores_used_by_connector": round(connector_cpu / report.seconds, 2) if report.seconds else None,
        "other_load_cores": round(others / report.seconds, 2) if report.seconds else None,
        "turn_p50_ms_quiet": round(pct(quiet, 50), 2),
        "turn_p99_ms_quiet": round(pct(quiet, 99), 2),
        "turn_p50_ms_during_wave": round(pct(busy, 50), 2),
        "turn_p99_ms_during_wave": round(pct(busy, 99), 2),
    }
    result["turn_p99_ratio"] = round(result["turn_p99_ms_during_wave"] / result["turn_p99_ms_quiet"], 2)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000, help="people, all in one tenant (single-tenant mode)")
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument(
        "--users-per-tenant", type=int, help="people in each tenant (default: --users, or 1000 with --tenants > 1)"
    )
    parser.add_argument("--rate", type=float, default=30.0, help="requests per second per tenant (Teams: 30)")
    parser.add_argument("--conversation-rate", type=float, default=7.0, help="requests per second per conversation")
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
    parser.add_argument("--workers", type=int, default=2, help="processes building the store")
    parser.add_argument("--order", choices=("random", "grouped"), default="random", help="tenants' people in the index")
    parser.add_argument(
        "--reference",
        choices=("bot", "legacy"),
        default="bot",
        help="bot: conversation references as the bot stores them from a Teams message (with "
        "conversation.tenantId); legacy: without it, as stored before the fix (one shared pace)",
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the wave here")
    parser.add_argument("--sender-workers", type=int, default=0, help="the sender's workers (default: the bot's)")
    parser.add_argument("--json", action="store_true", help="also print the result as one JSON object")
    args = parser.parse_args()
    print(describe_machine(), flush=True)
    if args.users_per_tenant is None:
        args.users_per_tenant = args.users if args.tenants == 1 else 1000
    result = asyncio.run(main(args))
    for key, value in result.items():
        print(f"{key:32s} {value}")
    print(
        f"\nwave {result['wave_s']} s against the platform's {result['platform_allows_s']} s: "
        f"{result['wave_vs_platform']}x (target <= 1.2); lost {result['lost']}, duplicated {result['duplicated']}; "
        f"chat p99 {result['turn_p99_ratio']}x quiet (target <= 2)"
    )
    if args.json:
        print(json.dumps(result))
