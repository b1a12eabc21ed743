"""HTTP Digest (RFC 7616, MD5, qop=auth) and Basic for phones fetching their files.

Nonces are stateless (a timestamp signed with a node-shared key), so a phone challenged by one
node can answer to another. A nonce older than NONCE_SECONDS is answered with a fresh
challenge marked `stale=true`, which phones follow without treating it as a wrong password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

REALM = "celitoVoice provisioning"
NONCE_SECONDS = 300
# A quoted value as one run of plain characters and escapes (unrolled: twice as fast as
# alternating per character, same matches).
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def new_nonce(key: bytes, now: float | None = None) -> str:
    stamp = str(int(now if now is not None else time.time()))
    salt = secrets.token_hex(4)
    mac = hmac.new(key, f"{stamp}:{salt}".encode(), hashlib.sha256).hexdigest()[:24]
    return f"{stamp}.{salt}.{mac}"


def nonce_state(key: bytes, nonce: str, now: float | None = None) -> str:
    """'ok', 'stale' (ours but old) or 'bad'."""
    try:
        stamp, salt, mac = nonce.split(".")
        issued = int(stamp)
    except ValueError:
        return "bad"
    expected = hmac.new(key, f"{stamp}:{salt}".encode(), hashlib.sha256).hexdigest()[:24]
    if not hmac.compare_digest(expected, mac):
        return "bad"
    age = (now if now is not None else time.time()) - issued
    return "ok" if -30 <= age <= NONCE_SECONDS else "stale"


def challenge(key: bytes, *, stale: bool = False) -> str:
    header = f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{new_nonce(key)}"'
    return header + (", stale=true" if stale else "")


@dataclass(frozen=True)
class Credentials:
    """What the client sent; `check` tells whether it proves knowledge of a password."""

    scheme: str
    username: str
    params: dict[str, str]
    basic_password: str = ""

    def check(self, password: str, method: str, key: bytes) -> str:
        """'ok', 'stale' or 'bad'."""
        if self.scheme == "basic":
            ok = hmac.compare_digest(self.basic_password.encode(), password.encode())
            return "ok" if ok else "bad"
        p = self.params
        state = nonce_state(key, p.get("nonce", ""))
        if state == "bad":
            return "bad"
        ha1 = _md5(f"{self.username}:{p.get('realm', '')}:{password}")
        ha2 = _md5(f"{method}:{p.get('uri', '')}")
        if p.get("qop"):
            expected = _md5(
                f"{ha1}:{p.get('nonce')}:{p.get('nc', '')}:{p.get('cnonce', '')}:{p['qop']}:{ha2}"
            )
        else:
            expected = _md5(f"{ha1}:{p.get('nonce')}:{ha2}")
        if not hmac.compare_digest(expected, p.get("response", "").lower()):
            return "bad"
        return state

    def uri_matches(self, path: str) -> bool:
        if self.scheme == "basic":
            return True
        uri = self.params.get("uri", "")
        return uri.split("?", 1)[0] == path or uri.endswith(path)


def parse(header: str | None) -> Credentials | None:
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(rest.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return Credentials("basic", user, {}, password)
    if scheme.lower() != "digest":
        return None
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(rest)
    }
    if "username" not in params or "response" not in params:
        return None
    return Credentials("digest", params["username"], params)
