"""Bot Framework authentication of incoming requests, sorted into 401 (the caller's fault)
and 503 (the key server's).

With an app id: the SDK's Bot Framework JWT validation (signature against the OpenID
metadata's keys, issuer, audience = our app id, expiry and not-before, the `serviceurl`
claim = the activity's serviceUrl, channel endorsements). Whatever the SDK raises for a
bad or missing token is a 401 (it raises PermissionError, PyJWT errors, IndexError for an
unknown key id, plain Exception for endorsements...). Only "the key server could not be
reached (in time)" is a 503. Without an app id (local mode) authentication is off and
any Authorization header is ignored.

The SDK fetches OpenID metadata and signing keys with blocking `requests` calls without
a timeout. So that a slow or hanging key server cannot freeze the event loop (and every
conversation with it), authentication with an app id runs on a small dedicated thread
pool, with a time limit. Logs name the reason for a refusal, never the token.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import traceback
from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from .config import Config

AUTH_TIMEOUT_SECONDS = 20.0
AUTH_THREADS = 4


class AuthUnavailable(Exception):
    """The signing keys could not be fetched; not the caller's fault."""


def unavailable(err: BaseException) -> bool:
    """Was this the key server (network, HTTP status), not the token?"""
    try:
        import requests
    except ImportError:  # pragma: no cover - the SDK depends on requests
        return isinstance(err, (TimeoutError, ConnectionError))
    return isinstance(
        err, (TimeoutError, ConnectionError, requests.ConnectionError, requests.Timeout, requests.HTTPError)
    )


class Authenticator:
    """Runs the SDK's request authentication and sorts its outcomes into 401 / 503."""

    def __init__(self, config: Config, adapter: CloudAdapter) -> None:
        self.config = config
        self.adapter = adapter
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    async def __call__(self, activity: Activity, header: str | None) -> AuthenticateRequestResult:
        auth = self.adapter.bot_framework_authentication
        if self.config.local_mode:
            # Auth is off: the SDK gives an anonymous identity for a missing header. A header
            # is ignored (with no app id it could never be valid, and checking it would
            # make the SDK fetch Microsoft's keys for nothing).
            return await auth.authenticate_request(activity, None)
        header = (header or "").strip()
        if not header:
            raise PermissionError("no Authorization header")
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(AUTH_THREADS, thread_name_prefix="bf-auth")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, _run_in_own_loop, auth, activity, header)
        try:
            return await asyncio.wait_for(future, AUTH_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            raise AuthUnavailable("timed out") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _run_in_own_loop(auth: Any, activity: Activity, header: str) -> AuthenticateRequestResult:
    return asyncio.run(auth.authenticate_request(activity, header))


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
