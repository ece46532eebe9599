"""Entry point: `python app.py` serves the bot; sub-commands run the same bot offline.

python app.py                          serve POST /api/messages, GET /healthz and /readyz on PORT
python app.py ask [--json] QUESTION... answer questions without a chat client
python app.py send-nudges [--at ISO]   send the reminder nudges due at that instant, once
python app.py package --app-id GUID    build the Teams app package
python app.py chat [--lang da|en]      talk to the bot in this terminal
python app.py migrate --from tinydb --to azure-blob   copy all data between backends
"""

from __future__ import annotations

import gc
import logging
import os
import sys

from bot.config import Config


def create_runtime(config: Config):
    """The served bot; in local mode with the try-out web chat mounted on top."""
    from bot.runtime import build

    runtime = build(config)
    if config.local_mode:
        from bot.local import mount  # never imported in production

        mount(runtime)
    return runtime


def serve() -> None:
    from bot.http.serving import serve as serve_app

    config = Config.from_env()
    runtime = create_runtime(config)
    logging.getLogger("kompetencehjulet").info(
        "listening on %s port %s: http://localhost:%s/api/messages", config.HOST, config.PORT, config.PORT
    )
    # What startup built (content, the SDK's models, recognisers) lives as long as the process.
    # Frozen, a full collection no longer walks it all: the longest such pause during a
    # turn went from about 18 ms to 8 ms under bench/turns.py.
    gc.collect()
    gc.freeze()
    # One line per request costs a few per cent of a turn; the platform in front (App Service,
    # a reverse proxy) usually logs requests already. ACCESS_LOG=1 turns it on.
    # bot.http.serving.serve is web.run_app with deadlines for slow clients, a connection cap and the
    # open-files limit raised (see bot/http/serving.py).
    serve_app(runtime.app, config, access_log=logging.getLogger("aiohttp.access") if config.ACCESS_LOG else None)


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("azure").setLevel(logging.WARNING)  # its INFO logs every HTTP request
    if not argv:
        serve()
        return 0
    from bot.ops import cli

    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
