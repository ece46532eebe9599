"""Files for the person: their data export and the MUS summary.

Teams takes a file from a bot only through its consent flow: the bot sends a file consent
card, the person accepts in Teams, Teams gives an upload URL (`fileConsent/invoke`), the
bot PUTs the bytes there and shows a file card. Web Chat and the local channels take the
file as an attachment straight away. What is in the file is built when it is delivered, so
an accept days later gets the data as it is then, and the consent card itself carries no
personal data (only which file it is: `{"kind": "export"}` or `{"kind": "mus"}`).
"""

from __future__ import annotations

import base64
import json
import logging

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Attachment

from model import content, history

from .turn import lang_of, services, user_key_of

log = logging.getLogger("kompetencehjulet.files")

KINDS = {  # kind -> (content type, file name key, description key)
    "export": ("application/json", "privacy.export_filename", "privacy.export_file_description"),
    "mus": ("text/markdown", "history.mus_filename", "history.mus_file_description"),
}
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=30)
UPLOAD_PREFIXES = ("https://", "http://127.0.0.1:", "http://localhost:")  # Teams' OneDrive URLs; loopback in tests


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


async def on_file_consent(context: TurnContext) -> int:
    """`fileConsent/invoke`: on accept, upload the file and show it; on decline, say OK.
    Returns the HTTP status for the invoke response."""
    value = context.activity.value if isinstance(context.activity.value, dict) else {}
    kind = (value.get("context") or {}).get("kind")
    if kind not in KINDS:
        return 400
    if value.get("action") == "decline":
        await context.send_activity(content.t(lang_of(context), "privacy.file_declined"))
        return 200
    upload = value.get("uploadInfo") or {}
    url = upload.get("uploadUrl")
    if value.get("action") != "accept" or not isinstance(url, str) or not url.startswith(UPLOAD_PREFIXES):
        return 400
    data = await file_bytes(context, kind)
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=UPLOAD_TIMEOUT) as session,
            session.put(url, data=data, headers=headers) as resp,
        ):
            ok = resp.status in (200, 201)
    except (aiohttp.ClientError, TimeoutError) as err:
        log.warning("file upload failed (%s)", type(err).__name__)
        ok = False
    lang = lang_of(context)
    if not ok:
        await context.send_activity(content.t(lang, "privacy.file_failed"))
        return 200
    info = {"uniqueId": upload.get("uniqueId"), "fileType": upload.get("fileType")}
    await context.send_activity(
        MessageFactory.attachment(
            Attachment(
                content_type=INFO_CARD,
                name=upload.get("name") or content.t(lang, KINDS[kind][1]),
                content_url=upload.get("contentUrl"),
                content=info,
            )
        )
    )
    return 200
