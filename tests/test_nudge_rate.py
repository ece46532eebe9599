"""The nudge sender's pace (issue 14, defect 10): Teams allows 30 requests per second per
app per tenant (and 7 per second per conversation); the default used to be 50."""

from __future__ import annotations

import time

from bot.config import Config
from bot.nudge_sender import HEADROOM, NudgeSender, TokenBucket


def test_the_default_rate_is_teams_limit_of_30_per_second(monkeypatch, tmp_path):
    monkeypatch.delenv("NUDGE_RATE_PER_SECOND", raising=False)
    assert Config().NUDGE_RATE_PER_SECOND == 30
    assert Config.from_env().NUDGE_RATE_PER_SECOND == 30
    sender = NudgeSender(adapter=None, services=None)
    assert sender.rate == 30
    assert sender._bucket("tenant-1").rate == 30 * HEADROOM  # paced a little under the limit
    from bot.runtime import build

    runtime = build(Config(DATA_DIR=tmp_path / "data", NUDGES="off"))
    assert runtime.nudges.rate == 30


def test_the_bucket_never_goes_over_30_per_second_and_holds_for_retry_after():
    bucket = TokenBucket(30 * HEADROOM)
    import asyncio

    async def take(n: int) -> float:
        started = time.monotonic()
        for _ in range(n):
            await bucket.take()
        return time.monotonic() - started

    took = asyncio.run(take(31))  # one at once, then 30 at 28.5/s
    assert 30 / 30 <= took < 30 / (30 * HEADROOM) + 0.3, took
    bucket.hold(0.4)  # a 429 with Retry-After: 0.4
    assert asyncio.run(take(1)) >= 0.4
