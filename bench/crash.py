"""Kill-under-load: the real bot (`python app.py`, fsync on) killed with SIGKILL again and
again while people take checks and delete their data, then counted.

    python bench/crash.py [--users 20] [--kills 12] [--interval 1.5] [--seconds 30]

Each virtual person onboards, then takes checks by typing ("vurdering", three scores,
"spring over" for the note, "nej" to the deeper round); a check is *acknowledged* when
the bot's reply "Dit tjek er gemt" reached the stand-in connector and the HTTP turn was
answered. Some people delete their data now and then ("slet mine data", "Ja, slet alt")
and come back as someone new. The bot is killed with SIGKILL every `--interval` seconds
and started again; people retry when it is down.

At the end (after a clean last start, which sweeps what the kills left) it prints:
acknowledged checks and how many of them are missing from storage (must be 0), checks
stored more than once (must be 0), temporary files left under BOT_DATA_DIR (must be 0),
and files that still mention a deleted person (must be 0). Exit status 1 if any is not 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from common import ROOT, Person, start_bot, wait_listening

SAVED = "Dit tjek er gemt"
DELETED = "Jeg har slettet alt"


class Connector:
    """A stand-in connector in this process: the texts the bot sent, per conversation."""

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = defaultdict(list)
        self.url = ""

    async def start(self) -> None:
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            body = await request.json() if request.can_read_body else {}
            parts = request.path.split("/")
            if "conversations" in parts and request.method == "POST":
                conversation = parts[parts.index("conversations") + 1]
                text = " ".join(
                    [body.get("text") or ""]
                    + [json.dumps(a.get("content"), ensure_ascii=False) for a in body.get("attachments") or []]
                )
                self.texts[conversation].append(text)
            return web.json_response({"id": uuid.uuid4().hex})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"


class Tally:
    def __init__(self) -> None:
        self.acknowledged: dict[str, int] = defaultdict(int)  # person key -> checks acknowledged
        self.attempted: dict[str, int] = defaultdict(int)  # person key -> checks sent (answered or not)
        self.deleted: list[Person] = []
        self.deletions_acknowledged = 0
        self.uncertain = 0  # deletions whose answer never came (the bot was killed meanwhile)
        self.turns = 0
        self.refused = 0


async def person_loop(i: int, bot: dict, connector: Connector, tally: Tally, stop_at: float, rng: random.Random):
    import aiohttp

    from model.domain.users import user_key

    async with aiohttp.ClientSession() as session:

        async def turn(person: Person, activity: dict) -> list[str] | None:
            """The bot's replies to one activity, or None when the bot was down or died mid-turn."""
            conversation = person.conversation_id
            before = len(connector.texts[conversation])
            try:
                async with session.post(
                    bot["url"] + "/api/messages",
                    data=json.dumps(activity).encode(),
                    headers={"Content-Type": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as resp:
                    await resp.read()
                    ok = resp.status in (200, 201)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok = False
            if not ok:
                tally.refused += 1
                await asyncio.sleep(0.2)
                return None
            tally.turns += 1
            return connector.texts[conversation][before:]

        def new_person() -> Person:
            return Person(connector.url, tenant="tenant-crash")

        person = new_person()
        onboarded = False
        while time.monotonic() < stop_at:
            key = user_key(person.tenant, person.aad)
            if not onboarded:
                steps = [person.activity("installationUpdate", action="add"), person.message("2"), person.message("1")]
                if all([await turn(person, s) is not None for s in steps]):
                    onboarded = True
                continue
            if rng.random() < 0.12:  # delete everything, then come back as someone new
                if await turn(person, person.message("slet mine data")) is None:
                    continue
                replies = await turn(person, person.message("Ja, slet alt"))
                if replies is None:  # died mid-deletion: deleted or not, nobody was told; count neither
                    tally.uncertain += 1
                elif any(DELETED in r for r in replies):
                    tally.deletions_acknowledged += 1
                    tally.deleted.append(person)
                else:
                    continue
                tally.acknowledged.pop(key, None)
                tally.attempted.pop(key, None)
                person, onboarded = new_person(), False
                continue
            script = ["vurdering", *(str(rng.randint(1, 5)) for _ in range(3)), "spring over"]
            for number, text in enumerate(script):
                if number == len(script) - 1:
                    tally.attempted[key] += 1  # sent: it may be stored even if the bot dies before answering
                replies = await turn(person, person.message(text))
                if replies is None:
                    break
                if number == len(script) - 1 and any(SAVED in r for r in replies):
                    tally.acknowledged[key] += 1
            await turn(person, person.message("nej"))


def start(data_dir: Path, log: Path) -> dict:
    server = start_bot(data_dir, fsync=True, log=log, nudges=False)
    wait_listening(server, timeout=60)
    return {"server": server, "url": server.url}


async def main_async(args) -> int:
    sys.path.insert(0, str(ROOT))
    from model.domain.users import user_key
    from model.storage.tinydb_store import TinyDBStore

    work = Path(tempfile.mkdtemp(prefix="kh-crash-"))
    data_dir = work / "data"
    connector = Connector()
    await connector.start()
    bot = start(data_dir, work / "bot-0.log")
    tally = Tally()
    stop_at = time.monotonic() + args.seconds
    people = [
        asyncio.create_task(person_loop(i, bot, connector, tally, stop_at, random.Random(i))) for i in range(args.users)
    ]
    kills = 0
    while time.monotonic() < stop_at and kills < args.kills:
        await asyncio.sleep(args.interval * random.uniform(0.6, 1.4))
        bot["server"].proc.send_signal(signal.SIGKILL)
        bot["server"].proc.wait()
        kills += 1
        bot.update(await asyncio.to_thread(start, data_dir, work / f"bot-{kills}.log"))
    await asyncio.gather(*people)
    bot["server"].proc.send_signal(signal.SIGKILL)  # the last one too, mid-load or just after
    bot["server"].proc.wait()
    kills += 1
    final = await asyncio.to_thread(start, data_dir, work / "bot-final.log")  # its start-up sweeps
    final["server"].stop()

    store = TinyDBStore(data_dir, fsync=False)
    missing = duplicated = stored_total = 0
    for key, acked in tally.acknowledged.items():
        doc, _ = await store.read("users", key)
        items = (doc or {}).get("assessments", [])
        ids = [a.get("id") for a in items]
        stored_total += len(items)
        duplicated += len(ids) - len(set(ids))
        missing += max(0, acked - len(items))
        if acked > len(items) or len(items) > tally.attempted[key]:
            print(f"  person {key[-8:]}: acknowledged {acked}, sent {tally.attempted[key]}, stored {len(items)}")
        if len(items) > tally.attempted[key]:
            duplicated += len(items) - tally.attempted[key]
    temporaries = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob(".tmp-*"))
    needles = [n for p in tally.deleted for n in (p.aad, p.user_id, p.conversation_id)]
    mentioning = []
    for start_at in range(0, len(needles), 200):
        found = subprocess.run(
            ["grep", "-rlF", *[f"-e{n}" for n in needles[start_at : start_at + 200]], str(data_dir)],
            capture_output=True,
            text=True,
        )
        mentioning += found.stdout.split()
    deleted_docs = sum(1 for p in tally.deleted if store.path("users", user_key(p.tenant, p.aad)).exists())
    acked = sum(tally.acknowledged.values())
    print(f"kill-under-load: {args.users} people, {kills} SIGKILLs, fsync on, {args.seconds:.0f} s, data in {work}")
    print(f"  turns answered {tally.turns}, refused while down {tally.refused}")
    print(f"  checks acknowledged {acked}, stored {stored_total}, missing {missing}, duplicated {duplicated}")
    print(
        f"  deletions acknowledged {tally.deletions_acknowledged} (and {tally.uncertain} cut off by a kill), "
        f"person documents left {deleted_docs}, "
        f"files mentioning a deleted person {len(set(mentioning))}"
    )
    print(f"  temporary files left {len(temporaries)}")
    bad = missing or duplicated or temporaries or mentioning or deleted_docs
    if bad:
        print("  FAILED:", temporaries[:5], sorted(set(mentioning))[:5])
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--interval", type=float, default=1.5, help="seconds between kills (jittered)")
    parser.add_argument("--seconds", type=float, default=30.0)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
