"""Turn throughput and latency: the real bot beside a stock Bot Framework echo bot, the
Microsoft 365 Agents SDK's own echo agent and a plain-aiohttp floor, each in its own
process, against one stand-in connector process.

Run: .venv/bin/python bench/turns.py [--users 16] [--seconds 8] [--warmup 2] [--rounds 1]
                                      [--mix mixed|questions|checks[,...]] [--population 2000]
                                      [--only stock,stock-pooled,floor,skeleton,skeleton-nowrite,
                                              agents-echo,bot,bot-nofsync,bot-blob]
                                      [--latency-users 1] [--profile DIR [--pyspy]] [--json]

Targets, each a process of its own:
  stock         the echo sample as shipped: ActivityHandler + CloudAdapter(
                ConfigurationBotFrameworkAuthentication(config)), route calling adapter.process
  stock-pooled  the same echo sample on this project's reply path (bot/sdk/connector.py), to show
                what the reply path alone is worth
  agents-echo   the peer: the Microsoft 365 Agents SDK for Python 1.9.0 echo agent in the
                shape of its samples (bench/agents_echo.py: AgentApplication + MemoryStorage +
                CloudAdapter + start_agent_process behind jwt_authorization_middleware, anonymous
                as the samples run locally). It runs in its own virtualenv, made on first use in
                .cache/agents-sdk-1.9.0/ (python -m venv, pip install -r
                bench/agents-sdk-1.9.0.txt, every package pinned) and reused while the pins are
                unchanged; never a dependency of the bot. Offline, the target is skipped.
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
  bot           the real app as production runs it (`python app.py`, LOG_LEVEL=INFO, local
                mode), fsync on (BOT_FSYNC=1, the default); its nudge scheduler is off here
                (NUDGES=off: a round, or a wave for stored people who are due, is no turn;
                bench/nudges.py and bench/wave_blob.py measure those)
  bot-nofsync   the same with BOT_FSYNC=0

Every target gets the same Teams-shaped traffic: `--users` concurrent people in personal
chats, each posting its next activity when the previous HTTP response arrived. The mix:
  mixed      (default) new people: install, onboarding by typed numbers, questions ("hvad
             betyder innovation for mig?"), a self-assessment typed number by number, more
             questions
  questions  people who already have a profile ask questions: nothing is written (the bot's
             line counts the documents written, to show it)
  checks     people who already have a profile type "vurdering", submit the quick-check
             Adaptive Card they were sent (value {"kh": "quick", "nonce": ..., "<sub-area>":
             "3", ..., "note": ""}), then ask for "historik". The nonce and the card's input ids
             are read back from the stand-in connector, which keeps the last card per
             conversation (GET /_last/<conversation>), between turns and outside their time;
             the echo targets send no card, so they get a made-up nonce ("cards read" says how
             many submits carried a real one)
For questions and checks, `--population` people (profile, 12 checks, a weekly reminder, a
conversation reference; bench/scale.py's builder, the project's own classes) are built once
per run and copied into each bot's data dir; each virtual user has its own share of them.
A turn's latency runs from the POST to the end of the /api/messages response; replies reach
the connector during the turn, and the connector counts them (replies/turn on each line).
With --rounds N the targets run interleaved N times; throughput is reported as the best
round (noise on a shared machine only ever slows a run down) and the median, CPU per turn
(the target process's own user+system time) as the lowest. A last pass with --latency-users
(default 1) people gives the service time without queueing. The summary is printed per mix,
with the bot's ratios to stock, to agents-echo (x agents-echo) and to the floor.

Targets (issue "Ten times the stock Bot Framework bot"): bot >= 10x stock at 16 users,
bot >= 0.3x floor, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PYTHON,
    QUESTIONS,
    ROOT,
    connector_stats,
    describe_machine,
    drive,
    new_people,
    start,
    start_bot,
    start_connector,
    wait_listening,
    wait_quiet,
)

SAMPLES = (
    "stock",
    "stock-pooled",
    "floor",
    "skeleton",
    "skeleton-nofsync",
    "skeleton-nowrite",
    "skeleton-memory",
)  # served by bench/common.py, not by app.py
MIXES = ("mixed", "questions", "checks")
STORED_MIXES = ("questions", "checks")  # people with a profile: the bot's data dir is a built store
BOTS = ("bot", "bot-nofsync", "bot-blob")

# -- the Agents SDK's own virtualenv ------------------------------------------------------
AGENTS_SDK = "1.9.0"
AGENTS_ENV = ROOT / ".cache" / f"agents-sdk-{AGENTS_SDK}"
AGENTS_REQUIREMENTS = Path(__file__).resolve().parent / f"agents-sdk-{AGENTS_SDK}.txt"
AGENTS_ENVIRONMENT = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true"}


def agents_sdk_python() -> tuple[Path | None, str]:
    """The interpreter of the Agents SDK's cached virtualenv, made on first use: `python -m
    venv` plus `pip install -r bench/agents-sdk-1.9.0.txt` (everything pinned). A stamp
    holding the requirements' hash marks it complete; a changed pin list makes it anew.
    (None, why) when it cannot be had (offline, no such version)."""
    python = AGENTS_ENV / "bin" / "python"
    stamp = AGENTS_ENV / ".installed"
    want = hashlib.sha256(AGENTS_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return python, f"cached in {AGENTS_ENV.relative_to(ROOT)}"
    print(f"agents-echo: installing the Agents SDK {AGENTS_SDK} into {AGENTS_ENV.relative_to(ROOT)} ...", flush=True)
    steps = [
        ("python -m venv", [PYTHON, "-m", "venv", "--clear", str(AGENTS_ENV)]),
        (
            "pip install",
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--retries", "2"]
            + ["--timeout", "30", "-r", str(AGENTS_REQUIREMENTS)],
        ),
        (  # pip has been seen to answer 0 having installed nothing: the import decides
            "importing the SDK",
            [str(python), "-c", "import microsoft_agents.hosting.aiohttp, microsoft_agents.authentication.msal"],
        ),
    ]
    for what, step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as err:
            return None, f"{what}: {err}"
        if done.returncode != 0:
            tail = [line for line in (done.stderr or done.stdout).splitlines() if "WARNING: Location" not in line]
            return None, f"{what} failed: {' | '.join(tail[-2:])}"
    stamp.write_text(want + "\n")
    return python, f"installed into {AGENTS_ENV.relative_to(ROOT)}"


# -- traffic -------------------------------------------------------------------------------
def stored_pick(i: int, rng: random.Random, users: int, population: int) -> int:
    """A stored person for virtual user i; each virtual user has its own people, so two never
    talk in one conversation at once (that would interleave their checks)."""
    return i + users * rng.randrange(max(1, population // users))


def stored_questions(service_url: str, population: int, users: int):
    """`questions`: people who have a profile ask questions; nothing is written."""
    from scale import stored_person

    def make(i: int, rng: random.Random):
        person = stored_person(stored_pick(i, rng, users, population), service_url)
        return [("question", person.message(rng.choice(QUESTIONS))) for _ in range(4)]

    return make


def stored_checks(service_url: str, population: int, users: int, seen: dict):
    """`checks`: people who have a profile take the quick check by submitting its Adaptive
    Card, then ask for `historik`. The card's nonce and input ids come from what the
    stand-in connector received for that conversation (GET /_last/<conversation>, fetched
    between turns, outside their time); a target that sent no card gets a made-up nonce.
    `seen` counts submits with and without a card."""
    from scale import stored_person

    fallback = {"nonce": "no-card", "kind": "quick", "inputs": ["implementation", "development", "innovation"]}

    def make(i: int, rng: random.Random):
        person = stored_person(stored_pick(i, rng, users, population), service_url)
        last = f"{service_url.rstrip('/')}/_last/{quote(person.conversation_id, safe='')}"

        async def submit(session) -> dict:
            async with session.get(last) as resp:
                card = await resp.json() if resp.status == 200 else None
            seen["with card" if card else "without card"] = seen.get("with card" if card else "without card", 0) + 1
            card = card or fallback
            value = {"kh": card["kind"] or "quick", "nonce": card["nonce"], "note": ""}
            value.update({item: str(rng.randint(1, 5)) for item in card["inputs"]})
            return person.submit(value)

        return [
            ("check:vurdering", person.message("vurdering")),
            ("check:submit", submit),
            ("check:historik", person.message("historik")),
        ]

    return make


def traffic(mix: str, service_url: str, args, seen: dict):
    if mix == "questions":
        return stored_questions(service_url, args.population, args.users)
    if mix == "checks":
        return stored_checks(service_url, args.population, args.users, seen)
    return new_people(service_url)


def build_people(data_dir: Path, service_url: str, population: int) -> float:
    """People with a profile, 12 checks, a weekly reminder and a conversation reference,
    composed by the project's own classes (bench/scale.py's builder); seconds taken."""
    from scale import build_store

    return build_store(data_dir, population, service_url, workers=2)["seconds"]


def files_of(path: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every document: a rewritten document (written to a temporary and
    renamed over the old one) shows a new inode."""
    found = {}
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            found[full] = (st.st_ino, st.st_mtime_ns)
    return found


def changed_documents(path: Path, before: dict) -> dict[str, int]:
    """Documents created or rewritten since `before`, per collection (each counted once)."""
    counts: dict[str, int] = {}
    for full, mark in files_of(path).items():
        if before.get(full) != mark:
            collection = Path(full).relative_to(path).parts[0]
            counts[collection] = counts.get(collection, 0) + 1
    return counts


async def run_target(
    name: str,
    mix: str,
    connector_url: str,
    args,
    tmp: Path,
    users: int,
    seconds: float,
    round_: int,
    store,
    proxy=None,
):
    import aiohttp

    log = tmp / f"{name}-{mix}-{round_}-{users}.log"
    data_dir = tmp / f"data-{name}-{mix}-{round_}-{users}"
    extra: dict | None = None  # the bot's extra environment (bot-blob: its container)
    if name == "agents-echo":
        server = start(
            name, [str(args.agents_python), "bench/agents_echo.py", "{port}"], log=log, env=AGENTS_ENVIRONMENT
        )
    elif name in SAMPLES:
        server = start(name, [PYTHON, "bench/common.py", name, "{port}"], log=log, env={"BOT_DATA_DIR": str(data_dir)})
    else:
        suffix = ".txt" if args.pyspy else ".prof"
        first = round_ == 0 and users == args.users
        profile = (Path(args.profile) / f"{name}-{mix}{suffix}") if args.profile and first else None
        if name == "bot-blob":  # the same bot on Azure Blob Storage (Azurite on loopback)
            extra = {
                "STORAGE": "azure-blob",
                "AZURE_STORAGE_CONNECTION_STRING": args.blob_connection,
                "AZURE_STORAGE_CONTAINER": f"bench-{mix}-{round_}-{users}",
            }
            if store is not None:  # the stored people, copied as `python app.py migrate` would
                await copy_to_blob(store, args.blob_connection, extra["AZURE_STORAGE_CONTAINER"])
        elif store is not None:
            shutil.copytree(store, data_dir)
        # no nudge scheduler: its rounds (and a wave for the stored people who are due) are not turns;
        # bench/nudges.py and bench/wave_blob.py measure them
        server = start_bot(
            data_dir, fsync=name != "bot-nofsync", log=log, profile=profile, nudges=False, extra_env=extra
        )
    seen: dict = {}
    try:
        wait_listening(server)
        if args.wait_quiet:
            wait_quiet(args.wait_quiet)
        before = files_of(data_dir) if name in ("bot", "bot-nofsync") else None  # bot-blob: not files
        if proxy is not None:
            proxy.counts.clear()  # the turns' requests only, not the start-up's
        async with aiohttp.ClientSession() as session:
            replies_before = (await connector_stats(session, connector_url, reset=True))["replies"]
            result = await drive(
                name,
                server.url,
                traffic(mix, connector_url, args, seen),
                users=users,
                duration=seconds,
                warmup=args.warmup,
                server=server,
            )
            result.replies = (await connector_stats(session, connector_url))["replies"] - replies_before
        result.writes = changed_documents(data_dir, before) if before is not None else None
        result.cards = seen
        result.peak_rss = server.peak_rss_mb()
    finally:
        server.stop()
    return result


async def count_blob_requests(mix: str, connector_url: str, args, tmp: Path, azurite, store) -> dict[str, float]:
    """A short pass of bot-blob with one person at a time, through a counting proxy:
    the storage requests per turn (reads, writes, deletes, lists)."""
    from blob_requests import CountingProxy

    proxy = CountingProxy(f"http://127.0.0.1:{azurite.port}")
    await proxy.start()
    saved = args.blob_connection
    args.blob_connection = azurite.connection_string.replace(f":{azurite.port}/", f":{proxy.port}/")
    try:
        stored = store if mix in STORED_MIXES else None
        result = await run_target("bot-blob", mix, connector_url, args, tmp, 1, 3.0, 99, stored, proxy=proxy)
    finally:
        args.blob_connection = saved
        await proxy.stop()
    turns = max(result.posted, 1)
    return {k: v / turns for k, v in sorted(proxy.counts.items())} | {"turns": result.posted}


def format_requests(counts: dict[str, float]) -> str:
    parts = [f"{k} {v:.2f}" for k, v in counts.items() if k != "turns"]
    return ", ".join(parts) + f"  ({counts.get('turns', 0)} turns)"


async def copy_to_blob(store: Path, connection: str, container: str) -> None:
    from model.domain.stored import COLLECTIONS
    from model.storage.blob_store import BlobStore
    from model.storage.migrate import copy_all
    from model.storage.tinydb_store import TinyDBStore

    target = BlobStore(connection, container)
    try:
        await copy_all(TinyDBStore(store, fsync=False), target, COLLECTIONS)
    finally:
        await target.close()


def extras(result) -> str:
    """Replies per turn (every target must answer), documents written, cards read."""
    parts = [f"{result.replies / result.posted:.2f} replies/turn" if result.posted else "no turns"]
    if result.writes is not None:
        parts.append(f"documents written {sum(result.writes.values())} {result.writes or ''}".rstrip())
    if result.cards:
        parts.append(f"cards read {result.cards.get('with card', 0)}/{sum(result.cards.values())}")
    return "  ".join(parts)


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


def report(mix: str, stats: dict, latency: dict, args) -> None:
    print(
        f"\n[{mix} mix] {args.users} concurrent users, {args.seconds:g} s measured after {args.warmup:g} s "
        f"warm-up, {args.rounds} round(s); turns/s best (median), CPU per turn of the target's process lowest"
    )
    for name, st in stats.items():
        cpu = f"  CPU {st['cpu_ms_min']:.2f} ms/turn" if st["cpu_ms_min"] else ""
        print(
            f"  {name:<16} {st['rate_best']:7.0f} ({st['rate_median']:.0f}) turns/s  "
            f"p50 {st['best'].pct(50):6.1f} ms  p99 {st['best'].pct(99):6.1f} ms{cpu}  {extras(st['best'])}"
        )
    for bot in BOTS:
        if bot not in stats:
            continue
        r = stats[bot]
        backend = {"bot": "TinyDB, fsync on", "bot-nofsync": "TinyDB, fsync off"}.get(bot, "Azure Blob via Azurite")
        parts = [f"{bot} ({backend}):"]
        if "stock" in stats:
            parts.append(f"bot/stock {r['rate_best'] / stats['stock']['rate_best']:4.1f}x (target >= 10)")
            if r["cpu_ms_min"] and stats["stock"]["cpu_ms_min"]:
                parts.append(f"CPU/turn stock/bot {stats['stock']['cpu_ms_min'] / r['cpu_ms_min']:4.1f}x")
        if "agents-echo" in stats:
            peer = stats["agents-echo"]
            parts.append(f"{r['rate_best'] / peer['rate_best']:4.2f}x agents-echo")
            if r["cpu_ms_min"] and peer["cpu_ms_min"]:
                parts.append(f"CPU/turn agents-echo/bot {peer['cpu_ms_min'] / r['cpu_ms_min']:4.2f}x")
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
    if "agents-echo" in stats:
        peer = stats["agents-echo"]
        parts = ["agents-echo (Agents SDK 1.9.0 echo):"]
        if "stock" in stats:
            parts.append(f"/stock {peer['rate_best'] / stats['stock']['rate_best']:4.1f}x")
        if "floor" in stats:
            parts.append(f"/floor {peer['rate_best'] / stats['floor']['rate_best']:4.2f}x")
        parts.append(f"p99 {peer['best'].pct(99):.1f} ms")
        print("  ".join(parts))
    if "stock-pooled" in stats and "stock" in stats:
        print(
            f"echo sample, reply path only: stock-pooled/stock "
            f"{stats['stock-pooled']['rate_best'] / stats['stock']['rate_best']:.1f}x"
        )
    for result in latency.values():
        print(f"{result.name}: p50 {result.pct(50):.1f} ms, p99 {result.pct(99):.1f} ms")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--only",
        default="stock,stock-pooled,floor,skeleton,skeleton-nowrite,agents-echo,bot,bot-nofsync,bot-blob",
        help="bot-blob runs the bot on Azure Blob Storage via Azurite (skipped if unavailable); "
        "agents-echo is skipped if its virtualenv cannot be made",
    )
    parser.add_argument(
        "--mix",
        default="mixed",
        help="traffic, one or more of mixed (new people: onboarding, questions, typed checks), "
        "questions (people with a profile asking), checks (people with a profile submitting the "
        "quick-check card, then historik); comma-separated",
    )
    parser.add_argument(
        "--population", type=int, default=2000, help="stored people built for the questions and checks mixes"
    )
    parser.add_argument(
        "--latency-users",
        type=int,
        default=1,
        help="a last pass with this many people for stock, agents-echo and bot (0: skip)",
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
    print(describe_machine(), flush=True)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    mixes = [m.strip() for m in args.mix.split(",") if m.strip()]
    unknown = [m for m in mixes if m not in MIXES]
    if unknown:
        parser.error(f"unknown mix {', '.join(unknown)} (choose from {', '.join(MIXES)})")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    if "agents-echo" in names:
        args.agents_python, how = agents_sdk_python()
        if args.agents_python is None:
            print(f"agents-echo skipped: the Agents SDK {AGENTS_SDK} could not be installed ({how})", flush=True)
            names.remove("agents-echo")
        else:
            print(f"agents-echo: Agents SDK {AGENTS_SDK}, {how}", flush=True)
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
    connector_url = connector.url + "/"
    runs: dict[str, dict[str, list]] = {m: {n: [] for n in names} for m in mixes}
    latency: dict[str, dict[str, object]] = {m: {} for m in mixes}
    counted: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-turns-") as tmp:
            store = None
            if any(m in STORED_MIXES for m in mixes):
                store = Path(tmp) / "people"
                took = await asyncio.to_thread(build_people, store, connector_url, args.population)  # it runs a loop
                print(f"built {args.population} stored people in {took:.1f} s", flush=True)

            for round_ in range(args.rounds):
                for mix in mixes:
                    for name in names:
                        result = await run_target(
                            name,
                            mix,
                            connector_url,
                            args,
                            Path(tmp),
                            args.users,
                            args.seconds,
                            round_,
                            store if mix in STORED_MIXES else None,
                        )
                        runs[mix][name].append(result)
                        print(
                            f"[{mix}] {result.line()}  peak RSS {result.peak_rss:.0f} MB  {extras(result)}", flush=True
                        )
            if args.latency_users:
                for mix in mixes:
                    for name in [n for n in ("stock", "agents-echo", "bot") if n in names]:
                        result = await run_target(
                            name,
                            mix,
                            connector_url,
                            args,
                            Path(tmp),
                            args.latency_users,
                            min(args.seconds, 5.0),
                            0,
                            store if mix in STORED_MIXES else None,
                        )
                        users = f"{args.latency_users} user{'s' if args.latency_users > 1 else ''}"
                        result.name = f"[{mix}] {name} ({users})"
                        latency[mix][name] = result
                        print(result.line(), flush=True)
            if azurite is not None:  # storage requests per turn, counted on the wire
                for mix in mixes:
                    counted[mix] = await count_blob_requests(mix, connector_url, args, Path(tmp), azurite, store)
                    print(f"[{mix}] bot-blob storage requests per turn: {format_requests(counted[mix])}", flush=True)
    finally:
        connector.stop()
        if azurite:
            azurite.stop()

    stats = {m: {n: summary(r) for n, r in by_name.items() if r} for m, by_name in runs.items()}
    for mix in mixes:
        report(mix, stats[mix], latency[mix], args)
        if mix in counted:
            print(f"bot-blob storage requests per turn ({mix}, one person at a time): {format_requests(counted[mix])}")
    if args.json:
        print(
            json.dumps(
                {
                    "users": args.users,
                    "seconds": args.seconds,
                    "rounds": args.rounds,
                    "mixes": {
                        mix: {
                            "results": {
                                n: {
                                    **st["best"].as_dict(),
                                    "turns_per_s_median": round(st["rate_median"], 1),
                                    "rounds_turns_per_s": st["rates"],
                                    "cpu_ms_per_turn_min": round(st["cpu_ms_min"], 3) if st["cpu_ms_min"] else None,
                                    "peak_rss_mb": round(st["best"].peak_rss, 1),
                                    "replies_per_turn": round(st["best"].replies / max(st["best"].posted, 1), 3),
                                    "documents_written": st["best"].writes,
                                }
                                for n, st in stats[mix].items()
                            },
                            "latency": {n: r.as_dict() for n, r in latency[mix].items()},
                        }
                        for mix in mixes
                    },
                },
                ensure_ascii=False,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
