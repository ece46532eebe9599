"""The nudge sender's pace: Teams allows 50 requests per second per app per tenant (and 7 per
second per conversation), per its rate-limit page dated 2026-10-08 (issue 28; issue 14 had
set 30, the limit the page gave before)."""

from __future__ import annotations

import asyncio

from bot.config import Config
from bot.nudge_sender import HEADROOM, NudgeSender, TokenBucket


def test_the_default_rate_is_teams_limit_of_50_per_second(monkeypatch, tmp_path):
    monkeypatch.delenv("NUDGE_RATE_PER_SECOND", raising=False)
    assert Config().NUDGE_RATE_PER_SECOND == 50
    assert Config.from_env().NUDGE_RATE_PER_SECOND == 50
    sender = NudgeSender(adapter=None, services=None)
    assert sender.rate == 50
    assert sender._bucket("tenant-1").rate == 50 * HEADROOM  # paced a little under the limit
    from bot.runtime import build

    runtime = build(Config(DATA_DIR=tmp_path / "data", NUDGES="off"))
    assert runtime.nudges.rate == 50


def test_the_rate_stays_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv("NUDGE_RATE_PER_SECOND", "20")
    config = Config.from_env()
    assert config.NUDGE_RATE_PER_SECOND == 20
    from bot.runtime import build

    config.DATA_DIR, config.NUDGES = tmp_path / "data", "off"
    assert build(config).nudges.rate == 20


class FakeTime:
    """A clock that moves only when the bucket sleeps: no wall time in the test."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_bucket_never_goes_over_50_per_second_and_holds_for_retry_after():
    time = FakeTime()
    bucket = TokenBucket(50 * HEADROOM, clock=time.clock, sleep=time.sleep)

    async def take(n: int) -> float:
        started = time.now
        for _ in range(n):
            await bucket.take()
        return time.now - started

    took = asyncio.run(take(51))  # one at once, then 50 at 47.5/s
    assert abs(took - 50 / (50 * HEADROOM)) < 1e-9, took
    assert took > 1.0  # never 50 in a second
    bucket.hold(0.4)  # a 429 with Retry-After: 0.4
    held = asyncio.run(take(1))
    assert held >= 0.4
    assert abs(held - (0.4 + 1 / (50 * HEADROOM))) < 1e-9  # the held time, then the next token
