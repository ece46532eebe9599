"""The command-line contract: `ask --json`, `package`, `send-nudges --at` input checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT


def run(*args: str, data_dir=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    if data_dir is not None:
        env["BOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_ask_json_prints_one_object_per_question_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    result = run(
        "ask",
        "--json",
        "what does Innovation mean for me?",
        "hvad betyder anskaffelse for mig",
        "hvad bliver vejret i morgen",
        data_dir=data,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["topic"] for r in rows] == ["innovation", "implementation", None]
    assert [r["language"] for r in rows] == ["en", "da", "da"]
    assert set(rows[0]) == {
        "question",
        "topic",
        "competence",
        "role",
        "intent",
        "language",
        "confidence",
        "alternatives",
        "answer",
    }
    assert rows[0]["alternatives"] == []
    assert "Innovation" in rows[0]["answer"] and "Implementering og anskaffelse" in rows[1]["answer"]
    assert "kan jeg desværre ikke hjælpe med" in rows[2]["answer"]
    assert all(0 <= r["confidence"] <= 1 for r in rows)
    assert not data.exists()


def test_ask_personalises_with_role_and_level():
    result = run("ask", "--json", "--role", "manager", "--level", "steer", "what does Innovation mean for me?")
    answer = json.loads(result.stdout)["answer"]
    assert answer.startswith("You are a manager, and you steer the work")


def test_ask_rejects_an_unknown_role_clearly():
    result = run("ask", "--role", "astronaut", "--level", "steer", "innovation?")
    assert result.returncode == 2 and "--role must be one of" in result.stderr


def test_package_fails_clearly_on_a_malformed_guid(tmp_path):
    result = run("package", "--app-id", "not-a-guid", "--out", str(tmp_path / "x.zip"))
    assert result.returncode == 2 and "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in result.stderr
    ok = run("package", "--app-id", "12345678-1234-1234-1234-123456789abc", "--out", str(tmp_path / "x.zip"))
    assert ok.returncode == 0 and (tmp_path / "x.zip").exists()


def test_send_nudges_rejects_a_malformed_time(tmp_path):
    result = run("send-nudges", "--at", "next tuesday", data_dir=tmp_path / "data")
    assert result.returncode == 2 and "ISO time" in result.stderr


async def _people_of_two_tenants(data_dir) -> None:
    """Tenant kommune-a: five people, one more whose check has a bad date, and a team whose
    name is a spreadsheet formula; tenant kommune-b: five people."""
    from model.domain.aggregates import Overviews
    from model.domain.users import Users, user_key
    from model.storage.tinydb_store import TinyDBStore

    store = TinyDBStore(data_dir, fsync=False)
    users = Users(store)

    async def person(tenant: str, n: int, score: int, at: str = "2026-11-20T10:00:00+00:00") -> str:
        key = user_key(tenant, f"aad-{n}")
        await users.remember_conversation(key, {"user": {"id": f"u-{n}", "aadObjectId": f"aad-{n}"}}, None, True)
        check = {"id": f"c-{tenant}-{n}", "at": at, "tenant": tenant, "role": "it", "level": "use"}
        await users.add_assessment(key, {**check, "scores": {"implementation": score, "development": 3}})
        return key

    team = [await person("kommune-a", n, 3) for n in range(5)]
    await person("kommune-a", 5, 1, at="2026-13-45T10:00:00+00:00")  # one changed character
    for n in range(10, 15):
        await person("kommune-b", n, 5)
    await Overviews(store).remember_roster("19:a@thread", '=HYPERLINK("https://evil.example","klik")', team)
    await store.close()


async def test_report_is_per_tenant_skips_a_bad_date_and_writes_no_formula(tmp_path):
    data = tmp_path / "data"
    await _people_of_two_tenants(data)

    mixed = run("report", "--by", "role", data_dir=data)
    assert mixed.returncode == 2 and "2 tenants" in mixed.stderr and "--tenant" in mixed.stderr
    assert "kommune" not in mixed.stderr + mixed.stdout

    b = run("report", "--by", "role", "--tenant", "kommune-b", data_dir=data)
    (group,) = json.loads(b.stdout)["groups"]
    assert group["people"] == 5 and group["subareas"]["implementation"]["mean"] == 5.0

    quarters = run("report", "--by", "quarter", "--tenant", "kommune-a", data_dir=data)
    assert quarters.returncode == 0, quarters.stderr
    found = json.loads(quarters.stdout)
    assert [(g["key"], g["people"]) for g in found["groups"]] == [("2026-Q4", 5)] and found["skipped_checks"] == 1
    assert "left out 1 check" in quarters.stderr

    csv_text = run("report", "--by", "team", "--tenant", "kommune-a", "--format", "csv", data_dir=data).stdout
    assert "'=HYPERLINK(" in csv_text and ',"=HYPERLINK' not in csv_text


OFFER = "trends:\n  - title: Kommunens AI-café\n    text: Kom til AI-caféen hver torsdag.\n    kind: course\n"
IMPROVE_TRENDS = "hvordan bliver jeg bedre til at følge med i trends"


def test_ask_answers_with_the_municipalitys_offers_from_resources_file(tmp_path, monkeypatch):
    offers = tmp_path / "offers.yaml"
    offers.write_text(OFFER, encoding="utf-8")
    monkeypatch.setenv("RESOURCES_FILE", str(offers))
    result = run("ask", "--json", IMPROVE_TRENDS)
    assert result.returncode == 0, result.stderr
    assert "Kommunens AI-café" in json.loads(result.stdout)["answer"]
