"""The paths phones call, answered in front of FastAPI.

A morning when every phone reboots is thousands of `/cfg/` downloads a second, and a busy
office hundreds of action-URL reports a second. FastAPI's routing, dependency solving and
response handling cost more than answering them does, so GETs of `/cfg/<file>` and
`/ns-api/hooks/yealink/<mac>/<token>/<event>` are answered here, by the same functions the
documented routes call (yealink.cfg_routes, yealink.receiver). Any other method or shape of
path goes on to FastAPI, which answers it as before (405, 404, …).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from celito.yealink import cfg_routes, receiver

CFG = "/cfg/"
HOOKS = "/ns-api/hooks/yealink/"


class PhonePaths:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(CFG):
                name = path[len(CFG) :]
                if name and "/" not in name:
                    response = await cfg_routes.cfg_file(name, Request(scope, receive))
                    await response(scope, receive, send)
                    return
            elif path.startswith(HOOKS):
                parts = path[len(HOOKS) :].split("/")
                if len(parts) == 3 and all(parts):
                    response = await receiver.answer(Request(scope, receive), *parts)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Puts the phone paths in front of the app's routes; call it before adding middleware
    that must run first (the body guard): the middleware added last runs first."""
    app.add_middleware(PhonePaths)
