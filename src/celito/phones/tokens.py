"""The per-phone secret in every action URL the platform writes into a phone's file.

Derived, not stored: HMAC-SHA256(node-shared key, "<mac>:<token_version>"), so every node can
check it without a lookup table and a file rendered again carries the same URLs. Bumping the
phone's `token_version` revokes every URL served before (the phone picks up the new ones at its
next provisioning). Compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from celito.devices import secrets

KEY_NAME = "phone_action_url_hmac"
_keys: dict[str, bytes] = {}


async def cached_key(session: AsyncSession, name: str) -> bytes:
    """A node-shared key, read once per database per process (such keys never change)."""
    bind = session.get_bind()
    cache_key = f"{bind.engine.url}#{name}"
    found = _keys.get(cache_key)
    if found is None:
        found = _keys[cache_key] = await secrets.load_key(session, name)
    return found


async def key(session: AsyncSession) -> bytes:
    return await cached_key(session, KEY_NAME)


def token(key: bytes, mac: str, version: int) -> str:
    digest = hmac.new(key, f"{mac}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()  # 144 bits, 24 URL-safe characters


def valid(key: bytes, mac: str, version: int, offered: str) -> bool:
    return hmac.compare_digest(token(key, mac, version).encode(), offered.encode())
