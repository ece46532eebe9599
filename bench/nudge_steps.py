"""`python bench/nudge_steps.py` runs `python app.py` with the nudge sender's steps timed,
for bench/wave_blob.py --steps: how long a nudge waits for its tenant's pace, how long its
claim's write takes, how long from the claim's answer to the connector's answer, and how
long settling takes. At exit it appends one JSON line of means and 90th percentiles (in
ms) to $NUDGE_STEPS_OUT.

A kill loses the nudges whose claim may have been written and whose request had not yet
reached the connector: a claim's write plus the time from its answer to the request.
Timing wraps the project's own methods from outside; nothing in the bot changes.
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bot.nudge_sender as sender  # noqa: E402
from model.domain.reminders import Reminders  # noqa: E402

steps: dict[str, list[float]] = {"pace_wait": [], "claim_write": [], "claim_answer_to_sent": [], "settle": []}


def timed(name: str, method):
    async def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            steps[name].append(time.perf_counter() - began)

    return wrapper


deliver = sender.NudgeSender._deliver


async def timed_deliver(self, reference, activity, bucket, report, claim, unclaim=None):
    answered: list[float] = []

    async def timed_claim() -> bool:
        won = await claim()
        answered.append(time.perf_counter())
        return won

    outcome = await deliver(self, reference, activity, bucket, report, timed_claim, unclaim)
    if answered and outcome == "sent":
        steps["claim_answer_to_sent"].append(time.perf_counter() - answered[-1])
    return outcome


sender.TokenBucket.take = timed("pace_wait", sender.TokenBucket.take)  # type: ignore[method-assign]
Reminders.claim = timed("claim_write", Reminders.claim)  # type: ignore[method-assign]
Reminders.settle = timed("settle", Reminders.settle)  # type: ignore[method-assign]
sender.NudgeSender._deliver = timed_deliver  # type: ignore[method-assign]


def write() -> None:
    summary = {
        name: {
            "n": len(values),
            "mean_ms": round(1000 * statistics.mean(values), 1),
            "p90_ms": round(1000 * sorted(values)[int(0.9 * len(values))], 1),
        }
        for name, values in steps.items()
        if values
    }
    with open(os.environ["NUDGE_STEPS_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    atexit.register(write)
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
