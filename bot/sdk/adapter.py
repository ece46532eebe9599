"""The CloudAdapter with Bot Framework auth from configuration and the pooled reply path.

Replies go out through `connector`: connector clients reused per (service URL, app id,
audience), one pooled aiohttp session, outgoing tokens cached until shortly before they
expire, user-token clients only when used. Authentication is the SDK's
(`ConfigurationBotFrameworkAuthentication`), fully on when an app id is set. The pool is
`adapter.connector_pool`; whoever builds the app closes it on cleanup.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector.auth import ServiceClientCredentialsFactory

from .connector import ConnectorPool, PooledBotFrameworkAuthentication

log = logging.getLogger("kompetencehjulet.adapter")


class Config(Protocol):
    """The settings this module reads (bot/config.py's Config has them; the SDK reads the
    endpoint settings off the same object when they are there). A protocol, so bot/sdk/
    needs nothing of the rest of the bot."""

    @property
    def APP_ID(self) -> str: ...  # the SDK's attribute name


def create_authentication(
    config: Config,
    pool: ConnectorPool | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> PooledBotFrameworkAuthentication:
    """The SDK's configuration-driven authentication (it reads APP_ID, APP_PASSWORD, APP_TYPE,
    APP_TENANTID and the endpoint settings off `config`), with pooled connector clients.
    `credentials_factory` replaces the one built from MicrosoftAppId/Password/Type (tests)."""
    inner = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
    return PooledBotFrameworkAuthentication(inner, pool)


class _Addressed(Activity):
    """An outgoing activity that is already the turn's own copy (see SharingTurnContext)."""

    def __deepcopy__(self, memo: dict) -> "_Addressed":
        return self


class SharingTurnContext(TurnContext):
    """The SDK's TurnContext, except that an outgoing activity is copied one level deep, not
    deep-copied. The SDK copies so that addressing the reply (conversation, sender,
    recipient, reply-to) leaves the caller's activity as it was; it does so by assigning
    those fields, which a shallow copy keeps apart just as well. Cards, buttons and texts
    are never changed once sent, so they are shared. A deep copy of a card with buttons
    was about 90 objects: the largest single cost of a nudge, and 0.1-0.3 ms of every reply."""

    async def send_activities(self, activities: list[Activity]) -> list[ResourceResponse]:
        own: list[Activity] = []
        for activity in activities:
            copy = _Addressed.__new__(_Addressed)
            copy.__dict__.update(activity.__dict__)
            own.append(copy)
        return await super().send_activities(own)


class Adapter(CloudAdapter):
    """The SDK's CloudAdapter with two changes: a send with nothing left to send is no error
    (the handler may hold a text back to join the card after it, bot/captions.py), and its
    turns copy outgoing activities one level deep (SharingTurnContext)."""

    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> list[ResourceResponse]:
        if not activities:
            return []
        return await super().send_activities(context, activities)

    def _create_turn_context(self, *args: Any, **kwargs: Any) -> TurnContext:
        context = super()._create_turn_context(*args, **kwargs)
        context.__class__ = SharingTurnContext  # the same object and state, with the cheaper copy
        return context


def create_adapter(config: Config, credentials_factory: ServiceClientCredentialsFactory | None = None) -> CloudAdapter:
    if not getattr(config, "APP_ID", ""):
        log.warning(
            "MicrosoftAppId is not set: Bot Framework authentication is OFF (local mode). "
            "Never expose this instance to the internet."
        )
    auth = create_authentication(config, credentials_factory=credentials_factory)
    adapter = Adapter(auth)
    adapter.connector_pool = auth.pool  # closed on app cleanup
    return adapter
