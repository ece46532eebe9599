"""The organisation's view in the chat: `tæl mig ikke med` / `tæl mig med` (does my latest
check count, anonymously, in overviews?), and in a team channel `holdets billede` / `team
overview`: the team's anonymous picture from its roster, when at least k members count and
the picture is not within k people of one shown before (`Overviews.team_overview`). Never
any one person's data in a channel, nor how many in a small team count."""

from __future__ import annotations

import base64
import logging

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo

from model import content
from model.domain.users import user_key
from model.rendering.wheel_picture import render_wheel_compact

from .cards import CARD_VERSION, card_attachment, text_blocks
from .common import message
from .turn import lang_of, services, tenant_of, user_key_of

log = logging.getLogger("kompetencehjulet.overviews")
ROSTER_PAGE = 500  # the most Teams gives per page


async def leave_out(context: TurnContext) -> None:
    await _set_counted(context, False)


async def count_in(context: TurnContext) -> None:
    await _set_counted(context, True)


async def _set_counted(context: TurnContext, value: bool) -> None:
    overviews = services(context).overviews
    if not overviews.enabled:
        await context.send_activity(message(context, "aggregates.off"))
        return
    await services(context).users.save_profile(user_key_of(context), services(context).now(), counted=value)
    await context.send_activity(
        message(context, "aggregates.counted_in" if value else "aggregates.left_out", k=overviews.k)
    )


def first_check_line(context: TurnContext) -> str | None:
    """Said once, at a person's first check: how their scores count, and how to change it."""
    overviews = services(context).overviews
    if not overviews.enabled:
        return None
    key = "aggregates.first_check_opt_out" if overviews.mode == "opt-out" else "aggregates.first_check_opt_in"
    return content.t(lang_of(context), key, k=overviews.k)


def counted_text(lang: str, doc: dict, mode: str) -> str:
    from model.domain.aggregates import counted

    if mode == "off":
        return content.t(lang, "aggregates.setting_off")
    return content.t(lang, "aggregates.setting_yes" if counted(doc, mode) else "aggregates.setting_no")


def _team_id(context: TurnContext) -> str | None:
    data = context.activity.channel_data if isinstance(context.activity.channel_data, dict) else {}
    team = data.get("team")
    return (team.get("id") or None) if isinstance(team, dict) else None


async def roster_keys(context: TurnContext, team_id: str) -> list[str] | None:
    """Every member of the team as a person key (tenant + Entra object id), page by page;
    None when Teams will not give the roster."""
    tenant = tenant_of(context)
    keys: list[str] = []
    token = None
    try:
        while True:
            page = await TeamsInfo.get_paged_team_members(context, team_id, token, ROSTER_PAGE)
            for member in page.members or []:
                props = getattr(member, "additional_properties", None) or {}
                aad = member.aad_object_id or props.get("objectId")  # Teams sends either name
                if aad:
                    keys.append(user_key(tenant, aad))
            token = page.continuation_token
            if not token:
                return keys
    except Exception as err:  # noqa: BLE001 - 403/404 or a connector fault: say so kindly, log the type
        log.warning("could not read a team roster (%s)", type(err).__name__)
        return None


async def team_overview(context: TurnContext) -> None:
    lang = lang_of(context)
    overviews = services(context).overviews
    if not overviews.enabled:
        await context.send_activity(message(context, "aggregates.off"))
        return
    team_id = _team_id(context)
    if context.activity.conversation.conversation_type != "channel" or not team_id:
        await context.send_activity(message(context, "aggregates.team_only"))
        return
    keys = await roster_keys(context, team_id)
    if keys is None:
        await context.send_activity(message(context, "aggregates.no_roster"))
        return
    team_name = ((context.activity.channel_data or {}).get("team") or {}).get("name")
    await overviews.remember_roster(team_id, team_name, keys)
    group = await overviews.team_overview(team_id, keys, services(context).now())
    if group.figures is None:  # never how many count: in a small team that says who uses the bot
        key = "aggregates.team_waiting" if group.people >= overviews.k else "aggregates.team_too_few"
        await context.send_activity(message(context, key, k=overviews.k))
        return
    means = {sub: data["mean"] for sub, data in group.figures.subareas.items()}
    lines = [content.t(lang, "aggregates.team_title", people=group.figures.people)]
    for sub, data in group.figures.subareas.items():
        spread = ", ".join(f"{score}: {count}" for score, count in enumerate(data["counts"], start=1))
        mean = "-" if data["mean"] is None else str(data["mean"]).replace(".", "," if lang == "da" else ".")
        lines.append(
            content.t(lang, "aggregates.team_line", name=content.subarea_name(lang, sub), mean=mean, spread=spread)
        )
    if group.waiting:
        lines.append(content.t(lang, "aggregates.team_new_waiting", k=overviews.k))
    lines.append(content.t(lang, "aggregates.team_note", k=overviews.k))
    png = render_wheel_compact(means, lang)
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": text_blocks("\n".join(lines))
        + [
            {
                "type": "Image",
                "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                "altText": content.t(lang, "report.wheel_alt"),
                "size": "Stretch",
            }
        ],
    }
    await context.send_activity(MessageFactory.attachment(card_attachment(card)))
