from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.callqueues import service
from celito.callqueues.schemas import (
    AGENT_CREATE_EXAMPLE,
    AGENT_EXAMPLE,
    QUEUE_CREATE_EXAMPLE,
    QUEUE_EXAMPLE,
    QUEUE_LIST_EXAMPLE,
    AgentCreate,
    AgentOut,
    AgentUpdate,
    QueueCreate,
    QueueListItem,
    QueueOut,
    QueueUpdate,
)
from celito.kit.docs import MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/domains/{domain}", tags=["Call queues"])
QueueCaller = Annotated[Caller, caller_for("callqueue")]
AgentCaller = Annotated[Caller, caller_for("agent")]
WRITE_ERRORS = (401, 403, 404, 409, 422)
CALL_CENTER = (
    *MANAGERS,
    Scope.SITE_MANAGER,
    Scope.CALL_CENTER_SUPERVISOR,
    Scope.CALL_CENTER_AGENT,
)
AGENT_MANAGERS = (*MANAGERS, Scope.CALL_CENTER_SUPERVISOR)
AGENT_ACTORS = (*AGENT_MANAGERS, Scope.CALL_CENTER_AGENT)
WHO_READS = (
    " Managers and Site Managers see every queue; a Call Center Supervisor the queues it "
    "supervises (`callqueue-supervisors`); a Call Center Agent the queues it is an agent of. "
    "Other users are refused (403)."
)
STRATEGIES = (
    " Ring strategy: `callqueue-dispatch-strategy` is one of `ring-all` (dispatch type "
    "`Ring All`), `longest-idle` (`Round-robin`, the default), `round-robin` (`Tiered "
    "Round-robin`), `linear-hunt` (`Linear Hunt`), `linear-cascade` (`Linear Cascade`), "
    "`fewest-calls` (read as `Round-robin` by NetSapiens clients) or `call-park` (`Call "
    "Park`); sending `callqueue-dispatch-type` alone works too, and the two must agree when "
    "both are sent."
)
QUEUE_RULES = (
    STRATEGIES + " `callqueue-agent-dispatch-timeout-seconds` is how long one agent rings; "
    "`callqueue-max-wait-timeout-minutes` the longest a caller waits (0 = no limit); callers "
    "the queue refuses (`callqueue-max-current-callers-to-accept-new-callers`, "
    "`…-wait-to-accept-new-callers-seconds`, `…-require-available-agents-…`) or who waited "
    "too long go to the overflow destination: `callqueue-overflow-destination-application` "
    "(`to-user` — any extension of the domain —, `to-callqueue`, `to-voicemail` of a user, "
    "`to-connection` with a phone number, or `hangup`) and "
    "`callqueue-overflow-destination-user`, checked against the domain's extension plan "
    "(422). `callqueue-agent-wrap-up-allowance-seconds` is the wrap-up time new agents get. "
    "`callqueue-supervisors` lists the Call Center Supervisors (user extensions) who manage "
    "this queue's agents."
)
AGENT_ID_DOC = " `{agent}` is `user@domain`, `sip:device@domain` or `~` (yourself)."
AGENT_RULES = (
    " Agents are users of the domain: `callqueue-agent-id` is `user@domain`, or "
    "`sip:device@domain` for a device of a user (named after its extension, e.g. `1000a`). "
    "`callqueue-agent-availability-type`: `automatic` (logged in), `manual` (logged out), "
    "`disabled` (paused: the agent cannot log itself in), `offnet-automatic`. Managers and "
    "the queue's supervisors manage agents; each change emits an `agent` event."
)


# Queues ------------------------------------------------------------------------------------


@router.get(
    "/callqueues",
    response_model=list[QueueOut],
    **operation(
        "List call queues",
        "The call queues you may see, with agent counts. Page with `start`/`limit`, sort with "
        "`sort`/`order`, pick fields with `fields`." + WHO_READS,
        roles=CALL_CENTER,
        example=[QUEUE_EXAMPLE],
    ),
)
async def list_queues(
    session: DbSession, caller: QueueCaller, domain: str, page: PageParams
) -> Any:
    page.check_fields(QueueOut)
    return page.respond(await service.list_queues(session, caller, domain, page), QueueOut)


@router.get(
    "/callqueues/list",
    response_model=list[QueueListItem],
    **operation(
        "List call queues (basic)",
        "The basic facts of the queues you may see: extension, description, dispatch type and "
        "agent counts." + WHO_READS,
        roles=CALL_CENTER,
        example=[QUEUE_LIST_EXAMPLE],
    ),
)
async def list_queues_basic(
    session: DbSession, caller: QueueCaller, domain: str, page: PageParams
) -> list[QueueListItem]:
    return await service.list_queues_basic(session, caller, domain, page)


@router.get(
    "/callqueues/count",
    response_model=Count,
    **operation(
        "Count call queues",
        "How many call queues you may see." + WHO_READS,
        roles=CALL_CENTER,
        example={"total": 3},
    ),
)
async def count_queues(session: DbSession, caller: QueueCaller, domain: str) -> Count:
    return Count(total=await service.count_queues(session, caller, domain))


@router.post(
    "/callqueues",
    response_model=QueueOut,
    **operation(
        "Create a call queue",
        "Creates a queue on an extension of the domain (409 if a user, attendant or conference "
        "has it; `all`, `list` and `count` are reserved). `limits-max-call-queues` of the "
        "domain is enforced (409)." + QUEUE_RULES,
        roles=MANAGERS,
        example=QUEUE_EXAMPLE,
        status=201,
        request_example=QUEUE_CREATE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def create_queue(
    session: DbSession, caller: QueueCaller, domain: str, body: Annotated[QueueCreate, Body()]
) -> QueueOut:
    return await service.create_queue(session, caller, domain, body)


@router.get(
    "/callqueues/{callqueue}",
    response_model=QueueOut,
    **operation(
        "Read a call queue",
        "One queue by extension (403 for a queue you may not see)." + WHO_READS,
        roles=CALL_CENTER,
        example=QUEUE_EXAMPLE,
    ),
)
async def get_queue(
    session: DbSession, caller: QueueCaller, domain: str, callqueue: str
) -> QueueOut:
    return await service.get_queue(session, caller, domain, callqueue)


@router.put(
    "/callqueues/{callqueue}",
    response_model=QueueOut,
    **operation(
        "Update a call queue",
        "Changes the given fields; the extension cannot change. Read-only fields of a read "
        "(counts, dates) may be sent back and are ignored." + QUEUE_RULES,
        roles=MANAGERS,
        example=QUEUE_EXAMPLE,
        request_example={"callqueue-dispatch-type": "Ring All", "callqueue-supervisors": []},
        errors=WRITE_ERRORS,
    ),
)
async def update_queue(
    session: DbSession,
    caller: QueueCaller,
    domain: str,
    callqueue: str,
    body: Annotated[QueueUpdate, Body()],
) -> QueueOut:
    return await service.update_queue(session, caller, domain, callqueue, body)


@router.delete(
    "/callqueues/{callqueue}",
    response_model=QueueOut,
    **operation(
        "Delete a call queue",
        "Removes the queue, its agent entries (each emits an `agent` delete event) and its "
        "supervisors, and releases its extension. 409 while an attendant menu or another "
        "queue's overflow sends calls to it.",
        roles=MANAGERS,
        example=QUEUE_EXAMPLE,
        errors=(401, 403, 404, 409),
    ),
)
async def delete_queue(
    session: DbSession, caller: QueueCaller, domain: str, callqueue: str
) -> QueueOut:
    return await service.delete_queue(session, caller, domain, callqueue)


# Agents ------------------------------------------------------------------------------------


@router.get(
    "/agents",
    response_model=list[AgentOut],
    **operation(
        "List agents in a domain",
        "Every agent entry you may see, across queues: managers and Site Managers all, a "
        "supervisor those of its queues, a Call Center Agent its own.",
        roles=CALL_CENTER,
        example=[AGENT_EXAMPLE],
    ),
)
async def list_domain_agents(
    session: DbSession, caller: AgentCaller, domain: str, page: PageParams
) -> list[AgentOut]:
    return await service.list_domain_agents(session, caller, domain, page)


@router.patch(
    "/callqueues/all/agents/{agent}/{status}",
    response_model=list[AgentOut],
    **operation(
        "Set an agent's status in all its queues",
        "Applies one action or status to every queue the agent is in (for `user@domain`, its "
        "device entries too) and answers those entries. `{status}`: `login`, `available` or "
        "`online` (logged in and available), `logout`, `onecall` (logged out but takes one "
        "call), or an offline status — `offline`, `break`, `lunch`, `meeting`, `web`, "
        "`other`, `cust1` … `cust8` (the portal's custom statuses) — which logs the agent out "
        "showing that status. Disabled entries stay as they are. An agent may set its own; a "
        "supervisor those of agents in its queues (only there); managers anyone's. Each "
        "change emits an `agent` event whose action is the status word. Unknown status: 400."
        + AGENT_ID_DOC,
        roles=AGENT_ACTORS,
        example=[
            {
                **AGENT_EXAMPLE,
                "callqueue-agent-availability-type": "manual",
                "callqueue-agent-status": "lunch",
                "callqueue-agent-availability-for-dispatch": "lunch",
            }
        ],
        errors=(400, 401, 403, 404),
    ),
)
async def set_status_everywhere(
    session: DbSession, caller: AgentCaller, domain: str, agent: str, status: str
) -> list[AgentOut]:
    return await service.set_status_everywhere(session, caller, domain, agent, status)


@router.get(
    "/callqueues/{callqueue}/agents",
    response_model=list[AgentOut],
    **operation(
        "List agents in a call queue",
        "The queue's agent entries; a Call Center Agent sees only its own.",
        roles=CALL_CENTER,
        example=[AGENT_EXAMPLE],
    ),
)
async def list_queue_agents(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str, page: PageParams
) -> list[AgentOut]:
    return await service.list_queue_agents(session, caller, domain, callqueue, page)


@router.get(
    "/callqueues/{callqueue}/agents/count",
    response_model=Count,
    **operation(
        "Count agents in a call queue",
        "How many agent entries of the queue you may see.",
        roles=CALL_CENTER,
        example={"total": 4},
    ),
)
async def count_queue_agents(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str
) -> Count:
    return Count(total=await service.count_queue_agents(session, caller, domain, callqueue))


@router.post(
    "/callqueues/{callqueue}/agents",
    response_model=AgentOut,
    **operation(
        "Add an agent to a call queue",
        "Adds a user (or a user's device) of the domain as an agent (422 for anyone else, 409 "
        "if already there). It starts logged in unless `callqueue-agent-availability-type` "
        "says otherwise, with the queue's wrap-up time unless it gives its own." + AGENT_RULES,
        roles=AGENT_MANAGERS,
        example=AGENT_EXAMPLE,
        status=201,
        request_example=AGENT_CREATE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def add_agent(
    session: DbSession,
    caller: AgentCaller,
    domain: str,
    callqueue: str,
    body: Annotated[AgentCreate, Body()],
) -> AgentOut:
    return await service.add_agent(session, caller, domain, callqueue, body)


@router.get(
    "/callqueues/{callqueue}/agents/{agent}",
    response_model=AgentOut,
    **operation(
        "Read an agent in a call queue",
        "One agent entry; a Call Center Agent reads only its own." + AGENT_ID_DOC,
        roles=CALL_CENTER,
        example=AGENT_EXAMPLE,
    ),
)
async def get_agent(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str, agent: str
) -> AgentOut:
    return await service.get_agent(session, caller, domain, callqueue, agent)


@router.put(
    "/callqueues/{callqueue}/agents/{agent}",
    response_model=AgentOut,
    **operation(
        "Update an agent in a call queue",
        "Changes the entry's settings (availability type, wrap-up, ordinals, limits). Read-only "
        "fields of a read may be sent back and are ignored; agents use the agent actions "
        "instead." + AGENT_RULES + AGENT_ID_DOC,
        roles=AGENT_MANAGERS,
        example=AGENT_EXAMPLE,
        request_example={"callqueue-agent-wrap-up-allowance-seconds": 30},
        errors=WRITE_ERRORS,
    ),
)
async def update_agent(
    session: DbSession,
    caller: AgentCaller,
    domain: str,
    callqueue: str,
    agent: str,
    body: Annotated[AgentUpdate, Body()],
) -> AgentOut:
    return await service.update_agent(session, caller, domain, callqueue, agent, body)


@router.delete(
    "/callqueues/{callqueue}/agents/{agent}",
    response_model=AgentOut,
    **operation(
        "Remove an agent from a call queue",
        "Removes the entry and emits an `agent` delete event." + AGENT_ID_DOC,
        roles=AGENT_MANAGERS,
        example=AGENT_EXAMPLE,
        errors=(401, 403, 404),
    ),
)
async def remove_agent(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str, agent: str
) -> AgentOut:
    return await service.remove_agent(session, caller, domain, callqueue, agent)


def _action_doc(summary: str, what: str, example: dict[str, Any]) -> dict[str, Any]:
    return operation(
        summary,
        what + " Answers the entry. An agent may do this for itself; a supervisor for agents of "
        "its queues; managers for anyone. 409 for a disabled entry. Emits an `agent` event."
        + AGENT_ID_DOC,
        roles=AGENT_ACTORS,
        example=example,
        errors=(401, 403, 404, 409),
    )


@router.patch(
    "/callqueues/{callqueue}/agents/{agent}/login",
    response_model=AgentOut,
    **_action_doc(
        "Log an agent in",
        "Logs the agent in to this queue, available for calls.",
        AGENT_EXAMPLE,
    ),
)
async def agent_login(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str, agent: str
) -> AgentOut:
    return await service.agent_action(session, caller, domain, callqueue, agent, "login")


@router.patch(
    "/callqueues/{callqueue}/agents/{agent}/logout",
    response_model=AgentOut,
    **_action_doc(
        "Log an agent out",
        "Logs the agent out of this queue.",
        {
            **AGENT_EXAMPLE,
            "callqueue-agent-availability-type": "manual",
            "callqueue-agent-availability-for-dispatch": "logged-out",
        },
    ),
)
async def agent_logout(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str, agent: str
) -> AgentOut:
    return await service.agent_action(session, caller, domain, callqueue, agent, "logout")


@router.patch(
    "/callqueues/{callqueue}/agents/{agent}/onecall",
    response_model=AgentOut,
    **_action_doc(
        "Let an agent take one call",
        "Single-call mode: the agent is logged out but is offered one call from this queue.",
        {
            **AGENT_EXAMPLE,
            "callqueue-agent-availability-type": "manual",
            "callqueue-agent-single-call": "yes",
            "callqueue-agent-availability-for-dispatch": "single-call",
        },
    ),
)
async def agent_onecall(
    session: DbSession, caller: AgentCaller, domain: str, callqueue: str, agent: str
) -> AgentOut:
    return await service.agent_action(session, caller, domain, callqueue, agent, "onecall")
