"""Steps 1 and 3 of a request (see bot/http/__init__.py): the token checked before the body
is read, then what needs the activity. The checks are bot/auth.py's; this module turns their
outcome into an answer: 401 for a refusal (logged through `RefusalLog`, at most a line a
minute), 503 when the signing keys cannot be fetched."""

from __future__ import annotations

import logging

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from ..auth import Authenticator, AuthUnavailable, RefusalLog, refusal, unavailable
from ..config import Config
from .responses import problem, unauthorized

log = logging.getLogger("kompetencehjulet.web")


class Gate:
    def __init__(self, config: Config, adapter: CloudAdapter) -> None:
        self.authenticate = Authenticator(config, adapter)
        self.refusals = RefusalLog(log)

    async def before_body(self, header: str | None) -> web.Response | None:
        """None when the token may be valid; else the answer, and nothing of the body is read."""
        early = self.authenticate.refuse_early(header)
        if early:  # junk without a token costs nothing
            self.refusals.refused(f"{early} [before reading the body]")
            return unauthorized()
        try:
            await self.authenticate.before_body(header)
        except Exception as err:  # noqa: BLE001 - every failure is a refusal or "unavailable"
            return self._refused(err, header or "", " [before reading the body]")
        return None

    async def after_body(self, activity: Activity, header: str | None) -> AuthenticateRequestResult | web.Response:
        """The SDK's authentication result for this activity, or the answer that refuses it."""
        try:
            return await self.authenticate(activity, header)
        except Exception as err:  # noqa: BLE001 - every failure is a refusal or "unavailable"
            return self._refused(err, header or "")

    def _refused(self, err: BaseException, header: str, when: str = "") -> web.Response:
        if unavailable(err):
            why = str(err) if isinstance(err, AuthUnavailable) else type(err).__name__  # our own words
            log.warning("could not check a token: signing keys unavailable (%s)", why)
            return problem(503, "authentication is temporarily unavailable", {"Retry-After": "10"})
        self.refusals.refused(refusal(err, header) + when)
        return unauthorized()
