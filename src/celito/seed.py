"""Bootstrap records: the system tenant, Super Users, OAuth clients, and the demo tenant."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller, system_caller
from celito.auth.clients import service as clients
from celito.auth.clients.schemas import ClientCreate
from celito.auth.scopes import Scope
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.domains.schemas import DomainCreate, DomainUpdate
from celito.resellers import service as resellers
from celito.resellers.models import Reseller
from celito.resellers.schemas import ResellerCreate, ResellerUpdate
from celito.runtime import Runtime
from celito.users import service as users
from celito.users.models import User
from celito.users.schemas import UserCreate

SYSTEM_RESELLER = "system"
SYSTEM_DOMAIN = "system"


def new_password() -> str:
    return secrets.token_urlsafe(15)


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(User))


async def ensure_system_tenant(session: AsyncSession, caller: Caller) -> Domain:
    """Super Users live in the `system` domain, whose API access is on."""
    domain = await session.scalar(select(Domain).where(Domain.name == SYSTEM_DOMAIN))
    if domain is not None:
        return domain
    if not await session.scalar(select(Reseller.id).where(Reseller.name == SYSTEM_RESELLER)):
        await resellers.create(
            session, caller, ResellerCreate(reseller=SYSTEM_RESELLER, description="Operators")
        )
    return await domains.create(
        session,
        caller,
        DomainCreate.model_validate(
            {
                "domain": SYSTEM_DOMAIN,
                "reseller": SYSTEM_RESELLER,
                "description": "Platform operators",
                "api-access": "yes",
            }
        ),
    )


async def create_superuser(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    user: str,
    password: str,
    *,
    email: str = "",
) -> User:
    await ensure_system_tenant(session, caller)
    body = UserCreate.model_validate(
        {
            "user": user,
            "user-scope": Scope.SUPER_USER.value,
            "login-password": password,
            "name-first-name": "Super",
            "name-last-name": "User",
            "email-address": email,
        }
    )
    return await users.create(session, caller, SYSTEM_DOMAIN, body, hasher=runtime.hasher)


async def enable_api(
    session: AsyncSession,
    caller: Caller,
    *,
    domain: str | None,
    reseller: str | None,
    enabled: bool = True,
) -> None:
    flag = "yes" if enabled else "no"
    if domain:
        await domains.update(
            session, caller, domain, DomainUpdate.model_validate({"api-access": flag})
        )
    if reseller:
        await resellers.update(
            session, caller, reseller, ResellerUpdate.model_validate({"api-access": flag})
        )


async def create_client(
    session: AsyncSession,
    runtime: Runtime,
    caller: Caller,
    *,
    name: str,
    reseller: str,
    domain: str | None,
    client_id: str | None,
    accept_terms_as: str | None,
) -> tuple[str, str]:
    client, secret = await clients.create(
        session,
        caller,
        ClientCreate(client_id=client_id, name=name, reseller=reseller, domain=domain),
    )
    if accept_terms_as:
        clients.accept_terms(
            session,
            Caller(scope=Scope.SUPER_USER, via="cli", client_id=accept_terms_as),
            client,
            version=runtime.settings.tos_version,
            current=runtime.settings.tos_version,
        )
    return client.client_id, secret


@dataclass
class DemoCredentials:
    data: dict[str, Any]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.data, indent=2) + "\n")
        path.chmod(0o600)


async def seed_demo(session: AsyncSession, runtime: Runtime) -> DemoCredentials:
    """The tenant a newcomer plays with: reseller `demo`, domain `demo.celito` with API on."""
    caller = system_caller("seed")
    su_password = new_password()
    await create_superuser(session, runtime, caller, "admin", su_password)
    await resellers.create(
        session, caller, ResellerCreate(reseller="demo", description="Demo reseller")
    )
    await domains.create(
        session,
        caller,
        DomainCreate.model_validate(
            {
                "domain": "demo.celito",
                "reseller": "demo",
                "description": "Demo company",
                "api-access": "yes",
                "time-zone": "America/New_York",
            }
        ),
    )
    people = [
        ("1000", "Olive", "Manager", Scope.OFFICE_MANAGER),
        ("1001", "Basil", "User", Scope.BASIC_USER),
        ("1002", "Bianca", "User", Scope.BASIC_USER),
    ]
    created = []
    for ext, first, last, scope in people:
        password = new_password()
        await users.create(
            session,
            caller,
            "demo.celito",
            UserCreate.model_validate(
                {
                    "user": ext,
                    "name-first-name": first,
                    "name-last-name": last,
                    "email-address": f"{first.lower()}@demo.celito.example",
                    "user-scope": scope.value,
                    "login-password": password,
                }
            ),
            hasher=runtime.hasher,
        )
        created.append(
            {"username": f"{ext}@demo.celito", "password": password, "scope": scope.value}
        )
    client_id, secret = await create_client(
        session,
        runtime,
        caller,
        name="Demo integration",
        reseller="demo",
        domain=None,
        client_id="demo-client",
        accept_terms_as="seed",
    )
    audit.record(
        session, caller, "create", "demo", "demo.celito", reseller="demo", domain="demo.celito"
    )
    return DemoCredentials(
        {
            "client_id": client_id,
            "client_secret": secret,
            "superuser": {"username": "admin@system", "password": su_password},
            "reseller": "demo",
            "domain": "demo.celito",
            "users": created,
        }
    )
