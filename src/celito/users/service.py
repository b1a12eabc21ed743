"""Users (subscribers) of a domain, under the role rules of netsapiens.md §1.5."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.crypto import PasswordHasher
from celito.auth.models import ApiKey, OAuthToken
from celito.auth.password_policy import check_password
from celito.auth.policy import (
    check_manage_user,
    check_manage_users_in_domain,
    check_scope_grant,
    deny,
    may_see_domain_users,
    user_clause,
)
from celito.auth.scopes import Scope
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import Conflict, NotFound
from celito.events import outbox
from celito.extensions import service as extensions
from celito.kit.names import check_extension, check_time_zone
from celito.kit.paging import Page
from celito.users.models import User
from celito.users.schemas import ATTRIBUTE_FIELDS, UserCreate, UserListItem, UserOut, UserUpdate

SORTABLE = {
    "user": User.user,
    "name-first-name": User.first_name,
    "name-last-name": User.last_name,
    "email-address": User.email,
    "user-scope": User.scope,
    "department": User.department,
    "site": User.site,
    "created-datetime": User.created_at,
}


async def get(session: AsyncSession, caller: Caller, domain_name: str, user: str) -> User:
    if caller.user_id is not None and _is_self(caller, domain_name, user):
        # The caller's own user: always within its reach, found by key in one query.
        own = await session.get(User, caller.user_id)
        if own is not None:
            return own
    domain = await domains.get(session, caller, domain_name)
    if user == "~":
        if caller.user is None or caller.domain_id != domain.id:
            raise NotFound("Your credentials do not belong to a user of this domain")
        user = caller.user
    found = await session.scalar(select(User).where(User.domain_id == domain.id, User.user == user))
    if found is None:
        raise NotFound(f"User {user} does not exist in domain {domain.name}")
    visible = await session.scalar(select(User.id).where(User.id == found.id, user_clause(caller)))
    if visible is None:
        raise deny(f"A {caller.scope} may not read user {found.user}")
    return found


def _is_self(caller: Caller, domain_name: str, user: str) -> bool:
    same_domain = domain_name == "~" or domain_name.lower() == caller.domain
    return same_domain and user in ("~", caller.user)


def _domain_users(caller: Caller, domain: Domain, site: str | None) -> Any:
    stmt = select(User).where(User.domain_id == domain.id, user_clause(caller))
    if site:
        stmt = stmt.where(User.site == site)
    return stmt


async def list_(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page, *, site: str | None
) -> list[User]:
    domain = await domains.get(session, caller, domain_name)
    if not may_see_domain_users(caller):
        raise deny(f"A {caller.scope} may only read its own user (see /users/list)")
    stmt = page.apply(_domain_users(caller, domain, site), SORTABLE, "user")
    return list((await session.scalars(stmt)).all())


async def count(session: AsyncSession, caller: Caller, domain_name: str) -> int:
    domain = await domains.get(session, caller, domain_name)
    if not may_see_domain_users(caller):
        raise deny(f"A {caller.scope} may only read its own user")
    stmt = select(func.count()).select_from(_domain_users(caller, domain, None).subquery())
    return int(await session.scalar(stmt) or 0)


async def directory(
    session: AsyncSession, caller: Caller, domain_name: str, page: Page
) -> list[UserListItem]:
    """Every user of the domain sees the directory (names, extensions), like a phone would."""
    domain = await domains.get(session, caller, domain_name)
    stmt = page.apply(select(User).where(User.domain_id == domain.id), SORTABLE, "user")
    rows = (await session.scalars(stmt)).all()
    return [
        UserListItem(
            domain=domain.name,
            user=u.user,
            name_first_name=u.first_name,
            name_last_name=u.last_name,
            email_address=u.email,
            department=u.department,
            site=u.site,
            user_scope=u.scope,
        )
        for u in rows
        if u.attributes.get("directory_name_visible_in_list_enabled", True)
    ]


def to_out(u: User) -> UserOut:
    return UserOut.model_validate(
        {
            **{k: v for k, v in u.attributes.items() if k in ATTRIBUTE_FIELDS and v is not None},
            "domain": u.domain.name,
            "user": u.user,
            "name_first_name": u.first_name,
            "name_last_name": u.last_name,
            "login_username": u.login_username,
            "email_address": u.email,
            "user_scope": u.scope,
            "department": u.department,
            "site": u.site,
            "time_zone": u.time_zone,
            "account_status": u.account_status,
            "password_set": u.password_hash is not None,
            "created_datetime": u.created_at,
            "last_modified_datetime": u.updated_at,
        }
    )


def _emit(session: AsyncSession, action: str, u: User) -> None:
    """A `subscriber` event carrying the user as the API shows it."""
    outbox.record(
        session,
        "subscriber",
        action,
        to_out(u).model_dump(by_alias=True, mode="json"),
        reseller=u.domain.reseller.name,
        domain=u.domain.name,
        user=u.user,
    )


def snapshot(u: User) -> dict[str, Any]:
    return {
        "name-first-name": u.first_name,
        "name-last-name": u.last_name,
        "email-address": u.email,
        "login-username": u.login_username,
        "user-scope": u.scope,
        "site": u.site,
        "department": u.department,
        "time-zone": u.time_zone,
        "account-status": u.account_status,
        "login-password": u.password_hash,
        **u.attributes,
    }


async def _apply(
    session: AsyncSession,
    caller: Caller,
    u: User,
    body: UserCreate | UserUpdate,
    hasher: PasswordHasher,
) -> None:
    # The PIN belongs to the voicemail box (hashed there); devices and numbers are made by
    # users.lifecycle. None of them is a user attribute.
    values = body.model_dump(
        exclude_unset=True,
        exclude={"synchronous", "user", "voicemail_login_pin", "devices", "phonenumber"},
    )
    if "user_scope" in values:
        wanted = Scope(values.pop("user_scope"))
        if wanted.value != u.scope:
            check_scope_grant(caller, wanted)
            if caller.user_id is not None and caller.user_id == u.id and not caller.is_super:
                raise deny("You cannot change your own scope")
            u.scope = wanted.value
    if "login_username" in values:
        login = (values.pop("login_username") or "").strip().lower() or None
        if login and login != u.login_username:
            taken = await session.scalar(select(User.id).where(User.login_username == login))
            if taken is not None and taken != u.id:
                raise Conflict(f"login-username {login} is already in use")
        u.login_username = login
    simple = {
        "name_first_name": "first_name",
        "name_last_name": "last_name",
        "email_address": "email",
        "department": "department",
        "site": "site",
        "account_status": "account_status",
    }
    for field, column in simple.items():
        if field in values:
            setattr(u, column, values.pop(field) or "")
    if "time_zone" in values:
        zone = values.pop("time_zone")
        u.time_zone = check_time_zone(zone) if zone else None
    if "login_password" in values:
        password = values.pop("login_password")
        if password is None:
            u.password_hash = None
        else:
            check_password(
                password,
                personal=(u.user, u.login_username or "", u.first_name, u.last_name),
            )
            u.password_hash = await hasher.hash_async(password)
    attrs = dict(u.attributes)
    attrs.update(values)
    u.attributes = attrs


async def create(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    body: UserCreate,
    *,
    hasher: PasswordHasher,
) -> User:
    domain = await domains.get(session, caller, domain_name)
    check_manage_users_in_domain(caller)
    extension = check_extension(body.user)
    if caller.scope is Scope.SITE_MANAGER:
        if body.site is None:
            body = body.model_copy(update={"site": caller.site})
            body.model_fields_set.add("site")
        elif body.site != caller.site:
            raise deny("A Site Manager creates users in its own site only")
    if await session.scalar(
        select(User.id).where(User.domain_id == domain.id, User.user == extension)
    ):
        raise Conflict(f"User {extension} already exists in domain {domain.name}")
    limit = domains.limit_of(domain, "limits_max_users")
    if limit is not None:
        existing = await session.scalar(
            select(func.count()).select_from(User).where(User.domain_id == domain.id)
        )
        if (existing or 0) >= limit:
            raise Conflict(f"Domain {domain.name} has reached its limit of {limit} users")
    await extensions.claim(session, domain.id, domain.name, extension, "user")
    user = User(
        domain=domain,
        user=extension,
        scope=Scope.BASIC_USER.value,
        attributes={},
        first_name="",
        last_name="",
        email="",
        site="",
        department="",
    )
    if body.user_scope is None:
        body = body.model_copy(update={"user_scope": Scope.BASIC_USER})
        body.model_fields_set.add("user_scope")
    await _apply(session, caller, user, body, hasher)
    session.add(user)
    await session.flush()
    _emit(session, "create", user)
    audit.record(
        session,
        caller,
        "create",
        "subscriber",
        user.uid,
        reseller=domain.reseller.name,
        domain=domain.name,
        user=user.user,
        after=snapshot(user),
    )
    return user


async def update(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user_name: str,
    body: UserUpdate,
    *,
    hasher: PasswordHasher,
) -> User:
    user = await get(session, caller, domain_name, user_name)
    check_manage_user(caller, user, password_change="login_password" in body.model_fields_set)
    if caller.scope is Scope.SITE_MANAGER and body.site not in (None, caller.site):
        raise deny("A Site Manager cannot move users to another site")
    before = snapshot(user)
    await _apply(session, caller, user, body, hasher)
    await session.flush()
    _emit(session, "update", user)
    audit.record(
        session,
        caller,
        "update",
        "subscriber",
        user.uid,
        reseller=user.domain.reseller.name,
        domain=user.domain.name,
        user=user.user,
        before=before,
        after=snapshot(user),
    )
    return user


async def deletable(
    session: AsyncSession, caller: Caller, domain_name: str, user_name: str
) -> User:
    """The user, once the caller is known to be allowed to delete it."""
    user = await get(session, caller, domain_name, user_name)
    check_manage_users_in_domain(caller)
    check_manage_user(caller, user)
    if caller.user_id == user.id:
        raise deny("You cannot delete your own user")
    return user


async def delete(
    session: AsyncSession,
    caller: Caller,
    domain_name: str,
    user_name: str,
    *,
    released: dict[str, Any] | None = None,
) -> User:
    user = await get(session, caller, domain_name, user_name)
    check_manage_users_in_domain(caller)
    check_manage_user(caller, user)
    if caller.user_id == user.id:
        raise deny("You cannot delete your own user")
    await session.execute(sql_delete(OAuthToken).where(OAuthToken.user_id == user.id))
    keys = await session.execute(sql_delete(ApiKey).where(ApiKey.user_id == user.id))
    _emit(session, "delete", user)
    await extensions.release(session, user.domain_id, user.user)
    await session.delete(user)
    audit.record(
        session,
        caller,
        "delete",
        "subscriber",
        user.uid,
        reseller=user.domain.reseller.name,
        domain=user.domain.name,
        user=user.user,
        before=snapshot(user),
        details={"api_keys_deleted": keys.rowcount, **(released or {})},  # type: ignore[attr-defined]
    )
    return user
