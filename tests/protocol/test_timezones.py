"""The client's time zone as Teams sends it (issue 23, finding 11): Teams on Windows may send
a Windows zone name ("Romance Standard Time") or an offset ("UTC+01:00") in the clientInfo
entity or in `localTimezone`. Reminder setup never ends in the apology: a known name is
mapped, anything else becomes Danish time and the person is told in one line."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from conftest import TeamsUser, say

from model import content
from model.domain import schedule

MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
APOLOGY = "noget gik galt"
FALLBACK = content.t("da", "reminders.timezone_fallback")


class WindowsTeamsUser(TeamsUser):
    """A person whose Teams client sends `zone` as its time zone, in the entity or the field."""

    def __init__(self, connector, zone: str, where: str) -> None:
        super().__init__(connector)
        self.zone, self.where = zone, where

    def activity(self, type_: str = "message", **fields) -> dict:
        act = super().activity(type_, **fields)
        if self.where == "entity":
            act["entities"] = [{"type": "clientInfo", "locale": self.locale, "timezone": self.zone}]
        else:
            act["entities"] = [{"type": "clientInfo", "locale": self.locale}]
            act["localTimezone"] = self.zone
        return act


async def set_reminder(server, connector, user: TeamsUser) -> str:
    server.runtime.services.clock = lambda: MONDAY
    await say(server, connector, user.install())
    await say(server, connector, user.message("Leder"))
    await say(server, connector, user.message("3"))
    await say(server, connector, user.message("påmindelser"))
    await say(server, connector, user.message("Hver uge"))
    await say(server, connector, user.message("tirsdag"))
    return await say(server, connector, user.message("09:00"))


@pytest.mark.parametrize(
    "zone, where, stored, told, when",
    [
        ("Romance Standard Time", "entity", "Europe/Copenhagen", False, "kl. 09:00"),
        ("Romance Standard Time", "localTimezone", "Europe/Copenhagen", False, "kl. 09:00"),
        ("UTC+01:00", "localTimezone", "Etc/GMT-1", False, "kl. 09:00"),
        ("Mars Standard Time", "entity", "Europe/Copenhagen", True, "kl. 09:00"),
        ("UTC+05:45", "localTimezone", "Europe/Copenhagen", True, "kl. 09:00"),
    ],
)
async def test_reminder_setup_with_a_windows_time_zone(server, connector, zone, where, stored, told, when):
    user = WindowsTeamsUser(connector, zone, where)
    reply = await set_reminder(server, connector, user)
    assert APOLOGY not in reply
    assert "tirsdag d. 1. december 2026" in reply and when in reply
    assert (FALLBACK in reply) is told
    doc = await server.runtime.services.users.get(user.key)
    assert doc["reminder"]["prefs"]["tz"] == stored


def test_zone_names_and_offsets_are_mapped_and_the_rest_falls_back():
    assert schedule.resolve_zone("Romance Standard Time") == ("Europe/Copenhagen", True)
    assert schedule.resolve_zone("UTC-05:00") == ("Etc/GMT+5", True)
    assert schedule.resolve_zone("Europe/Oslo") == ("Europe/Oslo", True)
    for unknown in ("Olympus Mons Time", "../etc/passwd", "UTC+05:30", "", None, 5):
        assert schedule.resolve_zone(unknown) == (schedule.DEFAULT_TZ, False)
