"""Dial plans and their dial rules; and the destination check every routing object shares.

A dial plan belongs to a domain, or is system-wide (domain `*`). Plans decide how every call
of a domain is routed, emergency calls included, so they are changed by Resellers (their
domains) and Super Users (any, and the system-wide ones); an Office Manager reads its
domain's. A rule's id is, as in the spec, the base64 of its matching fields joined by `||`;
what a rule matches therefore cannot change (delete and create instead). Patterns are
validated by dialplans.patterns, which documents the syntax supported.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import deny
from celito.auth.scopes import Scope
from celito.devices import service as devices
from celito.dialplans import applications
from celito.dialplans.models import Dialplan, Dialrule
from celito.dialplans.patterns import PatternError, Rule
from celito.dialplans.schemas import (
    DialplanCreate,
    DialplanGlobalCreate,
    DialplanOut,
    DialplanUpdate,
    DialruleCreate,
    DialruleOut,
    DialruleUpdate,
    RouteFields,
)
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import BadRequest, Conflict, NotFound, Unprocessable
from celito.extensions import service as extensions
from celito.kit.paging import Page
from celito.sites.models import Site
from celito.users.models import User

SYSTEM = "*"
_PLAN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+#-]{0,63}")
_LITERAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+#-]*")
_NO_SPACE = re.compile(r"[^\s\x00-\x1f\x7f]*")
_LOCAL_HOSTS = ("", "[*]", "<OwnDomain>")
RULE_SORTABLE = {
    "dial-rule-matching-to-uri": Dialrule.match_to,
    "dial-rule-description": Dialrule.description,
    "dial-rule-application": Dialrule.application,
    "created-datetime": Dialrule.created_at,
}
PLAN_SORTABLE = {
    "dial-rule-dial-plan": Dialplan.name,
    "dial-rule-description": Dialplan.description,
    "dialplan_id": Dialplan.id,
}


# ---------------------------------------------------------------------------------------------
# Destinations (shared with phone numbers)


def _describe(app: applications.Application) -> str:
    if app.target == "extension":
        return " or ".join(
            "an auto attendant" if k == "autoattendant" else f"a {k}" for k in app.kinds
        )
    return "a device" if app.target == "device" else "a number"


async def check_destination(
    session: AsyncSession,
    domain: Domain | None,
    application: str,
    user: str | None,
    host: str | None,
    *,
    literal_required: bool,
) -> tuple[str, str]:
    """Validates where an application sends a call; answers the (user, host) to store.

    A local destination (an extension or a device) must be in `domain`: its host must be
    empty, `[*]`, `<OwnDomain>` or the domain's name, and when the user part is a plain name
    (not a `[*]`/`<…>` template) it must exist with a kind the application accepts: a
    to-callqueue destination is a call queue, to-voicemail a user, to-user a user, an auto
    attendant or a conference (NetSapiens reaches all three with to-user). Phone numbers pass
    `literal_required` (a number routes to one thing). `domain` None (a system-wide plan)
    checks the shape only.
    """
    app = applications.get(application)
    dest = (user or "").strip()
    where = (host or "").strip()
    for field, value in (
        ("dial-rule-translation-destination-user", dest),
        ("dial-rule-translation-destination-host", where),
    ):
        if not _NO_SPACE.fullmatch(value):
            raise Unprocessable(f"{field}: must not contain spaces or control characters")
    if app.target == "none":
        if dest not in ("", "[*]"):
            raise Unprocessable(
                f"dial-rule-application {app.v2} takes no destination: send "
                "dial-rule-translation-destination-user [*] or leave it out"
            )
        return "[*]", where or "[*]"
    if app.target == "any":
        return dest or "[*]", where or "[*]"
    if not dest or (literal_required and dest == "[*]"):
        raise Unprocessable(
            f"dial-rule-application {app.v2} needs dial-rule-translation-destination-user "
            f"({_describe(app)})"
        )
    if app.target == "offnet":
        return dest, where or "[*]"
    literal = _LITERAL.fullmatch(dest) is not None
    if literal_required and not literal:
        raise Unprocessable(
            f"dial-rule-translation-destination-user '{dest}' must name {_describe(app)}, "
            "not a pattern"
        )
    if domain is None:
        return dest, where or "[*]"
    if where not in (*_LOCAL_HOSTS, domain.name):
        raise Unprocessable(
            f"dial-rule-translation-destination-host '{where}': {app.v2} sends calls inside "
            f"domain {domain.name} only (use [*], <OwnDomain> or {domain.name})"
        )
    if literal:
        if app.target == "device":
            if not await devices.exists(session, domain.id, dest):
                raise Unprocessable(f"Device {dest} does not exist in domain {domain.name}")
        else:
            kind = await extensions.kind_of(session, domain.id, dest)
            if kind is None:
                raise Unprocessable(f"Extension {dest} does not exist in domain {domain.name}")
            if kind not in app.kinds:
                raise Unprocessable(
                    f"Extension {dest} in domain {domain.name} is a {kind}; "
                    f"{app.v2} needs {_describe(app)}"
                )
    return dest, where or domain.name


def default_application(body: RouteFields, *, fallback: str) -> str:
    """The application a body names, else to-user when it names a destination, else fallback."""
    if body.dial_rule_application:
        return body.dial_rule_application
    dest = (body.dial_rule_translation_destination_user or "").strip()
    return "to-user" if dest not in ("", "[*]") else fallback


# ---------------------------------------------------------------------------------------------
# Plans


def _domain_name(domain: Domain | None) -> str:
    return SYSTEM if domain is None else domain.name


async def _scope(
    session: AsyncSession, caller: Caller, domain_name: str, *, write: bool
) -> Domain | None:
    """The domain of a plan path (None for `*`), or 404 outside the tenancy / 403 by role."""
    if domain_name == SYSTEM:
        if not (caller.is_super or caller.is_reseller):
            raise deny(f"A {caller.scope} cannot read system-wide dial plans")
        if write and not caller.is_super:
            raise deny("Only a Super User changes system-wide dial plans")
        return None
    domain = await domains.get(session, caller, domain_name)
    if caller.is_super or caller.is_reseller:
        return domain
    if caller.scope is Scope.OFFICE_MANAGER and not write:
        return domain
    if write:
        raise deny(
            f"A {caller.scope} cannot change dial plans (they route every call of the domain, "
            "emergency calls included); ask your Reseller"
        )
    raise deny(f"A {caller.scope} cannot read dial plans")


def _plan_clause(domain: Domain | None) -> Any:
    return Dialplan.domain_id.is_(None) if domain is None else Dialplan.domain_id == domain.id


def _check_plan_name(name: str) -> str:
    value = name.strip()
    if not _PLAN.fullmatch(value):
        raise Unprocessable(
            f"dial-rule-dial-plan '{name}' is not valid: letters, digits, spaces and . _ ( ) + # -"
            " (up to 64, starting with a letter or digit)"
        )
    return value


async def _plan(session: AsyncSession, domain: Domain | None, name: str) -> Dialplan:
    found = await session.scalar(
        select(Dialplan).where(_plan_clause(domain), Dialplan.name == name)
    )
    if found is None:
        raise NotFound(f"Dial plan {name} does not exist in domain {_domain_name(domain)}")
    return found


async def _rule_counts(session: AsyncSession, plan_ids: list[int]) -> dict[int, int]:
    if not plan_ids:
        return {}
    rows = await session.execute(
        select(Dialrule.dialplan_id, func.count())
        .where(Dialrule.dialplan_id.in_(plan_ids))
        .group_by(Dialrule.dialplan_id)
    )
    return {int(k): int(v) for k, v in rows.all()}


def _plan_out(p: Dialplan, domain_name: str, rules: int) -> DialplanOut:
    return DialplanOut(
        dialplan_id=p.id,
        domain=domain_name,
        dial_rule_dial_plan=p.name,
        dial_rule_description=p.description,
        count_dial_rules_total=rules,
    )


async def list_plans(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[DialplanOut]:
    domain = await _scope(session, caller, domain_name, write=False)
    stmt = page.apply(
        select(Dialplan).where(_plan_clause(domain)), PLAN_SORTABLE, "dial-rule-dial-plan"
    )
    rows = list((await session.scalars(stmt)).all())
    counts = await _rule_counts(session, [p.id for p in rows])
    return [_plan_out(p, _domain_name(domain), counts.get(p.id, 0)) for p in rows]


async def list_all_plans(
    session: AsyncSession, caller: Caller, page: Page, *, domain_name: str | None
) -> list[DialplanOut]:
    """GET /dialplans: system-wide plans and those of the domains in the caller's reach."""
    if domain_name:
        return await list_plans(session, caller, domain_name, page)
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} reads its domain's plans at /domains/~/dialplans")
    stmt: Any = select(Dialplan, Domain.name).outerjoin(Domain, Domain.id == Dialplan.domain_id)
    if not caller.is_super:
        stmt = stmt.where(
            or_(Dialplan.domain_id.is_(None), Domain.reseller_id == caller.reseller_id)
        )
    stmt = page.apply(stmt, PLAN_SORTABLE, "dial-rule-dial-plan")
    rows = (await session.execute(stmt)).all()
    counts = await _rule_counts(session, [p.id for p, _ in rows])
    return [_plan_out(p, name or SYSTEM, counts.get(p.id, 0)) for p, name in rows]


async def get_plan(
    session: AsyncSession, caller: Caller, domain_name: str, name: str
) -> DialplanOut:
    domain = await _scope(session, caller, domain_name, write=False)
    plan = await _plan(session, domain, name)
    counts = await _rule_counts(session, [plan.id])
    return _plan_out(plan, _domain_name(domain), counts.get(plan.id, 0))


def _plan_audit(
    session: AsyncSession,
    caller: Caller,
    action: str,
    plan: Dialplan,
    domain: Domain | None,
    **kw: Any,
) -> None:
    audit.record(
        session,
        caller,
        action,
        "dialplan",
        plan.name,
        reseller=domain.reseller.name if domain else "",
        domain=_domain_name(domain),
        **kw,
    )


async def create_plan(
    session: AsyncSession, caller: Caller, domain_name: str, body: DialplanCreate
) -> DialplanOut:
    domain = await _scope(session, caller, domain_name, write=True)
    name = _check_plan_name(body.dial_rule_dial_plan)
    if await session.scalar(select(Dialplan.id).where(_plan_clause(domain), Dialplan.name == name)):
        raise Conflict(f"Dial plan {name} already exists in domain {_domain_name(domain)}")
    plan = Dialplan(
        domain_id=domain.id if domain else None,
        name=name,
        description=body.dial_rule_description or "",
    )
    session.add(plan)
    await session.flush()
    _plan_audit(
        session, caller, "create", plan, domain, after={"dial-rule-description": plan.description}
    )
    return _plan_out(plan, _domain_name(domain), 0)


async def create_plan_global(
    session: AsyncSession, caller: Caller, body: DialplanGlobalCreate
) -> DialplanOut:
    if not (caller.is_super or caller.is_reseller):
        raise deny(f"A {caller.scope} creates plans at /domains/~/dialplans")
    plain = DialplanCreate(
        dial_rule_dial_plan=body.dial_rule_dial_plan,
        dial_rule_description=body.dial_rule_description,
    )
    return await create_plan(session, caller, body.domain, plain)


async def update_plan(
    session: AsyncSession, caller: Caller, domain_name: str, name: str, body: DialplanUpdate
) -> DialplanOut:
    domain = await _scope(session, caller, domain_name, write=True)
    plan = await _plan(session, domain, name)
    before = {"dial-rule-description": plan.description}
    if body.dial_rule_description is not None:
        plan.description = body.dial_rule_description
    await session.flush()
    _plan_audit(
        session,
        caller,
        "update",
        plan,
        domain,
        before=before,
        after={"dial-rule-description": plan.description},
    )
    return await get_plan(session, caller, domain_name, name)


async def _users_of(session: AsyncSession, name: str, domain: Domain | None) -> list[str]:
    """Who names the plan in its `dial-plan`: the domain(s), their sites and users."""
    found: list[str] = []
    domain_q = select(Domain.name).where(Domain.attributes["dial_plan"].as_string() == name)
    site_q = select(Site.name).where(Site.attributes["dial_plan"].as_string() == name)
    user_q = select(User.user).where(User.attributes["dial_plan"].as_string() == name)
    if domain is not None:
        domain_q = domain_q.where(Domain.id == domain.id)
        site_q = site_q.where(Site.domain_id == domain.id)
        user_q = user_q.where(User.domain_id == domain.id)
    found += [f"domain {n}" for n in (await session.scalars(domain_q.limit(3))).all()]
    found += [f"site {n}" for n in (await session.scalars(site_q.limit(3))).all()]
    found += [f"user {n}" for n in (await session.scalars(user_q.limit(3))).all()]
    return found


async def delete_plan(
    session: AsyncSession, caller: Caller, domain_name: str, name: str
) -> DialplanOut:
    """Deletes a plan and its rules; 409 while a domain, site or user still names it."""
    domain = await _scope(session, caller, domain_name, write=True)
    plan = await _plan(session, domain, name)
    in_use = await _users_of(session, name, domain)
    if in_use:
        raise Conflict(
            f"Dial plan {name} is in use (dial-plan of {', '.join(in_use)}); change those first"
        )
    counts = await _rule_counts(session, [plan.id])
    out = _plan_out(plan, _domain_name(domain), counts.get(plan.id, 0))
    await session.delete(plan)
    _plan_audit(
        session,
        caller,
        "delete",
        plan,
        domain,
        before={"dial-rule-description": plan.description},
        details={"dial_rules_deleted": out.count_dial_rules_total},
    )
    return out


# ---------------------------------------------------------------------------------------------
# Rules


def rule_key(rule: Rule) -> str:
    """The spec's dial rule id: base64 of the matching fields joined by `||`."""
    return base64.b64encode("||".join(rule.key_fields).encode()).decode()


def canonical_key(given: str) -> str:
    """The stored id for an id as a client sent it: standard or URL-safe base64, padded or
    not, or computed from un-normalised fields (`611` for `sip:611@*`)."""
    text = given.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        fields = base64.b64decode(text, validate=True).decode().split("||")
        if len(fields) == 7:
            return rule_key(Rule.parse(*fields))
    except (binascii.Error, UnicodeDecodeError, PatternError, ValueError):
        pass
    return given


def _rule_out(r: Dialrule, plan: Dialplan, domain: Domain | None) -> DialruleOut:
    return DialruleOut(
        domain=_domain_name(domain),
        dial_rule_dial_plan=plan.name,
        dialrule=r.rule_key,
        dial_rule_matching_to_uri=r.match_to,
        dial_rule_matching_from_uri=r.match_from,
        dial_rule_matching_day_of_week=r.day_of_week,
        dial_rule_matching_start_date=r.start_date,
        dial_rule_matching_end_date=r.end_date,
        dial_rule_matching_start_time=r.start_time,
        dial_rule_matching_end_time=r.end_time,
        enabled=r.enabled,
        dial_rule_application=r.application,
        dial_rule_parameter=r.parameter,
        dial_rule_translation_destination_scheme=r.dest_scheme,
        dial_rule_translation_destination_user=r.dest_user,
        dial_rule_translation_destination_host=r.dest_host,
        dial_rule_translation_source_name=r.src_name,
        dial_rule_translation_source_scheme=r.src_scheme,
        dial_rule_translation_source_user=r.src_user,
        dial_rule_translation_source_host=r.src_host,
        dial_rule_description=r.description,
    )


def _rule_snapshot(r: Dialrule) -> dict[str, Any]:
    return {
        column: getattr(r, column)
        for column in (
            "match_to",
            "match_from",
            "day_of_week",
            "start_date",
            "end_date",
            "start_time",
            "end_time",
            "enabled",
            "application",
            "parameter",
            "dest_scheme",
            "dest_user",
            "dest_host",
            "src_name",
            "src_scheme",
            "src_user",
            "src_host",
            "description",
        )
    }


def _rule_audit(
    session: AsyncSession,
    caller: Caller,
    action: str,
    r: Dialrule,
    plan: Dialplan,
    domain: Domain | None,
    **kw: Any,
) -> None:
    audit.record(
        session,
        caller,
        action,
        "dialrule",
        f"{plan.name}/{r.match_to}",
        reseller=domain.reseller.name if domain else "",
        domain=_domain_name(domain),
        **kw,
    )


async def _rule(session: AsyncSession, plan: Dialplan, given: str) -> Dialrule:
    key = canonical_key(given)
    found = await session.scalar(
        select(Dialrule).where(Dialrule.dialplan_id == plan.id, Dialrule.rule_key.in_({key, given}))
    )
    if found is None:
        raise NotFound(f"Dial rule {given} does not exist in dial plan {plan.name}")
    return found


async def _in_plan(
    session: AsyncSession, caller: Caller, domain_name: str, plan_name: str, *, write: bool
) -> tuple[Domain | None, Dialplan]:
    domain = await _scope(session, caller, domain_name, write=write)
    return domain, await _plan(session, domain, plan_name)


async def list_rules(
    session: AsyncSession, caller: Caller, domain_name: str, plan_name: str, page: Page
) -> list[DialruleOut]:
    domain, plan = await _in_plan(session, caller, domain_name, plan_name, write=False)
    stmt = page.apply(
        select(Dialrule).where(Dialrule.dialplan_id == plan.id),
        RULE_SORTABLE,
        "dial-rule-matching-to-uri",
    )
    return [_rule_out(r, plan, domain) for r in (await session.scalars(stmt)).all()]


async def count_rules(
    session: AsyncSession, caller: Caller, domain_name: str, plan_name: str
) -> int:
    _, plan = await _in_plan(session, caller, domain_name, plan_name, write=False)
    return (await _rule_counts(session, [plan.id])).get(plan.id, 0)


async def get_rule(
    session: AsyncSession, caller: Caller, domain_name: str, plan_name: str, rule_id: str
) -> DialruleOut:
    domain, plan = await _in_plan(session, caller, domain_name, plan_name, write=False)
    return _rule_out(await _rule(session, plan, rule_id), plan, domain)


async def _apply_route(
    session: AsyncSession,
    r: Dialrule,
    domain: Domain | None,
    body: DialruleCreate | DialruleUpdate,
    *,
    creating: bool,
) -> None:
    values = body.model_dump(exclude_unset=True)
    application = (
        default_application(body, fallback="")
        if creating
        else values.get("dial_rule_application") or r.application
    )
    if not application:
        raise Unprocessable("dial-rule-application is required")
    changed_app = application != r.application
    user = values.get("dial_rule_translation_destination_user")
    host = values.get("dial_rule_translation_destination_host")
    if user is None and not changed_app:
        user = r.dest_user
    if host is None and not changed_app:
        host = r.dest_host
    r.dest_user, r.dest_host = await check_destination(
        session, domain, application, user, host, literal_required=False
    )
    r.application = application
    simple = {
        "enabled": "enabled",
        "dial_rule_parameter": "parameter",
        "dial_rule_translation_destination_scheme": "dest_scheme",
        "dial_rule_translation_source_name": "src_name",
        "dial_rule_translation_source_scheme": "src_scheme",
        "dial_rule_translation_source_user": "src_user",
        "dial_rule_translation_source_host": "src_host",
        "dial_rule_description": "description",
    }
    for field, column in simple.items():
        if field in values and values[field] is not None:
            setattr(r, column, values[field])


async def create_rule(
    session: AsyncSession, caller: Caller, domain_name: str, plan_name: str, body: DialruleCreate
) -> DialruleOut:
    domain, plan = await _in_plan(session, caller, domain_name, plan_name, write=True)
    if body.dial_rule_dial_plan not in (None, plan.name):
        raise Unprocessable(
            f"dial-rule-dial-plan '{body.dial_rule_dial_plan}' differs from the plan in the path "
            f"({plan.name})"
        )
    try:
        rule = Rule.parse(
            body.dial_rule_matching_to_uri,
            body.dial_rule_matching_from_uri or "*",
            body.dial_rule_matching_day_of_week or "*",
            body.dial_rule_matching_start_date or "*",
            body.dial_rule_matching_end_date or "*",
            body.dial_rule_matching_start_time or "*",
            body.dial_rule_matching_end_time or "*",
        )
    except PatternError as e:
        raise Unprocessable(str(e)) from None
    key = rule_key(rule)
    if await session.scalar(
        select(Dialrule.id).where(Dialrule.dialplan_id == plan.id, Dialrule.rule_key == key)
    ):
        raise Conflict(
            f"Dial plan {plan.name} already has a rule matching {rule.to_uri.text} "
            "at the same times; update that one"
        )
    r = Dialrule(
        dialplan_id=plan.id,
        rule_key=key,
        match_to=rule.to_uri.text,
        match_from=rule.from_uri.text,
        day_of_week=rule.day_of_week,
        start_date=rule.start_date,
        end_date=rule.end_date,
        start_time=rule.start_time,
        end_time=rule.end_time,
        enabled=True,
        application="",
        parameter="",
        dest_scheme="[*]",
        src_name="[*]",
        src_scheme="[*]",
        src_user="[*]",
        src_host="[*]",
        description="",
    )
    await _apply_route(session, r, domain, body, creating=True)
    try:
        async with session.begin_nested():
            session.add(r)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"Dial plan {plan.name} already has a rule matching {rule.to_uri.text}"
        ) from None
    _rule_audit(session, caller, "create", r, plan, domain, after=_rule_snapshot(r))
    return _rule_out(r, plan, domain)


async def update_rule(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    plan_name: str,
    rule_id: str,
    body: DialruleUpdate,
) -> DialruleOut:
    domain, plan = await _in_plan(session, caller, domain_name, plan_name, write=True)
    r = await _rule(session, plan, rule_id)
    if body.dialrule is not None and canonical_key(body.dialrule) != r.rule_key:
        raise BadRequest("dialrule in the body differs from the one in the path")
    before = _rule_snapshot(r)
    await _apply_route(session, r, domain, body, creating=False)
    await session.flush()
    _rule_audit(session, caller, "update", r, plan, domain, before=before, after=_rule_snapshot(r))
    return _rule_out(r, plan, domain)


async def delete_rule(
    session: AsyncSession, caller: Caller, domain_name: str, plan_name: str, rule_id: str
) -> DialruleOut:
    domain, plan = await _in_plan(session, caller, domain_name, plan_name, write=True)
    r = await _rule(session, plan, rule_id)
    out = _rule_out(r, plan, domain)
    await session.delete(r)
    _rule_audit(session, caller, "delete", r, plan, domain, before=_rule_snapshot(r))
    return out


async def rules_for(
    session: AsyncSession, domain_id: int | None, plan_name: str
) -> list[tuple[Rule, Dialrule]]:
    """A plan's enabled rules, parsed, for routing (see patterns.best_match)."""
    plan = await session.scalar(
        select(Dialplan).where(
            Dialplan.domain_id.is_(None) if domain_id is None else Dialplan.domain_id == domain_id,
            Dialplan.name == plan_name,
        )
    )
    if plan is None:
        return []
    rows = (
        await session.scalars(
            select(Dialrule).where(Dialrule.dialplan_id == plan.id, Dialrule.enabled.is_(True))
        )
    ).all()
    return [
        (
            Rule.parse(
                r.match_to,
                r.match_from,
                r.day_of_week,
                r.start_date,
                r.end_date,
                r.start_time,
                r.end_time,
            ),
            r,
        )
        for r in rows
    ]
