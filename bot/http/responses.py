"""The host's error answers: a small JSON body with the reason, never a stack or input."""

from __future__ import annotations

from aiohttp import web


def problem(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers=headers)


def unauthorized() -> web.Response:
    return problem(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
