"""Builds the Teams app package (manifest.json, en-us.json and two icons in one zip).

An administrator uploads this zip to Teams to install the bot. Everything in it is
generated from the content files, the command table (model/commands.py) and pyproject.toml,
so names, descriptions and commands never drift from what the bot actually says; icons
are drawn here, so the repo holds no binary files. Needs no running bot and no network.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from model import commands
from model.content import lookup, texts

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "build" / "kompetencehjulet-teams.zip"

MANIFEST_VERSION = "1.29"
MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.29/MicrosoftTeams.Localization.schema.json"
)
DEFAULT_LANGUAGE_TAG = "da-dk"
ENGLISH_FILE = "en-us.json"
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"

SCOPES = commands.CHATS  # personal, team, groupChat
# Each scope's command menu is model/commands.py's table (`commands.menu(scope)`): in a team
# or group chat only what the bot answers there; personal data stays in the 1:1 chat.
DEVELOPER_NAME = "Kompetencehjulet-projektet"
URL_BASE = "https://example.org/kompetencehjulet/"
URL_ENV = {  # manifest developer field -> (environment override, placeholder)
    "websiteUrl": ("TEAMS_WEBSITE_URL", URL_BASE),
    "privacyUrl": ("TEAMS_PRIVACY_URL", URL_BASE + "privacy"),
    "termsOfUseUrl": ("TEAMS_TERMS_URL", URL_BASE + "terms"),
}
ACCENT = "#1F5C99"
HIGHLIGHT = "#F2B035"

# Limits from the Teams documentation. The v1.29 JSON schema is looser (command title 128,
# description 4000, 12 commands), but the Teams client truncates or rejects beyond these.
LIMITS = {"name.short": 30, "name.full": 100, "description.short": 80, "description.full": 4000}
COMMAND_TITLE_MAX, COMMAND_DESCRIPTION_MAX, COMMANDS_MAX = 32, 128, 10

GUID_FORM = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)  # fixed, so the same input gives the same zip


def check_app_id(app_id: str) -> str:
    """The bot's Microsoft App ID; Teams rejects anything that is not a plain GUID."""
    cleaned = (app_id or "").strip()
    if not _GUID.match(cleaned):
        raise ValueError(
            f"Malformed app id {app_id!r}: expected a GUID of the form {GUID_FORM} "
            "(hex digits, no braces), e.g. the Microsoft App ID of the bot's Azure registration."
        )
    return cleaned


def project_version() -> str:
    with open(REPO_ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def _check_version(version: str) -> str:
    if not _SEMVER.match(version):
        raise ValueError(f"App version {version!r} must be MAJOR.MINOR.PATCH (e.g. 1.0.0), as Teams wants.")
    return version


def _strings(lang: str) -> dict[str, str]:
    """The translatable manifest strings, keyed as the localization file names them."""
    c = texts(lang)
    strings = {
        "name.short": c["bot_name"],
        "name.full": f"{c['bot_name']}: {lookup(lang, 'overview.name')}",
        "description.short": c["bot_short_description"],
        "description.full": c["bot_full_description"],
    }
    for key, limit in LIMITS.items():
        if not strings[key].strip() or len(strings[key]) > limit:
            raise ValueError(f"{lang}: {key} must be 1-{limit} characters, got {len(strings[key])}.")
    return strings


def _commands(lang: str, scope: str = "personal") -> list[dict[str, str]]:
    """One scope's command menu from the command table and its texts, checked against the Teams limits."""
    menu = [
        {"title": commands.word(lang, c.id), "description": commands.description(lang, c.id)}
        for c in commands.menu(scope)
    ]
    if not 0 < len(menu) <= COMMANDS_MAX:
        raise ValueError(f"{lang}: Teams shows 1-{COMMANDS_MAX} commands per list, not {len(menu)}.")
    for cmd in menu:
        if len(cmd["title"]) > COMMAND_TITLE_MAX or len(cmd["description"]) > COMMAND_DESCRIPTION_MAX:
            raise ValueError(
                f"{lang}: command {cmd['title']!r} exceeds Teams limits "
                f"(title {COMMAND_TITLE_MAX}, description {COMMAND_DESCRIPTION_MAX} characters)."
            )
    return menu


def _developer() -> dict[str, str]:
    developer = {"name": DEVELOPER_NAME}
    for field, (env, placeholder) in URL_ENV.items():
        url = os.environ.get(env) or placeholder
        if not url.lower().startswith("https://"):
            raise ValueError(f"{env} must be an https:// URL, got {url!r}.")
        developer[field] = url
    return developer


def placeholder_urls() -> list[str]:
    """The TEAMS_*_URL settings not given: their example.org placeholders go into the package."""
    return [env for env, _ in URL_ENV.values() if not os.environ.get(env)]


def build_manifest(app_id: str, version: str) -> dict[str, Any]:
    """manifest.json in Danish (the default language); English comes from en-us.json."""
    da = _strings("da")
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "localizationInfo": {
            "defaultLanguageTag": DEFAULT_LANGUAGE_TAG,
            "additionalLanguages": [{"languageTag": "en-us", "file": ENGLISH_FILE}],
        },
        "developer": _developer(),
        "name": {"short": da["name.short"], "full": da["name.full"]},
        "description": {"short": da["description.short"], "full": da["description.full"]},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": list(SCOPES),
                "supportsFiles": True,  # the export and MUS files go through Teams' file consent flow
                "isNotificationOnly": False,
                "commandLists": [{"scopes": [scope], "commands": _commands("da", scope)} for scope in SCOPES],
            }
        ],
        "validDomains": [],
    }


def build_localization(lang: str = "en") -> dict[str, str]:
    """en-us.json: flat 'path.in.manifest' -> translation, as the localization schema wants."""
    loc = {"$schema": LOCALIZATION_SCHEMA, **_strings(lang)}
    for i, scope in enumerate(SCOPES):
        for j, cmd in enumerate(_commands(lang, scope)):
            loc[f"bots[0].commandLists[{i}].commands[{j}].title"] = cmd["title"]
            loc[f"bots[0].commandLists[{i}].commands[{j}].description"] = cmd["description"]
    return loc


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def color_icon(size: int = 192) -> bytes:
    """A wheel of four quarters on the accent colour; the quarter this bot covers is highlighted."""
    ss = 4  # draw large and shrink for smooth edges
    big = size * ss
    img = Image.new("RGB", (big, big), ACCENT)
    draw = ImageDraw.Draw(img)
    r, c = big * 0.34, big / 2
    box = (c - r, c - r, c + r, c + r)
    for quarter in range(4):
        start = -90 + quarter * 90
        draw.pieslice(box, start, start + 90, fill=HIGHLIGHT if quarter == 0 else "#9DB8D6")
    gap = round(big * 0.03)
    draw.line((c - r, c, c + r, c), fill=ACCENT, width=gap)
    draw.line((c, c - r, c, c + r), fill=ACCENT, width=gap)
    draw.ellipse((c - r * 0.28, c - r * 0.28, c + r * 0.28, c + r * 0.28), fill=ACCENT)
    return _png(img.reduce(ss))


def outline_icon(size: int = 32) -> bytes:
    """Teams wants the outline icon pure white on full transparency: the same motif as a mask."""
    ss = 4
    big = size * ss
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    c, r = big / 2, big / 2 - 2 * ss
    line = round(2.2 * ss)
    box = (c - r, c - r, c + r, c + r)
    draw.ellipse(box, outline=255, width=line)
    draw.pieslice(box, -90, 0, fill=255)
    draw.line((c - r, c, c + r, c), fill=255, width=line)
    draw.line((c, c - r, c, c + r), fill=255, width=line)
    alpha = mask.reduce(ss)
    white = Image.new("L", alpha.size, 255)
    return _png(Image.merge("RGBA", (white, white, white, alpha)))


def build_package(app_id: str, out: Path, version: str | None = None) -> Path:
    """Writes the zip to `out` (parent folders are created) and returns its path."""
    app_id = check_app_id(app_id)
    version = _check_version(version or project_version())
    files = {
        "manifest.json": json.dumps(build_manifest(app_id, version), ensure_ascii=False, indent=2).encode(),
        ENGLISH_FILE: json.dumps(build_localization("en"), ensure_ascii=False, indent=2).encode(),
        COLOR_ICON: color_icon(),
        OUTLINE_ICON: outline_icon(),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():  # Teams wants all files at the zip's root
            zf.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: `package --app-id GUID [--out FILE.zip] [--version X.Y.Z]`; the word 'package' is optional."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["package"]:
        args = args[1:]
    parser = argparse.ArgumentParser(prog="package", description="Build the Teams app package (zip).")
    parser.add_argument("--app-id", required=True, help=f"the bot's Microsoft App ID, {GUID_FORM}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"zip to write (default {DEFAULT_OUT})")
    parser.add_argument("--version", help="app version (default: version in pyproject.toml)")
    try:
        opts = parser.parse_args(args)
    except SystemExit as exc:  # argparse has printed its message already
        return int(exc.code or 0)
    try:
        path = build_package(opts.app_id, opts.out, opts.version)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing = placeholder_urls()
    if missing:
        print(
            "WARNING: the package says its privacy policy, terms of use and website are at "
            f"{URL_BASE}..., placeholders that are not yours. Set {', '.join(missing)} to your "
            "municipality's https pages before you upload it for real (README: Configuration).",
            file=sys.stderr,
        )
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
