"""Files for the person: their data export and the MUS summary.

Teams takes a file from a bot only through its consent flow: the bot sends a file consent
card, the person accepts in Teams, Teams gives an upload URL (`fileConsent/invoke`), the
bot PUTs the bytes there and shows a file card. Web Chat and the local channels take the
file as an attachment straight away. What is in the file is built when it is delivered, so
an accept days later gets the data as it is then, and the consent card itself carries no
personal data (only which file it is: `{"kind": "export"}` or `{"kind": "mus"}`).

**Where the file may go.** The upload URL comes in the invoke, so the bot checks it before a
byte is sent (`upload_target`): with an app id only https to a host on the allow-list
(UPLOAD_HOSTS: Teams puts files in the person's OneDrive, `<tenant>-my.sharepoint.com`),
in local mode only to this machine (loopback, as the tests' stand-in connector); never a
URL with a user name or password in it, never a redirect. A refused URL gets the person a
plain message and nothing is sent.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Attachment
from yarl import URL

from model import content
from model.domain import history

from .turn import lang_of, services, user_key_of

log = logging.getLogger("kompetencehjulet.files")

KINDS = {  # kind -> (content type, file name key, description key)
    "export": ("application/json", "privacy.export_filename", "privacy.export_file_description"),
    "mus": ("text/markdown", "history.mus_filename", "history.mus_file_description"),
}
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=30)


def upload_target(url: object, hosts: tuple[str, ...] | None) -> URL | None:
    """The URL to PUT the file to, or None when it may not go there. `hosts` are the allowed
    host names (`*.example.com`: any name under example.com); None is local mode, where
    only loopback is allowed (http or https). The URL is parsed once, by the same parser
    the upload then uses, so the host checked is the host the file goes to."""
    if not isinstance(url, str) or len(url) > 4096:
        return None
    try:
        parsed = URL(url)
        host = (parsed.host or "").lower().rstrip(".")
        port = parsed.port
    except (ValueError, TypeError):
        return None
    if not parsed.is_absolute() or parsed.user is not None or parsed.password is not None or not host:
        return None
    if hosts is None:
        return parsed if parsed.scheme in ("http", "https") and _is_loopback(host) else None
    if parsed.scheme != "https" or port != 443:
        return None
    return parsed if any(_host_matches(host, pattern) for pattern in hosts) else None


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


async def file_bytes(context: TurnContext, kind: str) -> bytes:
    """The file as it is now: everything stored about the person, or their MUS summary."""
    key = user_key_of(context)
    if kind == "export":
        data = await services(context).export(key)
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    doc = await services(context).users.get(key) or {}
    text = history.mus_summary(
        lang_of(context), doc.get("profile") or {}, doc.get("assessments", []), doc.get("goals") or []
    )
    return text.encode("utf-8")


async def offer_file(context: TurnContext, kind: str) -> None:
    """Teams: a consent card to accept the file; elsewhere the file itself, attached."""
    lang = lang_of(context)
    content_type, name_key, description_key = KINDS[kind]
    data = await file_bytes(context, kind)
    name = content.t(lang, name_key)
    if context.activity.channel_id == "msteams":
        card = {
            "description": content.t(lang, description_key),
            "sizeInBytes": len(data),
            "acceptContext": {"kind": kind},
            "declineContext": {"kind": kind},
        }
        await context.send_activity(
            MessageFactory.attachment(Attachment(content_type=CONSENT_CARD, name=name, content=card))
        )
        return
    encoded = base64.b64encode(data).decode("ascii")
    activity = MessageFactory.attachment(
        Attachment(content_type=content_type, name=name, content_url=f"data:{content_type};base64,{encoded}")
    )
    await context.send_activity(activity)


def is_consent_answer(value: object) -> bool:
    """Is this `fileConsent/invoke` value an accept or decline of one of our consent cards?"""
    if not isinstance(value, dict) or value.get("action") not in ("accept", "decline"):
        return False
    answered = value.get("context")
    kind = answered.get("kind") if isinstance(answered, dict) else None
    return isinstance(kind, str) and kind in KINDS


async def on_file_consent(context: TurnContext, upload_hosts: tuple[str, ...] | None = None) -> int:
    """`fileConsent/invoke`: on accept, upload the file and show it; on decline, say OK.
    `upload_hosts`: where the file may go (see upload_target; None: loopback only).
    Returns the HTTP status for the invoke response."""
    value = context.activity.value
    if not is_consent_answer(value):
        return 400
    kind = value["context"]["kind"]
    if value["action"] == "decline":
        await context.send_activity(content.t(lang_of(context), "privacy.file_declined"))
        return 200
    given = value.get("uploadInfo")
    upload: dict = given if isinstance(given, dict) else {}
    target = upload_target(upload.get("uploadUrl"), upload_hosts)
    if target is None:
        log.warning("file upload refused: the upload URL is not an allowed upload address")
        await context.send_activity(content.t(lang_of(context), "privacy.file_refused"))
        return 400
    data = await file_bytes(context, kind)
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=UPLOAD_TIMEOUT) as session,
            session.put(target, data=data, headers=headers, allow_redirects=False) as resp,
        ):
            ok = resp.status in (200, 201)
    except (aiohttp.ClientError, TimeoutError) as err:
        log.warning("file upload failed (%s)", type(err).__name__)
        ok = False
    lang = lang_of(context)
    if not ok:
        await context.send_activity(content.t(lang, "privacy.file_failed"))
        return 200
    info = {"uniqueId": _text(upload.get("uniqueId")), "fileType": _text(upload.get("fileType"))}
    await context.send_activity(
        MessageFactory.attachment(
            Attachment(
                content_type=INFO_CARD,
                name=_text(upload.get("name")) or content.t(lang, KINDS[kind][1]),
                content_url=_text(upload.get("contentUrl")),
                content=info,
            )
        )
    )
    return 200


def _text(value: object) -> str | None:
    """A string from the invoke, or None (Teams sends strings; anything else is junk)."""
    return value[:2000] if isinstance(value, str) else None
