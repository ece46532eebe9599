"""The bot's settings from the environment, read by `Config.from_env()` as a process starts
(the served bot once; each `python app.py` command for itself), as the SDK samples do.

A few settings are read where they are used instead: LOG_LEVEL (`app.py`, the terminal
chat), the terminal chat's TZ, and the TEAMS_*_URL pages of `bot/ops/teams_package.py`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = (_env(name, allowed[0]) or allowed[0]).lower()
    if value not in allowed:
        raise SystemExit(f"{name} must be {' or '.join(repr(a) for a in allowed)}, not {value!r}")
    return value


PUBLIC_CLOUD = {
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "https://login.botframework.com/v1/.well-known/openidconfiguration",
    "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
    "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "https://api.botframework.com",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://login.microsoftonline.com/",
    "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
    "OAUTH_URL": "https://api.botframework.com",
    "CALLER_ID": "urn:botframework:azure",
}


# Where a file the person accepted in Teams may be uploaded (dialogs/files.py): Teams hands
# the bot an upload URL in the person's OneDrive for Business, <tenant>-my.sharepoint.com.
DEFAULT_UPLOAD_HOSTS = "*.sharepoint.com,*.onedrive.com"


def upload_hosts(value: str) -> tuple[str, ...]:
    """UPLOAD_HOSTS as host patterns: `name.example` exactly, `*.example.com` any name under
    example.com. A pattern that would match nearly anything (`*`, `*.com`) is refused."""
    hosts = []
    for raw in value.split(","):
        pattern = raw.strip().lower().rstrip(".")
        if not pattern:
            continue
        name = pattern[2:] if pattern.startswith("*.") else pattern
        if "*" in name or "/" in name or ":" in name or "@" in name or name.count(".") < 1:
            raise SystemExit(f"UPLOAD_HOSTS: {raw.strip()!r} is not a host name or *.domain with a dot in it")
        hosts.append(pattern)
    return tuple(hosts)


@dataclass
class Config:
    PORT: int = 3978
    # Empty: 0.0.0.0 with an app id, 127.0.0.1 in local mode (authentication is off there).
    HOST: str = ""
    DATA_DIR: Path = Path("./data")
    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    STORAGE: str = "tinydb"
    NUDGES: str = "on"
    NUDGE_INTERVAL_SECONDS: float = 60.0
    NUDGE_RATE_PER_SECOND: float = 50.0  # Teams: 50 requests/s per app per tenant (docs dated 2026-10-08)
    NUDGE_STOP_GRACE_SECONDS: float = 10.0  # on SIGTERM: how long claimed nudges may take to finish
    MAX_BODY_BYTES: int = 256 * 1024
    # Slow clients (bot/http/serving.py): a request head must be complete this long after the
    # connection (or the request) began, a body arrive this long after its head (408).
    HTTP_HEADER_TIMEOUT_SECONDS: float = 10.0
    HTTP_BODY_TIMEOUT_SECONDS: float = 10.0
    HTTP_MAX_CONNECTIONS: int = 1000  # lowered to fit the open-files limit
    MAX_TEXT_CHARS: int = 2000
    # Local mode: where the bot may post replies (and keep for nudges). "loopback":
    # 127.0.0.0/8, ::1 and localhost only; "any": every http(s) URL.
    LOCAL_SERVICE_URLS: str = "loopback"
    FSYNC: bool = True
    ACCESS_LOG: bool = False
    WEBCHAT_JS: str = ""
    RESOURCES_FILE: str = ""
    UPLOAD_HOSTS: str = DEFAULT_UPLOAD_HOSTS  # with an app id; local mode uploads to loopback only
    RETENTION_DAYS: int = 730
    AGGREGATES: str = "opt-out"
    AGGREGATES_MIN_GROUP: int = 5
    RETENTION_JOB: str = "on"
    RETENTION_INTERVAL_SECONDS: float = 86400.0
    # Azure Blob Storage: a connection string (account key or SAS), or only the account's
    # name, and then Microsoft Entra ID credentials from the environment (a managed identity
    # by default; AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID for a service
    # principal). docs/scale-out.md says how.
    AZURE_STORAGE_CONNECTION_STRING: str = ""
    AZURE_STORAGE_ACCOUNT_NAME: str = ""
    AZURE_STORAGE_CONTAINER: str = "kompetencehjulet"
    # Bot Framework endpoints (tests point them at loopback). The SDK takes ALL of them from
    # configuration as soon as ANY is set, so the rest get public-cloud defaults then.
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    OAUTH_URL: str | None = None
    CALLER_ID: str | None = None

    def __post_init__(self) -> None:
        if not self.HOST:
            self.HOST = "127.0.0.1" if self.local_mode else "0.0.0.0"
        if any(getattr(self, name) for name in PUBLIC_CLOUD):
            for name, value in PUBLIC_CLOUD.items():
                if not getattr(self, name):
                    setattr(self, name, value)

    @property
    def local_mode(self) -> bool:
        """No app id: no Bot Framework auth, local chat pages allowed."""
        return not self.APP_ID

    @property
    def upload_hosts(self) -> tuple[str, ...] | None:
        """Where accepted files may be uploaded: UPLOAD_HOSTS, or None (loopback only) in local mode."""
        return None if self.local_mode else upload_hosts(self.UPLOAD_HOSTS)

    @classmethod
    def from_env(cls) -> "Config":
        return cls(
            PORT=int(_env("PORT", "3978") or 3978),
            HOST=_env("HOST"),
            DATA_DIR=Path(_env("BOT_DATA_DIR", "./data") or "./data"),
            APP_ID=_env("MicrosoftAppId"),
            APP_PASSWORD=_env("MicrosoftAppPassword"),
            APP_TYPE=_env("MicrosoftAppType", "MultiTenant") or "MultiTenant",
            APP_TENANTID=_env("MicrosoftAppTenantId"),
            STORAGE=(_env("STORAGE", "tinydb") or "tinydb").lower(),
            NUDGES=(_env("NUDGES", "on") or "on").lower(),
            NUDGE_INTERVAL_SECONDS=float(_env("NUDGE_INTERVAL_SECONDS", "60") or 60),
            NUDGE_RATE_PER_SECOND=float(_env("NUDGE_RATE_PER_SECOND", "50") or 50),
            NUDGE_STOP_GRACE_SECONDS=float(_env("NUDGE_STOP_GRACE_SECONDS", "10") or 10),
            HTTP_HEADER_TIMEOUT_SECONDS=float(_env("HTTP_HEADER_TIMEOUT_SECONDS", "10") or 10),
            HTTP_BODY_TIMEOUT_SECONDS=float(_env("HTTP_BODY_TIMEOUT_SECONDS", "10") or 10),
            HTTP_MAX_CONNECTIONS=int(_env("HTTP_MAX_CONNECTIONS", "1000") or 1000),
            LOCAL_SERVICE_URLS=_choice("LOCAL_SERVICE_URLS", ("loopback", "any")),
            FSYNC=_env("BOT_FSYNC", "1") not in ("0", "false", "no"),
            ACCESS_LOG=(_env("ACCESS_LOG", "0") or "0").lower() in ("1", "true", "yes", "on"),
            WEBCHAT_JS=_env("WEBCHAT_JS"),
            RESOURCES_FILE=_env("RESOURCES_FILE"),
            UPLOAD_HOSTS=_env("UPLOAD_HOSTS", DEFAULT_UPLOAD_HOSTS) or DEFAULT_UPLOAD_HOSTS,
            RETENTION_DAYS=int(_env("RETENTION_DAYS", "730") or 730),
            AGGREGATES=(_env("AGGREGATES", "opt-out") or "opt-out").lower(),
            AGGREGATES_MIN_GROUP=int(_env("AGGREGATES_MIN_GROUP", "5") or 5),
            RETENTION_JOB=(_env("RETENTION_JOB", "on") or "on").lower(),
            RETENTION_INTERVAL_SECONDS=float(_env("RETENTION_INTERVAL_SECONDS", "86400") or 86400),
            AZURE_STORAGE_CONNECTION_STRING=_env("AZURE_STORAGE_CONNECTION_STRING"),
            AZURE_STORAGE_ACCOUNT_NAME=_env("AZURE_STORAGE_ACCOUNT_NAME"),
            AZURE_STORAGE_CONTAINER=_env("AZURE_STORAGE_CONTAINER", "kompetencehjulet") or "kompetencehjulet",
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=_env("BOT_OPENID_METADATA_URL") or None,
        )
