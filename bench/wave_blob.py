"""A nudge wave on Azure Blob Storage (Azurite), sent by one bot instance, by two sharing
it (model/storage/wave_shares.py), by two of which one is killed mid-wave (SIGKILL), and
by two of which one is stopped cleanly mid-wave (SIGTERM, as on a scale-in or a deploy).

    python bench/wave_blob.py [--tenants 10] [--users-per-tenant 200] [--rate 50]
                              [--scenarios one,two,two-kill,two-term] [--steps] [--json]

Each scenario gets a fresh container. The people are written first (profile, conversation
reference, a weekly reminder whose last slot is due, made by the project's own classes),
then the schedule index in one pass; with two instances the roll of instances is seeded as
after earlier rounds (`seed_roll`); then the instances start (`python app.py`,
STORAGE=azure-blob, NUDGES=on, scheduler every 0.5 s) and the wave goes out. CPU is
counted from the moment the first nudge arrived (start-up is not the wave's).
bench/nudges.py's stand-in connector enforces `--rate` requests per second per tenant and
7 per conversation with 429 + Retry-After.

Printed per scenario: the wave's seconds (first to last nudge the connector accepted),
nudges/s, the time the platform allows (people per tenant / rate), CPU per nudge (the
instances' user+system time from the first nudge on, divided by the nudges sent), lost
(nobody got it; how many of those had been refused with a 429 before, i.e. were claimed
and waiting to retry) and duplicated nudges, 429s; then the share of one core each
process used from the first nudge to the last (bot A, bot B, Azurite, the connector),
what other processes used, and how busy the machine's cores were, so one can see whether
the cores were the bottleneck; at the end two instances' time as a share of one
instance's (target <= 0.6). In two-kill, one instance gets SIGKILL when a third of the
wave has gone out; the survivor takes its shares over when their claims run out (15 s),
so that scenario's time includes the wait. In two-term it gets SIGTERM instead: it
finishes what it has claimed, releases its shares and exits (the time it took is
printed), and the survivor takes them over at its next batch. --steps runs the instances
through bench/nudge_steps.py and prints, per instance that exited cleanly, how long a nudge
waited for its tenant's pace, for its claim's write, from the claim's answer to the
connector's, and to settle. WAVE_LOGS=<dir> keeps the instances' logs there,
WAVE_LOG_LEVEL=INFO makes them say more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiohttp import ClientSession  # noqa: E402
from common import _proc_cpu, describe_machine, free_port, system_busy  # noqa: E402
from nudges import CONNECTOR, person_of, reference_of  # noqa: E402


def due_prefs(now: datetime):
    """Weekly 08:00 reminder prefs, anchored six days ago, whose last slot is due `now`
    (a weekday whose slot is still ahead today, or a holiday, is passed over)."""
    from model.domain import schedule

    set_at = now - timedelta(days=6)
    for weekday in range(5):
        prefs = schedule.ReminderPrefs.from_dict(
            {
                **schedule.ReminderPrefs(frequency="weekly", weekday=weekday, time="08:00").to_dict(),
                "anchor": set_at.date().isoformat(),
            }
        )
        if schedule.decide(prefs, now, None, None).send:
            return prefs, set_at
    raise SystemExit("no weekly slot in the last days is due now (holidays?)")


async def build(connection: str, container: str, tenants: int, per_tenant: int, service_url: str) -> list[str]:
    """Write the people, then the index; returns their conversation ids."""
    from model.domain.reminders import Reminders
    from model.domain.users import Users, user_key
    from model.storage.blob_store import BlobStore

    now = datetime.now(timezone.utc)
    prefs, set_at = due_prefs(now)
    store = BlobStore(connection, container)
    users = Users(store)
    moves = []
    limit = asyncio.Semaphore(32)

    async def one(n: int) -> None:
        tenant, aad, _ = person_of(n, tenants)
        key = user_key(tenant, aad)
        async with limit:
            await users.save_profile(key, set_at, role="it", level="use", language="da")
            await users.remember_conversation(key, reference_of(n, tenants, service_url, True), None, True)

            def reminder(r: dict) -> None:
                r["prefs"] = prefs.to_dict()
                nxt = Reminders._next(r, set_at)
                r["next"] = nxt.isoformat() if nxt else None
                moves.append((key, None, nxt))

            from model.domain.users import change_part

            await change_part(store, key, "reminder", lambda r, _doc: reminder(r))

    total = tenants * per_tenant
    await asyncio.gather(*(one(n) for n in range(total)))
    await Reminders(store).reindex_many([m for m in moves if m[2] is not None])  # the wave starts here
    await store.close()
    return [person_of(n, tenants)[2] for n in range(total)]


async def seed_roll(connection: str, container: str, others: int) -> None:
    """The roll of instances as after earlier rounds, when every instance has signed in:
    here they all start at the wave, and the first to look would find itself alone and take
    every share (model/storage/wave_shares.py). `others` stand-in entries, expiring in 5 minutes."""
    from model.storage.blob_store import BlobStore
    from model.storage.claims import CLAIMS
    from model.storage.wave_shares import MEMBERS

    store = BlobStore(connection, container)
    await store.write(CLAIMS, MEMBERS, {"until": {f"seen-lately-{n}": time.time() + 300 for n in range(others)}})
    await store.close()


def start_instance(connection: str, container: str, rate: float, log: Path, steps: bool = False) -> subprocess.Popen:
    env = {
        **os.environ,
        "STORAGE": "azure-blob",
        "AZURE_STORAGE_CONNECTION_STRING": connection,
        "AZURE_STORAGE_CONTAINER": container,
        "PORT": str(free_port()),
        "NUDGES": "on",
        "NUDGE_INTERVAL_SECONDS": "0.5",
        "NUDGE_RATE_PER_SECOND": str(rate),
        "RETENTION_JOB": "off",
        "LOG_LEVEL": os.environ.get("WAVE_LOG_LEVEL", "WARNING"),
        "BOT_DATA_DIR": str(log.parent / f"unused-{uuid.uuid4().hex[:6]}"),
    }
    program = "app.py"
    if steps:  # the same bot, its nudge steps timed (bench/nudge_steps.py)
        program, env["NUDGE_STEPS_OUT"] = "bench/nudge_steps.py", str(log.with_suffix(".steps"))
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, program], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def report(session: ClientSession, url: str) -> dict:
    async with session.get(f"{url}/report") as response:
        return await response.json()


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants (Azurite's launcher runs node)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        one = todo.pop()
        total += _proc_cpu(one)
        todo += children.get(one, [])
    return total


async def scenario(name: str, args, azurite, tmp: Path) -> dict:
    container = f"wave-{name}-{uuid.uuid4().hex[:8]}"
    load_at_start = round(os.getloadavg()[0], 1)
    port = free_port()
    connector = subprocess.Popen(
        [sys.executable, "-c", CONNECTOR, str(port), str(args.rate), "7"], stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    count = 1 if name == "one" else 2
    # The people go in first: an index entry written for a slot already past is not what
    # the bot ever writes, and an instance that has seen an hour empty does not read it again.
    conversations = await build(azurite.connection_string, container, args.tenants, args.users_per_tenant, url)
    if count > 1:
        await seed_roll(azurite.connection_string, container, count - 1)
    logs = [tmp / f"{name}-{i}.log" for i in range(count)]
    procs = [start_instance(azurite.connection_string, container, args.rate, log, args.steps) for log in logs]
    # CPU seconds of each process (and of the whole machine) from the first nudge to the last
    # one seen, or to the moment an instance was killed or exited (polled every 0.2 s).
    watched = {**{f"bot {'AB'[i]}": p.pid for i, p in enumerate(procs)}, "Azurite": azurite.proc.pid}
    watched["connector"] = connector.pid
    cpu_first: dict[str, float] = {}
    cpu_last: dict[str, float] = {}
    gone: set[str] = set()  # killed or stopped: its last reading stands
    machine_first = machine_last = 0.0
    first_at = last_at = 0.0
    stopped_in = None  # two-term: seconds from SIGTERM to the instance's exit
    try:
        async with ClientSession() as session:
            for _ in range(200):  # the connector is up
                try:
                    await report(session, url)
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            total = len(conversations)
            stopping_at = None
            signalled = False
            deadline = time.monotonic() + args.timeout
            last, changed = -1, time.monotonic()
            while time.monotonic() < deadline:
                got = await report(session, url)
                sent = sum(got["counts"].values())
                if sent and sent != last:  # read while the wave moves, not while it waits for a lost one
                    reading = {who: tree_cpu(pid) for who, pid in watched.items() if who not in gone}
                    if not cpu_first:
                        cpu_first, machine_first, first_at = dict(reading), system_busy(), time.monotonic()
                    cpu_last.update(reading)
                    machine_last, last_at = system_busy(), time.monotonic()
                if sent != last:
                    last, changed = sent, time.monotonic()
                elif sent and time.monotonic() - changed > 25:  # a dead instance's claims ran out 10 s ago
                    break  # whatever is missing now stays missing
                if name in ("two-kill", "two-term") and not signalled and sent >= total // 3:
                    cpu_last["bot A"] = tree_cpu(procs[0].pid)
                    if name == "two-kill":
                        gone.add("bot A")
                        procs[0].send_signal(signal.SIGKILL)
                        procs[0].wait()
                    else:
                        procs[0].send_signal(signal.SIGTERM)
                        stopping_at = time.monotonic()
                    signalled = True
                if stopping_at is not None and stopped_in is None and procs[0].poll() is not None:
                    stopped_in = time.monotonic() - stopping_at
                    gone.add("bot A")
                if sent >= total:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
            got = await report(session, url)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        connector.terminate()
        connector.wait()
    counts = got["counts"]
    sent = sum(counts.values())
    firsts = [v[1] for v in got["per_tenant"].values()]
    lasts = [v[2] for v in got["per_tenant"].values()]
    seconds = (max(lasts) - min(firsts)) if firsts else float("nan")
    window = max(last_at - first_at, 1e-9)
    cpu = {who: cpu_last.get(who, 0.0) - cpu_first.get(who, 0.0) for who in watched}
    bots = sum(v for who, v in cpu.items() if who.startswith("bot"))
    machine = machine_last - machine_first
    lost = [c for c in conversations if counts.get(c, 0) == 0]
    return {
        "scenario": name,
        "instances": count,
        "people": total,
        "tenants": args.tenants,
        "seconds": round(seconds, 2),
        "nudges_per_second": round(sent / seconds, 1) if seconds else None,
        "platform_seconds": round(args.users_per_tenant / args.rate, 2),
        "cpu_ms_per_nudge": round(1000 * bots / max(sent, 1), 2),
        # share of one core each process used over the measured window; the machine's
        # busy share of all its cores, and what processes other than these used
        "cpu_cores": {who: round(v / window, 2) for who, v in cpu.items()},
        "machine_busy": round(machine / (window * (os.cpu_count() or 1)), 2),
        "others_cores": round((machine - sum(cpu.values())) / window, 2),
        "cpu_window_seconds": round(window, 2),
        "lost": len(lost),
        "lost_after_429": sum(1 for c in lost if got["refused"].get(c)),
        "duplicated": sum(1 for c in conversations if counts.get(c, 0) > 1),
        "throttled": got["throttled"],
        "stopped_in_seconds": round(stopped_in, 2) if stopped_in is not None else None,
        "load_at_start": load_at_start,
        "steps": [
            json.loads(line)
            for log in logs
            if log.with_suffix(".steps").exists()
            for line in log.with_suffix(".steps").read_text().splitlines()
        ],
    }


async def main(args) -> list[dict]:
    from azurite import Azurite

    print(describe_machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-wave-") as tmp:
        tmp = os.environ.get("WAVE_LOGS", tmp)
        azurite = Azurite(Path(tmp) / "azurite").start()
        try:
            results = []
            for name in args.scenarios.split(","):
                result = await scenario(name, args, azurite, Path(tmp))
                results.append(result)
                print(
                    f"{name:9} {result['people']} people, {result['tenants']} tenants: {result['seconds']:6.2f} s "
                    f"({result['nudges_per_second']} nudges/s; the platform allows {result['platform_seconds']} s)  "
                    f"CPU {result['cpu_ms_per_nudge']} ms/nudge  lost {result['lost']} "
                    f"({result['lost_after_429']} of them after a 429)  "
                    f"duplicated {result['duplicated']}  429s {result['throttled']}"
                    + (f"  stopped in {result['stopped_in_seconds']} s" if result["stopped_in_seconds"] else ""),
                    flush=True,
                )
                for steps in result["steps"]:  # --steps: one line per instance that exited cleanly
                    timing = "  ".join(f"{k} {v['mean_ms']} ms (p90 {v['p90_ms']})" for k, v in steps.items())
                    print(f"{'':9} steps, an instance: {timing}", flush=True)
                cores = "  ".join(f"{who} {v:.2f}" for who, v in result["cpu_cores"].items())
                print(
                    f"{'':9} cores used over {result['cpu_window_seconds']} s: {cores}  "
                    f"others {result['others_cores']:.2f}  (machine {100 * result['machine_busy']:.0f} % busy "
                    f"of {os.cpu_count()} cores; load at start {result['load_at_start']})",
                    flush=True,
                )
        finally:
            azurite.stop()
    by = {r["scenario"]: r for r in results}
    if "one" in by and "two" in by and by["one"]["seconds"]:
        print(f"two instances / one: {by['two']['seconds'] / by['one']['seconds']:.2f}x the time (target <= 0.6)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--users-per-tenant", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second per tenant (Teams: 50)")
    parser.add_argument("--scenarios", default="one,two,two-kill,two-term")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--steps", action="store_true", help="time each nudge's steps (bench/nudge_steps.py)")
    arguments = parser.parse_args()
    out = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(out))
