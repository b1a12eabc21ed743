"""Action URI: the platform telling a phone what to do, over HTTP (yealink.md §3).

`GET http://<phone>/servlet?key=<VALUE>` with the phone's web credentials (Digest, or Basic
for firmware that asks for it). The phone accepts it only from the addresses in its
`features.action_uri_limit_ip`, which the platform provisions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import httpx

DIGITS = re.compile(r"[0-9*#+]{1,32}")
KEYS = frozenset(
    {
        *(str(d) for d in range(10)),
        "*",
        "POUND",
        "OK",
        "ENTER",
        "X",
        "UP",
        "DOWN",
        "LEFT",
        "RIGHT",
        "F1",
        "F2",
        "F3",
        "F4",
        "MSG",
        "HEADSET",
        "RD",
        "SPEAKER",
        "VOLUME_UP",
        "VOLUME_DOWN",
        "MUTE",
        "F_HOLD",
        "F_TRANSFER",
        "F_CONFERENCE",
        "CALLEND",
        *(f"L{n}" for n in range(1, 30)),
        *(f"D{n}" for n in range(1, 11)),
    }
)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    password: str
    user: str = "admin"

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    """What came back: an HTTP status, or None and why there was none."""

    status: int | None
    error: str = ""
    body: str = ""


def query(key: str, **extra: str) -> str:
    """`key=number=1234&outgoing_uri=1001@pbx`: the phone reads `=`, `:`, `@` and `;` raw."""
    parts = [("key", key), *extra.items()]
    return "&".join(f"{name}={quote(value, safe='=:@;*')}" for name, value in parts)


async def send(http: httpx.AsyncClient, target: Target, query: str, *, seconds: float) -> Answer:
    url = f"http://{target.address}/servlet?{query}"
    try:
        response = await http.get(
            url, auth=httpx.DigestAuth(target.user, target.password), timeout=seconds
        )
        if (
            response.status_code == 401
            and "basic" in response.headers.get("www-authenticate", "").lower()
        ):
            response = await http.get(
                url, auth=httpx.BasicAuth(target.user, target.password), timeout=seconds
            )
    except httpx.TimeoutException:
        return Answer(None, f"no answer within {seconds:g} s")
    except httpx.HTTPError as exc:
        return Answer(None, f"cannot connect ({type(exc).__name__})")
    return Answer(response.status_code, body=response.text[:200])
