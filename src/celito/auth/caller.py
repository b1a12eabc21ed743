"""Who is asking: resolved once per request from the bearer, then passed to every service."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from celito.auth.scopes import USER_LEVEL, Scope

Via = Literal["token", "jwt", "apikey", "cli", "seed", "system"]


@dataclass(frozen=True, slots=True)
class Caller:
    scope: Scope
    user_id: int | None = None
    user: str | None = None
    domain_id: int | None = None
    domain: str | None = None
    reseller_id: int | None = None
    reseller: str | None = None
    site: str = ""
    department: str = ""
    client_id: str = ""
    ip: str = ""
    via: Via = "token"
    key_pk: int | None = None
    key_id: str | None = None
    readonly: bool = False
    can_create_keys: bool = False
    allowed_models: frozenset[str] | None = None
    jti: str | None = None
    allowed_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    expires_at: datetime | None = None

    @property
    def uid(self) -> str:
        if self.user and self.domain:
            return f"{self.user}@{self.domain}"
        return self.key_id or self.client_id or self.via

    @property
    def is_super(self) -> bool:
        return self.scope is Scope.SUPER_USER

    @property
    def is_reseller(self) -> bool:
        return self.scope is Scope.RESELLER

    @property
    def is_user_level(self) -> bool:
        return self.scope in USER_LEVEL

    def at(self, ip: str) -> Caller:
        return replace(self, ip=ip)


def system_caller(via: Via = "cli") -> Caller:
    """The operator at the console: Super User reach, audited as 'cli'."""
    return Caller(scope=Scope.SUPER_USER, via=via, client_id=via)
