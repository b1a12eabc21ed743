"""/ns-api/v2/stream: the live event stream over WebSocket, and the same over SSE."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from celito.auth.bearer import resolve
from celito.auth.caller import Caller
from celito.db import utcnow
from celito.errors import CelitoError, Unauthorized
from celito.events.outbox import MODELS
from celito.events.stream import Frame, StreamClient, StreamFilter, StreamHub
from celito.kit.docs import EVERYONE, operation
from celito.runtime import Runtime
from celito.web import caller_for

router = APIRouter(prefix="/stream", tags=["Events"])
Reader = Annotated[Caller, caller_for("event")]


def _hub(runtime_holder: Any) -> StreamHub:
    hub: StreamHub = runtime_holder.state.stream_hub
    return hub


def _expired(caller: Caller) -> bool:
    return caller.expires_at is not None and caller.expires_at <= utcnow()


async def _authenticate(runtime: Runtime, token: str, ip: str) -> Caller:
    async with runtime.db.reader() as session:
        return await resolve(session, runtime, token, ip)


async def _start(hub: StreamHub, client: StreamClient, since: int | None) -> list[Frame]:
    """Registers the client and returns what it missed since `since` (oldest first)."""
    upto = hub.register(client)
    if since is None:
        return []
    missed: list[Frame] = []
    oldest = await hub.oldest_retained()
    if oldest and since + 1 < oldest:
        gap = json.dumps(
            {
                "type": "gap",
                "message": f"events after {since} up to {oldest - 1} are past the retention window",
                "oldest": oldest,
            }
        )
        missed.append((0, gap, f"event: gap\ndata: {gap}\n\n".encode()))
    missed.extend(await hub.replay(client, since, upto))
    return missed


WS_DOC = """WebSocket at `/ns-api/v2/stream`. Authenticate with `Authorization: Bearer …`, or
`?access_token=…` (browsers), or a first message `{"type":"auth","token":"…"}`. Choose what to
receive with query parameters `models` (comma-separated), `domain`, `user`, `since` (the last
event id you got, to resume), or send `{"type":"subscribe","models":[…],"domain":…,"user":…,
"since":…}`. Messages: `{"type":"event","id":N,"model":…,"data":{…}}`, `{"type":"heartbeat"}`,
`{"type":"subscribed"}`, `{"type":"gap"}` (events lost to retention),
`{"type":"reauthenticate"}` when your token expires — answer with `{"type":"auth","token":…}`
within 60 s to keep the stream (events are held meanwhile), else it closes with code 4001."""


@router.websocket("")
async def stream_ws(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    hub = _hub(websocket.app)
    ip = websocket.client.host if websocket.client else ""
    await websocket.accept()
    params = dict(websocket.query_params)
    token = params.pop("access_token", None)
    header = websocket.headers.get("authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    try:
        if not token:
            first = json.loads(await asyncio.wait_for(websocket.receive_text(), 30))
            if first.get("type") != "auth" or not first.get("token"):
                raise Unauthorized('Send {"type":"auth","token":…} first')
            token = str(first["token"])
        caller = await _authenticate(runtime, token, ip)
        if "models" in params or "domain" in params or "user" in params or "since" in params:
            request: dict[str, Any] = {
                "models": params.get("models", "").split(",") if params.get("models") else None,
                "domain": params.get("domain"),
                "user": params.get("user"),
                "since": int(params["since"]) if params.get("since") else None,
            }
        else:
            message = json.loads(await asyncio.wait_for(websocket.receive_text(), 30))
            if message.get("type") != "subscribe":
                raise Unauthorized('Send {"type":"subscribe",…} to start')
            request = message
        stream_filter = StreamFilter.parse(
            request.get("models"), request.get("domain"), request.get("user"), caller
        )
    except (CelitoError, ValueError, TimeoutError, json.JSONDecodeError) as exc:
        message_text = exc.message if isinstance(exc, CelitoError) else "Malformed request"
        code = 4001 if isinstance(exc, Unauthorized) else 4003
        with contextlib.suppress(Exception):
            await websocket.send_text(json.dumps({"type": "error", "message": message_text}))
            await websocket.close(code)
        return
    except WebSocketDisconnect:
        return
    client = StreamClient(caller, stream_filter)
    missed = await _start(hub, client, request.get("since"))
    try:
        await websocket.send_text(
            json.dumps(
                {
                    "type": "subscribed",
                    "models": sorted(stream_filter.models),
                    "domain": stream_filter.domain,
                    "user": stream_filter.user,
                }
            )
        )
        for item in missed:
            await websocket.send_text(item[1])
        await _pump_ws(websocket, runtime, client, ip)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unregister(client)


async def _pump_ws(websocket: WebSocket, runtime: Runtime, client: StreamClient, ip: str) -> None:
    heartbeat = runtime.settings.stream_heartbeat_seconds
    incoming: asyncio.Task[str] = asyncio.create_task(websocket.receive_text())
    outgoing: asyncio.Task[Any] = asyncio.create_task(client.queue.get())
    waiting_since: float | None = None
    try:
        while True:
            if waiting_since is None and _expired(client.caller):
                await websocket.send_text(
                    json.dumps(
                        {
                            "type": "reauthenticate",
                            "message": 'Your token expired; send {"type":"auth","token":…}',
                        }
                    )
                )
                waiting_since = time.monotonic()
            if waiting_since is not None and time.monotonic() - waiting_since > 60:
                await websocket.close(4001, "token expired")
                return
            wait_on: set[asyncio.Task[Any]] = {incoming}
            if waiting_since is None:
                wait_on.add(outgoing)
            done, _ = await asyncio.wait(
                wait_on, timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                await websocket.send_text('{"type":"heartbeat"}')
                continue
            if incoming in done:
                text = incoming.result()
                incoming = asyncio.create_task(websocket.receive_text())
                client = await _on_client_message(websocket, runtime, client, ip, text)
                if not _expired(client.caller):
                    waiting_since = None
            if outgoing in done:
                item = outgoing.result()
                if item is None:
                    reason = (
                        "slow consumer: reconnect with since=<last id>"
                        if client.overflowed
                        else "server shutting down"
                    )
                    await websocket.close(1013 if client.overflowed else 1012, reason)
                    return
                await websocket.send_text(item[1])
                outgoing = asyncio.create_task(client.queue.get())
    finally:
        incoming.cancel()
        outgoing.cancel()


async def _on_client_message(
    websocket: WebSocket, runtime: Runtime, client: StreamClient, ip: str, text: str
) -> StreamClient:
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        await websocket.send_text('{"type":"error","message":"messages must be JSON"}')
        return client
    if message.get("type") == "auth":
        try:
            caller = await _authenticate(runtime, str(message.get("token", "")), ip)
        except CelitoError as exc:
            await websocket.send_text(json.dumps({"type": "error", "message": exc.message}))
            return client
        if caller.uid != client.caller.uid:
            await websocket.send_text(
                json.dumps(
                    {"type": "error", "message": "A new token must belong to the same identity"}
                )
            )
            return client
        client.caller = caller
        await websocket.send_text('{"type":"authenticated"}')
    elif message.get("type") == "ping":
        await websocket.send_text('{"type":"pong"}')
    return client


@router.get(
    "/events",
    response_class=StreamingResponse,
    **operation(
        "Live events (Server-Sent Events)",
        "The live event stream as SSE: `text/event-stream`, one `event: <model>` with `id:` "
        "per event and JSON `data:`. Filter with `models`, `domain`, `user`; resume with the "
        "`Last-Event-ID` header (or `since`). Comments (`: heartbeat`) keep the connection "
        "alive. When your token expires you get `event: reauthenticate` and the stream ends: "
        "reconnect with a fresh token and Last-Event-ID to lose nothing.\n\n" + WS_DOC,
        roles=EVERYONE,
        example='id: 42\nevent: subscriber\ndata: {"event-id":42,"event-model":'
        '"subscriber","event-action":"update","user":"1001"}\n\n',
    ),
)
async def stream_sse(
    request: Request,
    caller: Reader,
    models: Annotated[str | None, Query(description=f"Any of: {', '.join(MODELS)}.")] = None,
    domain: Annotated[str | None, Query(description="Only this domain (`~` = yours).")] = None,
    user: Annotated[str | None, Query(description="Only this user.")] = None,
    since: Annotated[int | None, Query(ge=0, description="Resume after this event id.")] = None,
) -> StreamingResponse:
    runtime: Runtime = request.app.state.runtime
    hub = _hub(request.app)
    last = request.headers.get("last-event-id")
    if last and last.isdigit():
        since = int(last)
    stream_filter = StreamFilter.parse(models.split(",") if models else None, domain, user, caller)
    client = StreamClient(caller, stream_filter)
    missed = await _start(hub, client, since)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b": subscribed\n\n"
            for past in missed:
                yield past[2]
            while True:
                if _expired(client.caller):
                    yield b'event: reauthenticate\ndata: {"message":"token expired"}\n\n'
                    return
                try:
                    item: Frame | None = await asyncio.wait_for(
                        client.queue.get(), runtime.settings.stream_heartbeat_seconds
                    )
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if item is None:
                    yield b'event: error\ndata: {"message":"stream closed; reconnect"}\n\n'
                    return
                yield item[2]
        finally:
            hub.unregister(client)

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
