"""The organisation's view over the protocol: checks taken in Teams, the report command, leaving
out, export, deletion, and the team overview in a channel from a stand-in roster."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, BotServer, TeamsUser, say


def _report(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "report", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


async def _take_check(server, connector, user: TeamsUser, role: str, scores: tuple[int, int, int]) -> None:
    await say(server, connector, user.install())
    await say(server, connector, user.message(role))
    await say(server, connector, user.message("1"))
    before = len(connector.activities)
    await say(server, connector, user.message("vurdering"))
    card = next(a for a in connector.activities[before:] if "nonce" in json.dumps(a.get("attachments")))
    nonce = card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]
    implementation, development, innovation = scores
    reply = await say(
        server,
        connector,
        user.message(
            value={
                "kh": "quick",
                "nonce": nonce,
                "implementation": str(implementation),
                "development": str(development),
                "innovation": str(innovation),
            }
        ),
    )
    assert "uden navn" in reply  # the one short line at the first check
    await say(server, connector, user.message("nej"))


@pytest.mark.slow
async def test_report_by_role_shows_groups_of_five_or_more_and_follows_leaving_out_and_deletion(tmp_path, connector):
    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        frontline = [TeamsUser(connector) for _ in range(7)]
        for n, user in enumerate(frontline):
            await _take_check(server, connector, user, "Borgernær medarbejder", (1 + n % 5, 3, 4))
        for user in [TeamsUser(connector) for _ in range(3)]:
            await _take_check(server, connector, user, "Leder", (5, 5, 5))
    finally:
        await server.stop()

    found = json.loads(_report(tmp_path / "data", "--by", "role", "--format", "json").stdout)
    assert found["k"] == 5 and found["by"] == "role" and found["suppressed"] == 1
    (group,) = found["groups"]
    assert group["key"] == "frontline" and group["people"] == 7
    assert group["subareas"]["implementation"] == {"mean": 2.6, "counts": [2, 2, 1, 1, 1]}
    assert group["subareas"]["innovation"] == {"mean": 4.0, "counts": [0, 0, 0, 7, 0]}

    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        reply = await say(server, connector, frontline[0].message("tæl mig ikke med"))
        assert "tæller ikke med" in reply
        reply = await say(server, connector, frontline[0].message("profil"))
        assert "Tæller med i anonyme overblik: nej" in reply
        await say(server, connector, frontline[0].message("eksport"))
        summary_and_card = json.dumps(connector.activities[-2:], ensure_ascii=False)
        assert "file.consent" in summary_and_card
        export = await server.runtime.services.export(frontline[0].key)
        assert export["counted_in_overviews"] is False and export["profile"]["counted"] is False
    finally:
        await server.stop()
    assert json.loads(_report(tmp_path / "data", "--by", "role").stdout)["groups"][0]["people"] == 6

    server = BotServer(tmp_path / "data")
    await server.start()
    try:
        await say(server, connector, frontline[1].message("slet mine data"))
        await say(server, connector, frontline[1].message("Ja, slet alt"))
    finally:
        await server.stop()
    people = {
        by: [g["people"] for g in json.loads(_report(tmp_path / "data", "--by", by).stdout)["groups"]]
        for by in ("role", "level", "quarter")
    }
    assert people == {"role": [5], "level": [8], "quarter": [8]}  # 7 (or 10) minus the one out, the one deleted
    from model.storage.docstore import doc_name

    ledgers = [p.read_text() for p in (tmp_path / "data" / "reports").rglob("*.json")]
    assert ledgers and not any(doc_name(frontline[1].key) in text for text in ledgers)
    csv_text = _report(tmp_path / "data", "--by", "role", "--format", "csv").stdout
    assert csv_text.startswith("by,group,people,subarea,mean") and "frontline,5,implementation" in csv_text
    page = tmp_path / "report.html"
    assert _report(tmp_path / "data", "--by", "role", "--format", "html", "--out", str(page)).returncode == 0
    assert "data:image/png;base64," in page.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_report_refuses_when_the_municipality_turned_overviews_off(tmp_path):
    env = {**os.environ, "BOT_DATA_DIR": str(tmp_path / "data"), "AGGREGATES": "off"}

    def report() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "report", "--by", "role"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )

    off = report()
    assert off.returncode == 2 and "AGGREGATES=off" in off.stderr
    env["AGGREGATES"], env["AGGREGATES_MIN_GROUP"] = "opt-out", "3"
    low = report()
    assert low.returncode != 0 and "at least 5" in low.stderr + low.stdout


async def test_team_overview_in_a_channel_from_the_teams_roster(server, connector):
    people = [TeamsUser(connector) for _ in range(6)]
    for n, user in enumerate(people):
        await _take_check(server, connector, user, "IT og digitalisering", (2 + n % 3, 3, 4))
    team = "19:team-abc@thread.tacv2"
    # Teams' roster calls name the Entra id objectId (aadObjectId in other calls): both are read
    connector.rosters[team] = [{"id": u.user_id, "name": "Someone", "objectId": u.aad} for u in people[:4]]
    channel = TeamsUser(connector, conversation_type="channel")
    channel.aad, channel.user_id = people[0].aad, people[0].user_id

    def in_channel(text: str) -> dict:
        activity = channel.message(text)
        activity["conversation"]["id"] = f"{team};messageid=1"
        activity["channelData"]["team"] = {"id": team, "name": "Digitalisering"}
        return activity

    reply = await say(server, connector, in_channel("holdets billede"))
    assert "for lille" in reply and "mindst 5" in reply
    assert "4" not in reply and "1" not in reply  # how many count in a small team says who uses the bot
    assert all(u.aad not in reply and "Someone" not in reply for u in people)
    connector.rosters[team] = [{"id": u.user_id, "aadObjectId": u.aad} for u in people[:5]]
    before = len(connector.activities)
    reply = await say(server, connector, in_channel("team overview"))
    assert "Holdets billede" in reply and "5 tæller med" in reply
    assert "gennemsnit 3" in reply or "gennemsnit 2,8" in reply
    card = connector.activities[before]["attachments"][0]["content"]
    assert any(block.get("type") == "Image" for block in card["body"])
    personal = await say(server, connector, people[0].message("holdets billede"))
    assert "kanal i et team" in personal
    # the owner removes one member and asks again: the difference would be that member's answers
    connector.rosters[team] = [{"id": u.user_id, "aadObjectId": u.aad} for u in people[:4] + people[5:6]]
    reply = await say(server, connector, in_channel("holdets billede"))
    assert "Holdets billede" not in reply and "ligner for meget et billede" in reply
