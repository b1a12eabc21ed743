from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from celito.auth.apikeys import service
from celito.auth.apikeys.schemas import EXAMPLE, ApiKeyCreate, ApiKeyOut, ApiKeyUpdate
from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(prefix="/apikeys", tags=["API keys"])
Reader = Annotated[Caller, caller_for("apikey")]
_NO_SECRET = {k: v for k, v in EXAMPLE.items() if k != "key"}


@router.post(
    "",
    response_model=ApiKeyOut,
    response_model_exclude_none=False,
    **operation(
        "Create an API key",
        "Mints a key for server-to-server use. The `key` is in this response only — store it; "
        "we keep just a hash. A token's user (Office Manager and up) may mint keys up to its "
        "own scope within its tenancy; a key needs `can-create-keys` and may only mint keys of "
        "a lower scope. `readonly` keys may only read; `ip-address` limits where the key is "
        "accepted; `allowed-models` limits what it may touch.",
        roles=MANAGERS,
        example=EXAMPLE,
        status=201,
        request_example={
            "description": "Helpdesk call logger",
            "domain": "acme",
            "user-scope": "Office Manager",
            "readonly": "yes",
            "allowed-models": ["cdr", "subscriber"],
            "ip-address": "203.0.113.0/24",
        },
        errors=(401, 403, 404, 422),
    ),
)
async def create_key(
    session: DbSession, caller: Reader, body: Annotated[ApiKeyCreate, Body()]
) -> ApiKeyOut:
    key, secret = await service.create(session, caller, body)
    return service.to_out(key, secret=secret)


@router.get(
    "",
    response_model=list[ApiKeyOut],
    response_model_exclude={"__all__": {"key"}},
    **operation(
        "List API keys",
        "Keys in your tenancy (never their secrets).",
        roles=MANAGERS,
        example=[_NO_SECRET],
    ),
)
async def list_keys(session: DbSession, caller: Reader, page: PageParams) -> list[ApiKeyOut]:
    return [service.to_out(k) for k in await service.list_(session, caller, page)]


@router.get(
    "/~",
    response_model=ApiKeyOut,
    response_model_exclude={"key"},
    **operation(
        "Read my API key",
        "The key used as bearer for this request.",
        roles=EVERYONE,
        example=_NO_SECRET,
    ),
)
async def my_key(session: DbSession, caller: Reader) -> ApiKeyOut:
    return service.to_out(await service.get(session, caller, "~"))


@router.get(
    "/{key_id}",
    response_model=ApiKeyOut,
    response_model_exclude={"key"},
    **operation("Read an API key", "One key by its key-id.", roles=MANAGERS, example=_NO_SECRET),
)
async def get_key(session: DbSession, caller: Reader, key_id: str) -> ApiKeyOut:
    return service.to_out(await service.get(session, caller, key_id))


@router.put(
    "/{key_id}",
    response_model=ApiKeyOut,
    response_model_exclude={"key"},
    **operation(
        "Update an API key",
        "Changes description, read-only flag, IP limits or allowed models. Scope and owner "
        "cannot change: mint a new key instead.",
        roles=MANAGERS,
        example=_NO_SECRET,
        request_example={"readonly": "no", "ip-address": "198.51.100.7"},
        errors=(401, 403, 404, 422),
    ),
)
async def update_key(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    key_id: str,
    body: Annotated[ApiKeyUpdate, Body()],
) -> ApiKeyOut:
    key = await service.update(session, caller, key_id, body)
    runtime.callers.forget_where(key_pk=key.id)
    return service.to_out(key)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyOut,
    response_model_exclude={"key"},
    **operation(
        "Revoke an API key",
        "Deletes the key; it stops working at once on this node and within seconds on every node.",
        roles=MANAGERS,
        example=_NO_SECRET,
    ),
)
async def delete_key(
    session: DbSession, caller: Reader, runtime: RuntimeDep, key_id: str
) -> ApiKeyOut:
    key = await service.delete(session, caller, key_id)
    runtime.callers.forget_where(key_pk=key.id)
    return service.to_out(key)
