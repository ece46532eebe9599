"""Input checks for /api/messages: is this body a Bot Framework activity we can safely read?

Every field the Bot Framework schema knows must have the schema's type, ids must be
non-empty strings, and no id the reply is addressed with holds a control character,
`serviceUrl` an http(s) URL with a host, text is cut to MAX_TEXT_CHARS before anything
reads it; unknown fields are ignored. The stock sample hands bad input to
CloudAdapter.process, which answers 500; here every problem is a reason for a 400.
Reasons name the field, never its value.

Size before shape: 256 KB hold 65,000 empty objects, and checking and reading them one
by one cost 150-290 ms of CPU per request. So the schema's lists have a length bound
(MAX_ITEMS) and the whole activity a budget of parts (MAX_PARTS), both checked before
anything looks at an item.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, NoReturn
from urllib.parse import urlsplit

from botbuilder.schema import Activity

from .sdk.activity_codec import read_activity

# channelId too: the SDK keys conversation state by it and checks token endorsements against it.
REQUIRED = ("type", "conversation", "from", "serviceUrl", "channelId")
MAX_DEPTH = 64  # real Teams activities are < 20 levels deep; deeper is garbage
# The schema's lists, bounded far above what Teams sends (a message has a few entities and
# at most 10 attachments; membersAdded lists the members added in one go).
MAX_ITEMS = {
    "entities": 256,
    "attachments": 50,
    "membersAdded": 1000,
    "membersRemoved": 1000,
    "reactionsAdded": 100,
    "reactionsRemoved": 100,
    "textHighlights": 100,
    "listenFor": 100,
}
MAX_SUGGESTED = {"actions": 100, "to": 100}  # suggestedActions.actions / .to
# Every object, list and value in the activity: a real one has under 100; 1000 members
# of a team with their ids and names about 5000.
MAX_PARTS = 20_000
# Fields of Teams' own entities and channelData that the bot reads; the Bot Framework
# schema types them as "object", so they are checked here.
ENTITY_FIELDS = {
    "clientInfo": {"locale": "str", "country": "str", "platform": "str", "timezone": "str"},
    "mention": {"text": "str", "mentioned": "ChannelAccount"},
}
# The schema maps ConversationAccount.tenant_id to "tenantID"; Teams sends "tenantId".
EXTRA_FIELDS = {"ConversationAccount": {"tenantId": "str"}}
CHANNEL_DATA_FIELDS = {
    "tenant": "TeamsRef",
    "team": "TeamsRef",
    "channel": "TeamsRef",
    "eventType": "str",
}


def _too_many(body: dict) -> str | None:
    """A schema list over its bound, named; checked before any item is looked at."""
    for name, limit in MAX_ITEMS.items():
        value = body.get(name)
        if isinstance(value, list) and len(value) > limit:
            return f"'{name}' has more than {limit} items"
    suggested = body.get("suggestedActions")
    if isinstance(suggested, dict):
        for name, limit in MAX_SUGGESTED.items():
            value = suggested.get(name)
            if isinstance(value, list) and len(value) > limit:
                return f"'suggestedActions.{name}' has more than {limit} items"
    return None


def _too_big(value: object, depth_limit: int = MAX_DEPTH, parts_limit: int = MAX_PARTS) -> str | None:
    """Too deep or too many parts? One level at a time, so that a flat list of 65,000
    items is refused after one C-level extend instead of 65,000 steps."""
    level, depth, parts = [value], 1, 1
    while level:
        below: list[object] = []
        for item in level:
            if isinstance(item, dict):
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
        parts += len(below)
        if parts > parts_limit:
            return "the activity has too many parts"
        if below and depth >= depth_limit:
            return "the activity is nested too deeply"
        level, depth = below, depth + 1
    return None


def _models() -> dict[str, object]:
    import botbuilder.schema as schema

    return schema.__dict__


def _type_problem(type_name: str, value: Any, where: str) -> str | None:
    """Does `value` (from JSON) fit the msrest type name of the Bot Framework schema?"""
    if value is None:
        return None
    if type_name in ("str", "iso-8601"):
        return None if isinstance(value, str) else f"'{where}' must be a string"
    if type_name == "bool":
        return None if isinstance(value, bool) else f"'{where}' must be true or false"
    if type_name in ("int", "long"):
        return None if isinstance(value, int) and not isinstance(value, bool) else f"'{where}' must be a whole number"
    if type_name == "float":
        return (
            None if isinstance(value, (int, float)) and not isinstance(value, bool) else f"'{where}' must be a number"
        )
    if type_name == "object":
        return None
    if type_name.startswith("[") and type_name.endswith("]"):
        if not isinstance(value, list):
            return f"'{where}' must be a list"
        for i, item in enumerate(value):
            problem = _type_problem(type_name[1:-1], item, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if type_name.startswith("{") and type_name.endswith("}"):
        if not isinstance(value, dict):
            return f"'{where}' must be an object"
        for key, item in value.items():
            problem = _type_problem(type_name[1:-1], item, f"{where}.{key}")
            if problem:
                return problem
        return None
    if type_name == "TeamsRef":  # channelData.tenant/team/channel: {"id": str, "name": str}
        if not isinstance(value, dict):
            return f"'{where}' must be an object"
        for key in ("id", "name"):
            if value.get(key) is not None and not isinstance(value[key], str):
                return f"'{where}.{key}' must be a string"
        return None
    model = _models().get(type_name)
    if model is None or not hasattr(model, "_attribute_map"):
        return None  # a type this check does not know: msrest decides
    if not isinstance(value, dict):
        return f"'{where}' must be an object"
    return _model_problem(model, value, where)


def _model_problem(model: Any, data: dict, where: str) -> str | None:
    for spec in model._attribute_map.values():
        key = spec["key"]
        if key in data:
            problem = _type_problem(spec["type"], data[key], f"{where}.{key}" if where else key)
            if problem:
                return problem
    for key, type_name in EXTRA_FIELDS.get(model.__name__, {}).items():
        problem = _type_problem(type_name, data.get(key), f"{where}.{key}")
        if problem:
            return problem
    if model.__name__ == "Entity":
        for key, type_name in ENTITY_FIELDS.get(str(data.get("type")), {}).items():
            problem = _type_problem(type_name, data.get(key), f"{where}.{key}")
            if problem:
                return problem
    return None


def _shape_problem(body: dict) -> str | None:
    problem = _model_problem(Activity, body, "")
    if problem:
        return problem
    if body.get("type") == "invoke" and body.get("name") == "adaptiveCard/action":
        value = body.get("value")  # the SDK calls value["action"].get(...) unguarded
        if isinstance(value, dict) and value.get("action") is not None and not isinstance(value["action"], dict):
            return "'value.action' must be an object"
    channel_data = body.get("channelData")
    if channel_data is not None:
        if not isinstance(channel_data, dict):
            return "'channelData' must be an object"
        for key, type_name in CHANNEL_DATA_FIELDS.items():
            problem = _type_problem(type_name, channel_data.get(key), f"channelData.{key}")
            if problem:
                return problem
    return None


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Does this URL point at this machine: 127.0.0.0/8, ::1 (also IPv4-mapped) or
    `localhost`? Other spellings (127.1, 2130706433, *.localhost) are not taken: a refusal
    is safe, a wrong acceptance is not."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _reply_ids(body: dict) -> list[tuple[str, object]]:
    """The ids the reply's URL and routing are built from (Teams never puts a control character in one)."""
    ids: list[tuple[str, object]] = [("id", body.get("id")), ("replyToId", body.get("replyToId"))]
    for name in ("conversation", "from", "recipient"):
        part = body.get(name)
        if isinstance(part, dict):
            ids.append((f"{name}.id", part.get("id")))
    return ids


def validate_activity(body: object, max_text: int) -> tuple[Activity | None, str | None]:
    """Parse and check an incoming activity; (activity, None) or (None, reason)."""
    if not isinstance(body, dict):
        return None, "the body must be a JSON object (an activity)"
    problem = _too_many(body)
    if problem:
        return None, problem
    for name in REQUIRED:
        if not body.get(name):
            return None, f"the activity has no '{name}'"
    for name in ("type", "channelId"):
        if not isinstance(body[name], str) or not body[name].strip():
            return None, f"'{name}' must be a non-empty string"
    for name in ("conversation", "from"):
        part = body[name]
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"].strip():
            return None, f"'{name}.id' must be a non-empty string"
    for name, value in _reply_ids(body):
        if isinstance(value, str) and _CONTROL.search(value):
            # the reply's URL is built from these: a line break in it cannot be sent on
            return None, f"'{name}' must not hold control characters"
    service_url = body["serviceUrl"]
    if not isinstance(service_url, str) or not _is_http_url(service_url):
        return None, "'serviceUrl' must be an http(s) URL"
    problem = _too_big(body) or _shape_problem(body)
    if problem:
        return None, problem
    text = body.get("text")
    if isinstance(text, str) and len(text) > max_text:
        body["text"] = text[:max_text]  # cut before anything reads it
    try:
        activity = read_activity(body)
    except Exception:  # noqa: BLE001 - msrest raises many kinds on odd shapes
        return None, "the activity could not be read"
    if activity.conversation is None or activity.from_property is None:
        return None, "the activity could not be read"
    return activity, None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """json.loads without NaN/Infinity; ValueError for anything that is not plain JSON."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    try:  # "\ud800" escapes parse into strings that cannot be stored or sent on
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise ValueError("not valid Unicode") from None
    return body
