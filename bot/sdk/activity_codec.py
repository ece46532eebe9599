"""Activities to and from JSON dicts, with msrest's exact results in a fraction of its time.

msrest walks each model generically on every call (type-string dispatch, a key
transformer and a copied descriptor per attribute, and, before serialising a body, a full
deserialising pass over the model); that was about a quarter of a turn's CPU. Here each
model class gets a plan once (attribute, JSON key, kind) and the walk follows the plan.

Only the shapes a Bot Framework activity takes are handled: strings, numbers, booleans,
`object` (plain JSON), ISO datetimes, nested models, lists and dicts of them. Anything
else raises `Unsupported`, and the caller hands the whole value to msrest instead, so
the result never differs from msrest's; `tests/dialogs/test_activity_codec.py` compares the two
on every shape the bot sends and receives.
"""

from __future__ import annotations

import datetime
import enum
from typing import Any

from botbuilder.schema import Activity, ConversationReference
from msrest.serialization import Deserializer, Model, Serializer


class Unsupported(Exception):
    """A value outside the handled shapes: use msrest for this one."""


_BASIC = {"str": str, "bool": bool, "int": int, "float": float}
_JSON_SCALARS = (str, int, float, bool)


class Codec:
    """Plans per model class, looked up by name in `models` (the schema's classes)."""

    def __init__(self, models: dict[str, type]) -> None:
        self.models = models
        self._plans: dict[type, list[tuple[str, str, Any]]] = {}
        self._keys: dict[type, frozenset[str]] = {}  # the JSON keys of each planned class

    # -- plans ------------------------------------------------------------------------------
    def _kind(self, type_name: Any) -> Any:
        """('basic', str) | ('object',) | ('iso',) | ('model', cls) | ('list', kind) | ('dict', kind)."""
        if not isinstance(type_name, str):
            return ("unsupported",)
        if type_name in _BASIC:
            return ("basic", _BASIC[type_name])
        if type_name == "object":
            return ("object",)
        if type_name == "iso-8601":
            return ("iso",)
        if len(type_name) > 2 and type_name[0] + type_name[-1] in ("[]", "{}"):
            inner = self._kind(type_name[1:-1])
            return ("list" if type_name[0] == "[" else "dict", inner)
        cls = self.models.get(type_name)
        if isinstance(cls, type) and issubclass(cls, Model):
            return ("model", cls)
        return ("unsupported",)

    def plan(self, cls: type[Model]) -> list[tuple[str, str, Any]]:
        plan = self._plans.get(cls)
        if plan is None:
            plan = []
            for attr, desc in cls._attribute_map.items():
                key = desc["key"]
                if (
                    not key
                    or "." in key
                    or getattr(cls, "_validation", {}).get(attr)
                    or getattr(cls, "_subtype_map", None)
                ):
                    raise Unsupported(f"{cls.__name__}.{attr}")
                plan.append((attr, key, self._kind(desc["type"])))
            self._plans[cls] = plan
            self._keys[cls] = frozenset(key for _, key, _ in plan)
        return plan

    # -- model -> JSON dict -------------------------------------------------------------------
    def to_dict(self, obj: Model) -> dict[str, Any]:
        """What `Serializer.body(obj, type(obj).__name__)` returns."""
        out: dict[str, Any] = {}
        for attr, key, kind in self.plan(type(obj)):
            value = getattr(obj, attr, None)
            if value is not None:
                out[key] = self._out(value, kind)
        return out

    def _out(self, value: Any, kind: Any) -> Any:
        tag = kind[0]
        if tag == "basic":
            expected = kind[1]
            if type(value) is expected:
                return value
            if expected is str and isinstance(value, enum.Enum) and isinstance(value.value, str):
                return value.value
            if expected is float and type(value) is int:
                return float(value)
            raise Unsupported(type(value).__name__)
        if tag == "object":
            return self._out_object(value)
        if tag == "model":
            if not isinstance(value, Model):
                raise Unsupported("a dict where a model belongs")
            return self.to_dict(value)
        if tag == "list":
            if type(value) is not list:
                raise Unsupported(type(value).__name__)
            return [None if item is None else self._out(item, kind[1]) for item in value]
        if tag == "dict":
            if type(value) is not dict:
                raise Unsupported(type(value).__name__)
            return {_key(k): None if v is None else self._out(v, kind[1]) for k, v in value.items()}
        if tag == "iso" and isinstance(value, datetime.datetime):
            return Serializer.serialize_iso(value)
        raise Unsupported(tag)

    def _out_object(self, value: Any) -> Any:
        kind = type(value)
        if kind in _JSON_SCALARS:
            return value
        if kind is dict:
            return {_key(k): None if v is None else self._out_object(v) for k, v in value.items()}
        if kind is list:
            return [None if v is None else self._out_object(v) for v in value]
        if isinstance(value, Model):  # a card model as an attachment's content
            return self.to_dict(value)
        raise Unsupported(kind.__name__)  # datetimes, enums inside `object`: msrest's rules

    # -- JSON dict -> model -------------------------------------------------------------------
    def from_dict(self, cls: type, data: Any) -> Model:
        """What `cls.deserialize(data)` returns (unknown keys in `additional_properties`)."""
        if type(data) is not dict:
            raise Unsupported("not an object")
        kwargs = {}
        for attr, key, kind in self.plan(cls):
            raw = data.get(key)
            kwargs[attr] = None if raw is None else self._in(raw, kind)
        obj = cls(**kwargs)
        keys = self._keys[cls]
        extra = {k: v for k, v in data.items() if k not in keys}
        if extra:
            obj.additional_properties = extra
        return obj

    def _in(self, raw: Any, kind: Any) -> Any:
        tag = kind[0]
        if tag == "basic":
            expected = kind[1]
            if type(raw) is expected:
                return raw
            if expected is float and type(raw) is int:
                return float(raw)
            raise Unsupported(type(raw).__name__)
        if tag == "object":
            return raw  # plain JSON: msrest returns an equal copy
        if tag == "model":
            return self.from_dict(kind[1], raw)
        if tag == "list":
            if type(raw) is not list:
                raise Unsupported("not a list")
            return [None if item is None else self._in(item, kind[1]) for item in raw]
        if tag == "dict":
            if type(raw) is not dict:
                raise Unsupported("not an object")
            return {k: None if v is None else self._in(v, kind[1]) for k, v in raw.items()}
        if tag == "iso" and type(raw) is str:
            return Deserializer.deserialize_iso(raw)
        raise Unsupported(tag)


def _key(key: Any) -> str:
    if type(key) is str:
        return key
    raise Unsupported("a non-string key")


_codec: Codec | None = None


def codec() -> Codec:
    global _codec
    if _codec is None:
        from botframework.connector import models

        _codec = Codec({k: v for k, v in vars(models).items() if isinstance(v, type)})
    return _codec


def read_activity(body: dict[str, Any]) -> Activity:
    """`Activity().deserialize(body)`, fast for every shape Teams and Direct Line send."""
    try:
        return codec().from_dict(Activity, body)
    except Unsupported:
        return Activity().deserialize(body)


def read_reference(data: dict[str, Any]) -> ConversationReference:
    """`ConversationReference().deserialize(data)`, fast: a nudge wave reads one per person."""
    try:
        return codec().from_dict(ConversationReference, data)
    except Unsupported:
        return ConversationReference().deserialize(data)


def to_json_dict(model: Model) -> dict[str, Any]:
    """`model.serialize()`, fast for the schema's everyday shapes."""
    try:
        return codec().to_dict(model)
    except Unsupported:
        return model.serialize()


class FastSerializer(Serializer):
    """msrest's Serializer whose `body` takes the planned path for models it handles.
    Set as a ConnectorClient's serializer: the generated operations call `body(activity,
    "Activity")` for every reply."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if isinstance(data, Model) and not kwargs and any(c.__name__ == data_type for c in type(data).__mro__):
            try:
                return codec().to_dict(data)
            except Unsupported:
                pass
        return super().body(data, data_type, **kwargs)
