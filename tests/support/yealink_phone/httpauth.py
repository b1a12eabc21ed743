"""HTTP Basic and Digest (RFC 7616, MD5) for both sides of the phone.

The phone answers the provisioning server's challenges and challenges whoever calls its own web
server (Action URI). One implementation serves both directions; the emulator's tests check each
direction against an independent implementation (a hand-written server check, httpx's client).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def parse_params(text: str) -> dict[str, str]:
    """`realm="x", nonce="y", qop="auth"` → {"realm": "x", …}."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(text):
        quoted = match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match.group(2)
        params[match.group(1).lower()] = value
    return params


def split_challenges(headers: list[str]) -> dict[str, dict[str, str]]:
    """WWW-Authenticate values → {"digest": params, "basic": params}. One challenge per header
    line, which is how servers in practice offer more than one scheme."""
    found: dict[str, dict[str, str]] = {}
    for header in headers:
        scheme, _, rest = header.strip().partition(" ")
        found[scheme.lower()] = parse_params(rest)
    return found


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def answer_challenge(
    challenges: list[str], method: str, uri: str, username: str, password: str
) -> str | None:
    """The Authorization value answering the server's challenges, preferring Digest; None when
    no offered scheme is one the phone speaks (Digest with MD5, or Basic)."""
    offered = split_challenges(challenges)
    digest = offered.get("digest")
    if digest is not None and digest.get("algorithm", "MD5").upper() == "MD5":
        realm, nonce = digest.get("realm", ""), digest.get("nonce", "")
        ha1 = _md5(f"{username}:{realm}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        fields = [
            f'username="{username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
            "algorithm=MD5",
        ]
        qops = [q.strip() for q in digest.get("qop", "").split(",") if q.strip()]
        if "auth" in qops:
            cnonce, nc = secrets.token_hex(8), "00000001"
            response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{response}"')
        if "opaque" in digest:
            fields.append(f'opaque="{digest["opaque"]}"')
        return "Digest " + ", ".join(fields)
    if "basic" in offered:
        return basic_header(username, password)
    return None


class Authenticator:
    """Server side: issues challenges and checks answers against a password lookup."""

    def __init__(self, realm: str, *, basic: bool = False) -> None:
        self.realm = realm
        self.basic = basic
        self._nonces: set[str] = set()
        self._lock = threading.Lock()

    def challenge(self) -> str:
        if self.basic:
            return f'Basic realm="{self.realm}"'
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        return f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", algorithm=MD5'

    def check(
        self,
        method: str,
        uri: str,
        authorization: str | None,
        password_of: Callable[[str], str | None],
    ) -> str | None:
        """The authenticated user name, or None."""
        if not authorization:
            return None
        scheme, _, rest = authorization.strip().partition(" ")
        if self.basic:
            if scheme.lower() != "basic":
                return None
            try:
                user, _, given = base64.b64decode(rest.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            expected = password_of(user)
            if expected is None or not hmac.compare_digest(given, expected):
                return None
            return user
        if scheme.lower() != "digest":
            return None
        p = parse_params(rest)
        user, nonce = p.get("username", ""), p.get("nonce", "")
        with self._lock:
            known = nonce in self._nonces
        password = password_of(user)
        if not known or password is None or p.get("realm") != self.realm or p.get("uri") != uri:
            return None
        ha1 = _md5(f"{user}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{uri}")
        if p.get("qop") == "auth":
            expected = _md5(f"{ha1}:{nonce}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        if not hmac.compare_digest(expected, p.get("response", "")):
            return None
        return user
