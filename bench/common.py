"""Shared pieces of the turn benchmarks: processes on free loopback ports, a fast
stand-in Bot Connector service, Teams-shaped virtual users and the load driver.

Run as a script it is one of the servers the benchmarks start in their own process:

    python bench/common.py connector PORT          the stand-in connector (replies {"id": ...})
    python bench/common.py stock PORT              a sample-shaped echo bot (stock CloudAdapter)
    python bench/common.py stock-pooled PORT       the same echo bot on bot/sdk/connector.py's reply path
    python bench/common.py floor PORT              plain aiohttp: read the activity, post one reply

The real bot is started as production starts it: `python app.py` with PORT, BOT_DATA_DIR,
BOT_FSYNC and NUDGES in the environment.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


# -- processes ---------------------------------------------------------------------------


def describe_machine() -> str:
    """One line about where the figures come from: they compare only within a run."""
    import os
    import platform

    model = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {os.cpu_count()} cores{f' ({model})' if model else ''}{memory}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, load {load:.2f} at start"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmRSS") / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        return _proc_cpu(self.proc.pid)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


OWN: list["Server"] = []  # every server this run started, to tell our CPU from others'


def _proc_cpu(pid: int | str) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def system_busy() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    try:
        parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(parts[:8]) - parts[3] - parts[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def own_cpu() -> float:
    """CPU seconds used by this process and the servers it started."""
    return _proc_cpu("self") + sum(s.cpu_seconds() for s in OWN if s.proc.poll() is None)


def wait_quiet(max_wait: float, threshold: float = 0.25, window: float = 2.0) -> float:
    """Waits (at most max_wait seconds) until processes other than ours use less than
    `threshold` cores over `window` seconds, on a machine shared with other work.
    Returns the last foreign load seen, in cores."""
    deadline = time.perf_counter() + max_wait
    while True:
        busy, own = system_busy(), own_cpu()
        time.sleep(window)
        foreign = max((system_busy() - busy) - (own_cpu() - own), 0.0) / window
        if foreign < threshold or time.perf_counter() >= deadline:
            return foreign


def _status_kb(pid: int, field_name: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def start(
    name: str, args: list[str], env: dict | None = None, log: Path | None = None, port: int | None = None
) -> Server:
    port = port or free_port()
    full_env = {**os.environ, **(env or {}), "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [a.replace("{port}", str(port)) for a in args],
        cwd=ROOT,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    server = Server(name, proc, port, log)
    OWN.append(server)
    return server


def wait_listening(server: Server, timeout: float = 30.0) -> float:
    """Seconds until the server accepts TCP connections."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode}" + (f"; see {server.log}" if server.log else "")
            )
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.2):
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{server.name} did not listen within {timeout}s")


def start_connector() -> Server:
    server = start("connector", [PYTHON, "bench/common.py", "connector", "{port}"])
    wait_listening(server)
    return server


def bot_env(data_dir: Path, fsync: bool, nudges: bool = True, log_level: str = "INFO") -> dict:
    """The real app's environment: local mode (no app id), TinyDB in data_dir."""
    return {
        "BOT_DATA_DIR": str(data_dir),
        "BOT_FSYNC": "1" if fsync else "0",
        "NUDGES": "on" if nudges else "off",
        "LOG_LEVEL": log_level,
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
    }


def start_bot(
    data_dir: Path,
    fsync: bool,
    log: Path | None = None,
    profile: Path | None = None,
    nudges: bool = True,
    extra_env: dict | None = None,
) -> Server:
    args = [PYTHON]
    if profile and profile.suffix == ".txt":  # py-spy (sampling; BENCH_PYSPY=path to the py-spy binary)
        args = [
            os.environ.get("BENCH_PYSPY", "py-spy"),
            "record",
            "-r",
            "250",
            "-f",
            "raw",
            "-o",
            str(profile),
            "--",
            PYTHON,
        ]
    elif profile:
        args += ["-m", "cProfile", "-o", str(profile)]
    args += ["app.py"]
    return start("bot", args, {**bot_env(data_dir, fsync, nudges), **(extra_env or {})}, log=log)


# -- the stand-in connector, the stock echo bot and the floor ------------------------------
def serve_connector(port: int) -> None:
    """As fast as aiohttp allows: read the activity, answer a resource id. It counts the
    replies it gets (GET /_stats: {"replies": n, "cards": m}) and keeps, per conversation,
    the last self-assessment card a bot sent (an activity whose card data carries a
    "nonce"): GET /_last/<conversation id> answers {"nonce": ..., "kind": ..., "inputs":
    [the card's Input.ChoiceSet ids]} once, then 404 until the next card, so a virtual user
    can submit the card it was shown (GET /_stats?reset=1 forgets them all, between targets).
    Only bodies holding b'"nonce"' are parsed."""
    from aiohttp import web

    ids = itertools.count(1)
    stats = {"replies": 0, "cards": 0}
    last: dict[str, bytes] = {}

    async def activities(request: web.Request) -> web.Response:
        body = await request.read()
        stats["replies"] += 1
        if b'"nonce"' in body:
            card = card_inputs(body)
            if card:
                stats["cards"] += 1
                last[request.match_info["conv"]] = json.dumps(card).encode()
        return web.Response(body=b'{"id":"r-%d"}' % next(ids), content_type="application/json")

    async def last_card(request: web.Request) -> web.Response:
        found = last.pop(request.match_info["conv"], None)
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found, content_type="application/json")

    async def report(request: web.Request) -> web.Response:
        if request.query.get("reset"):  # a new target: no card of the previous one may be read back
            last.clear()
        return web.json_response(stats)

    async def other(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b'{"id":"r-%d"}' % next(ids), content_type="application/json")

    app = web.Application()
    app.router.add_post("/v3/conversations/{conv}/activities", activities)
    app.router.add_post("/v3/conversations/{conv}/activities/{reply}", activities)
    app.router.add_get("/_last/{conv}", last_card)
    app.router.add_get("/_stats", report)
    app.router.add_route("*", "/{tail:.*}", other)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def card_inputs(body: bytes) -> dict | None:
    """The nonce, kind and input ids of the first Adaptive Card in an activity whose
    submit data holds a "nonce" (the bot's quick-check and deeper-check cards)."""
    try:
        activity = json.loads(body)
    except ValueError:
        return None
    for attachment in activity.get("attachments") or []:
        card = attachment.get("content") if isinstance(attachment, dict) else None
        if not isinstance(card, dict):
            continue
        for action in card.get("actions") or []:
            data = action.get("data") if isinstance(action, dict) else None
            if isinstance(data, dict) and data.get("nonce"):
                inputs = [e.get("id") for e in card.get("body") or [] if e.get("type") == "Input.ChoiceSet"]
                return {"nonce": data["nonce"], "kind": data.get("kh"), "inputs": inputs}
    return None


async def connector_stats(session, connector_url: str, reset: bool = False) -> dict:
    """The connector's counts; reset=True also forgets the cards it keeps."""
    async with session.get(connector_url.rstrip("/") + "/_stats" + ("?reset=1" if reset else "")) as resp:
        return await resp.json()


def sample_config(port: int) -> type:
    """The samples' config.py with auth off: no app id, as the samples run locally."""

    class DefaultConfig:
        PORT = port
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    return DefaultConfig


def serve_stock(port: int, pooled: bool = False) -> None:
    """The Bot Framework echo sample as it ships: ActivityHandler + CloudAdapter + process().
    pooled=True: the same sample with this project's authentication object
    (bot.sdk.adapter.create_authentication), to show what the reply path alone is worth."""
    from aiohttp import web
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    DefaultConfig = sample_config(port)

    class EchoBot(ActivityHandler):
        async def on_members_added_activity(self, members_added, turn_context: TurnContext):
            for member in members_added:
                if member.id != turn_context.activity.recipient.id:
                    await turn_context.send_activity("Hello and welcome!")

        async def on_message_activity(self, turn_context: TurnContext):
            return await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))

    if pooled:
        from bot.sdk.adapter import create_authentication

        adapter = CloudAdapter(create_authentication(DefaultConfig()))
    else:
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    bot = EchoBot()

    async def messages(req: web.Request) -> web.Response:
        return await adapter.process(req, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def serve_skeleton(port: int, fsync: bool = True, write: bool = True, memory: bool = False) -> None:
    """The least any bot on this project's fixed stack does per turn, with no product logic:
    the echo sample on our reply path, plus ConversationState on our TinyDB storage and a
    botbuilder-dialogs TextPrompt that is answered and asked again every turn (read the
    state, continue a dialog, send one reply, write the state). write=False asks the same
    question every turn, so the state comes out unchanged and nothing is written; memory=True
    keeps the state in botbuilder's MemoryStorage (no disk at all). It bounds
    what the real bot can reach; the gap between it and `bot` is the product's own work."""
    from aiohttp import web
    from botbuilder.core import ActivityHandler, ConversationState, MemoryStorage, MessageFactory, TurnContext
    from botbuilder.dialogs import DialogSet, DialogTurnStatus, PromptOptions, TextPrompt
    from botbuilder.integration.aiohttp import CloudAdapter

    from bot.sdk.adapter import create_authentication
    from bot.sdk.state_storage import DocStoreStorage, JsonConversationState
    from model.storage.tinydb_store import TinyDBStore

    DefaultConfig = sample_config(port)

    store = TinyDBStore(os.environ["BOT_DATA_DIR"], fsync=fsync)
    state: ConversationState = (
        ConversationState(MemoryStorage()) if memory else JsonConversationState(DocStoreStorage(store))
    )
    dialogs = DialogSet(state.create_property("dialog"))
    dialogs.add(TextPrompt("echo"))

    class SkeletonBot(ActivityHandler):
        async def on_turn(self, turn_context: TurnContext):
            await super().on_turn(turn_context)
            await state.save_changes(turn_context)

        async def on_message_activity(self, turn_context: TurnContext):
            dc = await dialogs.create_context(turn_context)
            result = await dc.continue_dialog()
            answered = result.status == DialogTurnStatus.Complete
            text = f"Echo: {result.result}" if answered and write else "Echo?"
            await dc.begin_dialog("echo", PromptOptions(prompt=MessageFactory.text(text)))

    adapter = CloudAdapter(create_authentication(DefaultConfig()))
    bot = SkeletonBot()
    gc.collect()
    gc.freeze()  # as app.py does

    async def messages(req: web.Request) -> web.Response:
        return await adapter.process(req, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def serve_floor(port: int) -> None:
    """The least a bot can do per turn: read the activity, post one reply, answer 201."""
    import aiohttp
    from aiohttp import web

    state: dict = {}

    async def session_ctx(app: web.Application):
        state["session"] = aiohttp.ClientSession()
        yield
        await state["session"].close()

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        reply = {
            "type": "message",
            "text": f"Echo: {activity.get('text')}",
            "from": activity.get("recipient"),
            "recipient": activity.get("from"),
            "conversation": activity["conversation"],
            "replyToId": activity.get("id"),
        }
        url = (
            f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{activity['conversation']['id']}"
            f"/activities/{activity.get('id')}"
        )
        async with state["session"].post(url, json=reply) as resp:
            await resp.read()
        return web.Response(status=201)

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- Teams-shaped virtual users ---------------------------------------------------------------
QUESTIONS = [
    "hvad betyder innovation for mig?",
    "hvad er gevinstrealisering",
    "hvordan kommer jeg i gang med udvikling?",
    "hvad betyder implementering og anskaffelse for mig?",
]


class Person:
    """One person in a personal chat; `script()` yields the texts/activities of a session."""

    def __init__(
        self,
        service_url: str,
        tenant: str = "tenant-bench",
        aad: str | None = None,
        user_id: str | None = None,
        conversation_id: str | None = None,
        locale: str = "da-DK",
    ) -> None:
        self.service_url = service_url
        self.tenant = tenant
        self.aad = aad or str(uuid.uuid4())
        self.user_id = user_id or f"29:{uuid.uuid4().hex}"
        self.conversation_id = conversation_id or f"a:{uuid.uuid4().hex}"
        self.locale = locale
        self._n = itertools.count(1)

    def activity(self, type_: str = "message", **fields) -> dict:
        act = {
            "type": type_,
            "id": f"act-{next(self._n)}",
            "timestamp": "2026-11-26T10:00:00.000Z",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": self.user_id, "name": "Bench", "aadObjectId": self.aad},
            "conversation": {"id": self.conversation_id, "conversationType": "personal", "tenantId": self.tenant},
            "recipient": {"id": "28:bot-id", "name": "Kompetencehjulet"},
            "channelData": {"tenant": {"id": self.tenant}},
            "locale": self.locale,
            "entities": [{"type": "clientInfo", "locale": self.locale, "timezone": "Europe/Copenhagen"}],
        }
        act.update(fields)
        return act

    def message(self, text: str) -> dict:
        return self.activity("message", text=text)

    def submit(self, value: dict) -> dict:
        """An Adaptive Card's Action.Submit as Teams sends it: a message with `value` (the
        button's data merged with the card's inputs), no text, channelData.postBack."""
        act = self.activity("message", value=value)
        act["channelData"]["postBack"] = True
        return act


def new_person_turns(person: Person, rng: random.Random, cycles: int = 2) -> list[tuple[str, dict]]:
    """A new person: install, onboarding by typed numbers, questions, self-assessments by
    typed numbers (then no deeper check), more questions. (kind, activity) per turn."""
    turns: list[tuple[str, dict]] = [
        ("install", person.activity("installationUpdate", action="add")),
        ("onboarding", person.message(str(rng.randint(1, 6)))),
        ("onboarding", person.message(str(rng.randint(1, 3)))),
    ]
    for _ in range(cycles):
        turns += stored_person_cycle(person, rng)
    return turns


def stored_person_cycle(person: Person, rng: random.Random) -> list[tuple[str, dict]]:
    """What someone who already has a profile does: ask, assess by typing, ask again."""
    turns = [("question", person.message(rng.choice(QUESTIONS))), ("assessment", person.message("vurdering"))]
    turns += [("assessment", person.message(str(rng.randint(1, 5)))) for _ in range(3)]
    turns += [
        ("assessment", person.message("spring over")),
        ("assessment", person.message("nej")),
        ("question", person.message(rng.choice(QUESTIONS))),
    ]
    return turns


# -- the driver ---------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    turns: int = 0
    seconds: float = 0.0
    latencies: list = field(default_factory=list)
    errors: int = 0
    by_kind: dict = field(default_factory=dict)
    cpu_seconds: float = 0.0
    foreign_cores: float = 0.0  # CPU others (not this benchmark) used meanwhile, in cores
    posted: int = 0  # turns answered 200/201 from the first one, warm-up included

    @property
    def rate(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))] * 1000

    def line(self) -> str:
        cpu = (
            f"  bot CPU {self.cpu_seconds * 1000 / self.turns:5.2f} ms/turn" if self.cpu_seconds and self.turns else ""
        )
        return (
            f"{self.name:<28} {self.rate:8.0f} turns/s  p50 {self.pct(50):6.2f} ms  p99 {self.pct(99):6.2f} ms"
            f"  ({self.turns} turns, {self.errors} errors){cpu}  other load {self.foreign_cores:.2f} cores"
        )

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "turns_per_s": round(self.rate, 1),
            "p50_ms": round(self.pct(50), 2),
            "p99_ms": round(self.pct(99), 2),
            "turns": self.turns,
            "errors": self.errors,
            "cpu_ms_per_turn": round(self.cpu_seconds * 1000 / self.turns, 3) if self.turns else None,
            "other_load_cores": round(self.foreign_cores, 2),
            "by_kind": {
                k: {"n": len(v), "p50_ms": round(statistics.median(v) * 1000, 2)}
                for k, v in sorted(self.by_kind.items())
                if v
            },
        }


async def drive(
    name: str,
    bot_url: str,
    make_turns,
    users: int = 16,
    duration: float = 8.0,
    warmup: float = 2.0,
    max_turns: int | None = None,
    server: Server | None = None,
) -> Result:
    """`users` concurrent people, each posting its next turn as soon as the previous HTTP
    response arrived (replies reach the connector during the turn, before the response).
    `make_turns(i, rng)` gives a list of (kind, activity) for virtual user i; when it runs
    out the user asks for a new list. An activity may be a coroutine function taking the
    client session: it is awaited just before its turn is posted (outside the turn's time),
    for turns that depend on what the bot said before, such as submitting the card it sent.
    Latency: POST to the end of the /api/messages response."""
    import aiohttp

    result = Result(name)
    connector = aiohttp.TCPConnector(limit=users + 4, limit_per_host=users + 4)
    headers = {"Content-Type": "application/json"}
    url = bot_url + "/api/messages"
    loop = asyncio.get_running_loop()
    t_start = loop.time()
    measure_from = t_start + warmup
    stop_at = measure_from + duration
    measuring = False
    cpu_at_start = 0.0
    marks = {"busy": 0.0, "own": 0.0}

    async with aiohttp.ClientSession(connector=connector) as session:

        async def user(i: int) -> None:
            nonlocal measuring, cpu_at_start
            rng = random.Random(i)
            queue: list = []
            while True:
                now = loop.time()
                if now >= stop_at or (max_turns is not None and result.turns >= max_turns):
                    return
                if not queue:
                    queue = list(make_turns(i, rng))
                kind, activity = queue.pop(0)
                if callable(activity):
                    activity = await activity(session)
                body = json.dumps(activity).encode()
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        ok = resp.status in (200, 201, 202)  # the Agents SDK answers 202
                except aiohttp.ClientError:
                    ok = False
                t1 = time.perf_counter()
                result.posted += ok
                if loop.time() >= measure_from:
                    if not measuring:
                        measuring = True
                        cpu_at_start = server.cpu_seconds() if server else 0.0
                        marks["busy"], marks["own"] = system_busy(), own_cpu()
                        result.seconds = -loop.time()
                    if ok:
                        result.turns += 1
                        result.latencies.append(t1 - t0)
                        result.by_kind.setdefault(kind, []).append(t1 - t0)
                    else:
                        result.errors += 1

        await asyncio.gather(*(user(i) for i in range(users)))
    result.seconds += loop.time()
    if server:
        result.cpu_seconds = server.cpu_seconds() - cpu_at_start
    if result.seconds > 0:
        foreign = (system_busy() - marks["busy"]) - (own_cpu() - marks["own"])
        result.foreign_cores = max(foreign, 0.0) / result.seconds
    return result


def new_people(service_url: str):
    """Every target's traffic (the echo bots and the floor get the same activities): each
    virtual user is a new person in a personal chat."""

    def make(i: int, rng: random.Random):
        return new_person_turns(Person(service_url), rng)

    return make


def du_bytes(path: Path) -> int:
    """Bytes allocated on disk, as `du` counts them."""
    return sum(st.st_blocks * 512 for st in _file_stats(path))


def apparent_bytes(path: Path) -> int:
    """Bytes of data in the files."""
    return sum(st.st_size for st in _file_stats(path))


def _file_stats(path: Path):
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                yield os.lstat(os.path.join(root, f))
            except OSError:  # removed meanwhile
                pass


if __name__ == "__main__":
    kind, port_arg = sys.argv[1], int(sys.argv[2])
    {
        "connector": serve_connector,
        "stock": serve_stock,
        "floor": serve_floor,
        "stock-pooled": lambda port: serve_stock(port, pooled=True),
        "skeleton": serve_skeleton,
        "skeleton-nofsync": lambda port: serve_skeleton(port, fsync=False),
        "skeleton-nowrite": lambda port: serve_skeleton(port, write=False),
        "skeleton-memory": lambda port: serve_skeleton(port, write=False, memory=True),
    }[kind](port_arg)
