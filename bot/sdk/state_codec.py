"""Plain-JSON encoding of Bot Framework dialog state.

Dialog stacks hold SDK objects (DialogState, PromptOptions, Activity, Choice ...). The
stock Blob/Cosmos storages pickle them with jsonpickle, which will instantiate any class
named in the data. This codec writes JSON and only rebuilds classes from an allow-list
of SDK and project modules, so a tampered state file cannot run code.
"""

from __future__ import annotations

import enum
import importlib
from datetime import datetime
from typing import Any

ALLOWED_PREFIXES = ("botbuilder.", "botframework.", "dialogs.")
# What decoding stored state can raise: a refused or missing module or class, or data that
# is not in the codec's shape (e.g. after an upgrade renamed a class).
DECODE_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, AttributeError, ImportError)
_TAG = "__t"


def encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):  # before str/int: some SDK enums subclass them
        cls = type(value)
        return {_TAG: "enum", "c": _allowed_path(cls), "v": value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    return {_TAG: "obj", "c": _allowed_path(type(value)), "d": encode(vars(value))}


def _allowed_path(cls: type) -> str:
    path = f"{cls.__module__}:{cls.__qualname__}"
    if not cls.__module__.startswith(ALLOWED_PREFIXES):
        raise TypeError(f"cannot store {path} in dialog state")
    return path


def _class(path: str) -> type:
    module, _, qualname = path.partition(":")
    if not module.startswith(ALLOWED_PREFIXES):
        raise ValueError(f"refusing to load {path} from dialog state")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag == "datetime":
        return datetime.fromisoformat(value["v"])
    if tag == "enum":
        return _class(value["c"])(value["v"])
    if tag == "obj":
        cls = _class(value["c"])
        obj = cls.__new__(cls)
        obj.__dict__.update(decode(value["d"]))
        return obj
    return {k: decode(v) for k, v in value.items()}
