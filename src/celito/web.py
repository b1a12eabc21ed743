"""Request plumbing shared by every face: the runtime, the DB session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.bearer import resolve
from celito.auth.caller import Caller
from celito.errors import Forbidden, Unauthorized
from celito.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_URL = "/ns-api/oauth2/token"


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# Dependencies are async on purpose: FastAPI runs a plain `def` dependency in a worker thread,
# and that hop would cost more than the whole dependency.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    runtime = runtime_of(request)
    # The token endpoint writes even on GET (old clients send the grant as a query string).
    write = request.method not in SAFE_METHODS or request.url.path.startswith("/ns-api/oauth2/")
    async for session in runtime.db.session(write=write):
        yield session


# "function" scope: the transaction commits before the response goes out, so a failed commit
# is a 5xx and never a 2xx for a change that did not happen.
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]

password_flow = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    scheme_name="oauth2-password",
    description="Log in with a client id/secret and a user's login and password.",
)
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An access token, a JWT or an API key, as `Authorization: Bearer …`.",
)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


class Authorize:
    """Resolves the caller and applies an API key's read-only and allowed-models limits."""

    def __init__(self, model: str) -> None:
        self.model = model

    async def __call__(
        self,
        request: Request,
        session: DbSession,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        _password: Annotated[str | None, Security(password_flow)],
    ) -> Caller:
        if credentials is None or not credentials.credentials:
            raise Unauthorized(
                "Missing bearer token: send 'Authorization: Bearer <token>'. "
                f"Get a token at {TOKEN_URL}.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        caller = await resolve(
            session, runtime_of(request), credentials.credentials, client_ip(request)
        )
        if caller.readonly and request.method not in SAFE_METHODS:
            raise Forbidden("This API key is read-only")
        if caller.allowed_models is not None and not (
            "*" in caller.allowed_models or self.model in caller.allowed_models
        ):
            raise Forbidden(f"This API key may not use the '{self.model}' model")
        return caller


def caller_for(model: str) -> object:
    return Depends(Authorize(model))
