"""Plain-JSON encoding of Bot Framework dialog state.

Dialog stacks hold SDK objects (DialogState, PromptOptions, Activity, Choice ...). The
stock Blob/Cosmos storages pickle them with jsonpickle, which will instantiate any class
named in the data. This codec writes JSON, and reading it back never imports, looks up or
calls anything the document names. A tagged object's tag (`"module:Class"`, as written) is
only a key into a fixed registry built here at import (`KINDS`: the dialog classes, the Bot
Framework schema's models that a prompt's activity can hold, and the schema's enums); the
object is made with `object.__new__` and given the fields its kind lists, each checked
against the type it must have (for the schema's models, the type their own
`_attribute_map` declares). An unknown tag, class or field, a value of the wrong type or
a document nested deeper than MAX_DEPTH is a DecodeError: state_storage drops the state
and the conversation starts over. So a tampered state file cannot run code; at worst it
restarts that one conversation.

The format is the one written before the registry existed, so stored state stays readable.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union

from botbuilder.dialogs import DialogInstance, DialogState
from botbuilder.dialogs.choices import Choice, ListStyle
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import (
    Activity,
    Attachment,
    CardAction,
    CardImage,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    HeroCard,
    MessageReaction,
    SemanticAction,
    SuggestedActions,
    TextHighlight,
    ThumbnailCard,
)
from botbuilder.schema import _connector_client_enums as schema_enums


class DecodeError(ValueError):
    """Stored dialog state that is not in the codec's shape (tampered, garbled, or written
    by a version whose classes are gone)."""


# What decoding stored state can raise. DecodeError for anything the registry refuses;
# ValueError also for an enum value or a date that does not parse.
DECODE_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, AttributeError, RecursionError)
MAX_DEPTH = 100  # a real dialog stack is under 20 levels deep
_TAG = "__t"

# A field's type: a scalar name, ("list", item type), ("dict", value type) or a registered
# class. None is allowed everywhere (the SDK leaves unset fields None).
Spec = Union[str, tuple, type]
_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "bool": (bool,),
    "int": (int,),
    "float": (int, float),
    "datetime": (datetime,),
}


@dataclass(frozen=True)
class Kind:
    cls: type
    fields: dict[str, Spec]
    required: frozenset[str] = frozenset()


def _path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _model_spec(type_name: str) -> Spec:
    """A schema model's `_attribute_map` type ('str', '[Attachment]', '{object}', ...)."""
    if type_name.startswith("[") and type_name.endswith("]"):
        return ("list", _model_spec(type_name[1:-1]))
    if type_name.startswith("{") and type_name.endswith("}"):
        return ("dict", _model_spec(type_name[1:-1]))
    if type_name == "iso-8601":
        return "datetime"
    if type_name in _SCALARS or type_name == "object":
        return type_name
    model = _MODELS_BY_NAME.get(type_name)
    if model is None:
        raise RuntimeError(f"state_codec: the schema's type {type_name!r} is not in the registry")
    return model


# The schema's models a prompt can hold (its activity, cards, buttons, suggested actions).
_MODELS = (
    Activity,
    Attachment,
    CardAction,
    CardImage,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    HeroCard,
    MessageReaction,
    SemanticAction,
    SuggestedActions,
    TextHighlight,
    ThumbnailCard,
)
_MODELS_BY_NAME = {cls.__name__: cls for cls in _MODELS}


def _registry() -> dict[str, Kind]:
    kinds = {
        _path(DialogState): Kind(
            DialogState, {"_dialog_stack": ("list", DialogInstance)}, frozenset({"_dialog_stack"})
        ),
        _path(DialogInstance): Kind(DialogInstance, {"id": "str", "state": ("dict", "object")}, frozenset({"id"})),
        _path(PromptOptions): Kind(
            PromptOptions,
            {
                "prompt": Activity,
                "retry_prompt": Activity,
                "choices": ("list", Choice),
                "style": ListStyle,
                "validations": "object",
                "number_of_attempts": "int",
            },
        ),
        _path(Choice): Kind(Choice, {"value": "str", "action": CardAction, "synonyms": ("list", "str")}),
    }
    for model in _MODELS:
        fields: dict[str, Spec] = {name: _model_spec(a["type"]) for name, a in model._attribute_map.items()}
        fields["additional_properties"] = ("dict", "object")
        kinds[_path(model)] = Kind(model, fields)
    return kinds


KINDS: dict[str, Kind] = _registry()
# The schema's own enums (ActivityTypes, InputHints, ...) and the prompts' ListStyle.
ENUMS: dict[str, type[enum.Enum]] = {
    _path(cls): cls
    for cls in [ListStyle, *vars(schema_enums).values()]
    if isinstance(cls, type)
    and issubclass(cls, enum.Enum)
    and cls.__module__ in (schema_enums.__name__, "botbuilder.dialogs.choices.list_style")
}


# -- encoding --------------------------------------------------------------------------


def encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):  # before str/int: some SDK enums subclass them
        path = _path(type(value))
        if path not in ENUMS:
            raise TypeError(f"cannot store {path} in dialog state")
        return {_TAG: "enum", "c": path, "v": value.value}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    path = _path(type(value))
    kind = KINDS.get(path)
    if kind is None or type(value) is not kind.cls:
        raise TypeError(f"cannot store {path} in dialog state")
    data = vars(value)
    unknown = data.keys() - kind.fields.keys()
    if unknown:  # it could not be read back
        raise TypeError(f"cannot store {path} in dialog state: unknown fields {sorted(unknown)}")
    return {_TAG: "obj", "c": path, "d": {k: encode(v) for k, v in data.items()}}


# -- decoding --------------------------------------------------------------------------


def decode(value: Any) -> Any:
    return _decode(value, 0)


def _decode(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise DecodeError("dialog state nested too deep")
    if isinstance(value, list):
        return [_decode(v, depth + 1) for v in value]
    if not isinstance(value, dict):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise DecodeError(f"not JSON data: {type(value).__name__}")
    if _TAG not in value:
        return {k: _decode(v, depth + 1) for k, v in value.items()}
    tag = value[_TAG]
    if tag == "datetime" and value.keys() == {_TAG, "v"} and isinstance(value["v"], str):
        return datetime.fromisoformat(value["v"])
    if tag == "enum" and value.keys() == {_TAG, "c", "v"}:
        cls = ENUMS.get(value["c"]) if isinstance(value["c"], str) else None
        if cls is None or not isinstance(value["v"], (str, int)) or isinstance(value["v"], bool):
            raise DecodeError("not a known enum")
        return cls(value["v"])  # a look-up by value, nothing more
    if tag == "obj" and value.keys() == {_TAG, "c", "d"}:
        kind = KINDS.get(value["c"]) if isinstance(value["c"], str) else None
        data = value["d"]
        if kind is None or not isinstance(data, dict):
            raise DecodeError("not a known class")
        fields: dict[str, Any] = dict.fromkeys(kind.fields)
        for name, raw in data.items():
            spec = kind.fields.get(name)
            if spec is None:
                raise DecodeError("a field the class does not have")
            decoded = _decode(raw, depth + 1)
            if not _fits(decoded, spec):
                raise DecodeError("a field of the wrong type")
            fields[name] = decoded
        if any(fields[name] is None for name in kind.required):
            raise DecodeError("a required field is missing")
        obj: Any = object.__new__(kind.cls)
        obj.__dict__.update(fields)
        return obj
    raise DecodeError("not a known tag")


def _fits(value: Any, spec: Spec) -> bool:
    if value is None or spec == "object":
        return True
    if isinstance(spec, type):
        return type(value) is spec
    if isinstance(spec, tuple):
        container, item = spec
        if container == "list":
            return isinstance(value, list) and all(_fits(v, item) for v in value)
        return isinstance(value, dict) and all(_fits(v, item) for v in value.values())
    allowed = _SCALARS[spec]
    if spec in ("int", "float") and isinstance(value, bool):
        return False
    return isinstance(value, allowed)
