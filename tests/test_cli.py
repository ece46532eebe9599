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
