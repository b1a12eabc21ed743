"""Phone numbers (DIDs): +E.164, unique across the system, routed by a dial-rule application.

Office Managers manage their domain's numbers (add, route, enable, remove); moving a number to
another domain is for its Reseller or a Super User. Everyone else with access to the domain
reads its numbers; a user-level caller (Basic User, Call Center Agent, …) sees the numbers that
ring it (routed to its extension or one of its devices). Where a number goes is checked by
dialplans.service.check_destination: a to-callqueue number must point at a call queue of the
domain, to-user at a user (or an attendant or conference), to-voicemail at a user, and so on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller, system_caller
from celito.auth.policy import deny, domain_clause
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.devices import service as devices
from celito.dialplans import applications
from celito.dialplans import service as dialplans
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import BadRequest, Conflict, NotFound, Unprocessable
from celito.kit.paging import Page
from celito.phonenumbers.e164 import normalize
from celito.phonenumbers.models import PhoneNumber
from celito.phonenumbers.schemas import PhonenumberCreate, PhonenumberOut, PhonenumberUpdate
from celito.routing.snapshot import PhoneNumber as RoutingNumber
from celito.users.models import User

AVAILABLE = "available-number"
SORTABLE = {
    "phonenumber": PhoneNumber.number,
    "dial-rule-application": PhoneNumber.application,
    "dial-rule-translation-destination-user": PhoneNumber.dest_user,
    "dial-rule-description": PhoneNumber.description,
    "created-datetime": PhoneNumber.created_at,
}
# Applications whose destination is an extension (or may be), and those aimed at a device.
_TO_EXTENSION = tuple(a.v2 for a in applications.APPLICATIONS if a.target in ("extension", "any"))
_TO_DEVICE = tuple(a.v2 for a in applications.APPLICATIONS if a.target == "device")


def to_out(n: PhoneNumber, domain_name: str) -> PhonenumberOut:
    return PhonenumberOut(
        phonenumber=n.number,
        domain=domain_name,
        enabled=n.enabled,
        dial_rule_application=n.application,
        dial_rule_parameter=n.parameter,
        dial_rule_translation_destination_user=n.dest_user,
        dial_rule_translation_destination_host=n.dest_host,
        dial_rule_translation_source_name=n.src_name,
        dial_rule_description=n.description,
        created_datetime=n.created_at,
        last_modified_datetime=n.updated_at,
    )


def _snapshot(n: PhoneNumber, domain_name: str) -> dict[str, Any]:
    return {
        "domain": domain_name,
        "enabled": n.enabled,
        "dial-rule-application": n.application,
        "dial-rule-parameter": n.parameter,
        "dial-rule-translation-destination-user": n.dest_user,
        "dial-rule-translation-destination-host": n.dest_host,
        "dial-rule-translation-source-name": n.src_name,
        "dial-rule-description": n.description,
    }


def _audit(
    session: AsyncSession, caller: Caller, action: str, n: PhoneNumber, domain: Domain, **kw: Any
) -> None:
    audit.record(
        session,
        caller,
        action,
        "phonenumber",
        n.number,
        reseller=domain.reseller.name,
        domain=domain.name,
        **kw,
    )


def _require_manager(caller: Caller) -> None:
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(
            f"A {caller.scope} cannot change phone numbers; an Office Manager of the domain can"
        )


def _path_number(text: str) -> str:
    try:
        return normalize(text)
    except ValueError as e:
        raise BadRequest(str(e)) from None


async def _mine(session: AsyncSession, caller: Caller, domain: Domain) -> Any:
    """For a user-level caller: the numbers that ring it."""
    own_devices = await devices.names_of(session, domain.id, caller.user or "")
    return or_(
        and_(PhoneNumber.application.in_(_TO_EXTENSION), PhoneNumber.dest_user == caller.user),
        and_(PhoneNumber.application.in_(_TO_DEVICE), PhoneNumber.dest_user.in_(own_devices)),
    )


async def _readable(session: AsyncSession, caller: Caller, domain: Domain) -> Any:
    clause = PhoneNumber.domain_id == domain.id
    if caller.is_user_level:
        clause = and_(clause, await _mine(session, caller, domain))
    return clause


def _filtered(stmt: Any, application: str | None, destination: str | None) -> Any:
    if application:
        try:
            stmt = stmt.where(PhoneNumber.application == applications.to_v2(application))
        except ValueError as e:
            raise BadRequest(str(e)) from None
    if destination:
        stmt = stmt.where(PhoneNumber.dest_user == destination)
    return stmt


async def list_(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    page: Page,
    *,
    application: str | None = None,
    destination: str | None = None,
) -> list[PhonenumberOut]:
    domain = await domains.get(session, caller, domain_name)
    stmt = select(PhoneNumber).where(await _readable(session, caller, domain))
    stmt = page.apply(_filtered(stmt, application, destination), SORTABLE, "phonenumber")
    return [to_out(n, domain.name) for n in (await session.scalars(stmt)).all()]


async def count(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    domain = await domains.get(session, caller, domain_name)
    stmt = (
        select(func.count())
        .select_from(PhoneNumber)
        .where(await _readable(session, caller, domain))
    )
    return int(await session.scalar(stmt) or 0)


def _inventory(caller: Caller) -> Any:
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} reads its domain's numbers at /domains/~/phonenumbers")
    return (
        select(PhoneNumber, Domain.name)
        .join(Domain, Domain.id == PhoneNumber.domain_id)
        .where(domain_clause(caller))
    )


async def inventory(
    session: AsyncSession,
    caller: Caller,
    page: Page,
    *,
    domain_name: str | None = None,
    application: str | None = None,
) -> list[PhonenumberOut]:
    """Every number in the caller's reach: the whole system for a Super User, the Reseller's
    domains for a Reseller."""
    stmt = _inventory(caller)
    if domain_name:
        stmt = stmt.where(Domain.name == domain_name.lower())
    stmt = page.apply(
        _filtered(stmt, application, None), {**SORTABLE, "domain": Domain.name}, "phonenumber"
    )
    return [to_out(n, name) for n, name in (await session.execute(stmt)).all()]


async def count_inventory(session: AsyncSession, caller: Caller) -> int:
    stmt = select(func.count()).select_from(_inventory(caller).subquery())
    return int(await session.scalar(stmt) or 0)


async def _number(session: AsyncSession, domain: Domain, number: str) -> PhoneNumber:
    found = await session.scalar(
        select(PhoneNumber).where(PhoneNumber.domain_id == domain.id, PhoneNumber.number == number)
    )
    if found is None:
        raise NotFound(f"Phone number {number} does not exist in domain {domain.name}")
    return found


async def get(
    session: AsyncSession, caller: Caller, domain_name: str, number_text: str
) -> PhonenumberOut:
    domain = await domains.get(session, caller, domain_name)
    n = await _number(session, domain, _path_number(number_text))
    if caller.is_user_level:
        mine = await session.scalar(
            select(PhoneNumber.id).where(
                PhoneNumber.id == n.id, await _mine(session, caller, domain)
            )
        )
        if mine is None:
            raise deny(f"A {caller.scope} reads only the numbers that ring it")
    return to_out(n, domain.name)


async def _already_exists(session: AsyncSession, caller: Caller, number: str) -> Conflict:
    owner = await session.scalar(
        select(Domain.name)
        .join(PhoneNumber, PhoneNumber.domain_id == Domain.id)
        .where(PhoneNumber.number == number, domain_clause(caller))
    )
    # NetSapiens' exact words; who holds it is added only for a caller who can see that domain.
    return Conflict("Phone number already exists" + (f" in domain {owner}" if owner else ""))


async def _route(
    session: AsyncSession,
    n: PhoneNumber,
    domain: Domain,
    body: PhonenumberCreate | PhonenumberUpdate,
    *,
    application: str,
    reset: bool,
) -> None:
    """Sets where the number goes, checking the destination in `domain` when it changed."""
    values = body.model_dump(exclude_unset=True)
    user = values.get("dial_rule_translation_destination_user")
    host = values.get("dial_rule_translation_destination_host")
    changed = reset or application != n.application or user is not None or host is not None
    if changed:
        keep = not reset and application == n.application
        n.dest_user, n.dest_host = await dialplans.check_destination(
            session,
            domain,
            application,
            user if user is not None else (n.dest_user if keep else None),
            host if host is not None else (n.dest_host if keep else None),
            literal_required=True,
        )
        n.application = application
        if reset and values.get("dial_rule_parameter") is None:
            n.parameter = ""
    for field, column in (
        ("enabled", "enabled"),
        ("dial_rule_parameter", "parameter"),
        ("dial_rule_translation_source_name", "src_name"),
        ("dial_rule_description", "description"),
    ):
        if values.get(field) is not None:
            setattr(n, column, values[field])


async def create(
    session: AsyncSession, caller: Caller, domain_name: str, body: PhonenumberCreate
) -> PhonenumberOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    number = body.phonenumber
    if await session.scalar(select(PhoneNumber.id).where(PhoneNumber.number == number)):
        raise await _already_exists(session, caller, number)
    n = PhoneNumber(
        number=number,
        domain_id=domain.id,
        enabled=True,
        application=AVAILABLE,
        parameter="",
        dest_user="[*]",
        dest_host="[*]",
        src_name="[*]",
        description="",
    )
    application = dialplans.default_application(body, fallback=AVAILABLE)
    await _route(session, n, domain, body, application=application, reset=True)
    try:
        async with session.begin_nested():
            session.add(n)
            await session.flush()
    except IntegrityError:
        raise await _already_exists(session, caller, number) from None
    _audit(session, caller, "create", n, domain, after=_snapshot(n, domain.name))
    return to_out(n, domain.name)


async def update(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    number_text: str | None,
    body: PhonenumberUpdate,
) -> PhonenumberOut:
    """Changes a number's routing or settings; `domain` in the body moves it (Reseller+)."""
    domain = await domains.get(session, caller, domain_name)
    if number_text is None:
        if body.phonenumber is None:
            raise Unprocessable("'phonenumber' is required (which number to change)")
        number = body.phonenumber
    else:
        number = _path_number(number_text)
        if body.phonenumber is not None and body.phonenumber != number:
            raise Unprocessable(
                f"phonenumber {body.phonenumber} in the body differs from {number} in the path"
            )
    n = await _number(session, domain, number)
    _require_manager(caller)
    before = _snapshot(n, domain.name)
    target = domain
    if body.domain is not None:
        target = await domains.get(session, caller, body.domain)
        if target.id != domain.id and not (caller.is_super or caller.is_reseller):
            raise deny("Only a Reseller or a Super User moves numbers between domains")
    moved = target.id != domain.id
    application = body.dial_rule_application or (AVAILABLE if moved else n.application)
    n.domain_id = target.id
    await _route(session, n, target, body, application=application, reset=moved)
    await session.flush()
    _audit(
        session,
        caller,
        "move" if moved else "update",
        n,
        target,
        before=before,
        after=_snapshot(n, target.name),
    )
    return to_out(n, target.name)


async def delete(
    session: AsyncSession, caller: Caller, domain_name: str, number_text: str
) -> PhonenumberOut:
    domain = await domains.get(session, caller, domain_name)
    n = await _number(session, domain, _path_number(number_text))
    _require_manager(caller)
    out = to_out(n, domain.name)
    await session.delete(n)
    _audit(session, caller, "delete", n, domain, before=_snapshot(n, domain.name))
    return out


# ---------------------------------------------------------------------------------------------
# For other flows (one-call user creation, user deletion, queue/attendant deletion).


async def assign_to_user(
    session: AsyncSession, caller: Caller, domain_name: str, number: str, user: str
) -> PhonenumberOut:
    """Routes `number` (any spelling) to user `user` (to-user), adding it to the domain when
    it is new. 409 when the number belongs to another domain; 422 for a bad number or user."""
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    try:
        e164 = normalize(number)
    except ValueError as e:
        raise Unprocessable(f"phonenumber: {e}") from None
    route = {
        "dial-rule-application": "to-user",
        "dial-rule-translation-destination-user": user,
    }
    existing = await session.scalar(select(PhoneNumber).where(PhoneNumber.number == e164))
    if existing is None:
        return await create(
            session,
            caller,
            domain.name,
            PhonenumberCreate.model_validate({"phonenumber": e164, **route}),
        )
    if existing.domain_id != domain.id:
        raise await _already_exists(session, caller, e164)
    return await update(session, caller, domain.name, e164, PhonenumberUpdate.model_validate(route))


async def release_for_extension(
    session: AsyncSession,
    domain_id: int,
    extension: str,
    *,
    devices_of_it: tuple[str, ...] = (),
    caller: Caller | None = None,
) -> list[str]:
    """Returns to available-number every number of the domain routed to `extension` (or to
    one of `devices_of_it`); for flows deleting a user, a call queue or an attendant."""
    clause = and_(PhoneNumber.application.in_(_TO_EXTENSION), PhoneNumber.dest_user == extension)
    if devices_of_it:
        clause = or_(
            clause,
            and_(PhoneNumber.application.in_(_TO_DEVICE), PhoneNumber.dest_user.in_(devices_of_it)),
        )
    rows = list(
        (
            await session.scalars(
                select(PhoneNumber).where(PhoneNumber.domain_id == domain_id, clause)
            )
        ).all()
    )
    if not rows:
        return []
    domain = await session.get(Domain, domain_id)
    assert domain is not None
    who = caller or system_caller("system")
    for n in rows:
        before = _snapshot(n, domain.name)
        n.application, n.dest_user, n.dest_host, n.parameter = AVAILABLE, "[*]", "[*]", ""
        _audit(session, who, "update", n, domain, before=before, after=_snapshot(n, domain.name))
    await session.flush()
    return [n.number for n in rows]


async def release_for_user(
    session: AsyncSession, domain_id: int, user: str | User, *, caller: Caller | None = None
) -> list[str]:
    """Returns a user's numbers (routed to its extension, voicemail or one of its devices) to
    available-number; the user-deletion flow calls this before deleting the user."""
    extension = user if isinstance(user, str) else user.user
    own_devices = tuple(await devices.names_of(session, domain_id, extension))
    return await release_for_extension(
        session, domain_id, extension, devices_of_it=own_devices, caller=caller
    )


async def numbers_of_user(session: AsyncSession, domain_id: int, user: str) -> list[str]:
    """The numbers that ring a user (its extension or devices), e.g. for its profile."""
    own_devices = await devices.names_of(session, domain_id, user)
    rows = await session.scalars(
        select(PhoneNumber.number).where(
            PhoneNumber.domain_id == domain_id,
            or_(
                and_(PhoneNumber.application.in_(_TO_EXTENSION), PhoneNumber.dest_user == user),
                and_(
                    PhoneNumber.application.in_(_TO_DEVICE), PhoneNumber.dest_user.in_(own_devices)
                ),
            ),
        )
    )
    return list(rows.all())


_ROUTING_PREFIX = {
    "to-user": "",
    "to-callqueue": "queue_",
    "to-voicemail": "vmail_",
    "to-single-device": "",
}


async def routing_numbers(session: AsyncSession, domain_id: int) -> list[RoutingNumber]:
    """The domain's numbers written as routing destinations (`1001`, `queue_2000`,
    `vmail_1001`, an outside number); numbers in inventory are disabled."""
    rows = await session.scalars(select(PhoneNumber).where(PhoneNumber.domain_id == domain_id))
    found: list[RoutingNumber] = []
    for n in rows.all():
        routed = n.application in _ROUTING_PREFIX and n.dest_user not in ("", "[*]")
        target = f"{_ROUTING_PREFIX[n.application]}{n.dest_user}" if routed else n.dest_user
        found.append(RoutingNumber(number=n.number, target=target, enabled=n.enabled and routed))
    return found
