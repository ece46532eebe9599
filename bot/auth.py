"""Bot Framework authentication of incoming requests, sorted into 401 (the caller's fault)
and 503 (the key server's).

With an app id: the SDK's Bot Framework JWT validation (signature against the OpenID
metadata's keys, issuer, audience = our app id, expiry and not-before, the `serviceurl`
claim = the activity's serviceUrl, channel endorsements). Whatever the SDK raises for a
bad or missing token is a 401 (it raises PermissionError, PyJWT errors, plain Exception
for endorsements...). Only "the signing keys could not be fetched (now)" is a 503.
Without an app id (local mode) authentication is off and any Authorization header is
ignored.

**Signing keys.** botframework-connector 4.17.1 keeps them per metadata URL in the
class-level dict `JwtTokenExtractor.metadataCache`, fetched with blocking `requests` calls
without a timeout and without single-flight, and its look-up raises IndexError for any
key id it does not know before it would refresh: a key Microsoft rotated in was refused
until the daily refresh or a restart. Run on threads with a time limit, a key server that
accepted connections and never answered left the threads stuck for good. So
`install_key_store` puts `SigningKeys` in that dict instead. The SDK only calls
`await cache.get(url).get(kid)` and reads `.public_key` and `.endorsements` off the
answer, so its validation stays the authority and now runs on the event loop: keys come
with aiohttp under one time limit for both documents, one fetch at a time per URL, again
on an unknown key id at most every UNKNOWN_KID_INTERVAL, and while a fetch is in flight
other requests needing it get a 503 at once instead of queueing. A failed fetch keeps the
keys already known. Logs name the reason for a refusal, never the token.

**Before the body.** With an app id, `header_problem` refuses from the Authorization
header alone what the SDK would refuse on every path (channel, emulator, skill) anyway:
no header, not `Bearer <token>`, not three base64url segments, header or claims not a
JSON object, a signing algorithm other than RS256 (the SDK's PyJWT call allows only
that), no key id, expired beyond the SDK's 5 minutes of clock skew. It costs microseconds.
Then `Authenticator.before_body` checks the token's signature the way the SDK will: the
SDK's own sorting of the token (skill, emulator or channel: its static checks, which
raise for the same tokens as in the SDK) picks the metadata URL the SDK would use, the
key comes from the same SigningKeys, and PyJWT's decode runs with the SDK's arguments
(RS256, 5 minutes of leeway, expiry on, audience later); a channel token must also name
the channel issuer. A forged but well-formed token is a 401 there, before the body is
read, parsed or checked: its cost was 3.5 ms of CPU per 223 KB body, now a signature
check. What needs the body (the `serviceurl` claim against the activity's serviceUrl,
the endorsement of its channelId, the audience and the issuer lists) is the SDK's full
validation afterwards, which still decides about every token.

**Refusals in the log** (`RefusalLog`): the first refusal is logged with its reason, the
next ones within a minute only counted, and the next line says how many there were, so
a flood of forged requests writes a line a minute, not a line each.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import aiohttp
import jwt
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, EmulatorValidation, SkillValidation
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

from .config import PUBLIC_CLOUD, Config

log = logging.getLogger("kompetencehjulet.auth")

KEY_FETCH_TIMEOUT = 5.0  # metadata and key set together; Teams gives a whole turn 15 s
UNKNOWN_KID_INTERVAL = 300.0  # an unknown key id fetches the keys again at most this often
FAILED_FETCH_RETRY = 30.0  # after a failed fetch: 503 for unknown key ids, then try again
KEY_MAX_AGE = 24 * 3600.0  # the SDK's daily refresh, here in the background
MAX_KEY_DOCUMENT = 1024 * 1024  # Microsoft's documents are a few KB
MAX_KID = 256


class AuthUnavailable(Exception):
    """The signing keys could not be fetched (now); not the caller's fault."""


class UnknownSigningKey(PermissionError):
    """The token names a key the key server does not publish: a 401. The message never
    quotes the key id (it is the caller's input)."""

    def __init__(self) -> None:
        super().__init__("Unknown signing key id")


@dataclass(frozen=True)
class SigningKey:
    """What the SDK reads off `await metadata.get(kid)`."""

    public_key: Any
    endorsements: Any  # kept exactly as published: the SDK decides what they mean


def parse_key_set(doc: Any) -> dict[str, SigningKey]:
    """kid -> key from a JWKS document; a key that cannot be read is a key we do not have
    (the SDK would fail on it the same way when a token named it)."""
    keys: dict[str, SigningKey] = {}
    for jwk in (doc.get("keys") if isinstance(doc, dict) else None) or []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except Exception:  # noqa: BLE001 - see the docstring
            continue
        keys[jwk["kid"]] = SigningKey(public_key, jwk.get("endorsements", []))
    return keys


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as resp:
        resp.raise_for_status()
        raw = await resp.content.read(MAX_KEY_DOCUMENT + 1)
    if len(raw) > MAX_KEY_DOCUMENT:
        raise ValueError("key document too large")
    return json.loads(raw)


def _retrieved(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # the awaiting request reports it; never "exception was never retrieved"


class SigningKeys:
    """The signing keys of one OpenID metadata URL, in place of the SDK's _OpenIdMetadata."""

    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.clock = clock
        self.keys: dict[str, SigningKey] = {}
        self.fetched_at: float | None = None  # last success
        self.tried_at: float | None = None  # last attempt
        self.failed = False  # did the last attempt fail?
        self.fetches = 0
        self._task: asyncio.Task | None = None

    async def get(self, key_id: object) -> SigningKey:
        """The SDK's call. A known key at once (a stale set refreshes in the background);
        an unknown one may fetch the keys again, or it is UnknownSigningKey (401) or
        AuthUnavailable (503)."""
        key = self.keys.get(key_id) if isinstance(key_id, str) else None
        if key is not None:
            stale = self.fetched_at is not None and self.clock() - self.fetched_at > KEY_MAX_AGE
            if stale and not self.fetching and self._may_fetch():
                self._start()
            return key
        if not isinstance(key_id, str) or not key_id or len(key_id) > MAX_KID:
            raise UnknownSigningKey()  # no fetch is worth it: nobody publishes such a key
        if self.fetching:
            raise AuthUnavailable("a key fetch is in flight")
        if not self._may_fetch():
            if self.failed:
                raise AuthUnavailable("the last key fetch failed")
            raise UnknownSigningKey()  # the keys are fresh: this kid is not the key server's
        try:
            await asyncio.shield(self._start())  # the fetch goes on if this request goes away
        except Exception as err:  # noqa: BLE001 - network, HTTP status, timeout, bad JSON
            raise AuthUnavailable(type(err).__name__) from None
        key = self.keys.get(key_id)
        if key is None:
            raise UnknownSigningKey()
        return key

    @property
    def fetching(self) -> bool:
        task = self._task
        return task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop()

    def _may_fetch(self) -> bool:
        if self.tried_at is None:
            return True
        wait = FAILED_FETCH_RETRY if self.failed else UNKNOWN_KID_INTERVAL
        return self.clock() - self.tried_at >= wait

    def _start(self) -> asyncio.Task:
        self.tried_at = self.clock()
        task = asyncio.get_running_loop().create_task(self._fetch())
        task.add_done_callback(_retrieved)
        self._task = task
        return task

    async def _fetch(self) -> None:
        self.fetches += 1
        host = urlsplit(self.url).hostname
        try:
            async with asyncio.timeout(KEY_FETCH_TIMEOUT):
                async with aiohttp.ClientSession(trust_env=True) as session:  # *_PROXY, as requests did
                    metadata = await _get_json(session, self.url)
                    jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                    if not isinstance(jwks_uri, str) or not jwks_uri:
                        raise ValueError("no jwks_uri in the OpenID metadata")
                    keys = parse_key_set(await _get_json(session, jwks_uri))
        except Exception as err:
            self.failed = True
            log.warning(
                "signing keys: fetch from %s failed (%s); keeping the %d known",
                host,
                type(err).__name__,
                len(self.keys),
            )
            raise
        self.failed = False
        self.fetched_at = self.clock()
        if not keys and self.keys:
            log.warning("signing keys: %s published no usable key; keeping the %d known", host, len(self.keys))
            return
        new = len(keys.keys() - self.keys.keys())
        self.keys = keys
        log.info("signing keys: %d from %s (%d new)", len(keys), host, new)


class _KeyStores(dict):
    """JwtTokenExtractor.metadataCache: every metadata URL the SDK asks for (channel,
    emulator, skills) gets SigningKeys, never a stock _OpenIdMetadata."""

    def get(self, url: Any, default: Any = None) -> SigningKeys:
        store = dict.get(self, url)
        if store is None:
            store = self[url] = SigningKeys(url)
        return store

    def setdefault(self, url: Any, default: Any = None) -> SigningKeys:
        return self.get(url)


def install_key_store() -> _KeyStores:
    """Put SigningKeys in the SDK's key cache, or fail loudly at start-up when the SDK no
    longer has that seam (silently, it would be back to blocking fetches and restarts)."""
    cache = JwtTokenExtractor.__dict__.get("metadataCache")
    lookup = getattr(JwtTokenExtractor, "get_open_id_metadata", None)
    if not isinstance(cache, dict) or not callable(lookup):
        raise RuntimeError(
            "botframework-connector changed: JwtTokenExtractor.metadataCache is gone, so bot/auth.py "
            "cannot give the SDK its signing-key store; check jwt_token_extractor.py before upgrading"
        )
    if not isinstance(cache, _KeyStores):
        JwtTokenExtractor.metadataCache = cache = _KeyStores()
    probe = "kompetencehjulet:probe"
    found = lookup(probe)
    cache.pop(probe, None)
    if not isinstance(found, SigningKeys):
        raise RuntimeError(
            "botframework-connector changed: JwtTokenExtractor.get_open_id_metadata no longer reads metadataCache"
        )
    return cache


def key_store(url: str) -> SigningKeys:
    """The SigningKeys the SDK uses for one metadata URL (operators' tools, tests)."""
    return install_key_store().get(url)


_SEGMENT = re.compile(r"[A-Za-z0-9_-]+={0,2}\Z")  # base64url, padded or not (PyJWT takes both)
CLOCK_SKEW = 5 * 60  # the SDK's clock_tolerance on every path


def _json_segment(segment: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):  # also UnicodeDecodeError
        return None


def header_problem(header: str | None, now: float | None = None) -> str | None:
    """Why this Authorization header cannot carry a token the SDK would accept, or None.
    Only rules the SDK applies on every path (see the module docstring): a None here is
    no acceptance, only "ask the SDK"."""
    header = (header or "").strip()
    if not header:
        return "no Authorization header"
    parts = header.split(" ")  # the SDK's own split
    if len(parts) != 2 or parts[0] != "Bearer" or not parts[1]:
        return "not 'Bearer <token>'"
    segments = parts[1].split(".")
    if len(segments) != 3 or not all(_SEGMENT.match(s) for s in segments):
        return "not a signed JWT"
    head, claims = _json_segment(segments[0]), _json_segment(segments[1])
    if not isinstance(head, dict) or not isinstance(claims, dict):
        return "not a signed JWT"
    if head.get("alg") != "RS256":
        return "signing algorithm is not RS256"
    if not isinstance(head.get("kid"), str) or not head["kid"]:
        return "no key id"
    exp = claims.get("exp")
    now = time.time() if now is None else now
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp + CLOCK_SKEW < now - 1:
        return "Signature has expired"
    return None


class Authenticator:
    """Runs the SDK's request authentication and sorts its outcomes into 401 / 503."""

    def __init__(self, config: Config, adapter: CloudAdapter) -> None:
        self.config = config
        self.adapter = adapter
        if not config.local_mode:
            install_key_store()

    def refuse_early(self, header: str | None) -> str | None:
        """A reason for a 401 from the header alone (before the body is read), or None.
        Never in local mode, where headers are ignored."""
        return None if self.config.local_mode else header_problem(header)

    def metadata_url(self, header: str) -> str:
        """The OpenID metadata URL the SDK validates this token against: the emulator's for
        skill and emulator tokens, the channel's for the rest (its own sorting, in its order).
        Raises what the SDK's sorting raises for the header (a 401)."""
        if SkillValidation.is_skill_token(header) or EmulatorValidation.is_token_from_emulator(header):
            return self._setting("TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL")
        return self._setting("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")

    def _setting(self, name: str) -> str:
        return getattr(self.config, name, None) or PUBLIC_CLOUD[name]

    async def before_body(self, header: str | None) -> None:
        """The token's signature, key and expiry, checked as the SDK checks them, before the
        body is read (see the module docstring). Raises PermissionError or PyJWT's errors
        (401) and AuthUnavailable (503); returns when only the SDK's checks that need the
        activity are left. Nothing in local mode."""
        if self.config.local_mode:
            return
        header = (header or "").strip()
        problem = header_problem(header)
        if problem:
            raise PermissionError(problem)
        token = header.split(" ")[1]
        url = self.metadata_url(header)
        claims = jwt.decode(token, options={"verify_signature": False})
        if url == self._setting("TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL") and claims.get("iss") != self._setting(
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER"
        ):
            raise PermissionError("Token issuer is not the channel's")
        key = await install_key_store().get(url).get(jwt.get_unverified_header(token).get("kid"))
        jwt.decode(  # the SDK's call in JwtTokenExtractor._validate_token
            token,
            key.public_key,
            leeway=CLOCK_SKEW,
            options={"verify_aud": False, "verify_exp": True},
            algorithms=["RS256"],
        )

    async def __call__(self, activity: Activity, header: str | None) -> AuthenticateRequestResult:
        auth = self.adapter.bot_framework_authentication
        if self.config.local_mode:
            # Auth is off: the SDK gives an anonymous identity for a missing header. A header
            # is ignored (with no app id it could never be valid, and checking it would
            # make the SDK fetch Microsoft's keys for nothing).
            return await auth.authenticate_request(activity, None)
        problem = header_problem(header)
        if problem:
            raise PermissionError(problem)
        return await auth.authenticate_request(activity, (header or "").strip())


class RefusalLog:
    """401s in the log at most once per `interval`: the first with its reason, the rest
    counted until the next line, which says how many there were."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.log = logger
        self.interval = interval
        self.clock = clock
        self.since = 0  # refusals not logged since the last line
        self._logged_at: float | None = None

    def refused(self, reason: str) -> None:
        now = self.clock()
        if self._logged_at is not None and now - self._logged_at < self.interval:
            self.since += 1
            return
        more = (
            f" (and {self.since} more refusals in the last {now - self._logged_at:.0f} s, not logged one by one)"
            if self.since and self._logged_at is not None
            else ""
        )
        self.log.info("refused a request (401): %s%s", reason, more)
        self.since = 0
        self._logged_at = now


def unavailable(err: BaseException) -> bool:
    """Was this the key server (network, time limit), not the token?"""
    return isinstance(err, (AuthUnavailable, TimeoutError, ConnectionError, aiohttp.ClientError))


def where(err: BaseException) -> str:
    """Exception type and the innermost frames, never the message (it may quote input)."""
    frames = traceback.extract_tb(err.__traceback__)[-3:]
    return (
        type(err).__name__
        + " at "
        + " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    )


def refusal(err: BaseException, header: str) -> str:
    """Why a token was refused, for the log. The SDK's own wording is kept for PermissionError,
    its plain Exceptions ("Could not validate endorsement key") and PyJWT errors ("Invalid
    AppId passed on token: ...", "Signature has expired"), which quote no input, unless it
    would contain a piece of the presented header."""
    place = where(err)
    if isinstance(err, PermissionError) or type(err) is Exception or (type(err).__module__ or "").startswith("jwt"):
        message = " ".join(str(a) for a in err.args if a not in (None, ""))[:200]
        pieces = [p for p in header.replace(" ", ".").split(".") if len(p) >= 12]
        if message and not any(p in message for p in pieces):
            return f"{message} [{place}]"
    return place
