"""The kill-under-load run (bench/crash.py) in small: the real bot killed with SIGKILL again
and again while people take checks and delete their data loses no acknowledged check,
stores none twice, and leaves no temporary file and no trace of a deleted person."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_sigkills_under_load_lose_nothing_and_leave_nothing():
    run = subprocess.run(
        [sys.executable, "bench/crash.py", "--users", "6", "--kills", "4", "--interval", "1.5", "--seconds", "12"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "missing 0, duplicated 0" in run.stdout and "temporary files left 0" in run.stdout
