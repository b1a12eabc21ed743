"""`/cfg/`: where phones download their files (the NetSapiens NDP convention).

`<mac>.boot` (V8x), `y0000000000XX.cfg` (common, per model code), `<mac>.cfg` (the phone's
own). Every file needs HTTP Digest (or Basic) with the domain's provisioning credentials or the
phone's own; the answer to a wrong password, an unknown MAC or another domain's MAC never says
which it was (401 for credentials, 404 for everything else, nothing else in the body). Failed
attempts are counted per address, and per username from that address (429 with Retry-After).
Not per username alone, unlike logins: the domain's username is its name, which anyone may
know, and five wrong guesses from anywhere would then keep all of its phones from their files.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from celito.auth import throttle
from celito.devices import secrets
from celito.devices.schemas import normalize_mac
from celito.kit.docs import operation
from celito.phones import filedata, provisioning
from celito.phones import service as phones
from celito.phones.provisioning import Keys
from celito.web import client_ip, runtime_of
from celito.yealink import catalog, digest, render

if TYPE_CHECKING:
    from celito.yealink.node import PhoneServices

log = logging.getLogger("celito.provisioning")
router = APIRouter(tags=["Phone provisioning"])
_FILE = re.compile(r"^(?:(?P<mac>[0-9a-fA-F]{12})\.(?P<ext>cfg|boot)|y0{9}(?P<code>\d{3})\.cfg)$")
_UA = re.compile(
    r"Yealink\s+(?:SIP[- ])?(?P<model>\S+)\s+(?P<fw>[\d.]+)(?:\s+(?P<mac>[0-9a-fA-F:]{12,17}))?"
)


def _not_found() -> Response:
    return PlainTextResponse("Not Found\n", status_code=404)


@router.get(
    "/cfg/{filename}",
    response_class=PlainTextResponse,
    **operation(
        "Download a phone's provisioning file",
        "What a Yealink phone fetches at boot and on re-provisioning: `<mac>.boot`, "
        "`y0000000000XX.cfg` (the model's common file) and `<mac>.cfg` (its accounts, keys, "
        "time zone, Action URI allow-list, re-provisioning interval and one action URL per "
        "event). HTTP Digest with the domain's provisioning credentials "
        "(`GET /ns-api/v2/domains/{domain}/provisioning`) or the phone's own "
        "(`device-provisioning-username`/`-password`). Point phones at "
        "`<this server>/cfg/` (DHCP option 66, RPS or `static.auto_provision.server.url`). "
        "Wrong credentials: 401 with a new challenge; an unknown or another domain's MAC: 404; "
        "repeated failures: 429 with Retry-After.",
        roles=["anyone (a phone, with the provisioning credentials)"],
        example="#!version:1.0.0.1\naccount.1.enable = 1\naccount.1.user_name = 1001\n",
        errors=(401, 404, 429),
        security=[],
    ),
)
async def cfg_file(filename: str, request: Request) -> Response:
    # GETs are answered in front of FastAPI by yealink.front, with this same function.
    runtime = runtime_of(request)
    keys = _services(request).keys
    found = _FILE.match(filename)
    offered = digest.parse(request.headers.get("authorization"))
    if offered is None:
        return _challenge(keys.nonce)
    if found is not None and found.group("mac"):
        # The usual download: a phone's own file with its domain's or its own credentials,
        # decided from one read of the phone's data. Anything this cannot settle (a throttled
        # name or address, credentials it does not hold, an unknown MAC) goes on to the
        # general check, which answers exactly as it always has.
        settings = runtime.settings
        ip = client_ip(request)
        data = await _services(request).files.read(
            normalize_mac(found.group("mac")),
            failed_name=_throttle_key(offered.username, ip),
            failed_ip=ip,
            window=timedelta(seconds=settings.login_failure_window_seconds),
        )
        if (
            data is not None
            and data.failures_by_name < settings.login_max_failures_per_username
            and data.failures_by_ip < settings.login_max_failures_per_ip
        ):
            outcome = _check_own(offered, request.method, data, keys)
            if outcome == "stale":
                return _challenge(keys.nonce, stale=True)
            if outcome == "ok" and offered.uri_matches(request.scope["path"]):
                return _phone_file(request, found, data)
    return await _checked(request, filename, found, offered)


def _check_own(
    offered: digest.Credentials, method: str, data: filedata.FileData, keys: Keys
) -> str:
    """The offered credentials against the phone's domain's and the phone's own."""
    candidates = []
    if data.profile_username == offered.username and data.profile_password:
        bound = provisioning.password_bound(offered.username)
        candidates.append(secrets.unseal(keys.secrets, data.profile_password, bound_to=bound))
    if data.prov_username == offered.username and data.prov_password:
        bound = phones.prov_password_bound(data.mac)
        candidates.append(secrets.unseal(keys.secrets, data.prov_password, bound_to=bound))
    for password in candidates:
        outcome = offered.check(password, method, keys.nonce)
        if outcome != "bad":
            return outcome
    return "bad"


async def _checked(
    request: Request,
    filename: str,
    found: re.Match[str] | None,
    offered: digest.Credentials,
) -> Response:
    """Every credential set the offered name could be (a domain's, phones' own), the
    throttle, and the answers that must not tell a wrong password from a foreign MAC."""
    runtime = runtime_of(request)
    nonce_key = _services(request).keys.nonce
    ip = client_ip(request)
    async with runtime.db.reader() as session:
        key = _throttle_key(offered.username, ip)
        retry = await throttle.retry_after(session, runtime.settings, key, ip)
        if retry is not None:
            log.warning("provisioning throttled: username=%r ip=%s", offered.username, ip)
            return PlainTextResponse(
                "Too many failed attempts\n", status_code=429, headers={"Retry-After": str(retry)}
            )
        doors = await provisioning.door_for(session, offered.username)
        outcome, door = "bad", None
        for candidate in doors:
            outcome = offered.check(candidate.password, request.method, nonce_key)
            if outcome != "bad":
                door = candidate
                break
        if outcome == "stale":
            return _challenge(nonce_key, stale=True)
        if door is None or not offered.uri_matches(request.scope["path"]):
            await _fail(request, key, ip, filename)
            return _challenge(nonce_key)
        if found is None:
            return _not_found()
        if found.group("code"):
            models = catalog.by_code(found.group("code"))
            if not models:
                return _not_found()
            return _text(render.common_file(models[0]))
        mac = normalize_mac(found.group("mac"))
        data = await filedata.read_in(session, mac)
        await session.rollback()
    if (
        data is None
        or data.domain_id != door.domain_id
        or (door.phone_mac is not None and door.phone_mac != mac)
    ):
        log.info("provisioning: %s asked for unknown or foreign phone %s", ip, mac)
        return _not_found()
    return _phone_file(request, found, data)


def _phone_file(request: Request, found: re.Match[str], data: filedata.FileData) -> Response:
    """`<mac>.boot` or `<mac>.cfg` for a download whose credentials reach the phone."""
    services = _services(request)
    settings = runtime_of(request).settings
    ip = client_ip(request)
    mac = data.mac
    agent = request.headers.get("user-agent", "")
    ua = _UA.search(agent)
    if ua and ua.group("mac") and normalize_mac_or_empty(ua.group("mac")) != mac:
        log.warning("provisioning: %s asked for %s with a User-Agent of another MAC", ip, mac)
        return _not_found()
    # What the phone says it runs decides the key names of what it gets now.
    firmware = ua.group("fw") if ua else ""
    if found.group("ext") == "boot":
        model = catalog.find(data.model)
        assert model is not None, f"phone {mac} has unknown model {data.model}"
        if phones.generation_from(data.generation, firmware or data.firmware, model) != "v8x":
            return _not_found()
        return _text(render.boot_file(mac, model))
    # The request's own base only when no public URL is set (building it costs a URL parse).
    url = provisioning.base_url(settings, "" if settings.public_url else str(request.base_url))
    spec = provisioning.spec_of(data, settings, url, services.keys, firmware)
    body = render.phone_file(spec).encode()
    services.downloads.record(mac, render.md5(body), agent[:255], firmware, ip)
    return _text(body)


def _services(request: Request) -> PhoneServices:
    services: PhoneServices = request.app.state.phone_services
    return services


def normalize_mac_or_empty(raw: str) -> str:
    try:
        return normalize_mac(raw)
    except ValueError:
        return ""


def _text(body: str | bytes) -> Response:
    return PlainTextResponse(body, headers={"Cache-Control": "no-store"})


def _challenge(nonce_key: bytes, *, stale: bool = False) -> Response:
    return PlainTextResponse(
        "Unauthorized\n",
        status_code=401,
        headers={"WWW-Authenticate": digest.challenge(nonce_key, stale=stale)},
    )


def _throttle_key(username: str, ip: str) -> str:
    return f"cfg:{username}@{ip}"


async def _fail(request: Request, key: str, ip: str, filename: str) -> None:
    runtime = runtime_of(request)
    log.warning("provisioning: bad credentials (%r) for %r", key, filename)
    async with runtime.db.writer() as session:
        await throttle.record_failure(session, runtime.settings, key, ip)
        await session.commit()
