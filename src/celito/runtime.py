"""What one running node holds: settings, the database, the hasher and the caller cache."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from celito.auth.caller import Caller
from celito.auth.crypto import PasswordHasher
from celito.config import Settings
from celito.db import Database
from celito.telephony.adapter import TelephonyAdapter

if TYPE_CHECKING:
    from celito.events.models import Event


class CallerCache:
    """Resolved bearers, kept briefly so a hot path does not hit the token table every time."""

    def __init__(self, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Caller]] = {}

    def get(self, key: str) -> Caller | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return hit[1]

    def put(self, key: str, caller: Caller) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl, caller)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_where(self, *, user_id: int | None = None, key_pk: int | None = None) -> None:
        """Drop this node's cached callers of a user or key, after a revocation or a change."""
        doomed = [
            k
            for k, (_, c) in self._entries.items()
            if (user_id is not None and c.user_id == user_id)
            or (key_pk is not None and c.key_pk == key_pk)
        ]
        for k in doomed:
            self._entries.pop(k, None)

    def clear(self) -> None:
        self._entries.clear()


@dataclass
class Runtime:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    callers: CallerCache
    jwt_secret: bytes = field(default=b"", repr=False)
    # The telephony engine behind click-to-call and call control; None until one is set up.
    telephony: TelephonyAdapter | None = None
    # Called with every outbox event of the models it names as this node's stream reader reads
    # it (each node reads them all, its own included): how a node learns that another one
    # changed something it keeps in memory. An observer must be quick and must not raise.
    event_observers: list[tuple[frozenset[str], Callable[[Event], None]]] = field(
        default_factory=list
    )

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url),
            hasher=PasswordHasher(
                memory_kib=settings.argon2_memory_kib,
                time_cost=settings.argon2_time_cost,
                parallelism=settings.argon2_parallelism,
            ),
            callers=CallerCache(settings.caller_cache_seconds),
        )
