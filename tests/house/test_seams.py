"""Every private seam of botbuilder, botframework-connector, msrest and aiohttp the bot uses.

A seam is a place where the bot's code goes past a library's public API: it reads or
replaces a `_`-prefixed attribute, overrides a private method, swaps the class of a live
object, replaces a class attribute, imports from a module the package does not export, or
stores a library class's import path. pyproject.toml bounds these libraries where the
seams are (botbuilder `~=4.17.0`, which also pins botframework-connector and msrest 0.7;
aiohttp `<3.15`), and the lock files pin the exact releases.

`test_seam[...]` runs one check per seam in SEAMS; after an upgrade, a moved seam fails
there with its name, the code that uses it and what to check, instead of stopping the bot
at start-up (bot/http/serving.py, bot/auth.py check some seams themselves) or quietly making it
slower or wrong (the others). `test_every_private_seam_is_listed` reads the production
code and fails when it reaches a library's private attribute that no entry names: when you
add a seam to the code, add its entry here.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import ROOT

LIBRARIES = {"aiohttp", "botbuilder", "botframework", "msrest", "jwt", "multidict", "yarl", "msal"}
PRODUCTION = ["bot", "dialogs", "model", "app.py"]


@dataclass(frozen=True)
class Seam:
    id: str
    what: str  # what the code relies on
    where: str  # the code that relies on it
    after_upgrade: str  # what to check when this fails
    names: tuple[str, ...]  # the private names the code scan attributes to this seam
    check: Callable[[], Any]  # raises when the seam moved; may be a coroutine function


def need(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def params(func: Callable) -> list[str]:
    return list(inspect.signature(func).parameters)


def _message(**fields: Any) -> Any:
    from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

    return Activity(
        type="message",
        id="1",
        text="hej",
        channel_id="msteams",
        service_url="https://smba.example/emea/",
        conversation=ConversationAccount(id="conversation"),
        from_property=ChannelAccount(id="person"),
        recipient=ChannelAccount(id="bot"),
        **fields,
    )


# -- aiohttp (bot/http/serving.py) ----------------------------------------------------------------------


async def _aiohttp_request_handler() -> None:
    from aiohttp import web
    from aiohttp.web_protocol import RequestHandler
    from aiohttp.web_server import Server

    for name in ("_request_count", "_waiter", "_manager", "_loop"):
        need(hasattr(RequestHandler, name), f"RequestHandler.{name} is gone")
    for name in ("connection_made", "data_received", "connection_lost", "force_close"):
        need(callable(getattr(RequestHandler, name, None)), f"RequestHandler.{name}() is gone")
    need(params(RequestHandler.__init__)[:2] == ["self", "manager"], "RequestHandler(manager, ...) changed")
    need("loop" in params(RequestHandler.__init__), "RequestHandler(..., loop=...) is gone")

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response()

    server = Server(handler, keepalive_timeout=5.0)
    need(
        server._kwargs == {"keepalive_timeout": 5.0}, f"Server._kwargs is not the handler arguments: {server._kwargs!r}"
    )
    need(server._loop is asyncio.get_running_loop(), "Server._loop is not the running loop")
    connection = server()
    need(connection._manager is server, "RequestHandler._manager is not the Server that made it")
    need(connection._request_count == 0, "RequestHandler._request_count does not start at 0")
    need(connection._waiter is None, "RequestHandler._waiter is not None before the first request")
    need(connection._loop is server._loop, "RequestHandler._loop is not the Server's loop")
    need(server.connections == [], "Server.connections is not a list of the open connections")


async def _aiohttp_runner_server() -> None:
    from aiohttp import web

    from bot.config import Config
    from bot.http import serving

    need(inspect.iscoroutinefunction(web.AppRunner._make_server), "AppRunner._make_server is no coroutine")
    runner = serving.runner(web.Application(), Config(), open_files=4096)
    await runner.setup()  # GuardedRunner._make_server raises when aiohttp changed what it checks
    try:
        server = runner.server
        need(server is not None and type(server).__name__ == "_GuardedServer", "setup() did not use _make_server")
        connection = server()
        need(
            isinstance(connection, serving.GuardedHandler), "the swapped Server.__call__ did not make a GuardedHandler"
        )
        need(connection.guard is runner.guard and connection._manager is server, "the handler lost its guard or Server")
    finally:
        await runner.cleanup()


# -- botbuilder: the adapter and turn context (bot/sdk/adapter.py) -----------------------------------


async def _adapter_turn_context() -> None:
    from botbuilder.integration.aiohttp import CloudAdapter

    from bot.config import Config
    from bot.sdk.adapter import SharingTurnContext, create_adapter

    need(callable(getattr(CloudAdapter, "_create_turn_context", None)), "CloudAdapter._create_turn_context is gone")
    adapter = create_adapter(Config())  # local mode: no app id, no token, no network
    seen: list[type] = []

    async def logic(context: Any) -> None:
        seen.append(type(context))

    try:
        await adapter.process_activity("", _message(), logic)  # as bot/local/directline.py does
    finally:
        await adapter.connector_pool.close()
    need(seen == [SharingTurnContext], f"process_activity's turn ran on {seen}, not on SharingTurnContext")


async def _turn_context_copy() -> None:
    from botbuilder.core import TurnContext
    from botbuilder.core.adapters import TestAdapter
    from botbuilder.schema import ChannelAccount, ConversationAccount

    from bot.sdk.adapter import SharingTurnContext

    adapter = TestAdapter()
    context = TurnContext(adapter, _message())
    context.__class__ = SharingTurnContext  # TypeError if TurnContext's layout changed (__slots__)
    reply = _message(reply_to_id=None)
    reply.conversation = ConversationAccount(id="elsewhere")
    reply.from_property, reply.recipient = ChannelAccount(id="x"), ChannelAccount(id="y")
    before = reply.serialize()
    await context.send_activity(reply)
    need(reply.serialize() == before, "TurnContext.send_activities changed the caller's activity in place")
    sent = adapter.activity_buffer[-1]
    need(sent is not reply and sent.conversation.id == "conversation", "the reply was not addressed on its own copy")
    need(sent.recipient.id == "person" and sent.from_property.id == "bot", "the reply was not addressed to the person")


# -- botbuilder: conversation state (bot/sdk/state_storage.py) --------------------------------------


def _bot_state() -> None:
    from botbuilder.core import BotState, ConversationState, MemoryStorage, TurnContext
    from botbuilder.core.adapters import TestAdapter
    from botbuilder.core.bot_state import CachedBotState

    storage = MemoryStorage()
    state = ConversationState(storage)
    need(getattr(state, "_storage", None) is storage, "BotState._storage is not the storage it was given")
    key = getattr(state, "_context_service_key", None)
    need(isinstance(key, str), "BotState._context_service_key is gone")
    context = TurnContext(TestAdapter(), _message())
    cached = CachedBotState({"a": 1})
    context.turn_state[key] = cached
    need(state.get_cached_state(context) is cached, "get_cached_state no longer reads turn_state[_context_service_key]")
    need(params(BotState.get_storage_key) == ["self", "turn_context"], "BotState.get_storage_key changed")
    for name in ("load", "save_changes"):
        need(params(getattr(BotState, name)) == ["self", "turn_context", "force"], f"BotState.{name} changed")
    need(params(BotState.delete) == ["self", "turn_context"], "BotState.delete changed")

    hashed: list[Any] = []

    class Probe(CachedBotState):
        def compute_hash(self, obj: Any) -> str:
            hashed.append(obj)
            return "same"

    probe = Probe({"x": 1})
    need(hashed == [{"x": 1}] and probe.hash == "same", "CachedBotState(state) no longer hashes with compute_hash")
    need(probe.state == {"x": 1} and probe.is_changed is False, "CachedBotState.state / .is_changed changed")


# -- botframework-connector: signing keys (bot/auth.py) -----------------------------------------


def _key_cache() -> None:
    from botframework.connector.auth import VerifyOptions
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    from bot import auth

    need(isinstance(JwtTokenExtractor.__dict__.get("metadataCache"), dict), "JwtTokenExtractor.metadataCache is gone")
    lookup = inspect.getattr_static(JwtTokenExtractor, "get_open_id_metadata", None)
    need(isinstance(lookup, staticmethod), "JwtTokenExtractor.get_open_id_metadata is no staticmethod")
    cache = auth.install_key_store()  # raises when get_open_id_metadata no longer reads the cache
    url = "https://login.example/kompetencehjulet-seam/.well-known/openid-configuration"
    try:
        extractor = JwtTokenExtractor(
            VerifyOptions(issuer=[], audience=None, clock_tolerance=0, ignore_expiration=False), url, ["RS256"]
        )
        need(isinstance(extractor.open_id_metadata, auth.SigningKeys), "the extractor does not use the key store")
    finally:
        cache.pop(url, None)
    source = inspect.getsource(JwtTokenExtractor)
    for piece in ("await self.open_id_metadata.get(", "metadata.public_key", "metadata.endorsements"):
        need(piece in source, f"JwtTokenExtractor no longer uses `{piece}` on the key store's answer")


# -- botframework-connector and msrest: the pooled reply path (bot/sdk/connector.py) ----------------


async def _connector_factory() -> None:
    from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
    from botframework.connector.auth import ClaimsIdentity

    from bot.config import Config
    from bot.sdk.connector import stock_credentials

    app_id = "00000000-0000-0000-0000-000000000001"
    inner = ConfigurationBotFrameworkAuthentication(Config(APP_ID=app_id, APP_PASSWORD="secret"))
    factory = inner.create_connector_factory(ClaimsIdentity({"aud": app_id}, True))
    names = ("_credential_factory", "_app_id", "_to_channel_from_bot_oauth_scope", "_login_endpoint")
    missing = [n for n in (*names, "_validate_authority") if not hasattr(factory, n)]
    need(not missing, f"{type(factory).__name__} lacks {missing}: stock_credentials would build a client per key")
    ours = await stock_credentials(factory, "https://smba.example/emea/", None)
    theirs = (await factory.create("https://smba.example/emea/", None)).config.credentials
    need(type(ours) is type(theirs), f"credentials differ: {type(ours).__name__} vs {type(theirs).__name__}")
    for name in ("microsoft_app_id", "microsoft_app_password", "oauth_scope", "oauth_endpoint"):
        need(getattr(ours, name) == getattr(theirs, name), f"credentials differ in {name}")


async def _connector_client() -> None:
    from botframework.connector.aio import ConnectorClient
    from botframework.connector.aio.operations_async import ConversationsOperations
    from botframework.connector.auth import MicrosoftAppCredentials
    from msrest.serialization import Serializer

    from bot.sdk.activity_codec import FastSerializer
    from bot.sdk.connector import ConnectorPool, DirectConversations, PooledPipeline

    need("pipeline_type" in params(ConnectorClient.__init__), "ConnectorClient(..., pipeline_type=) is gone")
    need(
        params(ConversationsOperations.__init__) == ["self", "client", "config", "serializer", "deserializer"],
        f"ConversationsOperations.__init__ is now {params(ConversationsOperations.__init__)}",
    )
    for name, ours in (("reply_to_activity", 4), ("send_to_conversation", 3)):
        theirs = params(getattr(ConversationsOperations, name))
        need(
            theirs[: ours + 2] == params(getattr(DirectConversations, name))[: ours + 2],
            f"ConversationsOperations.{name} is now {theirs}",
        )
        source = inspect.getsource(getattr(ConversationsOperations, name))
        need('self._serialize.body(activity, "Activity")' in source, f"{name} no longer serialises with body()")
    need(
        params(Serializer.body)[:3] == ["self", "data", "data_type"], "msrest Serializer.body(data, data_type) changed"
    )
    pool = ConnectorPool()
    try:
        client = await pool.connector_client(
            "https://smba.example/emea/", "", None, lambda: _ready(MicrosoftAppCredentials.empty())
        )
        for name in ("_serialize", "_deserialize", "_client", "config", "conversations"):
            need(hasattr(client, name), f"ConnectorClient.{name} is gone")
        need(isinstance(client._serialize, FastSerializer), "the client's serializer was not replaced")
        need(isinstance(client._serialize.dependencies, dict), "msrest Serializer.dependencies is gone")
        need(client._serialize.client_side_validation is False, "Serializer.client_side_validation had no effect")
        need(isinstance(client.conversations, DirectConversations), "the client's conversations were not replaced")
        need(client.conversations._serialize is client._serialize, "DirectConversations serialises another way")
        need(isinstance(client._client.config.pipeline, PooledPipeline), "msrest does not send through PooledPipeline")
    finally:
        await pool.close()


async def _ready(value: Any) -> Any:
    return value


def _msrest_models() -> None:
    from botbuilder.schema import Activity, ChannelAccount

    from bot.sdk.activity_codec import to_json_dict

    attributes = getattr(Activity, "_attribute_map", None)
    need(isinstance(attributes, dict) and attributes, "msrest Model._attribute_map is gone")
    need(all({"key", "type"} <= set(spec) for spec in attributes.values()), "_attribute_map entries lack key/type")
    need(attributes["from_property"] == {"key": "from", "type": "ChannelAccount"}, "Activity's map changed shape")
    need(isinstance(getattr(Activity, "_validation", {}), dict), "msrest Model._validation changed")
    need(getattr(Activity, "_subtype_map", None) in (None, {}), "Activity now has subtypes (msrest _subtype_map)")
    activity = _message()
    activity.from_property = ChannelAccount(id="person", name="P")
    need(to_json_dict(activity) == activity.serialize(), "the planned serialisation differs from msrest's")


# -- module paths ------------------------------------------------------------------------------

DEEP_IMPORTS = [
    ("aiohttp.web_protocol", "RequestHandler", "bot/http/serving.py"),
    ("aiohttp.web_server", "Server", "bot/http/serving.py"),
    ("botbuilder.core.serializer_helper", "serializer_helper", "bot/http/turn.py"),
    ("botbuilder.core.bot_state", "CachedBotState", "bot/sdk/state_storage.py"),
    ("botframework.connector.auth.jwt_token_extractor", "JwtTokenExtractor", "bot/auth.py"),
    ("botframework.connector.aio.operations_async", "ConversationsOperations", "bot/sdk/connector.py"),
    ("botframework.connector.about", "__version__", "bot/sdk/connector.py"),
    ("msrest.pipeline.universal", "RawDeserializer", "bot/sdk/connector.py"),
    ("msrest.universal_http.async_abc", "AsyncClientResponse", "bot/sdk/connector.py"),
]


def _deep_imports() -> None:
    for module, name, user in DEEP_IMPORTS:
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        need(found, f"`from {module} import {name}` fails ({user})")


# What an everyday conversation keeps in stored dialog state (bot/sdk/state_codec.py names
# each class by its import path; a class that moved can no longer be read back).
STATE_CLASSES = {
    "botbuilder.dialogs.dialog_state:DialogState": "obj",
    "botbuilder.dialogs.dialog_instance:DialogInstance": "obj",
    "botbuilder.dialogs.prompts.prompt_options:PromptOptions": "obj",
    "botbuilder.dialogs.choices.choice:Choice": "obj",
    "botbuilder.dialogs.choices.list_style:ListStyle": "enum",
    "botbuilder.schema._models_py3:Activity": "obj",
    "botbuilder.schema._models_py3:Attachment": "obj",
    "botbuilder.schema._connector_client_enums:ActivityTypes": "enum",
    "botbuilder.schema._connector_client_enums:AttachmentLayoutTypes": "enum",
    "botbuilder.schema._connector_client_enums:InputHints": "enum",
}


def _state_classes() -> None:
    from botbuilder.dialogs import DialogInstance, DialogState
    from botbuilder.dialogs.choices import Choice, ListStyle
    from botbuilder.dialogs.prompts import PromptOptions
    from botbuilder.schema import ActivityTypes, Attachment, AttachmentLayoutTypes, InputHints

    from bot.sdk import state_codec

    samples = [
        DialogState([DialogInstance(id="steps", state={})]),
        DialogInstance(id="steps", state={}),
        PromptOptions(choices=[Choice("ja")], style=ListStyle.suggested_action),
        Choice("ja"),
        ListStyle.suggested_action,
        _message(),
        Attachment(content_type="application/vnd.microsoft.card.adaptive", content={}),
        ActivityTypes.message,
        AttachmentLayoutTypes.list,
        InputHints.accepting_input,
    ]
    stored = {}
    for sample in samples:
        encoded = state_codec.encode(sample)
        stored[encoded["c"]] = encoded["__t"]
        back = state_codec.decode(encoded)
        need(type(back) is type(sample), f"{encoded['c']} does not come back as itself")
        need(state_codec.encode(back) == encoded, f"{encoded['c']} does not round-trip")
    need(stored == STATE_CLASSES, f"stored dialog state now names {sorted(stored.items())}")


SEAMS = [
    Seam(
        "aiohttp-request-handler",
        "aiohttp's RequestHandler internals: _request_count (heads parsed), _waiter (idle between "
        "requests), _manager (its Server, .connections), _loop; Server._kwargs and Server._loop",
        "bot/http/serving.py GuardedHandler and _GuardedServer (request-head deadline, connection cap)",
        "aiohttp/web_protocol.py and web_server.py of the new release: the attributes GuardedHandler "
        "reads, and how Server.__call__ builds a RequestHandler (_GuardedServer.__call__ copies it)",
        ("_request_count", "_waiter", "_manager", "_loop", "_kwargs"),
        _aiohttp_request_handler,
    ),
    Seam(
        "aiohttp-runner-server",
        "web.AppRunner._make_server (overridden) is what setup() calls, and a Server's class can be swapped",
        "bot/http/serving.py GuardedRunner._make_server (server.__class__ = _GuardedServer)",
        "aiohttp/web_runner.py: BaseRunner.setup() and AppRunner._make_server; the handler arguments "
        "GuardedRunner checks against RequestHandler.__init__",
        ("_make_server", "__class__ = _GuardedServer"),
        _aiohttp_runner_server,
    ),
    Seam(
        "botbuilder-turn-context-class",
        "CloudAdapter._create_turn_context (overridden) makes every turn's TurnContext",
        "bot/sdk/adapter.py Adapter._create_turn_context (context.__class__ = SharingTurnContext)",
        "botbuilder/core/cloud_adapter_base.py: that process_activity and continue_conversation still "
        "build the context through _create_turn_context",
        ("_create_turn_context", "__class__ = SharingTurnContext"),
        _adapter_turn_context,
    ),
    Seam(
        "botbuilder-turn-context-copy",
        "TurnContext.send_activities addresses a copy of each activity by assigning its fields, so a "
        "one-level copy (SharingTurnContext) keeps the caller's activity as it was",
        "bot/sdk/adapter.py SharingTurnContext and _Addressed (its __deepcopy__ returns itself)",
        "botbuilder/core/turn_context.py send_activities and apply_conversation_reference: nothing "
        "nested of the copy may be changed in place",
        (),
        _turn_context_copy,
    ),
    Seam(
        "botbuilder-bot-state",
        "BotState._storage and ._context_service_key, CachedBotState(state) hashing with "
        "compute_hash, and the signatures of load, save_changes, delete and get_storage_key",
        "bot/sdk/state_storage.py JsonConversationState, _JsonHashedState and start_without_dialog",
        "botbuilder/core/bot_state.py: BotState.__init__, get_cached_state and CachedBotState",
        ("_storage", "_context_service_key"),
        _bot_state,
    ),
    Seam(
        "botframework-signing-key-cache",
        "the class attribute JwtTokenExtractor.metadataCache (replaced by our key store), read by the "
        "static get_open_id_metadata; validation awaits .get(kid) and reads .public_key and .endorsements",
        "bot/auth.py install_key_store and SigningKeys",
        "botframework/connector/auth/jwt_token_extractor.py: where signing keys are looked up and what "
        "is read off the answer",
        ("metadataCache",),
        _key_cache,
    ),
    Seam(
        "botframework-connector-factory",
        "_ConnectorFactoryImpl's _credential_factory, _app_id, _to_channel_from_bot_oauth_scope, "
        "_login_endpoint and _validate_authority give the credentials its create() would",
        "bot/sdk/connector.py stock_credentials",
        "botframework/connector/auth/_connector_factory_impl.py: the first statement of create()",
        (
            "_credential_factory",
            "_app_id",
            "_to_channel_from_bot_oauth_scope",
            "_login_endpoint",
            "_validate_authority",
        ),
        _connector_factory,
    ),
    Seam(
        "botframework-connector-client",
        "ConnectorClient._serialize (replaced by FastSerializer), ._deserialize, ._client (msrest's "
        "pipeline from pipeline_type=) and .conversations (replaced by DirectConversations, built "
        "with ConversationsOperations' own arguments); the generated operations serialise with body()",
        "bot/sdk/connector.py ConnectorPool._build, DirectConversations and PooledPipeline",
        "botframework/connector/aio/_connector_client_async.py, bot_framework_sdk_client_async.py "
        "and operations_async/_conversations_operations_async.py",
        ("_serialize", "_deserialize", "_client"),
        _connector_client,
    ),
    Seam(
        "msrest-model-maps",
        "msrest models' _attribute_map (attribute -> JSON key and type), _validation and _subtype_map",
        "bot/activity_checks.py (input checks) and bot/sdk/activity_codec.py (planned serialisation)",
        "msrest/serialization.py of the new release, and tests/dialogs/test_activity_codec.py",
        ("_attribute_map", "_validation", "_subtype_map"),
        _msrest_models,
    ),
    Seam(
        "deep-imports",
        "classes imported from modules their packages do not export: " + ", ".join(m for m, _, _ in DEEP_IMPORTS),
        "bot/http/, bot/auth.py, bot/sdk/connector.py, bot/sdk/state_storage.py",
        "where the new release moved each name",
        (),
        _deep_imports,
    ),
    Seam(
        "stored-dialog-state-classes",
        "stored dialog state names SDK classes by import path (two in botbuilder.schema's private "
        "modules) and rebuilds them from their __dict__",
        "bot/sdk/state_codec.py (every conversation's stored dialog state)",
        "where the new release moved each class: state naming an old path is dropped when read, so "
        "every conversation in progress would start over; alias the old path or accept that",
        (),
        _state_classes,
    ),
]


@pytest.mark.parametrize("seam", SEAMS, ids=[s.id for s in SEAMS])
def test_seam(seam: Seam) -> None:
    problem = None
    try:
        result = seam.check()
        if inspect.iscoroutine(result):
            asyncio.run(result)
    except Exception as err:  # noqa: BLE001 - every way a seam moved is reported the same way
        problem = f"{type(err).__name__}: {err}"
    if problem:
        uses = ", ".join(sorted({place for name in seam.names for place in private_uses().get(name, ())}))
        pytest.fail(
            f"library seam '{seam.id}' moved: {problem}\n"
            f"  relied on: {seam.what}\n"
            f"  used by: {seam.where}" + (f" (now at {uses})" if uses else "") + "\n"
            f"  after an upgrade, check: {seam.after_upgrade}; then fix the code or keep the bound in pyproject.toml",
            pytrace=False,
        )


def test_every_private_seam_is_listed():
    named = {name for seam in SEAMS for name in seam.names}
    unlisted = {name: places for name, places in private_uses().items() if name not in named}
    assert not unlisted, (
        "production code reaches library internals that tests/house/test_seams.py does not pin; add a Seam "
        f"(what, where, what to check after an upgrade) for: {sorted(unlisted.items())}"
    )
    used = set(private_uses())
    stale = sorted(name for name in named if name not in used)
    assert not stale, f"SEAMS names private attributes the code no longer uses: {stale}"


# -- reading the production code -----------------------------------------------------------------


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _files() -> list[Path]:
    files: list[Path] = []
    for entry in PRODUCTION:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _own_names(trees: list[ast.AST]) -> set[str]:
    """Methods the project defines and attributes it sets on `self`: a `_name` among these is ours."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif _on_self(node) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return names


def _on_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def _library_bases(cls: Any) -> list[type]:
    if not isinstance(cls, type):
        return []
    return [base for base in cls.__mro__[1:] if base.__module__.split(".")[0] in LIBRARIES]


_USES: dict[str, set[str]] = {}


def private_uses() -> dict[str, set[str]]:
    """Private name -> the places (file:line) where production code uses a library's."""
    if not _USES:
        _USES.update(scan(_files(), ROOT))
    return _USES


def scan(files: list[Path], root: Path) -> dict[str, set[str]]:
    """Where these files (importable as modules named by their path under `root`) use a
    library's internals: `obj._x` on an object that is not ours, `getattr(obj, "_x")`,
    `super()._x`, in a subclass of a library class `self._x` inherited from it or `def _x`
    overriding it; also `x.__class__ = Y` (noted with Y) and a class attribute of an imported library class
    replaced (`Lib.attr = `)."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in files]
    own = _own_names(trees)
    found: dict[str, set[str]] = {}

    def note(name: str, path: Path, node: ast.AST) -> None:
        found.setdefault(name, set()).add(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}")

    for path, tree in zip(files, trees, strict=True):
        module = importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
        imported = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] in LIBRARIES
            for alias in node.names
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "__class__":
                        note(f"__class__ = {ast.unparse(node.value)}", path, node)
            elif isinstance(node, ast.Attribute):
                value = node.value
                if node.attr == "__class__":
                    pass  # an assignment is noted above; reading an object's class is no seam
                elif isinstance(node.ctx, ast.Store) and isinstance(value, ast.Name) and value.id in imported:
                    note(node.attr, path, node)
                elif _private(node.attr):
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super":
                        note(node.attr, path, node)
                    elif not _on_self(node) and node.attr not in own:
                        note(node.attr, path, node)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr", "setattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and _private(node.args[1].value)
                and node.args[1].value not in own
            ):
                note(node.args[1].value, path, node)
            elif isinstance(node, ast.ClassDef):
                bases = _library_bases(getattr(module, node.name, None))
                if bases:
                    _inherited(node, bases, lambda name, at, path=path: note(name, path, at))
    return found


def _inherited(cls: ast.ClassDef, bases: list[type], note: Callable[[str, ast.AST], None]) -> None:
    """In a subclass of a library class: `def _x` overriding the library's, and `self._x`
    that the class does not set itself (so the library's) or that the library has too."""
    defined: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Attribute) and _on_self(node) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
    for stmt in cls.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            defined.add(stmt.target.id)
        elif isinstance(stmt, ast.Assign):
            defined.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    for node in ast.walk(cls):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(node.name):
            if any(hasattr(base, node.name) for base in bases):
                note(node.name, node)
        elif isinstance(node, ast.Attribute) and _on_self(node) and _private(node.attr):
            if node.attr not in defined or any(hasattr(base, node.attr) for base in bases):
                note(node.attr, node)


PROBE = """
from aiohttp.web_protocol import RequestHandler
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor


class Handler(RequestHandler):
    _mine = 0

    def _arm(self):
        self._armed = self._request_count + self._mine

    def _make_server(self):
        return super()._secret()

    def force_close(self):
        self._waiter = None


class Own:
    def _helper(self):
        return self._state


def use(handler, own, context):
    own._helper()
    context.__class__ = Own
    JwtTokenExtractor.metadataCache = {}
    return handler._keepalive_handle, getattr(handler, "_task_handler", None)
"""


def test_the_scan_finds_what_reaches_into_a_library(tmp_path, monkeypatch):
    (tmp_path / "probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    found = scan([tmp_path / "probe.py"], tmp_path)
    assert sorted(found) == [
        "__class__ = Own",  # a live object's class swapped
        "_keepalive_handle",  # a library object's private attribute
        "_request_count",  # inherited from RequestHandler
        "_secret",  # super()._x
        "_task_handler",  # getattr(obj, "_x")
        "_waiter",  # set in the subclass, but RequestHandler has it too
        "metadataCache",  # a library class's attribute replaced
    ]
