"""Repeated error records let through once a minute, with a count of those dropped: asyncio
and aiohttp log one record per event, and near the open-files limit that was a traceback
per refused accept (bot/http/serving.py)."""

from __future__ import annotations

import logging
import time
from typing import Callable


class RepeatFilter(logging.Filter):
    """One record per (logger, first line of its message) per `interval`; the next one let
    through says how many were dropped. For loggers that repeat one error per event, such
    as asyncio's "socket.accept() out of system resource" (a traceback each, up to the
    listen backlog per loop pass)."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [last let through, dropped since]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg).split("\n", 1)[0][:200])
        now = self.clock()
        slot = self._seen.get(key)
        if slot is not None and now - slot[0] < self.interval:
            slot[1] += 1
            return False
        dropped = int(slot[1]) if slot else 0
        self._seen[key] = [now, 0]
        if len(self._seen) > 1000:
            self._seen.pop(next(iter(self._seen)))
        if dropped and isinstance(record.msg, str):
            record.msg += f"\n({dropped} more like this in the last {self.interval:g} s were not logged)"
        return True


REPEATING_LOGGERS = ("asyncio", "aiohttp.server", "aiohttp.web", "aiohttp.internal")


def quiet_repeats(interval: float = 60.0) -> None:
    for name in REPEATING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(RepeatFilter(interval))
