"""The shape of an API key: `nsd_XXXXXXXX` (its public key-id) + `_` + a random secret."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network

from celito.auth.crypto import random_alnum, random_token
from celito.auth.scopes import Scope
from celito.errors import BadRequest

KEY_PREFIXES = ("nsd_", "nss_")
KEY_ID_LENGTH = 12


def new_key(scope: Scope) -> tuple[str, str]:
    prefix = "nss_" if scope is Scope.SUPER_USER else "nsd_"
    key_id = prefix + random_alnum(KEY_ID_LENGTH - len(prefix))
    return key_id, random_token(key_id + "_", 32)


def key_id_of(key: str) -> str | None:
    if len(key) <= KEY_ID_LENGTH + 1 or key[KEY_ID_LENGTH] != "_":
        return None
    return key[:KEY_ID_LENGTH]


def networks_of(csv: str) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(part.strip(), strict=False) for part in csv.split(",") if part.strip())


def normalise_networks(csv: str) -> str:
    try:
        return ",".join(str(n) for n in networks_of(csv))
    except ValueError as exc:
        raise BadRequest(f"ip-address: {exc}") from None
