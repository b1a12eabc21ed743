"""Where webhooks may go: http(s) only, and never into private networks unless allowed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from celito.errors import Unprocessable


def check_url_shape(url: str, *, field: str = "post-url") -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Unprocessable(f"{field} must be an http:// or https:// URL")
    if not parts.hostname:
        raise Unprocessable(f"{field} has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Unprocessable(f"{field} has an invalid port") from None
    return parts.hostname, port


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_target(
    url: str, *, allow_private: bool, field: str = "post-url", saving: bool = False
) -> None:
    """Refuses URLs that resolve to loopback, private, link-local or reserved addresses.

    Checked when a subscription or hook is saved and again before every delivery, so a DNS
    answer that changes later cannot point deliveries into the platform's own network. When
    `saving`, a host that does not resolve (yet: a customer's new DNS name, or a server
    without DNS) is accepted; its deliveries fail and are retried until it does.
    """
    host, port = check_url_shape(url, field=field)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        if saving:
            return
        raise Unprocessable(f"{field} host {host} does not resolve") from None
    for info in infos:
        if _refused(str(info[4][0])):
            raise Unprocessable(
                f"{field} {host} resolves to a private or loopback address; deliveries there "
                "are refused (operators can allow them with CELITO_WEBHOOK_ALLOW_PRIVATE=true)"
            )
