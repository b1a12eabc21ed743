from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.dialplans import service
from celito.dialplans.schemas import (
    DIALPLAN_EXAMPLE,
    DIALRULE_EXAMPLE,
    DIALRULE_REQUEST,
    DialplanCreate,
    DialplanGlobalCreate,
    DialplanOut,
    DialplanUpdate,
    DialruleCreate,
    DialruleOut,
    DialruleUpdate,
)
from celito.kit.docs import operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(tags=["Dial Plans"])
PlanCaller = Annotated[Caller, caller_for("dialplan")]
RuleCaller = Annotated[Caller, caller_for("dialrule")]
READERS = (Scope.SUPER_USER, Scope.RESELLER, Scope.OFFICE_MANAGER)
WRITERS = (Scope.SUPER_USER, Scope.RESELLER)
PLAN = "/domains/{domain}/dialplans"
RULES = PLAN + "/{dialplan}/dialrules"
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)
SCOPE_DOC = (
    " `{domain}` is a domain (`~` = yours) or `*` for the system-wide plans. Resellers and "
    "Super Users change a domain's plans (they route every call, emergency calls included), "
    "Office Managers read them; system-wide plans are read by Resellers and changed by Super "
    "Users."
)
PATTERN_DOC = (
    " Matching (`dial-rule-matching-to-uri`/`-from-uri`): `sip:<user>@<host>`, a bare `<user>` "
    "(= `sip:<user>@*`) or `*`. In the user part `X` is a digit, `N` 2-9, `Z` 1-9, `?` any "
    "character, `[2-5]`/`[147*#]` a class, and a trailing `*` any rest (elsewhere `*` is the "
    "star key, as in `*97`); other letters, digits, `# + . _ -` match themselves. Host: `*`, "
    "`<OwnDomain>` or a host name. Day of week `*`, `0`-`6` (Sunday 0) or `[1-5]`; dates "
    "`YYYY-MM-DD`; times `HH:MM`. The most specific matching rule wins. Applications: v2 names "
    "or v1 responders (`sip:start@to-user` = `to-user`), v1 field names (`responder`, "
    "`to_user`, `matchrule`, …) accepted; answers use v2 names. A literal local destination "
    "must exist with the kind the application needs (422)."
)
RULE_ID_DOC = (
    " `{dialrule}` is the rule's id: base64 (standard or URL-safe) of its matching fields joined "
    "by `||`, as the spec defines it."
)


@router.get(
    "/dialplans",
    response_model=list[DialplanOut],
    **operation(
        "Read dial plans",
        "System-wide plans (domain `*`) and the plans of the domains in your reach (all for a "
        "Super User, your domains for a Reseller). `domain` narrows to one domain or `*`.",
        roles=WRITERS,
        example=[
            DIALPLAN_EXAMPLE,
            {**DIALPLAN_EXAMPLE, "domain": "*", "dial-rule-dial-plan": "Default"},
        ],
    ),
)
async def list_all_plans(
    session: DbSession,
    caller: PlanCaller,
    page: PageParams,
    domain: Annotated[str | None, Query(description="A domain, or * for system-wide.")] = None,
) -> list[DialplanOut]:
    return await service.list_all_plans(session, caller, page, domain_name=domain)


@router.post(
    "/dialplans",
    response_model=DialplanOut,
    **operation(
        "Create a dial plan (global form)",
        "Creates a plan for `domain` (a domain in your reach), or a system-wide plan with "
        "`domain` `*` (Super Users only). 409 when the name is taken there.",
        roles=WRITERS,
        example=DIALPLAN_EXAMPLE,
        status=201,
        request_example={
            "domain": "*",
            "dial-rule-dial-plan": "Default",
            "dial-rule-description": "System default translations",
        },
        errors=WRITE_ERRORS,
    ),
)
async def create_plan_global(
    session: DbSession, caller: PlanCaller, body: Annotated[DialplanGlobalCreate, Body()]
) -> DialplanOut:
    return await service.create_plan_global(session, caller, body)


@router.get(
    PLAN,
    response_model=list[DialplanOut],
    **operation(
        "List a domain's dial plans",
        "The domain's plans with how many rules each has." + SCOPE_DOC,
        roles=READERS,
        example=[DIALPLAN_EXAMPLE],
    ),
)
async def list_plans(
    session: DbSession, caller: PlanCaller, domain: str, page: PageParams
) -> list[DialplanOut]:
    return await service.list_plans(session, caller, domain, page)


@router.post(
    PLAN,
    response_model=DialplanOut,
    **operation(
        "Create a dial plan for a domain",
        "Adds an empty plan (names: letters, digits, spaces and . _ ( ) + # -, up to 64); 409 "
        "when the domain already has one of that name." + SCOPE_DOC,
        roles=WRITERS,
        example=DIALPLAN_EXAMPLE,
        status=201,
        request_example={"dial-rule-dial-plan": "acme", "dial-rule-description": "Acme's own"},
        errors=WRITE_ERRORS,
    ),
)
async def create_plan(
    session: DbSession, caller: PlanCaller, domain: str, body: Annotated[DialplanCreate, Body()]
) -> DialplanOut:
    return await service.create_plan(session, caller, domain, body)


@router.get(
    PLAN + "/{dialplan}",
    response_model=DialplanOut,
    **operation(
        "Read a dial plan", "One plan by name." + SCOPE_DOC, roles=READERS, example=DIALPLAN_EXAMPLE
    ),
)
async def get_plan(
    session: DbSession, caller: PlanCaller, domain: str, dialplan: str
) -> DialplanOut:
    return await service.get_plan(session, caller, domain, dialplan)


@router.put(
    PLAN + "/{dialplan}",
    response_model=DialplanOut,
    **operation(
        "Update a dial plan",
        "Changes its description." + SCOPE_DOC,
        roles=WRITERS,
        example=DIALPLAN_EXAMPLE,
        request_example={"dial-rule-description": "Acme (2027)"},
        errors=WRITE_ERRORS,
    ),
)
async def update_plan(
    session: DbSession,
    caller: PlanCaller,
    domain: str,
    dialplan: str,
    body: Annotated[DialplanUpdate, Body()],
) -> DialplanOut:
    return await service.update_plan(session, caller, domain, dialplan, body)


@router.delete(
    PLAN + "/{dialplan}",
    response_model=DialplanOut,
    **operation(
        "Delete a dial plan",
        "Deletes the plan and its rules; 409 while a domain, site or user names it as its "
        "`dial-plan`." + SCOPE_DOC,
        roles=WRITERS,
        example=DIALPLAN_EXAMPLE,
        errors=(401, 403, 404, 409),
    ),
)
async def delete_plan(
    session: DbSession, caller: PlanCaller, domain: str, dialplan: str
) -> DialplanOut:
    return await service.delete_plan(session, caller, domain, dialplan)


@router.get(
    RULES,
    response_model=list[DialruleOut],
    **operation(
        "Read dial rules in a dial plan",
        "The plan's rules, sorted by `dial-rule-matching-to-uri` (or `sort`)." + SCOPE_DOC,
        roles=READERS,
        example=[DIALRULE_EXAMPLE],
    ),
)
async def list_rules(
    session: DbSession, caller: RuleCaller, domain: str, dialplan: str, page: PageParams
) -> list[DialruleOut]:
    return await service.list_rules(session, caller, domain, dialplan, page)


@router.get(
    RULES + "/count",
    response_model=Count,
    **operation(
        "Count dial rules in a dial plan",
        "How many rules the plan has." + SCOPE_DOC,
        roles=READERS,
        example={"total": 3},
    ),
)
async def count_rules(session: DbSession, caller: RuleCaller, domain: str, dialplan: str) -> Count:
    return Count(total=await service.count_rules(session, caller, domain, dialplan))


@router.post(
    RULES,
    response_model=DialruleOut,
    **operation(
        "Add a dial rule to a dial plan",
        "Adds a translation; 409 when the plan already has a rule with the same matching "
        "fields (they are its id)." + PATTERN_DOC + SCOPE_DOC,
        roles=WRITERS,
        example=DIALRULE_EXAMPLE,
        status=201,
        request_example=DIALRULE_REQUEST,
        errors=WRITE_ERRORS,
    ),
)
async def create_rule(
    session: DbSession,
    caller: RuleCaller,
    domain: str,
    dialplan: str,
    body: Annotated[DialruleCreate, Body()],
) -> DialruleOut:
    return await service.create_rule(session, caller, domain, dialplan, body)


@router.get(
    RULES + "/{dialrule:path}",
    response_model=DialruleOut,
    **operation(
        "Read a dial rule",
        "One rule by its id." + RULE_ID_DOC + SCOPE_DOC,
        roles=READERS,
        example=DIALRULE_EXAMPLE,
    ),
)
async def get_rule(
    session: DbSession, caller: RuleCaller, domain: str, dialplan: str, dialrule: str
) -> DialruleOut:
    return await service.get_rule(session, caller, domain, dialplan, dialrule)


@router.put(
    RULES + "/{dialrule:path}",
    response_model=DialruleOut,
    **operation(
        "Update a dial rule",
        "Changes where the rule sends calls and its other settings. What it matches "
        "(`dial-rule-matching-*`) cannot change (422): delete it and create a new one."
        + RULE_ID_DOC
        + PATTERN_DOC,
        roles=WRITERS,
        example=DIALRULE_EXAMPLE,
        request_example={"dial-rule-description": "611 (updated)", "enabled": "no"},
        errors=WRITE_ERRORS,
    ),
)
async def update_rule(
    session: DbSession,
    caller: RuleCaller,
    domain: str,
    dialplan: str,
    dialrule: str,
    body: Annotated[DialruleUpdate, Body()],
) -> DialruleOut:
    return await service.update_rule(session, caller, domain, dialplan, dialrule, body)


@router.delete(
    RULES + "/{dialrule:path}",
    response_model=DialruleOut,
    **operation(
        "Delete a dial rule",
        "Removes the rule; answers with what was removed." + RULE_ID_DOC,
        roles=WRITERS,
        example=DIALRULE_EXAMPLE,
        errors=(401, 403, 404),
    ),
)
async def delete_rule(
    session: DbSession, caller: RuleCaller, domain: str, dialplan: str, dialrule: str
) -> DialruleOut:
    return await service.delete_rule(session, caller, domain, dialplan, dialrule)
