"""Counts the storage requests a bot on Azure Blob Storage makes: a pass-through proxy on
loopback between the bot and Azurite, so what is counted is what went over the wire
(retries included), not what the bot believes it asked for.

Used by bench/turns.py for a short counting pass per mix (one person at a time), apart
from the measured rounds, whose figures the extra hop would blur.
"""

from __future__ import annotations

from collections import Counter

from aiohttp import ClientSession, web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host"}
SENT_AS_IS = ("Content-Type", "Content-Length", "Accept-Encoding", "User-Agent")  # signed headers stay as they were


def kind(method: str, query: dict, path: str = "") -> str:
    """What the request does, as the Blob service API names it; requests on claim documents
    (model/storage/claims.py: who leads, who sends which share of a wave) are counted apart."""
    if method == "GET" and query.get("comp") == "list":
        return "list"
    if query.get("comp") == "lease":  # blob leases (older versions elected leaders with them)
        return "lease"
    if method == "POST" and query.get("comp") == "batch":  # obstore deletes through Blob Batch
        return "delete"
    if "/claims/" in path:
        return "claim"
    return {"GET": "read", "HEAD": "read", "PUT": "write", "DELETE": "delete"}.get(method, method.lower())


class CountingProxy:
    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.counts: Counter[str] = Counter()
        self.runner: web.AppRunner | None = None
        self.session: ClientSession | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.session = ClientSession(auto_decompress=False)

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()
        if self.session:
            await self.session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self.session is not None
        self.counts[kind(request.method, dict(request.query), request.path)] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        async with self.session.request(
            request.method,
            self.target + request.path_qs,
            headers=headers,
            data=body,
            skip_auto_headers=SENT_AS_IS,
        ) as upstream:
            data = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP | {"content-length"}}
            return web.Response(status=upstream.status, headers=out, body=data)
