"""Flat cost from 0 to N stored people: the same turn mix against an empty store and a
store holding N people, each with a profile, 12 self-assessments, a weekly reminder
({"frequency": "weekly", "weekday": 1, "time": "09:00"}, set with Reminders.configure, so
the document's "reminder" holds it as the model keeps it: prefs and next due time; everyone
lands in the same hour of the schedule index, spread over its shards), a conversation reference and a
dialog-state document.

Run: .venv/bin/python bench/scale.py [--users 50000] [--seconds 8] [--workers 2] [--no-fsync]
                                      [--rounds 1] [--wait-quiet S] [--cold] [--keep DIR] [--json]

The store is built through the project's own API (model.domain.users.Users, model.domain.reminders.
Reminders, bot.sdk.state_storage.DocStoreStorage): each person's documents are composed by those
classes over an in-memory DocStore, then written with one TinyDBStore.write per document,
in `--workers` processes, fsync off while building (the build time is printed). The
schedule index is merged across workers and written once per bucket (hour and shard).

Then the real app (`python app.py`, fsync on unless --no-fsync) starts on the empty and on
the full data dir and serves the same traffic (bench/common.py: new people onboarding,
asking, self-assessing by typed numbers); on the full store, stored people also take turns
(questions, history, a self-assessment, changing their reminder). Printed: turns/s full vs
empty (target >= 0.9x), startup time to the first served turn (target <= 3 s), peak RSS of
the bot process (target <= 300 MB), bytes on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    Person,
    Result,
    apparent_bytes,
    drive,
    du_bytes,
    free_port,
    new_people,
    start,
    start_bot,
    stored_person_cycle,
    wait_listening,
    wait_quiet,
)

TENANT = "tenant-bench"
NAMESPACE = uuid.UUID("6f1c2b1e-4d7a-4c1e-9a53-0b8c1f9d2a77")
ROLES = ["frontline", "administrative", "specialist", "it", "manager", "project_lead"]
LEVELS = ["use", "contribute", "steer"]
REMINDER = {"frequency": "weekly", "weekday": 1, "time": "09:00"}


def stored_person(i: int, service_url: str) -> Person:
    """Deterministic identity of stored person i (the builder and the driver agree)."""
    h = hashlib.sha256(f"person-{i}".encode()).hexdigest()
    return Person(
        service_url,
        tenant=TENANT,
        aad=str(uuid.uuid5(NAMESPACE, str(i))),
        user_id=f"29:{h[:40]}",
        conversation_id=f"a:{h[24:64]}",
    )


# -- building the store ---------------------------------------------------------------------
class MemoryStore:
    """A DocStore in memory, so the project's own classes compose the documents."""

    def __new__(cls):
        from model.storage.docstore import ConflictError, DocStore

        class _Memory(DocStore):
            def __init__(self) -> None:
                self.docs: dict[tuple[str, str], tuple[dict, int]] = {}

            async def read(self, collection, key):
                found = self.docs.get((collection, key))
                return (json.loads(json.dumps(found[0])), str(found[1])) if found else (None, None)

            async def write(self, collection, key, doc, if_match=None, if_none_match=False):
                found = self.docs.get((collection, key))
                if if_none_match and found:
                    raise ConflictError(key)
                if if_match not in (None, "*") and (not found or str(found[1]) != if_match):
                    raise ConflictError(key)
                rev = (found[1] if found else 0) + 1
                self.docs[(collection, key)] = (json.loads(json.dumps(doc)), rev)
                return str(rev)

            async def delete(self, collection, key):
                self.docs.pop((collection, key), None)

        # Whatever else the interface grows (maintenance calls) is never used here.
        for name in list(getattr(_Memory, "__abstractmethods__", ())):

            async def unused(self, *args, _name=name, **kwargs):
                raise NotImplementedError(_name)

            setattr(_Memory, name, unused)
        _Memory.__abstractmethods__ = frozenset()
        return _Memory()


_REMINDER_CACHE: dict = {}


async def _reminder_for(key: str, now: datetime) -> tuple[dict, dict]:
    """The reminder part of a document and its schedule entries, set through
    model.domain.reminders.Reminders.configure. Everyone has the same settings and the same
    'now', so the result is computed once per worker and reused with the key swapped."""
    from model.domain import schedule
    from model.domain.reminders import Reminders, bucket
    from model.domain.users import Users

    if "template" not in _REMINDER_CACHE:
        mem = MemoryStore()
        probe = "probe-key"
        await Users(mem).save_profile(probe, now, role="it", level="use")  # reminders belong to stored people
        await Reminders(mem).configure(probe, schedule.ReminderPrefs.from_dict(dict(REMINDER)), now)
        doc = (await mem.read("users", probe))[0]
        _REMINDER_CACHE["template"] = doc["reminder"]
    reminder = json.loads(json.dumps(_REMINDER_CACHE["template"]))
    when = reminder.get("next")
    return reminder, ({bucket(datetime.fromisoformat(when), key): {"due": {key: when}}} if when else {})


async def _compose(i: int, service_url: str, now: datetime) -> tuple[dict, dict]:
    """Person i's documents and schedule entries, made by the project's own classes."""
    from botbuilder.core import TurnContext
    from botbuilder.dialogs import DialogState
    from botbuilder.schema import Activity

    from bot.handler import stored_reference
    from bot.sdk.state_storage import DocStoreStorage
    from model.domain import assessment
    from model.domain.users import USERS, Users, user_key

    rng = random.Random(i)
    mem = MemoryStore()
    users = Users(mem)
    person = stored_person(i, service_url)
    activity = Activity().deserialize(person.message("hej"))
    key = user_key(TENANT, person.aad)
    start = now - timedelta(days=365 * 2)
    role, level = rng.choice(ROLES), rng.choice(LEVELS)
    await users.save_profile(key, now=start, role=role, level=level, language="da")
    state_key = f"msteams/conversations/{person.conversation_id}"
    reference = stored_reference(TurnContext.get_conversation_reference(activity), TENANT)

    async def no_dialog() -> bool:
        return False

    # as the bot keeps it: seen today, no dialog waiting (open_dialogs lists none)
    await users.remember_conversation(key, reference, state_key, True, now=now, dialog_running=no_dialog)
    await DocStoreStorage(mem).write({state_key: {"DialogState": DialogState()}})
    profile = {"role": role, "level": level}
    records = []
    for n in range(12):
        scores = {s: rng.randint(1, 5) for s in ("implementation", "development", "innovation")}
        at = start + timedelta(days=60 * n, hours=rng.randint(0, 8))
        note = rng.choice([None, "blive bedre til business cases", "mere om gevinstrealisering"])
        records.append(assessment.record(TENANT, profile, scores, {}, note, "da", at))
    await users.add_assessment(key, records[0])  # the API's own append, then the other 11 at once
    await mem.update(USERS, key, lambda d: d["assessments"].extend(records[1:]))
    reminder, buckets = await _reminder_for(key, now)
    await mem.update(USERS, key, lambda d: d.__setitem__("reminder", reminder))
    docs = {k: v[0] for k, v in mem.docs.items()}
    return docs, buckets


def _build_range(args: tuple) -> tuple[dict, int]:
    data_dir, lo, hi, service_url, now_iso = args
    sys.path.insert(0, str(ROOT))
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(data_dir, fsync=False)
    now = datetime.fromisoformat(now_iso)
    merged: dict[str, dict] = {}

    async def run() -> int:
        written = 0
        for i in range(lo, hi):
            docs, buckets = await _compose(i, service_url, now)
            for (collection, key), doc in docs.items():
                await store.write(collection, key, doc)
                written += 1
            for bucket, doc in buckets.items():
                merged.setdefault(bucket, {"due": {}})["due"].update(doc.get("due", {}))
        return written

    return merged, asyncio.run(run())


def build_store(data_dir: Path, users: int, service_url: str, workers: int) -> dict:
    started = time.perf_counter()
    now = datetime.now(timezone.utc).isoformat()
    step = max(1, -(-users // (workers * 8)))
    ranges = [(str(data_dir), lo, min(users, lo + step), service_url, now) for lo in range(0, users, step)]
    buckets: dict[str, dict] = {}
    docs = 0
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        for merged, written in pool.imap_unordered(_build_range, ranges):
            docs += written
            for bucket, doc in merged.items():
                buckets.setdefault(bucket, {"due": {}})["due"].update(doc["due"])

    async def index() -> None:
        sys.path.insert(0, str(ROOT))
        from model.storage.tinydb_store import TinyDBStore

        store = TinyDBStore(data_dir, fsync=True)
        for bucket, doc in buckets.items():
            await store.write("schedule", bucket, doc)

    asyncio.run(index())
    return {
        "seconds": time.perf_counter() - started,
        "documents": docs + len(buckets),
        "schedule_buckets": len(buckets),
        "largest_bucket_entries": max((len(d["due"]) for d in buckets.values()), default=0),
    }


# -- measuring ------------------------------------------------------------------------------
async def first_turn(url: str, service_url: str, timeout: float = 60.0) -> None:
    """Posts one install until it is served (the app may still be importing)."""
    import aiohttp

    body = json.dumps(Person(service_url).activity("installationUpdate", action="add")).encode()
    deadline = time.perf_counter() + timeout
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            try:
                async with session.post(
                    url + "/api/messages", data=body, headers={"Content-Type": "application/json"}
                ) as resp:
                    await resp.read()
                    if resp.status in (200, 201):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise RuntimeError("the bot served no turn")


def stored_turns(service_url: str, population: int):
    reminder = ["påmindelser", "ugentlig", "tirsdag", "10:00"]

    def make(i: int, rng: random.Random):
        person = stored_person(rng.randrange(population), service_url)
        turns = [("stored:history", person.message("historik"))] + stored_person_cycle(person, rng)
        turns = [(k if k.startswith("stored") else f"stored:{k}", a) for k, a in turns]
        if rng.random() < 0.25:
            turns += [("stored:reminders", person.message(t)) for t in reminder]
        return turns

    return make


def drop_caches() -> bool:
    """Empty the page cache (root only), so the next start reads the store from disk."""
    try:
        import os

        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


async def serve_and_measure(
    name: str, data_dir: Path, connector_url: str, args, log: Path, population: int = 0
) -> dict:
    if args.wait_quiet:
        wait_quiet(args.wait_quiet)
    cold = bool(population and args.cold and drop_caches())
    server = start_bot(data_dir, fsync=args.fsync, log=log)
    t0 = time.perf_counter()
    try:
        wait_listening(server, timeout=60)
        await first_turn(server.url, connector_url)
        startup = time.perf_counter() - t0
        rss_after_start = server.rss_mb()
        if args.wait_quiet:
            wait_quiet(args.wait_quiet)
        new = await drive(
            f"{name}: new people",
            server.url,
            new_people(connector_url),
            users=args.users_concurrent,
            duration=args.seconds,
            warmup=args.warmup,
            server=server,
        )
        stored = None
        if population:
            stored = await drive(
                f"{name}: stored people",
                server.url,
                stored_turns(connector_url, population),
                users=args.users_concurrent,
                duration=args.seconds,
                warmup=1.0,
                server=server,
            )
        peak = server.peak_rss_mb()
    finally:
        server.stop()
    return {
        "startup_s": startup,
        "cold_start": cold,
        "rss_after_start_mb": rss_after_start,
        "peak_rss_mb": peak,
        "new": new,
        "stored": stored,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50000, help="stored people")
    parser.add_argument("--concurrent", dest="users_concurrent", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="processes building the store")
    parser.add_argument("--no-fsync", dest="fsync", action="store_false", help="serve with BOT_FSYNC=0")
    parser.add_argument("--keep", help="build into (or reuse) this directory instead of a temporary one")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure empty and full store alternately this many times; best round counts",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each measurement wait up to this long for other processes to go quiet",
    )
    parser.add_argument(
        "--cold", action="store_true", help="drop the page cache before starting on the full store (root only)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    port = free_port()
    connector_url = f"http://127.0.0.1:{port}/"
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    full = Path(args.keep) if args.keep else tmp / "full"
    report: dict = {"stored_people": args.users, "fsync": args.fsync}
    connector = None
    try:
        if (full / "users").exists():
            print(f"reusing the store in {full}", flush=True)
            report["build"] = {"reused": True}
        else:
            full.mkdir(parents=True, exist_ok=True)
            built = build_store(full, args.users, connector_url, args.workers)
            report["build"] = built
            print(
                f"built {args.users} people ({built['documents']} documents) in {built['seconds']:.1f} s "
                f"with {args.workers} workers, fsync off; largest schedule bucket: "
                f"{built['largest_bucket_entries']} entries",
                flush=True,
            )
        report["disk_bytes"] = du_bytes(full)
        report["apparent_bytes"] = apparent_bytes(full)
        connector = start("connector", [sys.executable, "bench/common.py", "connector", "{port}"], port=port)
        wait_listening(connector)

        empties, fulls = [], []
        for round_ in range(args.rounds):
            empties.append(
                asyncio.run(
                    serve_and_measure(
                        "empty", tmp / f"empty-{round_}", connector_url, args, tmp / f"empty-{round_}.log"
                    )
                )
            )
            print(empties[-1]["new"].line(), flush=True)
            fulls.append(
                asyncio.run(
                    serve_and_measure(
                        f"{args.users}", full, connector_url, args, tmp / f"full-{round_}.log", population=args.users
                    )
                )
            )
            print(fulls[-1]["new"].line(), flush=True)
            print(fulls[-1]["stored"].line(), flush=True)
        empty = max(empties, key=lambda r: r["new"].rate)
        filled = max(fulls, key=lambda r: r["new"].rate)
        filled["startup_s"] = fulls[0]["startup_s"]  # the first start: page cache as the build left it
        empty["startup_s"] = empties[0]["startup_s"]
        filled["peak_rss_mb"] = max(r["peak_rss_mb"] for r in fulls)
        empty["peak_rss_mb"] = max(r["peak_rss_mb"] for r in empties)
    finally:
        if connector:
            connector.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    ratio = filled["new"].rate / empty["new"].rate if empty["new"].rate else float("nan")
    print(
        f"\n{args.users} stored people, {args.users_concurrent} concurrent users, fsync {'on' if args.fsync else 'off'}"
    )
    print(f"throughput full/empty (same new-people mix): {ratio:.2f}x (target >= 0.9)")
    print(
        f"startup to first served turn: empty {empty['startup_s']:.2f} s, full {filled['startup_s']:.2f} s"
        f"{' (page cache dropped first)' if filled.get('cold_start') else ''} (target <= 3 s)"
    )
    print(
        f"peak RSS of the bot: empty {empty['peak_rss_mb']:.0f} MB, full {filled['peak_rss_mb']:.0f} MB "
        f"(target <= 300 MB)"
    )
    print(
        f"on disk: {report['disk_bytes'] / 1e6:.0f} MB allocated, {report['apparent_bytes'] / 1e6:.0f} MB of data "
        f"({report['disk_bytes'] / max(args.users, 1) / 1024:.1f} KiB per person)"
    )
    kinds = filled["stored"].as_dict()["by_kind"]
    print(
        "stored people's turns, p50 by kind: "
        + ", ".join(f"{k.split(':')[1]} {v['p50_ms']} ms" for k, v in kinds.items())
    )
    if args.json:
        report.update({"ratio": round(ratio, 3), "empty": _summary(empty), "full": _summary(filled)})
        print(json.dumps(report, ensure_ascii=False))
    return 0


def _summary(run: dict) -> dict:
    out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in run.items() if not isinstance(v, Result)}
    for k in ("new", "stored"):
        if isinstance(run.get(k), Result):
            out[k] = run[k].as_dict()
    return out


if __name__ == "__main__":
    sys.exit(main())
