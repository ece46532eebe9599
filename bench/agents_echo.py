"""The Microsoft 365 Agents SDK's echo agent, in the shape of its Python samples, as the
peer the turn benchmark measures beside botbuilder: AgentApplication + MemoryStorage +
CloudAdapter(MsalConnectionManager) + Authorization, served on aiohttp through
start_agent_process behind jwt_authorization_middleware.

Run only by bench/turns.py, with the interpreter of the bench's own cached virtualenv
(.cache/agents-sdk-1.9.0/, see agents_sdk_python() in bench/turns.py), never with the
bot's: the Agents SDK is no dependency of the bot.

    .cache/agents-sdk-1.9.0/bin/python bench/agents_echo.py PORT

Configuration comes from the environment as in the samples (load_configuration_from_env);
the bench sets CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED=true, the
samples' way of running locally without an app id or a token.
"""

from __future__ import annotations

import sys
from os import environ

from aiohttp.web import Application, Request, Response, run_app
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware, start_agent_process
from microsoft_agents.hosting.core import AgentApplication, Authorization, MemoryStorage, TurnContext, TurnState


def build() -> Application:
    config = load_configuration_from_env(environ)
    storage = MemoryStorage()
    connections = MsalConnectionManager(**config)
    adapter = CloudAdapter(connection_manager=connections)
    authorization = Authorization(storage, connections, **config)
    agent = AgentApplication[TurnState](storage=storage, adapter=adapter, authorization=authorization, **config)

    @agent.conversation_update("membersAdded")
    async def welcome(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity("Hello and welcome!")

    @agent.activity("message")
    async def echo(context: TurnContext, _state: TurnState) -> None:
        await context.send_activity(f"Echo: {context.activity.text}")

    async def messages(request: Request) -> Response:
        return await start_agent_process(request, request.app["agent_app"], request.app["adapter"])

    app = Application(middlewares=[jwt_authorization_middleware])
    app.router.add_post("/api/messages", messages)
    app["agent_configuration"] = connections.get_default_connection_configuration()
    app["agent_app"] = agent
    app["adapter"] = adapter
    return app


if __name__ == "__main__":
    run_app(build(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
