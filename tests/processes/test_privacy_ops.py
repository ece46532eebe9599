"""The operator's privacy operations as a person and an operator notice them: checks taken in
Teams over HTTP, then `python app.py expire`, `forget` and `export-user` run as real
processes on the same data directory; the retention warning caught by the stand-in
connector; every file under BOT_DATA_DIR scanned byte by byte for the person afterwards."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import ROOT, BotServer, Connector, TeamsUser, say

from model import content
from model.domain.retention import DEFAULT_DAYS, WARNING_DAYS
from model.storage.docstore import doc_name

pytestmark = pytest.mark.slow  # real processes

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # when the checks are taken
WARN_DAY = DEFAULT_DAYS - WARNING_DAYS + 5  # 705: inside the last 30 days before deletion
SCORES = (2, 3, 4)  # implementation, development, innovation


def at(days: int) -> str:
    return (T0 + timedelta(days=days)).isoformat()


# -- the command line, as an operator runs it ------------------------------------------------------
def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("Microsoft", "RETENTION_", "AZURE_STORAGE", "AGGREGATES"))
    }
    env.update(BOT_DATA_DIR=str(data_dir), LOG_LEVEL="WARNING", BOT_FSYNC="0", STORAGE="tinydb", NUDGES="off")
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


async def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """In a thread, so the stand-in connector on this loop can take what the process sends."""
    return await asyncio.to_thread(_cli, data_dir, *args)


COUNTS = {  # what each prints at least
    "expire": {"scanned", "warned", "deleted", "warning_not_sent", "dry_run", "retention_days"},
    "forget": {"tenant", "deleted_people", "nothing_stored"},  # the tenant asked about, echoed
}


async def cli_json(data_dir: Path, *args: str) -> tuple[dict, str]:
    """An operator command that prints one JSON object of counts; (the object, stdout)."""
    done = await cli(data_dir, *args)
    assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
    found = json.loads(done.stdout)
    assert set(found) >= COUNTS[args[0]], found  # at least these; every value a count
    assert all(isinstance(v, (int, bool)) for k, v in found.items() if k != "tenant"), found
    return found, done.stdout


async def export_user(data_dir: Path, user: TeamsUser) -> dict | None:
    done = await cli(data_dir, "export-user", "--tenant", user.tenant, "--user", user.aad)
    if done.returncode == 1 and "nothing is stored" in done.stderr:
        return None
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout)


# -- what is stored, byte by byte -------------------------------------------------------------------
def needles(user: TeamsUser) -> dict[str, bytes]:
    return {
        "aad object id": user.aad.encode(),
        "user id": user.user_id.encode(),
        "conversation id": user.conversation_id.encode(),
        "tenant|aad key": user.key.encode(),
        "hashed key": doc_name(user.key).encode(),
    }


def files(data_dir: Path) -> dict[str, bytes]:
    """Every file under the data directory (dot-files and quarantined copies included)."""
    found = {}
    for folder, _, names in os.walk(data_dir):
        for name in names:
            path = Path(folder) / name
            found[str(path.relative_to(data_dir))] = path.read_bytes()
    return found


def mentions(data_dir: Path, user: TeamsUser) -> list[str]:
    """'file: what' for every file whose bytes (or path) hold one of the person's ids."""
    return [
        f"{name}: {what}"
        for name, data in files(data_dir).items()
        for what, needle in needles(user).items()
        if needle in data or needle in name.encode()
    ]


def no_ids_in(text: str, *people: TeamsUser) -> list[str]:
    return [f"{what} of {p.name}" for p in people for what, n in needles(p).items() if n.decode() in text]


# -- a person in Teams --------------------------------------------------------------------------------
@asynccontextmanager
async def bot_at(data_dir: Path, when: datetime):
    """The served bot on the data directory, its clock fixed at `when`; stopped afterwards,
    so the command line never runs beside it."""
    server = BotServer(data_dir)
    await server.start()
    server.runtime.services.clock = lambda: when
    try:
        yield server
    finally:
        await server.stop()


async def take_check(server, connector: Connector, user: TeamsUser, scores=SCORES) -> None:
    """Install, role Leder (manager), level 1 (use), the quick check by its Adaptive Card."""
    await say(server, connector, user.install())
    await say(server, connector, user.message("Leder"))
    await say(server, connector, user.message("1"))
    before = len(connector.activities)
    await say(server, connector, user.message("vurdering"))
    card = next(a for a in connector.activities[before:] if "nonce" in json.dumps(a.get("attachments")))
    nonce = card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]
    implementation, development, innovation = scores
    value = {
        "kh": "quick",
        "nonce": nonce,
        "implementation": str(implementation),
        "development": str(development),
        "innovation": str(innovation),
    }
    reply = await say(server, connector, user.message(value=value))
    assert "uden navn" in reply  # stored: the one line about overviews at the first check
    await say(server, connector, user.message("nej"))


def sent_to(connector: Connector, user: TeamsUser, since: int = 0) -> list[dict]:
    return [a for a in connector.activities[since:] if user.conversation_id in unquote(a.get("_path", ""))]


def assert_stored(export: dict | None, scores=SCORES) -> None:
    assert export is not None
    assert (export["profile"]["role"], export["profile"]["level"]) == ("manager", "use")
    assert [a["scores"] for a in export["assessments"]] == [
        dict(zip(("implementation", "development", "innovation"), scores, strict=True))
    ]


# -- retention ------------------------------------------------------------------------------------------
async def test_a_silent_person_is_kept_at_100_days_erased_at_800_and_one_who_wrote_at_750_stays(
    tmp_path, connector: Connector
):
    data = tmp_path / "data"
    quiet, chatty = TeamsUser(connector, name="Mette"), TeamsUser(connector, name="Jens")
    async with bot_at(data, T0) as server:
        await take_check(server, connector, quiet)
        await take_check(server, connector, chatty, scores=(4, 4, 4))
    assert {m.split(": ")[1] for m in mentions(data, quiet)} == set(needles(quiet))  # the scan finds them

    early, out = await cli_json(data, "expire", "--at", at(100))
    assert (early["scanned"], early["deleted"], early["warned"]) == (2, 0, 0)
    assert no_ids_in(out, quiet, chatty) == []
    assert_stored(await export_user(data, quiet))

    async with bot_at(data, T0 + timedelta(days=750)) as server:
        assert await say(server, connector, chatty.message("hjælp"))

    late, out = await cli_json(data, "expire", "--at", at(800))
    assert (late["scanned"], late["deleted"]) == (2, 1), late
    assert no_ids_in(out, quiet, chatty) == []
    assert mentions(data, quiet) == []
    assert await export_user(data, quiet) is None
    assert_stored(await export_user(data, chatty), scores=(4, 4, 4))
    again, _ = await cli_json(data, "expire", "--at", at(800))
    assert (again["scanned"], again["deleted"], again["warned"]) == (1, 0, 0)  # nothing more to do


async def test_expire_for_one_tenant_goes_past_a_bad_date_and_leaves_the_other_tenant(tmp_path, connector: Connector):
    """`expire --tenant` in a store two municipalities share; one person's `seen` has one
    changed character (issue 23: it used to stop every run at that person)."""
    from model.storage.tinydb_store import TinyDBStore

    data = tmp_path / "data"
    ours = [TeamsUser(connector, tenant="tenant-a", name=f"a{n}") for n in range(3)]
    theirs = TeamsUser(connector, tenant="tenant-b", name="b")
    async with bot_at(data, T0) as server:
        for user in (*ours, theirs):
            await take_check(server, connector, user)
    store = TinyDBStore(data, fsync=False)
    await store.update("users", ours[0].key, lambda d: d.update(seen=d["seen"].replace("-", "/", 1)))
    await store.close()
    before = len(connector.activities)

    done, out = await cli_json(data, "expire", "--tenant", "tenant-a", "--at", at(800))
    assert (done["scanned"], done["deleted"], done["unreadable_dates"], done["tenant"]) == (3, 2, 1, "tenant-a")
    assert no_ids_in(out, *ours, theirs) == []
    assert [await export_user(data, user) is None for user in ours] == [False, True, True]
    assert len(sent_to(connector, ours[0], before)) == 1, "judged by the date of their check, and warned first"
    assert_stored(await export_user(data, theirs))

    everyone, _ = await cli_json(data, "expire", "--at", at(801))
    assert everyone["deleted"] == 2  # the warned one and the other tenant's, without --tenant
    assert [mentions(data, user) for user in (*ours, theirs)] == [[], [], [], []]


async def test_the_warning_is_sent_once_and_a_dry_run_counts_without_changing_or_naming(tmp_path, connector: Connector):
    data = tmp_path / "data"
    user = TeamsUser(connector)
    async with bot_at(data, T0) as server:
        await take_check(server, connector, user)
    before, stored = len(connector.activities), files(data)

    dry, out = await cli_json(data, "expire", "--at", at(WARN_DAY), "--dry-run")
    assert (dry["warned"], dry["deleted"], dry["dry_run"]) == (1, 0, True)
    assert no_ids_in(out, user) == [] and len(connector.activities) == before and files(data) == stored

    first, _ = await cli_json(data, "expire", "--at", at(WARN_DAY))
    second, _ = await cli_json(data, "expire", "--at", at(WARN_DAY))
    later, _ = await cli_json(data, "expire", "--at", at(DEFAULT_DAYS - 5))
    assert [r["warned"] for r in (first, second, later)] == [1, 0, 0]
    assert [r["deleted"] for r in (first, second, later)] == [0, 0, 0]
    warnings = sent_to(connector, user, before)
    assert len(warnings) == 1 and len(connector.activities) == before + 1
    text = connector.all_text(before)
    assert f"Om {WARNING_DAYS} dage sletter jeg alt" in text and content.t("da", "retention.keep_button") in text
    assert_stored(await export_user(data, user))

    stored = files(data)
    dry, out = await cli_json(data, "expire", "--at", at(800), "--dry-run")
    assert (dry["deleted"], dry["dry_run"]) == (1, True)
    assert no_ids_in(out, user) == [] and files(data) == stored
    assert_stored(await export_user(data, user))

    async with bot_at(data, T0 + timedelta(days=DEFAULT_DAYS - 3)) as server:  # they answer the warning
        reply = await say(server, connector, user.message("hjælp"))
    assert content.t("da", "retention.kept") in reply
    kept, _ = await cli_json(data, "expire", "--at", at(800))
    assert (kept["deleted"], kept["warned"]) == (0, 0)
    assert_stored(await export_user(data, user))


# -- erasure on request ---------------------------------------------------------------------------------
async def test_forget_one_person_erases_them_at_once_and_a_second_run_has_nothing_to_do(tmp_path, connector: Connector):
    data = tmp_path / "data"
    gone, stays = TeamsUser(connector, name="Mette"), TeamsUser(connector, name="Jens")
    async with bot_at(data, T0) as server:
        await take_check(server, connector, gone)
        await take_check(server, connector, stays)
    assert mentions(data, gone)

    done, out = await cli_json(data, "forget", "--tenant", gone.tenant, "--user", gone.aad)
    assert (done["deleted_people"], done["nothing_stored"]) == (1, 0), done
    assert no_ids_in(out, gone, stays) == [] and "manager" not in out
    assert mentions(data, gone) == []
    assert await export_user(data, gone) is None
    assert_stored(await export_user(data, stays))

    again, _ = await cli_json(data, "forget", "--tenant", gone.tenant, "--user", gone.aad)
    assert (again["deleted_people"], again["nothing_stored"]) == (0, 1), again

    welcome = content.t("da", "msg.welcome").split("\n")[0]
    async with bot_at(data, T0 + timedelta(days=1)) as server:
        greeted = await say(server, connector, gone.message("hej"))
        known = await say(server, connector, stays.message("hej"))
    assert welcome in greeted and content.t("da", "msg.ask_role") in greeted  # a new person: role asked again
    assert welcome not in known  # the one kept is still known


async def test_forget_all_erases_a_whole_tenant_and_leaves_another_tenant(tmp_path, connector: Connector):
    data = tmp_path / "data"
    left = [TeamsUser(connector, tenant="tenant-a"), TeamsUser(connector, tenant="tenant-a")]
    other = TeamsUser(connector, tenant="tenant-b")
    async with bot_at(data, T0) as server:
        for user in (*left, other):
            await take_check(server, connector, user)

    done, out = await cli_json(data, "forget", "--tenant", "tenant-a", "--all")
    assert done["deleted_people"] == 2, done
    assert no_ids_in(out, *left, other) == []
    assert [mentions(data, user) for user in left] == [[], []]
    assert [await export_user(data, user) for user in left] == [None, None]
    assert_stored(await export_user(data, other))
    assert mentions(data, other)
    again, _ = await cli_json(data, "forget", "--tenant", "tenant-a", "--all")
    assert again["deleted_people"] == 0, again


# -- access on request -----------------------------------------------------------------------------------
async def test_export_user_prints_the_same_json_as_the_persons_own_eksport(tmp_path, connector: Connector):
    data = tmp_path / "data"
    user = TeamsUser(connector)
    async with bot_at(data, T0) as server:
        await take_check(server, connector, user)
        before = len(connector.activities)
        await say(server, connector, user.message("eksport"))
        status, _ = await server.post(connector.accept_file(user, before))
        assert status in (200, 201)
    (body, _), *_ = connector.uploads.values()
    own = json.loads(body)

    printed = await export_user(data, user)
    assert_stored(printed)
    assert set(printed) == set(own)
    assert {k: v for k, v in printed.items() if k != "exported"} == {k: v for k, v in own.items() if k != "exported"}
