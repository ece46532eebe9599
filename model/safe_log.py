"""What may be logged about an exception: its type and stack frames, never its message.
Messages (int("…"), KeyError('…'), a JSON error quoting its input) can hold what a
person typed or a score, and the logs must never contain either."""

from __future__ import annotations

import traceback


def without_message(error: BaseException) -> str:
    return f"{type(error).__name__}\n" + "".join(traceback.format_tb(error.__traceback__))
