"""Local try-out channels, for trying the bot without Azure: the web chat page with its own
Direct Line 3.0 endpoint, and the terminal chat. Only the entry point mounts them, and only
in local mode (no MicrosoftAppId); production code never imports this package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runtime import Runtime


def mount(runtime: Runtime) -> None:
    """Add the web chat page and Direct Line routes to a local-mode runtime's app."""
    from .directline import mount as mount_directline

    mount_directline(runtime.app, runtime.config, runtime.adapter, runtime.bot)
