"""`GET /ns-api/hooks/yealink/{mac}/{token}/{event}`: where phones report (Action URL).

The URLs are the platform's own (written into the phone's file by yealink.render), so the
receiver knows the order of the parameters of every event and splits the query string on
them rather than on every `&`: the phone does not encode values, and a display name such as
`Smith & Jones` survives. Anything beyond the known parameters is ignored.

The phone ignores the answer and never retries, so the answer is quick and empty: 200 once the
report is committed (or recognised as a repeat), 403 for an unknown MAC or a wrong token, 404
for an event the platform never configures, 414 for a query longer than any phone sends.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from celito.devices.schemas import normalize_mac
from celito.kit.docs import operation
from celito.phones.reports import Report
from celito.web import client_ip
from celito.yealink import events

log = logging.getLogger("celito.phones")
router = APIRouter(tags=["Phone events"])
MAX_QUERY = 4096


def split_known(query: str, names: tuple[str, ...]) -> dict[str, str] | None:
    """Values by the known parameter order, or None when the query does not follow it."""
    found: dict[str, str] = {}
    position = 0
    present = [n for n in names if query.startswith(f"{n}=") or f"&{n}=" in query]
    if not present or not query.startswith(f"{present[0]}="):
        return None
    for i, name in enumerate(present):
        start = query.find(f"{name}=", position)
        if start < 0:
            return None
        start += len(name) + 1
        end = len(query)
        for following in present[i + 1 :]:
            candidate = query.find(f"&{following}=", start)
            if candidate >= 0:
                end = candidate
                break
        found[name] = unquote(query[start:end], errors="replace")
        position = end
    return found


def parse(query: str, event: events.PhoneEvent) -> dict[str, str]:
    known = split_known(query, event.variables)
    if known is not None:
        return known
    allowed = set(event.variables)
    return {k: v for k, v in parse_qsl(query, keep_blank_values=True) if k in allowed}


@router.get(
    "/ns-api/hooks/yealink/{mac}/{token}/{event}",
    response_class=Response,
    **operation(
        "Receive a phone's event (Action URL)",
        "Called by Yealink phones, not by integrations: the platform writes one such URL per "
        "event into every phone's file, with the phone's MAC and secret in the path and the "
        "event's variables in the query. Each report updates the phone's state and becomes "
        "`phone` events (plus `device`, `call` and `presence` where they apply) for "
        "subscriptions and the live stream, and calls the matching phone hooks. Answers 200 "
        "with an empty body once committed; 403 for an unknown phone or a wrong secret, 404 "
        "for an event the platform never configures, 414 for an oversized query.",
        roles=["anyone (a phone, with its secret in the URL)"],
        example="(an empty body)",
        errors=(403, 404, 414),
        security=[],
    ),
)
async def action_url(mac: str, token: str, event: str, request: Request) -> Response:
    # GETs are answered in front of FastAPI by yealink.front, with this same function.
    return await answer(request, mac, token, event)


async def answer(request: Request, mac: str, token: str, event: str) -> Response:
    raw = request.scope.get("query_string", b"")
    if len(raw) > MAX_QUERY:
        log.warning("action URL query of %d bytes from %s refused", len(raw), client_ip(request))
        return Response(status_code=414)
    found = events.find(event)
    if found is None:
        log.warning("action URL for unknown event %r from %s", event[:48], client_ip(request))
        return Response(status_code=404)
    try:
        mac = normalize_mac(mac)
    except ValueError:
        return Response(status_code=403)
    try:
        query = raw.decode()
    except UnicodeDecodeError:  # the lenient protocol escapes raw bytes; this is a fallback
        query = raw.decode("latin-1")
    report = Report(
        mac=mac,
        token=token,
        event=found,
        variables=parse(query, found),
        source_ip=client_ip(request),
        raw_query=query,
    )
    outcome = await request.app.state.phone_services.ingest.submit(report)
    return Response(status_code=403 if outcome == "forbidden" else 200)
