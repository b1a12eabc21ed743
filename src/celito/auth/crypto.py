"""Secret generation and hashing. Passwords get Argon2id; random secrets get SHA-256.

High-entropy random strings (tokens, API keys, client secrets) cannot be guessed offline, so a
fast hash is enough and keeps the per-request bearer check cheap. Passwords are chosen by
people, so they get a slow, memory-hard hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_ALPHABET = string.ascii_letters + string.digits


def random_token(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class PasswordHasher:
    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hash = PasswordHash(
            (Argon2Hasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism),)
        )
        # Verified when the username is unknown, so a miss costs as much as a wrong password.
        self._decoy = self._hash.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    async def hash_async(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Argon2 releases the GIL, so verification runs in a worker thread."""
        target = hashed or self._decoy
        try:
            ok = await anyio.to_thread.run_sync(self._hash.verify, password, target)
        except ValueError:
            return False
        return ok and hashed is not None
