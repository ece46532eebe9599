"""The retention job of the served bot: once a day (and on `python app.py expire`), people
silent for RETENTION_DAYS are deleted and those 30 days from it are told once, in their
own chat, through the nudge sender's paced, retried delivery."""

from __future__ import annotations

from datetime import datetime

from dialogs.common import with_buttons
from dialogs.services import Services
from model import content
from model.clicks import KeepData
from model.domain.retention import WARNING_DAYS, Outcome, Retention, last_activity

from .nudge_sender import NudgeSender


class RetentionJob:
    def __init__(self, services: Services, sender: NudgeSender, days: int) -> None:
        self.services = services
        self.sender = sender
        self.retention = Retention(services.store, services.users, days)
        self.days = days

    async def run(self, now: datetime | None = None, dry_run: bool = False, tenant: str | None = None) -> Outcome:
        """One retention pass (`tenant`: that tenant's people only)."""
        return await self.retention.run(now or self.services.now(), self.warn, dry_run=dry_run, tenant=tenant)

    async def warn(self, key: str, doc: dict) -> bool:
        reference = doc.get("conversation")
        if not reference:
            return False
        lang = content.normalise_language((doc.get("profile") or {}).get("language"))
        seen = last_activity(doc)
        text = content.t(
            lang,
            "retention.warning",
            days=WARNING_DAYS,
            since=content.format_date(lang, seen.isoformat()) if seen else "",
        )
        activity = with_buttons(text, [(content.t(lang, "retention.keep_button"), KeepData().data())])
        return await self.sender.send_once(reference, activity)
