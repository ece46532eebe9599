"""Bot Framework authentication with an app id, end to end over HTTP.

A stand-in for login.botframework.com runs on loopback: OpenID metadata and a JWKS with a
test RSA key (with Teams' channel endorsements). Tokens are signed with that key the way
the Bot Connector signs them (iss https://api.botframework.com, aud = our app id,
serviceurl = the activity's serviceUrl). The SDK's own validation checks them; the HTTP
host sorts the outcomes into 2xx / 401 / 503.

How the SDK is pointed at loopback: `ConfigurationBotFrameworkAuthentication` switches to
its "parameterized" mode as soon as any endpoint is configured, and then takes *every*
endpoint from the configuration object (getattr): the OpenID metadata URLs, the token
issuer, the outgoing OAuth scope and login URL. The fields that `Config` does not have
(yet) are set on the instance here. The outgoing token (what the bot shows the connector
when it replies) would come from Azure AD through MSAL, which insists on an https
authority and asks login.microsoftonline.com for instance discovery, so it cannot be put
on plain loopback. Instead the SDK's own seam is used: a ServiceClientCredentialsFactory
(the real app-id check, a fixed outgoing token), handed to
ConfigurationBotFrameworkAuthentication through bot/sdk/adapter.py's create_adapter.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import gzip
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid

import jwt
import pytest
from aiohttp import web
from botframework.connector.auth import MicrosoftAppCredentials, PasswordServiceClientCredentialFactory
from conftest import ROOT, BotServer, Connector, TeamsUser
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from bot import auth
from bot.config import Config
from bot.runtime import build

APP_ID = "7b0e1d2c-3f4a-4b5c-8d6e-9f0a1b2c3d4e"
ISSUER = "https://api.botframework.com"
TEAMS_ENDORSEMENTS = ["msteams", "webchat", "directline", "emulator"]

_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """Test keys, made once per session (2048-bit generation takes a moment)."""
    if name not in _KEYS:
        _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEYS[name]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_rs256(claims: dict, key: rsa.RSAPrivateKey, header: dict) -> str:
    """A JWS by hand, so that any JSON (also claims PyJWT would refuse to encode) can be signed."""
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT", **header}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64url(signature)}"


class KeyServer:
    """login.botframework.com on loopback: OpenID metadata and signing keys.

    It runs on its own thread and event loop, apart from the bot as the real one is, so
    that `hang` (accept, read the request, never answer: a tarpit) stalls only the key
    server. Each instance serves under a fresh random path, so the process-wide key cache
    (keyed by URL) never mixes instances."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[rsa.RSAPrivateKey, list[str]]] = {}
        self.hits: collections.Counter = collections.Counter()
        self.delay = 0.0
        self.hang = False
        self.prefix = f"/{uuid.uuid4().hex}"
        self.base = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.base}{self.prefix}/v1/.well-known/openidconfiguration"

    @property
    def emulator_metadata_url(self) -> str:
        return f"{self.base}{self.prefix}/emulator/v2.0/.well-known/openid-configuration"

    def add_key(
        self, kid: str, key: rsa.RSAPrivateKey | None = None, endorsements: list[str] | None = None
    ) -> rsa.RSAPrivateKey:
        key = key or rsa_key(kid)
        self.keys[kid] = (key, list(TEAMS_ENDORSEMENTS if endorsements is None else endorsements))
        return key

    def jwks(self) -> dict:
        out = []
        for kid, (key, endorsements) in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update({"kid": kid, "use": "sig", "endorsements": endorsements})
            out.append(jwk)
        return {"keys": out}

    async def _serve(self) -> None:
        async def metadata(request: web.Request) -> web.Response:
            self.hits["metadata"] += 1
            while self.hang:
                await asyncio.sleep(0.05)
            if self.delay:
                await asyncio.sleep(self.delay)
            return web.json_response(
                {
                    "issuer": ISSUER,
                    "authorization_endpoint": "https://invalid.example/",
                    "jwks_uri": f"{self.base}{self.prefix}/v1/.well-known/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                }
            )

        async def keys(_: web.Request) -> web.Response:
            self.hits["keys"] += 1
            return web.json_response(self.jwks())

        async def emulator_metadata(_: web.Request) -> web.Response:
            self.hits["emulator"] += 1
            return web.json_response(
                {
                    "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
                    "jwks_uri": f"{self.base}{self.prefix}/emulator/keys",
                }
            )

        async def emulator_keys(_: web.Request) -> web.Response:
            return web.json_response({"keys": []})

        app = web.Application()
        app.router.add_get(f"{self.prefix}/v1/.well-known/openidconfiguration", metadata)
        app.router.add_get(f"{self.prefix}/v1/.well-known/keys", keys)
        app.router.add_get(f"{self.prefix}/emulator/v2.0/.well-known/openid-configuration", emulator_metadata)
        app.router.add_get(f"{self.prefix}/emulator/keys", emulator_keys)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    def start(self) -> "KeyServer":
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="key-server", daemon=True)
        self._thread.start()
        assert ready.wait(10), "key server did not start"
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self.hang = False
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    # -- tokens --------------------------------------------------------------------------
    def claims(self, service_url: str, **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
        }
        for name, value in changes.items():
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(
        self,
        service_url: str,
        kid: str = "key-1",
        key: rsa.RSAPrivateKey | None = None,
        headers: dict | None = None,
        **changes,
    ) -> str:
        key = key or self.keys[kid][0]
        return sign_rs256(self.claims(service_url, **changes), key, {"kid": kid, **(headers or {})})


DROP = object()


class StaticCredentials(MicrosoftAppCredentials):
    """Outgoing credentials with a fixed token instead of a call to Azure AD."""

    def __init__(self, app_id: str, token: str, oauth_scope: str) -> None:
        super().__init__(app_id, "unused", oauth_scope=oauth_scope)
        self.token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.token


class StubCredentialsFactory(PasswordServiceClientCredentialFactory):
    """The SDK's password factory (so the app-id checks are the real ones), except that
    outgoing tokens are a fixed string and every request for one is recorded."""

    def __init__(self, app_id: str, outgoing_token: str) -> None:
        super().__init__(app_id, "unused-secret")
        self.outgoing_token = outgoing_token
        self.requests: list[tuple[str, str]] = []

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("credentials asked for an unknown app id")
        self.requests.append((app_id, oauth_scope))
        return StaticCredentials(app_id, self.outgoing_token, oauth_scope)


def auth_config(data_dir, keys: KeyServer, metadata_url: str | None = None) -> Config:
    """A Config with an app id and every Bot Framework endpoint on loopback."""
    config = Config(
        DATA_DIR=data_dir,
        PORT=0,
        NUDGES="off",
        FSYNC=False,
        APP_ID=APP_ID,
        APP_PASSWORD="unused-secret",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata_url or keys.metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=keys.emulator_metadata_url,
    )
    # Not Config fields (yet): the SDK reads them with getattr. In parameterized mode each
    # must be given, or the SDK uses None (an issuer of None would accept tokens without iss).
    extra = {
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": ISSUER,
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
        "TO_CHANNEL_FROM_BOT_LOGIN_URL": f"{keys.base}{keys.prefix}/botframework.com",
        "OAUTH_URL": f"{keys.base}{keys.prefix}/oauth",
        "CALLER_ID": "urn:botframework:azure",
    }
    for name, value in extra.items():
        object.__setattr__(config, name, value)
    return config


class AuthBotServer(BotServer):
    """The real app with authentication on; outgoing tokens from StubCredentialsFactory."""

    def __init__(self, data_dir, keys: KeyServer, metadata_url: str | None = None) -> None:
        super().__init__(data_dir)
        self.keys = keys
        self.metadata_url = metadata_url
        self.outgoing_token = f"outgoing-{uuid.uuid4().hex}"
        self.credentials = StubCredentialsFactory(APP_ID, self.outgoing_token)

    async def start(self) -> None:
        import aiohttp

        config = auth_config(self.data_dir, self.keys, self.metadata_url)
        self.runtime = build_with_credentials(config, self.credentials)
        assert not config.local_mode
        self.runner = web.AppRunner(self.runtime.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self.session = aiohttp.ClientSession()


def build_with_credentials(config: Config, factory):
    """runtime.build, with the adapter's authentication using `factory` for credentials."""
    return build(config, credentials_factory=factory)


@pytest.fixture
def keys():
    server = KeyServer()
    server.add_key("key-1")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def secure(tmp_path, keys):
    server = AuthBotServer(tmp_path / "data", keys)
    await server.start()
    yield server
    await server.stop()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- accepted ------------------------------------------------------------------------------


async def test_a_valid_channel_token_is_accepted_and_the_reply_carries_the_outgoing_token(secure, keys, connector):
    user = TeamsUser(connector, locale="en-US")
    status, _ = await secure.post(user.install(), headers=bearer(keys.token(connector.url)))
    assert status == 201
    assert connector.activities, "the bot did not answer"
    assert "Development and implementation" in connector.all_text()
    assert {a["_auth"] for a in connector.activities} == {f"Bearer {secure.outgoing_token}"}
    assert (APP_ID, "https://api.botframework.com") in secure.credentials.requests
    status, _ = await secure.post(user.message("Manager"), headers=bearer(keys.token(connector.url)))
    assert status == 201 and len(connector.activities) >= 2


async def test_signing_keys_are_fetched_once_and_cached(secure, keys, connector):
    user = TeamsUser(connector, locale="en-US")
    for text in ("help", "profile", "help"):
        status, _ = await secure.post(user.message(text), headers=bearer(keys.token(connector.url)))
        assert status == 201
    assert keys.hits["metadata"] == 1 and keys.hits["keys"] == 1


async def test_a_token_within_the_five_minute_clock_skew_is_accepted(secure, keys, connector):
    user = TeamsUser(connector, locale="en-US")
    now = int(time.time())
    token = keys.token(connector.url, exp=now - 60, nbf=now - 3600, iat=now - 3600)
    status, _ = await secure.post(user.message("help"), headers=bearer(token))
    assert status == 201 and connector.activities


# --- refused -------------------------------------------------------------------------------


def _alg_none(keys: KeyServer, url: str) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": "key-1"}).encode())
    payload = b64url(json.dumps(keys.claims(url)).encode())
    return f"Bearer {header}.{payload}."


def _hs256_with_public_key(keys: KeyServer, url: str) -> str:
    """Algorithm confusion: HMAC with the published public key as the secret."""
    public = (
        keys.keys["key-1"][0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).encode())
    payload = b64url(json.dumps(keys.claims(url)).encode())
    signature = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"Bearer {header}.{payload}.{b64url(signature)}"


def _tampered(keys: KeyServer, url: str) -> str:
    """A valid token whose payload was changed afterwards (another audience)."""
    header, _, signature = keys.token(url).split(".")
    payload = b64url(json.dumps(keys.claims(url, aud="someone-else")).encode())
    return f"Bearer {header}.{payload}.{signature}"


REFUSED = {
    "expired": lambda k, u: bearer(
        k.token(u, exp=int(time.time()) - 600, nbf=int(time.time()) - 4000, iat=int(time.time()) - 4000)
    ),
    "not yet valid": lambda k, u: bearer(k.token(u, nbf=int(time.time()) + 900, iat=int(time.time()))),
    "wrong audience": lambda k, u: bearer(k.token(u, aud="00000000-1111-2222-3333-444444444444")),
    "audience as a list": lambda k, u: bearer(k.token(u, aud=[APP_ID, "other"])),
    "no audience": lambda k, u: bearer(k.token(u, aud=DROP)),
    "wrong issuer": lambda k, u: bearer(k.token(u, iss="https://api.botframework.com.evil.example")),
    "no issuer": lambda k, u: bearer(k.token(u, iss=DROP)),
    "serviceurl claim for another connector": lambda k, u: bearer(k.token("https://evil.example/")),
    "no serviceurl claim": lambda k, u: bearer(k.token(u, serviceurl=DROP)),
    "wrong signature (other key, known kid)": lambda k, u: bearer(k.token(u, key=rsa_key("attacker"))),
    "unknown key id": lambda k, u: bearer(k.token(u, kid="not-published", key=rsa_key("attacker"))),
    "no key id": lambda k, u: bearer(jwt.encode(k.claims(u), k.keys["key-1"][0], algorithm="RS256")),
    "key not endorsed for msteams": lambda k, u: bearer(k.token(u, kid="webchat-only")),
    "tampered payload": lambda k, u: {"Authorization": _tampered(k, u)},
    "alg none": lambda k, u: {"Authorization": _alg_none(k, u)},
    "HS256 with the public key": lambda k, u: {"Authorization": _hs256_with_public_key(k, u)},
    "emulator issuer, unknown key": lambda k, u: bearer(
        k.token(
            u,
            key=rsa_key("attacker"),
            kid="emu",
            ver="1.0",
            appid=APP_ID,
            iss="https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
        )
    ),
    "missing header": lambda k, u: {},
    "empty header": lambda k, u: {"Authorization": ""},
    "Basic scheme": lambda k, u: {"Authorization": "Basic " + b64url(b"user:password")},
    "token without scheme": lambda k, u: {"Authorization": k.token(u)},
    "Bearer without token": lambda k, u: {"Authorization": "Bearer"},
    "Bearer and spaces": lambda k, u: {"Authorization": "Bearer    "},
    "three parts": lambda k, u: {"Authorization": f"Bearer {k.token(u)} extra"},
    "garbage token": lambda k, u: {"Authorization": "Bearer not-a-jwt"},
    "garbage segments": lambda k, u: {"Authorization": "Bearer a.b.c"},
    "payload not an object": lambda k, u: {
        "Authorization": "Bearer "
        + ".".join([b64url(b'{"alg":"RS256","kid":"key-1"}'), b64url(b"[1,2]"), b64url(b"sig")])
    },
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_bad_credentials_are_refused_with_401_and_nothing_is_sent(secure, keys, connector, case):
    keys.add_key("webchat-only", endorsements=["webchat"])
    user = TeamsUser(connector, locale="en-US")
    headers = REFUSED[case](keys, connector.url)
    for activity in (user.install(), user.message("help")):
        status, body = await secure.post(activity, headers=headers)
        assert status == 401, (case, status, body)
        assert json.loads(body) == {"error": "unauthorized"}
    assert connector.requests == [], f"{case}: the bot talked to the connector"
    assert secure.credentials.requests == [], f"{case}: the bot asked for an outgoing token"


async def test_a_token_for_one_conversation_service_cannot_send_replies_elsewhere(secure, keys, connector):
    """The serviceurl claim binds the token to the connector the bot will post to (and send
    its own token to)."""
    user = TeamsUser(connector, locale="en-US")
    activity = user.message("help")
    activity["serviceUrl"] = "http://127.0.0.1:9/"  # somewhere else
    status, _ = await secure.post(activity, headers=bearer(keys.token(connector.url)))
    assert status == 401 and connector.requests == []


async def test_refusals_do_not_leak_why(secure, keys, connector):
    user = TeamsUser(connector)
    status, body = await secure.post(user.message("hi"), headers=bearer(keys.token(connector.url, aud="x")))
    assert status == 401 and "aud" not in body.lower()


async def test_a_refusal_is_logged_with_its_reason_but_not_the_token(secure, keys, connector, caplog):
    token = keys.token(connector.url, aud="00000000-1111-2222-3333-444444444444")
    with caplog.at_level(logging.INFO, logger="kompetencehjulet.web"):
        status, _ = await secure.post(TeamsUser(connector).message("hi"), headers=bearer(token))
    assert status == 401
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "kompetencehjulet.web")
    assert "Invalid AppId passed on token: 00000000-1111-2222-3333-444444444444" in logged
    assert all(part not in logged for part in token.split("."))


async def test_the_smoke_test_in_the_install_guide_gives_401(secure):
    """docs/teams-install.md tells admins to expect 401 from this request."""
    guide = (ROOT / "docs" / "teams-install.md").read_text(encoding="utf-8")
    body = re.search(r"-d '(\{.*?\})'", guide).group(1)
    status, _ = await secure.post(None, raw=body.encode())
    assert status == 401


async def test_unreachable_key_server_is_503_not_401_or_500(tmp_path, keys, connector):
    closed = KeyServer().start()
    dead_url = closed.metadata_url
    closed.stop()
    server = AuthBotServer(tmp_path / "data", keys, metadata_url=dead_url)
    await server.start()
    try:
        user = TeamsUser(connector)
        status, _ = await server.post(user.message("help"), headers=bearer(keys.token(connector.url)))
        assert status == 503
        assert connector.requests == []
    finally:
        await server.stop()


@pytest.mark.slow  # waits on real time (a slow key server, a refresh in flight)
async def test_a_slow_key_server_does_not_block_other_requests(secure, keys, connector):
    keys.delay = 2.5
    user = TeamsUser(connector, locale="en-US")
    started = time.monotonic()
    slow = asyncio.create_task(secure.post(user.message("help"), headers=bearer(keys.token(connector.url))))
    await asyncio.sleep(0.2)  # the request is now waiting for the key server
    async with secure.session.get(secure.url + "/healthz") as resp:
        assert resp.status == 200
    assert not slow.done() and time.monotonic() - started < 2.0, "the event loop was blocked while keys were fetched"
    assert keys.hits["metadata"] == 1
    status, _ = await slow
    assert status == 201


# --- signing keys: rotation, a storm of unknown key ids, a key server that never answers ------


class FakeClock:
    """The key store's clock, moved on by hand instead of waiting minutes."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(keys):
    fake = FakeClock()
    auth.key_store(keys.metadata_url).clock = fake
    return fake


def forged(keys: KeyServer, url: str, kid: str) -> dict:
    return bearer(keys.token(url, kid=kid, key=rsa_key("attacker")))


async def test_a_rotated_signing_key_is_accepted_without_a_restart(secure, keys, connector, clock):
    """The SDK's own cache raised IndexError for any kid it did not know and never fetched
    again before its daily refresh: a rotation meant 401s until a restart."""
    user = TeamsUser(connector, locale="en-US")
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201 and keys.hits["metadata"] == 1
    keys.add_key("key-2")
    del keys.keys["key-1"]  # Microsoft rotates: key-2 in, key-1 out
    clock.now += auth.UNKNOWN_KID_INTERVAL + 1
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url, kid="key-2")))
    assert status == 201, "the rotated key was refused"
    assert keys.hits["metadata"] == 2 and keys.hits["keys"] == 2
    # the retired key is gone with the new key set, and asking for it fetches nothing
    status, _ = await secure.post(
        user.message("help"), headers=bearer(keys.token(connector.url, kid="key-1", key=rsa_key("key-1")))
    )
    assert status == 401 and keys.hits["metadata"] == 2


async def test_a_storm_of_unknown_key_ids_fetches_the_keys_at_most_once(secure, keys, connector, clock):
    user = TeamsUser(connector, locale="en-US")
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201 and keys.hits["metadata"] == 1
    keys.add_key("key-2")

    async def storm(n: int) -> list[int]:
        posts = [
            secure.post(user.message("help"), headers=forged(keys, connector.url, f"forged-{i}")) for i in range(n)
        ]
        return [status for status, _ in await asyncio.gather(*posts)]

    # just after a fetch: every unknown kid is a 401, nothing is fetched (not even for key-2)
    assert set(await storm(30)) == {401}
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url, kid="key-2")))
    assert status == 401 and keys.hits["metadata"] == 1
    # minutes later: the storm causes one fetch; the rest got 503 at once while it ran, or 401 after it
    clock.now += auth.UNKNOWN_KID_INTERVAL + 1
    assert set(await storm(30)) <= {401, 503}
    assert keys.hits["metadata"] == 2 and keys.hits["keys"] == 2
    # and that one fetch brought key-2
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url, kid="key-2")))
    assert status == 201 and keys.hits["metadata"] == 2


async def test_the_endorsements_of_a_new_key_are_enforced(secure, keys, connector, clock, caplog):
    user = TeamsUser(connector, locale="en-US")
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201
    keys.add_key("webchat-only", endorsements=["webchat"])
    clock.now += auth.UNKNOWN_KID_INTERVAL + 1
    with caplog.at_level(logging.INFO, logger="kompetencehjulet.web"):
        status, _ = await secure.post(
            user.message("help"), headers=bearer(keys.token(connector.url, kid="webchat-only"))
        )
    assert status == 401 and keys.hits["metadata"] == 2  # fetched, found, and refused for msteams
    assert "Could not validate endorsement key" in caplog.text
    assert auth.key_store(keys.metadata_url).keys["webchat-only"].endorsements == ["webchat"]


@pytest.mark.slow  # waits on real time (a slow key server, a refresh in flight)
async def test_stale_keys_are_refreshed_in_the_background_while_they_keep_working(secure, keys, connector, clock):
    user = TeamsUser(connector, locale="en-US")
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201
    clock.now += auth.KEY_MAX_AGE + 1
    keys.delay = 1.0
    started = time.monotonic()
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201 and time.monotonic() - started < 0.8  # not waiting for the refresh
    for _ in range(50):
        if keys.hits["keys"] == 2:
            break
        await asyncio.sleep(0.05)
    assert keys.hits["metadata"] == 2 and keys.hits["keys"] == 2


@pytest.mark.slow  # waits on real time (a slow key server, a refresh in flight)
async def test_a_key_server_that_never_answers_is_503_within_5_s_and_others_503_at_once(tmp_path, connector):
    """A tarpit (it accepts, reads the request and never answers): the old thread pool
    waited 20 s per request, longer than Teams waits, and its stuck threads never came back."""
    keys = KeyServer()
    keys.add_key("key-1")
    keys.hang = True
    keys.start()
    server = AuthBotServer(tmp_path / "data", keys)
    await server.start()
    fake = FakeClock()
    auth.key_store(keys.metadata_url).clock = fake
    user = TeamsUser(connector, locale="en-US")

    async def post() -> tuple[int, str | None, float]:
        started = time.monotonic()
        async with server.session.post(
            server.url + "/api/messages",
            data=json.dumps(user.message("help")),
            headers={"Content-Type": "application/json", **bearer(keys.token(connector.url))},
        ) as resp:
            return resp.status, resp.headers.get("Retry-After"), time.monotonic() - started

    try:
        first = asyncio.create_task(post())
        await asyncio.sleep(0.3)  # the first request is waiting for the key server
        others = await asyncio.gather(*(post() for _ in range(5)))
        assert all(status == 503 and retry and took < 1.0 for status, retry, took in others), others
        status, retry, took = await first
        assert status == 503 and retry and took < auth.KEY_FETCH_TIMEOUT + 1.5, (status, took)
        assert keys.hits["metadata"] == 1  # the others did not ask again
        status, _, took = await post()  # right after the failure: 503 at once, no new fetch
        assert status == 503 and took < 1.0 and keys.hits["metadata"] == 1
        # the key server answers again: after FAILED_FETCH_RETRY the bot recovers, no restart
        keys.hang = False
        fake.now += auth.FAILED_FETCH_RETRY + 1
        status, _, _ = await post()
        assert status == 201 and keys.hits["metadata"] == 2
    finally:
        await server.stop()
        keys.stop()


@pytest.mark.slow  # waits on real time (a slow key server, a refresh in flight)
async def test_known_keys_keep_working_while_the_key_server_hangs(secure, keys, connector, clock, monkeypatch):
    monkeypatch.setattr(auth, "KEY_FETCH_TIMEOUT", 1.0)
    user = TeamsUser(connector, locale="en-US")
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201
    keys.hang = True
    keys.add_key("key-2")
    clock.now += auth.UNKNOWN_KID_INTERVAL + 1
    waiting = asyncio.create_task(
        secure.post(user.message("help"), headers=bearer(keys.token(connector.url, kid="key-2")))
    )
    await asyncio.sleep(0.2)  # a fetch for key-2 is in flight and hanging
    started = time.monotonic()
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201 and time.monotonic() - started < 0.8
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url, kid="key-2")))
    assert status == 503 and time.monotonic() - started < 0.8
    status, _ = await waiting
    assert status == 503
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201  # the failed fetch kept the keys already known
    keys.hang = False
    clock.now += auth.FAILED_FETCH_RETRY + 1
    status, _ = await secure.post(user.message("help"), headers=bearer(keys.token(connector.url, kid="key-2")))
    assert status == 201


def test_start_up_fails_loudly_if_the_sdk_no_longer_has_its_key_cache(tmp_path, keys, monkeypatch):
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    monkeypatch.delattr(JwtTokenExtractor, "metadataCache")
    with pytest.raises(RuntimeError, match="metadataCache"):
        build(auth_config(tmp_path / "data", keys))


async def test_the_sdk_validates_with_our_key_store_on_the_event_loop(secure, keys, connector):
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    status, _ = await secure.post(TeamsUser(connector).message("hi"), headers=bearer(keys.token(connector.url)))
    assert status == 201
    assert isinstance(JwtTokenExtractor.metadataCache[keys.metadata_url], auth.SigningKeys)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("bf-auth")]


async def test_with_an_app_id_the_token_binds_the_service_url_not_the_loopback_rule(secure, keys):
    """The local-mode rule (loopback service URLs only) does not apply: Teams' service URLs
    are public, and the signed serviceurl claim already decides."""
    elsewhere = "http://0.0.0.0:1/"  # not loopback by the rule; nothing listens there
    user = TeamsUser(Connector(), locale="en-US")
    activity = user.message("help")
    activity["serviceUrl"] = elsewhere
    status, _ = await secure.post(activity, headers=bearer(keys.token(elsewhere)))
    assert status == 201


async def test_local_mode_ignores_authorization_headers(server, connector):
    """Without an app id auth is off; a header is not checked (and fetches nothing)."""
    user = TeamsUser(connector, locale="en-US")
    status, _ = await server.post(user.message("help"), headers={"Authorization": "Bearer whatever"})
    assert status == 201 and connector.activities


# --- work before authentication ------------------------------------------------------------


def _junk(connector, field: str) -> bytes:
    """240 KB of empty objects in one list: 150-290 ms of CPU each when checked and read."""
    activity = TeamsUser(connector).activity("conversationUpdate")
    activity[field] = [{}] * 80_000
    return json.dumps(activity, separators=(",", ":")).encode()


@pytest.mark.parametrize("field", ["entities", "attachments", "membersAdded"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no token", "junk token", "basic"],
)
async def test_junk_without_a_token_is_401_before_its_body_is_read(secure, connector, monkeypatch, field, headers):
    import bot.http.reading

    calls = collections.Counter()
    for name in ("parse_json", "validate_activity"):
        original = getattr(bot.http.reading, name)
        monkeypatch.setattr(
            bot.http.reading, name, lambda *a, _name=name, _f=original, **k: (calls.update([_name]), _f(*a, **k))[1]
        )
    raw = _junk(connector, field)
    assert 230_000 < len(raw) < 256 * 1024
    status, body = await secure.post(None, raw=raw, headers=headers)
    assert status == 401 and json.loads(body) == {"error": "unauthorized"}
    assert not calls, f"the body was parsed or checked before the token: {dict(calls)}"
    assert connector.requests == []


async def test_a_well_formed_token_still_gets_its_body_checked_first(secure, keys, connector):
    """Past the token checks before the body the order is unchanged: with a valid token a
    bad body is 400 before the SDK's full validation."""
    status, body = await secure.post(None, raw=_junk(connector, "entities"), headers=bearer(keys.token(connector.url)))
    assert status == 400 and "'entities'" in json.loads(body)["error"]


FORGED = {
    "signed with another key, known key id": lambda k, u: k.token(u, key=rsa_key("attacker")),
    "unknown key id": lambda k, u: k.token(u, kid="not-published", key=rsa_key("attacker")),
    "payload changed after signing": lambda k, u: _tampered(k, u).removeprefix("Bearer "),
    "wrong issuer": lambda k, u: k.token(u, iss="https://api.botframework.com.evil.example"),
    "not yet valid": lambda k, u: k.token(u, nbf=int(time.time()) + 900, iat=int(time.time())),
    "emulator issuer, attacker's key": lambda k, u: k.token(
        u,
        key=rsa_key("attacker"),
        kid="emu",
        ver="1.0",
        appid=APP_ID,
        iss="https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
    ),
    "skill-shaped, attacker's key": lambda k, u: k.token(
        u, key=rsa_key("attacker"), ver="2.0", azp="11111111-2222-3333-4444-555555555555", aud=APP_ID
    ),
}


@pytest.mark.parametrize("case", list(FORGED))
async def test_a_forged_well_formed_token_is_401_before_its_body_is_read(secure, keys, connector, monkeypatch, case):
    """A token that passes every check of its shape but not its signature (or key, issuer,
    validity) used to cost reading, parsing and checking the body first: 3.5 ms per 223 KB."""
    read = collections.Counter()
    original = web.BaseRequest.read

    async def counting_read(self):
        read.update(["read"])
        return await original(self)

    monkeypatch.setattr(web.BaseRequest, "read", counting_read)
    token = FORGED[case](keys, connector.url)
    assert auth.header_problem("Bearer " + token) is None, "not well-formed: the header check alone refuses it"
    raw = _junk(connector, "entities")
    status, body = await secure.post(None, raw=raw, headers=bearer(token))
    assert status == 401 and json.loads(body) == {"error": "unauthorized"}
    assert not read, "the body was read before the token was refused"
    assert connector.requests == []
    # a valid token's request is still read and answered
    status, _ = await secure.post(TeamsUser(connector).message("help"), headers=bearer(keys.token(connector.url)))
    assert status == 201 and read


async def test_refusals_are_logged_once_a_minute_with_a_count(secure, keys, connector, caplog):
    from bot.http.app import REFUSALS

    now = [1000.0]
    secure.runtime.app[REFUSALS].clock = lambda: now[0]
    forged = bearer(keys.token(connector.url, key=rsa_key("attacker")))
    user = TeamsUser(connector)

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused a request")]

    with caplog.at_level(logging.INFO, logger="kompetencehjulet.web"):
        for i in range(30):  # forged tokens and no token at all, within one minute
            now[0] = 1000.0 + 2 * i
            status, _ = await secure.post(user.message("hi"), headers=forged if i % 2 else {})
            assert status == 401
        assert len(lines()) == 1, lines()
        now[0] = 1000.0 + 2 * 29 + 60
        status, _ = await secure.post(user.message("hi"), headers=forged)
        assert status == 401
    assert len(lines()) == 2, lines()
    assert "29 more refusals" in lines()[1]


def test_every_refusal_before_the_body_is_one_the_sdk_makes_too(tmp_path):
    """before_body may only refuse what the SDK refuses anyway: tokens signed with the real
    key (and the attacker's) with random claims that steer the SDK's sorting (issuer,
    version, app id, audience), checked against the SDK itself."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    keys = KeyServer()
    keys.add_key("key-1")
    keys.start()
    connector = Connector()
    loop.run_until_complete(connector.start())
    server = AuthBotServer(tmp_path / "data", keys)
    loop.run_until_complete(server.start())
    activity = TeamsUser(connector).message("help")
    url = connector.url
    authenticator = auth.Authenticator(server.runtime.config, server.runtime.adapter)
    issuers = st.sampled_from(
        [ISSUER, ISSUER, "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/", "https://other.example", ""]
    )
    claims = st.fixed_dictionaries(
        {"iss": issuers},
        optional={
            "ver": st.sampled_from(["1.0", "2.0", "3.0"]),
            "appid": st.sampled_from([APP_ID, "someone"]),
            "azp": st.sampled_from([APP_ID, "someone"]),
            "aud": st.sampled_from([APP_ID, "https://api.botframework.com", "someone"]),
            "serviceurl": st.sampled_from([url, "https://elsewhere.example/"]),
        },
    )
    tokens = st.builds(
        lambda c, key: "Bearer " + keys.token(url, key=rsa_key(key), **c),
        claims,
        st.sampled_from(["key-1", "key-1", "attacker"]),
    )

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tokens)
    def check(header: str) -> None:
        try:
            loop.run_until_complete(authenticator.before_body(header))
        except Exception as err:  # noqa: BLE001 - any refusal
            assert not auth.unavailable(err), err
            assert _sdk_refuses(server, json.loads(json.dumps(activity)), header), (header, err)

    try:
        loop.run_until_complete(authenticator.before_body("Bearer " + keys.token(url)))
        check()
    finally:
        loop.run_until_complete(server.stop())
        loop.run_until_complete(connector.stop())
        asyncio.set_event_loop(None)
        loop.close()
        keys.stop()


def _sdk_refuses(server, activity, header: str) -> bool:
    from bot.activity_checks import validate_activity

    parsed, _ = validate_activity(activity, 2000)
    auth_ = server.runtime.adapter.bot_framework_authentication
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(auth_.authenticate_request(parsed, header))
    except Exception:  # noqa: BLE001 - any refusal
        return True
    return False


def test_every_early_refusal_is_one_the_sdk_makes_too(tmp_path):
    """header_problem may only refuse what the SDK refuses anyway: random changes to a real
    token's header, claims and scheme, checked against the SDK itself (with the real key)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    keys = KeyServer()
    keys.add_key("key-1")
    keys.start()
    connector = Connector()
    loop.run_until_complete(connector.start())
    server = AuthBotServer(tmp_path / "data", keys)
    loop.run_until_complete(server.start())
    activity = TeamsUser(connector).message("help")
    url = connector.url
    now = int(time.time())
    # mostly near-valid tokens, so that every rule (algorithm, key id, expiry) is reached
    algs = st.sampled_from(["RS256", "RS256", "RS256", "RS384", "HS256", "none", ""])
    kids = st.one_of(st.just("key-1"), st.just("key-1"), st.just(""), CLAIM_VALUES)
    expiries = st.one_of(
        st.integers(now - 1000, now + 1000), st.sampled_from([now - 302, now - 299, now - 400.5]), CLAIM_VALUES
    )
    tokens = st.builds(
        lambda alg, kid, exp, drop_kid: sign_rs256(
            keys.claims(url, exp=exp),
            keys.keys["key-1"][0],
            {"alg": alg} if drop_kid else {"alg": alg, "kid": kid},
        ),
        algs,
        kids,
        expiries,
        st.sampled_from([False, False, False, True]),
    )
    headers = st.one_of(
        st.builds(lambda token: f"Bearer {token}", tokens),
        st.builds(lambda token: f"Bearer {token}", tokens),
        st.builds(lambda scheme, token: f"{scheme} {token}", st.sampled_from(["bearer", "Basic", ""]), tokens),
        st.builds(lambda token: f"Bearer {token.rstrip('.')}", tokens),
        st.builds(lambda token, cut: f"Bearer {token[:cut]}", tokens, st.integers(0, 60)),
    )

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(headers)
    def check(header: str) -> None:
        if auth.header_problem(header):
            assert _sdk_refuses(server, json.loads(json.dumps(activity)), header), header

    try:
        assert auth.header_problem("Bearer " + keys.token(url)) is None
        assert not _sdk_refuses(server, json.loads(json.dumps(activity)), "Bearer " + keys.token(url))
        check()
    finally:
        loop.run_until_complete(server.stop())
        loop.run_until_complete(connector.stop())
        asyncio.set_event_loop(None)
        loop.close()
        keys.stop()


# --- random headers and tokens --------------------------------------------------------------

CLAIM_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def test_random_authorization_headers_and_tokens_are_always_401(tmp_path):
    """Random schemes, random strings, random claims signed with the *attacker's* key
    or with the real key but random claim values that break one rule: never accepted,
    never a 5xx, never a post to the connector."""
    loop = asyncio.new_event_loop()
    keys = KeyServer()
    keys.add_key("key-1")
    keys.start()
    connector = Connector()
    loop.run_until_complete(connector.start())
    server = AuthBotServer(tmp_path / "data", keys)
    loop.run_until_complete(server.start())
    user = TeamsUser(connector, locale="en-US")
    url = connector.url

    forged = st.builds(
        lambda claims, kid: "Bearer " + sign_rs256(claims, rsa_key("attacker"), {"kid": kid}),
        st.dictionaries(
            st.sampled_from(["iss", "aud", "serviceurl", "exp", "nbf", "ver", "appid", "azp"]), CLAIM_VALUES, max_size=6
        ).map(lambda d: {**keys.claims(url), **d}),
        st.sampled_from(["key-1", "other", ""]),
    )
    broken_real = st.builds(
        lambda name, value: "Bearer " + keys.token(url, **{name: value}),
        st.sampled_from(["iss", "aud", "serviceurl"]),
        CLAIM_VALUES.filter(lambda v: v not in (ISSUER, APP_ID, url)),
    )
    headers = st.one_of(
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
        st.builds(
            lambda s, t: f"{s} {t}",
            st.sampled_from(["Bearer", "bearer", "Basic", "Negotiate", ""]),
            st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=300),
        ),
        forged,
        broken_real,
    )

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(headers)
    def check(header: str) -> None:
        status, body = loop.run_until_complete(server.post(user.message("help"), headers={"Authorization": header}))
        assert status == 401, (header, status, body)

    try:
        check()
        assert connector.requests == []
        # still serving real traffic afterwards
        status, _ = loop.run_until_complete(server.post(user.message("help"), headers=bearer(keys.token(url))))
        assert status == 201 and connector.activities
    finally:
        loop.run_until_complete(server.stop())
        loop.run_until_complete(connector.stop())
        loop.close()
        keys.stop()


# --- input limits (local mode: these checks come before authentication) ------------------------


def _valid(connector) -> dict:
    return TeamsUser(connector, locale="en-US").message("help")


async def test_a_body_over_256_kb_is_413_with_or_without_content_length(server, connector):
    activity = _valid(connector)
    activity["text"] = "x" * (260 * 1024)
    status, _ = await server.post(activity)
    assert status == 413

    async def chunks():
        data = json.dumps(activity).encode()
        for i in range(0, len(data), 16 * 1024):
            yield data[i : i + 16 * 1024]

    async with server.session.post(
        server.url + "/api/messages", data=chunks(), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 413
    assert connector.requests == []


async def test_a_compressed_body_is_limited_by_its_unpacked_size(server, connector):
    activity = _valid(connector)
    activity["text"] = "a" * (20 * 1024 * 1024)  # 20 MB that gzip packs into ~20 KB
    packed = gzip.compress(json.dumps(activity).encode())
    assert len(packed) < 64 * 1024
    status, _ = await server.post(None, raw=packed, headers={"Content-Encoding": "gzip"})
    assert status == 413 and connector.requests == []


async def test_a_body_just_under_the_limit_is_read(server, connector):
    activity = _valid(connector)
    activity["text"] = "help " + " " * (250 * 1024)
    status, _ = await server.post(activity)
    assert status == 201 and connector.activities


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonp", "text/json", ""],
)
async def test_other_content_types_are_415(server, connector, content_type):
    status, _ = await server.post(_valid(connector), content_type=content_type)
    assert status == 415 and connector.requests == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
async def test_json_content_type_variants_are_accepted(server, connector, content_type):
    status, _ = await server.post(_valid(connector), content_type=content_type)
    assert status == 201


@pytest.mark.parametrize("field", ["type", "conversation", "from", "serviceUrl", "channelId"])
async def test_an_activity_missing_a_required_field_is_400(server, connector, field):
    activity = _valid(connector)
    del activity[field]
    status, body = await server.post(activity)
    assert status == 400 and field in json.loads(body)["error"]
    assert connector.requests == []


@pytest.mark.parametrize(
    "change",
    [
        {"type": ["message"]},
        {"type": ""},
        {"id": 5},
        {"text": {"t": "help"}},
        {"text": ["help"]},
        {"locale": 7},
        {"timestamp": 1234},
        {"timestamp": "yesterday"},
        {"channelId": ""},
        {"from": {"id": 5}},
        {"from": {"id": ""}},
        {"from": {"id": "u", "name": ["x"]}},
        {"from": {"id": "u", "aadObjectId": 5}},
        {"from": "user"},
        {"conversation": {"id": "c", "conversationType": ["personal"]}},
        {"conversation": {"id": "c", "tenantId": {"id": "t"}}},
        {"conversation": {"id": "c", "isGroup": "yes"}},
        {"recipient": "bot"},
        {"membersAdded": {"id": "u"}},
        {"membersAdded": [{"id": 1}]},
        {"entities": {"type": "clientInfo"}},
        {"entities": [5]},
        {"entities": [{"type": 5}]},
        {"entities": [{"type": "clientInfo", "locale": 5}]},
        {"entities": [{"type": "clientInfo", "timezone": ["x"]}]},
        {"entities": [{"type": "mention", "mentioned": "bot"}]},
        {"channelData": "x"},
        {"channelData": [1]},
        {"channelData": {"tenant": "t"}},
        {"channelData": {"tenant": {"id": 5}}},
        {"channelData": {"team": {"id": ["x"]}}},
        {"channelData": {"eventType": 1}},
        {"attachments": "x"},
        {"attachments": [{"contentType": 5}]},
        {"reactionsAdded": [{"type": 1}]},
        {"suggestedActions": {"actions": "x"}},
        {"relatesTo": {"conversation": "c"}},
        {"value": json.loads("[" * 80 + "]" * 80)},
        {"serviceUrl": "file:///etc/passwd"},
        {"serviceUrl": "javascript:alert(1)"},
        {"serviceUrl": "ftp://host/"},
        {"serviceUrl": "http://"},
        {"serviceUrl": "//host/"},
        {"serviceUrl": "host.example"},
        {"serviceUrl": 80},
        {"serviceUrl": "http://[::1"},
    ],
)
async def test_wrong_types_and_bad_values_are_400(server, connector, change):
    activity = {**_valid(connector), **change}
    status, body = await server.post(activity)
    assert status == 400, (change, status, body)
    assert "error" in json.loads(body) and connector.requests == []


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"null",
        b"[]",
        b'"a string"',
        b"42",
        b'{"type": "message"',
        b'{"text": NaN}',
        b"\xff\xfe\xfd",
        b'{"type": "message", "text": "\\ud800"}',
    ],
)
async def test_malformed_json_is_400(server, raw):
    status, body = await server.post(None, raw=raw)
    assert status == 400 and "error" in json.loads(body)


@pytest.mark.parametrize(
    "field,limit",
    [
        ("entities", 256),
        ("attachments", 50),
        ("membersAdded", 1000),
        ("membersRemoved", 1000),
        ("reactionsAdded", 100),
        ("reactionsRemoved", 100),
        ("textHighlights", 100),
        ("listenFor", 100),
        ("suggestedActions.actions", 100),
        ("suggestedActions.to", 100),
    ],
)
async def test_a_list_over_its_bound_is_400_naming_the_field(server, connector, field, limit):
    from bot import activity_checks

    activity = _valid(connector)
    if field.startswith("suggestedActions."):
        activity["suggestedActions"] = {field.split(".")[1]: [{}] * (limit + 1)}
    else:
        activity[field] = [{}] * (limit + 1)
    status, body = await server.post(activity)
    assert status == 400, (field, status, body)
    assert json.loads(body)["error"] == f"'{field}' has more than {limit} items"
    assert connector.requests == []
    bounds = {
        **activity_checks.MAX_ITEMS,
        **{f"suggestedActions.{k}": v for k, v in activity_checks.MAX_SUGGESTED.items()},
    }
    assert bounds[field] == limit


async def test_lists_at_their_bound_are_read(server, connector):
    activity = _valid(connector)
    activity["entities"] += [{"type": "x"}] * 255
    activity["attachments"] = [{"contentType": "text/plain"}] * 50
    status, _ = await server.post(activity)
    assert status == 201 and "I can help you" in connector.all_text()


@pytest.mark.parametrize("field", ["value", "channelData", "somethingNew"])
async def test_an_activity_with_too_many_parts_is_400(server, connector, field, monkeypatch):
    """Refused by counting, before the costly walk through the schema and the SDK's reader."""
    import bot.activity_checks

    reached = collections.Counter()
    for name in ("_shape_problem", "read_activity"):
        original = getattr(bot.activity_checks, name)
        monkeypatch.setattr(
            bot.activity_checks,
            name,
            lambda *a, _name=name, _f=original, **k: (reached.update([_name]), _f(*a, **k))[1],
        )
    activity = _valid(connector)
    activity[field] = {"list": [{}] * 30_000}
    status, body = await server.post(activity)
    assert status == 400 and "too many parts" in json.loads(body)["error"]
    assert not reached, f"the activity was walked or read before it was refused: {dict(reached)}"
    assert connector.requests == []


async def test_unknown_fields_are_ignored(server, connector):
    activity = {
        **_valid(connector),
        "somethingNew": {"deep": [1, 2, {"x": None}]},
        "_private": 1,
        "from": {**_valid(connector)["from"], "extra": True},
    }
    activity["conversation"]["futureField"] = "x"
    status, _ = await server.post(activity)
    assert status == 201 and "I can help you" in connector.all_text()


async def test_https_and_uppercase_scheme_service_urls_are_accepted(server, connector):
    activity = _valid(connector)
    activity["serviceUrl"] = connector.url.replace("http://", "HTTP://")
    status, _ = await server.post(activity)
    assert status == 201 and connector.activities


async def test_over_long_text_is_cut_before_the_bot_sees_it(server, connector):
    seen: list[str] = []
    router = server.runtime.bot.router
    original = router.on_message

    async def spy(context):
        seen.append(context.activity.text)
        await original(context)

    router.on_message = spy
    activity = _valid(connector)
    activity["text"] = "hvad er innovation " + "ø" * 30_000  # 180 KB as JSON escapes
    status, _ = await server.post(activity)
    assert status == 201
    assert seen and len(seen[0]) == server.runtime.config.MAX_TEXT_CHARS


async def test_a_crash_inside_a_turn_is_not_a_500(server, connector):
    async def boom(context):
        raise RuntimeError("something broke")

    server.runtime.bot.router.on_message = boom
    status, _ = await server.post(_valid(connector))
    assert status == 201
    assert "Sorry, something went wrong" in connector.all_text()


async def test_a_failure_outside_the_turn_is_a_plain_500_without_details(server, connector, monkeypatch):
    """Only server-side set-up (credentials, connector client) can fail there."""

    async def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(server.runtime.adapter, "process_activity", broken)
    status, body = await server.post(_valid(connector))
    assert status == 500 and "secret" not in body
