"""Logs never contain message text, scores, notes or tokens.

Everything any logger emits (root at DEBUG; botbuilder, botframework, msrest, aiohttp,
urllib3, requests, the bot's own) is captured through a whole conversation with
authentication ON (so there are real bearer tokens going both ways): onboarding, a
question, a self-assessment with a note, history, export, plus refused requests (a forged
token, a malformed activity). Then the captured text is searched for every secret.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from conftest import TeamsUser, say
from test_security import AuthBotServer, bearer, keys  # noqa: F401 - keys is a fixture

TYPED = [
    "I am a specialist in the Quorvath unit",
    "I contribute my knowledge, Brimsley",
    "what does innovation mean for me, Pellucid?",
]
NOTE = "Plumtree-4711 my manager never listens"
SCORES = {"implementation": "2", "development": "5", "innovation": "1"}
SCORE_TEXTS = [
    "2/5",
    "5/5",
    "1/5",
    "out of 5",
    "Development 5",
    "Implementation and procurement 2",
    '"development": 5',
    '"implementation": 2',
    '"innovation": 1',
    "'development': 5",
]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        """Everything a log file would hold: formatted messages with tracebacks and stacks."""
        return "\n".join(self.format(r) for r in self.records)


@contextmanager
def capture_all_logs():
    """Root and every known logger at DEBUG, propagating to one capturing handler."""
    handler = Capture()
    root = logging.getLogger()
    saved_root = root.level
    names = [
        "botbuilder",
        "botframework",
        "msrest",
        "msal",
        "aiohttp",
        "aiohttp.access",
        "aiohttp.server",
        "aiohttp.client",
        "urllib3",
        "requests",
        "asyncio",
        "kompetencehjulet",
        "azure",
        "jwt",
    ]
    loggers = {name: logging.getLogger(name) for name in names}
    loggers.update({name: lg for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)})
    saved = {name: (lg.level, lg.propagate, lg.disabled) for name, lg in loggers.items()}
    logging.disable(logging.NOTSET)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    for lg in loggers.values():
        lg.setLevel(logging.DEBUG)
        lg.propagate = True
        lg.disabled = False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for name, (level, propagate, disabled) in saved.items():
            loggers[name].setLevel(level)
            loggers[name].propagate = propagate
            loggers[name].disabled = disabled


async def test_a_whole_conversation_logs_no_text_scores_notes_or_tokens(tmp_path, keys, connector):  # noqa: F811
    with capture_all_logs() as logs:
        server = AuthBotServer(tmp_path / "data", keys)
        await server.start()
        server.runtime.bot.upload_hosts = None  # the export goes to the stand-in connector on loopback
        tokens = []

        def auth() -> dict:
            tokens.append(keys.token(connector.url))
            return bearer(tokens[-1])

        async def send(activity) -> str:
            before = len(connector.activities)
            status, body = await server.post(activity, headers=auth())
            assert status in (200, 201), (status, body)
            return connector.all_text(before)

        try:
            user = TeamsUser(connector, locale="en-US")
            assert "What kind of work do you do" in await send(user.install())
            await send(user.message(TYPED[0]))
            assert "specialist or consultant" in await send(user.message(TYPED[1]))
            assert "Innovation" in await send(user.message(TYPED[2]))
            before = len(connector.activities)
            await send(user.message("assessment"))
            card = next(
                a
                for a in connector.activities[before:]
                if a.get("attachments")
                and a["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
            )
            nonce = card["attachments"][0]["content"]["actions"][0]["data"]["nonce"]
            reply = await send(user.message(value={"kh": "quick", "nonce": nonce, **SCORES, "note": NOTE}))
            assert "saved" in reply
            await send(user.message("no"))
            history = await send(user.message("history"))
            assert "5/5" in history
            before = len(connector.activities)
            await send(user.message("export"))
            await server.post(connector.accept_file(user, before), headers=auth())
            assert any(NOTE in body.decode("utf-8") for body, _ in connector.uploads.values())

            # refused requests are logged too; what they carried must not be
            forged = keys.token(connector.url, aud="someone-else")
            status, _ = await server.post(user.message(TYPED[0]), headers=bearer(forged))
            assert status == 401
            status, _ = await server.post({**user.message(), "text": [TYPED[1]]}, headers=auth())
            assert status == 400
        finally:
            await server.stop()

    text = logs.text()
    # the capture really saw the app at DEBUG: its own loggers, the SDK's key fetch, aiohttp
    names = {r.name for r in logs.records}
    assert any(n.startswith("kompetencehjulet") for n in names), names
    assert any(n.startswith("aiohttp") for n in names), names
    assert "kompetencehjulet.auth" in names, names  # the signing-key fetch (bot/auth.py, aiohttp)
    assert any(r.levelno == logging.DEBUG for r in logs.records)

    secrets = {f"typed text {i}": t for i, t in enumerate(TYPED)}
    secrets.update({"note": NOTE, "note fragment": "Plumtree-4711"})
    secrets.update({f"score text {s!r}": s for s in SCORE_TEXTS})
    secrets["outgoing token"] = server.outgoing_token
    for i, token in enumerate(tokens + [forged]):
        header, payload, signature = token.split(".")
        secrets[f"bearer token {i}"] = token
        secrets[f"bearer token {i} payload"] = payload
        secrets[f"bearer token {i} signature"] = signature[:40]
    leaked = {name: value for name, value in secrets.items() if value in text}
    assert not leaked, f"logs contain {sorted(leaked)}"


async def test_a_crashing_turn_does_not_log_the_text_that_crashed_it(server, connector):
    async def crash(context):
        int(context.activity.text)  # ValueError: invalid literal for int() with base 10: '<text>'

    server.runtime.bot.router.on_message = crash
    with capture_all_logs() as logs:
        user = TeamsUser(connector, locale="en-US")
        reply = await say(server, connector, user.message("Quorvath confidential remark"))
    assert reply  # the apology
    assert any(r.name == "kompetencehjulet.adapter" for r in logs.records)
    assert "Quorvath" not in logs.text()
