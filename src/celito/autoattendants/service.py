"""Auto attendants: an extension of the domain that answers with a menu.

An attendant is its extension (NetSapiens' `user`) plus one menu per time frame; each such
variant is named by its `starting-prompt`, unique in the domain. The extension is claimed in
the domain's plan with the first variant and released with the last. Office Managers (and the
Reseller and Super User above them) manage attendants; Site Managers and Call Center
Supervisors read them; users cannot.
"""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import DOMAIN_MANAGERS, Scope
from celito.autoattendants import menus
from celito.autoattendants.destinations import check_destination
from celito.autoattendants.models import AutoAttendant
from celito.autoattendants.references import references_to
from celito.autoattendants.schemas import (
    READ_ONLY_AUDIO,
    AttendantCreate,
    AttendantOut,
    AttendantUpdate,
    Menu,
)
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound, Unprocessable
from celito.extensions import service as extensions
from celito.kit.names import check_extension
from celito.kit.paging import Page
from celito.kit.schema import hyphenate

READERS = frozenset({*DOMAIN_MANAGERS, Scope.SITE_MANAGER, Scope.CALL_CENTER_SUPERVISOR})
SORTABLE = {
    "user": AutoAttendant.extension,
    "attendant-name": AutoAttendant.name,
    "starting-prompt": AutoAttendant.prompt,
    "time-frame": AutoAttendant.time_frame,
    "created-datetime": AutoAttendant.created_at,
}
MAX_VARIANTS = 99
_READ_ONLY_AUDIO_KEYS = frozenset(hyphenate(k) for k in READ_ONLY_AUDIO)


def _require_reader(caller: Caller) -> None:
    if caller.scope not in READERS:
        raise deny(f"A {caller.scope} cannot read auto attendants")


def _require_manager(caller: Caller) -> None:
    if caller.scope not in DOMAIN_MANAGERS:
        raise deny(f"A {caller.scope} cannot change auto attendants")


def read_path(domain: Domain, aa: AutoAttendant) -> str:
    return f"/ns-api/v2/domains/{domain.name}/users/{aa.extension}/autoattendants/{aa.prompt}"


def to_out(aa: AutoAttendant, domain: Domain) -> AttendantOut:
    return AttendantOut(
        attendant_name=aa.name,
        user=aa.extension,
        domain=domain.name,
        time_frame=aa.time_frame,
        starting_prompt=aa.prompt,
        read_path=read_path(domain, aa),
        auto_attendant=aa.menu,
        created_datetime=aa.created_at,
        last_modified_datetime=aa.updated_at,
    )


def _snapshot(aa: AutoAttendant) -> dict[str, Any]:
    return {
        "attendant-name": aa.name,
        "time-frame": aa.time_frame,
        "auto-attendant": aa.menu,
    }


async def list_(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[AttendantOut]:
    domain = await domains.get(session, caller, domain_name)
    _require_reader(caller)
    stmt = page.apply(
        select(AutoAttendant).where(AutoAttendant.domain_id == domain.id), SORTABLE, "user"
    )
    return [to_out(a, domain) for a in (await session.scalars(stmt)).all()]


async def count(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    """How many attendants (extensions) the domain has, as `limits-max-auto-attendants` counts."""
    domain = await domains.get(session, caller, domain_name)
    _require_reader(caller)
    return await _count_attendants(session, domain)


async def _count_attendants(session: AsyncSession, domain: Domain) -> int:
    total = await session.scalar(
        select(func.count(func.distinct(AutoAttendant.extension))).where(
            AutoAttendant.domain_id == domain.id
        )
    )
    return int(total or 0)


async def _find(
    session: AsyncSession, domain: Domain, prompt: str, user: str | None
) -> AutoAttendant:
    stmt = select(AutoAttendant).where(
        AutoAttendant.domain_id == domain.id, AutoAttendant.prompt == prompt
    )
    if user is not None:
        stmt = stmt.where(AutoAttendant.extension == user)
    found = await session.scalar(stmt)
    if found is None:
        owner = f" of attendant {user}" if user is not None else ""
        raise NotFound(f"Auto attendant {prompt}{owner} does not exist in domain {domain.name}")
    return found


async def get(
    session: AsyncSession, caller: Caller, domain_name: str, prompt: str, *, user: str | None
) -> AttendantOut:
    domain = await domains.get(session, caller, domain_name)
    _require_reader(caller)
    return to_out(await _find(session, domain, prompt, user), domain)


async def _check_time_frame(session: AsyncSession, domain: Domain, name: str | None) -> str:
    """The variant's time frame: `*` (any time) or a time frame's name, whose form the schema
    checks. Hook: once the time frames resource exists, this is where a name that is not a
    time frame of the domain (or of its reseller) gets its 422."""
    return (name or "*").strip() or "*"


def _clean(menu: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A stored menu: no `remove` flags, no read-only audio fields, defaults filled in."""
    out: dict[str, Any] = {}
    for key, value in menu.items():
        if value is None:
            continue
        if key == "audio" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _READ_ONLY_AUDIO_KEYS}
        elif key in menus.OPTION_KEYS and isinstance(value, dict):
            if value.get("remove") in (True, "yes"):
                continue
            option = {k: v for k, v in value.items() if k != "remove" and v is not None}
            if isinstance(option.get("audio"), dict):
                option["audio"] = {
                    k: v for k, v in option["audio"].items() if k not in _READ_ONLY_AUDIO_KEYS
                }
            if isinstance(option.get("auto-attendant"), dict):
                option["auto-attendant"] = _clean(option["auto-attendant"], depth + 1)
            value = option
        out[key] = value
    for key in menus.DIAL_BY_EXTENSION:
        out.setdefault(key, "yes")
    for key in menus.FAIL_KEYS:
        if not out.get(key):
            out[key] = "repeat"
    out.setdefault("no-key-press-timeout-seconds", 5)
    return out


def _dump(menu: Menu, *, partial: bool) -> dict[str, Any]:
    dumped: dict[str, Any] = menu.model_dump(
        by_alias=True, mode="json", exclude_unset=partial, exclude_none=not partial
    )
    return dumped


async def _checked_menu(
    session: AsyncSession, domain: Domain, raw: dict[str, Any]
) -> dict[str, Any]:
    menu = _clean(json.loads(json.dumps(raw)))
    try:
        menus.check_structure(menu)
    except ValueError as exc:
        raise Unprocessable(f"auto-attendant: {exc}") from None
    for path, tier in menus.walk(menu):
        for key, found in menus.options(tier).items():
            option = cast(dict[str, Any], found)
            app = option.get("destination-application")
            if app:
                where = f"auto-attendant {' → '.join((*path, key))}"
                option["destination-user"] = await check_destination(
                    session, domain, str(app), option.get("destination-user"), field=where
                )
                if not option["destination-user"]:
                    option.pop("destination-user")
    return menu


async def _variants(session: AsyncSession, domain: Domain) -> list[AutoAttendant]:
    rows = await session.scalars(select(AutoAttendant).where(AutoAttendant.domain_id == domain.id))
    return list(rows.all())


def _menus_of(rows: list[AutoAttendant]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(a.extension, a.prompt): a.menu for a in rows}


def check_no_new_dead_end(
    before: dict[tuple[str, str], dict[str, Any]],
    after: dict[tuple[str, str], dict[str, Any]],
    *,
    refuse: type[Unprocessable] | type[Conflict],
) -> None:
    """Refuses a change that leaves a menu with no way out (see autoattendants.menus)."""
    old = menus.dead_ends(before, {ext for ext, _ in before})
    new = sorted(menus.dead_ends(after, {ext for ext, _ in after}) - old)
    if new:
        raise refuse(new[0].message())


async def _next_prompt(session: AsyncSession, domain: Domain, extension: str) -> str:
    taken = set(
        (
            await session.scalars(
                select(AutoAttendant.prompt).where(AutoAttendant.domain_id == domain.id)
            )
        ).all()
    )
    for n in range(1, MAX_VARIANTS + 1):
        prompt = f"Prompt_{extension}{n:02d}"
        if prompt not in taken:
            return prompt
    raise Conflict(f"Attendant {extension} has {MAX_VARIANTS} variants, the most it may have")


async def create(
    session: AsyncSession, caller: Caller, domain_name: str, body: AttendantCreate
) -> AttendantOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    extension = check_extension(body.user)
    time_frame = await _check_time_frame(session, domain, body.time_frame)
    rows = await _variants(session, domain)
    mine = [a for a in rows if a.extension == extension]
    for a in mine:
        if a.time_frame == time_frame:
            raise Conflict(
                f"Attendant {extension} already has a menu for time frame '{time_frame}' "
                f"({a.prompt}); update that one"
            )
    if not mine:
        limit = domains.limit_of(domain, "limits_max_auto_attendants")
        if limit is not None and await _count_attendants(session, domain) >= limit:
            raise Conflict(f"Domain {domain.name} has reached its limit of {limit} auto attendants")
        # Claimed first so that the menu may send callers back to its own attendant; a refused
        # menu rolls the claim back with the rest of the request.
        await extensions.claim(session, domain.id, domain.name, extension, "autoattendant")
    menu = await _checked_menu(session, domain, _dump(body.auto_attendant or Menu(), partial=False))
    prompt = await _next_prompt(session, domain, extension)
    aa = AutoAttendant(
        domain_id=domain.id,
        extension=extension,
        prompt=prompt,
        name=body.attendant_name,
        time_frame=time_frame,
        menu=menu,
    )
    before = _menus_of(rows)
    check_no_new_dead_end(before, {**before, (extension, prompt): menu}, refuse=Unprocessable)
    session.add(aa)
    await session.flush()
    audit.record(
        session,
        caller,
        "create",
        "attendant",
        f"{extension}/{prompt}",
        reseller=domain.reseller.name,
        domain=domain.name,
        after=_snapshot(aa),
    )
    return to_out(aa, domain)


async def update(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    prompt: str,
    body: AttendantUpdate,
    *,
    user: str | None,
) -> AttendantOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    aa = await _find(session, domain, prompt, user)
    if body.user is not None and body.user != aa.extension:
        raise Unprocessable(
            f"user is the attendant's extension ({aa.extension}) and cannot change; "
            "create a new attendant instead"
        )
    if body.starting_prompt is not None and body.starting_prompt != aa.prompt:
        raise Unprocessable(f"starting-prompt is {aa.prompt} and cannot change")
    before_state = _snapshot(aa)
    rows = await _variants(session, domain)
    if "time_frame" in body.model_fields_set:
        time_frame = await _check_time_frame(session, domain, body.time_frame)
        clash = next(
            (
                a
                for a in rows
                if a.extension == aa.extension and a.id != aa.id and a.time_frame == time_frame
            ),
            None,
        )
        if clash is not None:
            raise Conflict(
                f"Attendant {aa.extension} already has a menu for time frame '{time_frame}' "
                f"({clash.prompt})"
            )
        aa.time_frame = time_frame
    if body.attendant_name is not None:
        aa.name = body.attendant_name
    if body.auto_attendant is not None:
        change = _dump(body.auto_attendant, partial=True)
        menu = await _checked_menu(session, domain, menus.merge(aa.menu, change))
        before = _menus_of(rows)
        check_no_new_dead_end(
            before, {**before, (aa.extension, aa.prompt): menu}, refuse=Unprocessable
        )
        aa.menu = menu
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "attendant",
        f"{aa.extension}/{aa.prompt}",
        reseller=domain.reseller.name,
        domain=domain.name,
        before=before_state,
        after=_snapshot(aa),
    )
    return to_out(aa, domain)


async def delete(
    session: AsyncSession, caller: Caller, domain_name: str, prompt: str, *, user: str | None
) -> AttendantOut:
    domain = await domains.get(session, caller, domain_name)
    _require_manager(caller)
    aa = await _find(session, domain, prompt, user)
    rows = await _variants(session, domain)
    last = not any(a.extension == aa.extension and a.id != aa.id for a in rows)
    if last:
        refs = await references_to(session, domain.id, aa.extension, ignore_attendant=aa.extension)
        if refs:
            raise Conflict(
                f"Attendant {aa.extension} still receives calls from {', '.join(refs)}; "
                "change those first"
            )
    before = _menus_of(rows)
    after = {k: v for k, v in before.items() if k != (aa.extension, aa.prompt)}
    check_no_new_dead_end(before, after, refuse=Conflict)
    out = to_out(aa, domain)
    await session.delete(aa)
    if last:
        await extensions.release(session, domain.id, aa.extension)
    audit.record(
        session,
        caller,
        "delete",
        "attendant",
        f"{aa.extension}/{aa.prompt}",
        reseller=domain.reseller.name,
        domain=domain.name,
        before=_snapshot(aa),
    )
    return out
