"""Contacts: each user's own address book, and the domain's shared one."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import check_manage_user, deny
from celito.auth.scopes import DOMAIN_MANAGERS, Scope
from celito.contacts.models import Contact
from celito.contacts.schemas import ContactFields, ContactOut
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import NotFound
from celito.kit.paging import Page
from celito.users import service as users
from celito.users.models import User

_COLUMNS = {
    "name_first_name": "first_name",
    "name_middle_name": "middle_name",
    "name_last_name": "last_name",
    "email": "email",
    "company": "company",
    "phonenumber_work": "phone_work",
    "phonenumber_cell": "phone_cell",
    "phonenumber_fax": "phone_fax",
    "phonenumber_home": "phone_home",
    "tags": "tags",
}
SORTABLE = {
    "name-first-name": Contact.first_name,
    "name-last-name": Contact.last_name,
    "company": Contact.company,
    "created-datetime": Contact.created_at,
}


class Book:
    """Whose address book: a domain's shared one (user None) or a user's."""

    def __init__(self, domain: Domain, user: User | None) -> None:
        self.domain = domain
        self.user = user

    def clause(self) -> Any:
        owner = Contact.user_id.is_(None) if self.user is None else Contact.user_id == self.user.id
        return (Contact.domain_id == self.domain.id) & owner


async def book(
    session: AsyncSession, caller: Caller, domain: str, user: str | None, *, write: bool
) -> Book:
    if user is None:
        found = await domains.get(session, caller, domain)
        if write and caller.scope not in (*DOMAIN_MANAGERS, Scope.SITE_MANAGER):
            raise deny(f"A {caller.scope} cannot change the domain's shared contacts")
        return Book(found, None)
    owner = await users.get(session, caller, domain, user)
    if write:
        check_manage_user(caller, owner)
    return Book(owner.domain, owner)


def to_out(c: Contact, b: Book) -> ContactOut:
    return ContactOut(
        unique_id=c.unique_id,
        domain=b.domain.name,
        user=b.user.user if b.user else None,
        shared=b.user is None,
        name_first_name=c.first_name,
        name_middle_name=c.middle_name,
        name_last_name=c.last_name,
        email=c.email,
        company=c.company,
        phonenumber_work=c.phone_work,
        phonenumber_cell=c.phone_cell,
        phonenumber_fax=c.phone_fax,
        phonenumber_home=c.phone_home,
        tags=c.tags,
        created_datetime=c.created_at,
        last_modified_datetime=c.updated_at,
    )


def _apply(c: Contact, body: ContactFields) -> None:
    for field, value in body.model_dump(exclude_unset=True, exclude={"synchronous"}).items():
        setattr(c, _COLUMNS[field], value or "")


def _snapshot(c: Contact) -> dict[str, Any]:
    return {api: getattr(c, column) for api, column in _COLUMNS.items()}


async def list_(session: AsyncSession, b: Book, page: Page) -> list[Contact]:
    stmt = page.apply(select(Contact).where(b.clause()), SORTABLE, "name-last-name")
    return list((await session.scalars(stmt)).all())


async def count(session: AsyncSession, b: Book) -> int:
    return int(await session.scalar(select(func.count()).where(b.clause())) or 0)


async def get(session: AsyncSession, b: Book, contact_id: str) -> Contact:
    found = await session.scalar(select(Contact).where(b.clause(), Contact.unique_id == contact_id))
    if found is None:
        raise NotFound(f"Contact {contact_id} does not exist")
    return found


def _audit(
    session: AsyncSession, caller: Caller, action: str, c: Contact, b: Book, **changes: Any
) -> None:
    audit.record(
        session,
        caller,
        action,
        "contact",
        c.unique_id,
        reseller=b.domain.reseller.name,
        domain=b.domain.name,
        user=b.user.user if b.user else "",
        **changes,
    )


async def create(session: AsyncSession, caller: Caller, b: Book, body: ContactFields) -> Contact:
    contact = Contact(
        unique_id=secrets.token_hex(8), domain_id=b.domain.id, user_id=b.user.id if b.user else None
    )
    _apply(contact, body)
    session.add(contact)
    await session.flush()
    _audit(session, caller, "create", contact, b, after=_snapshot(contact))
    return contact


async def update(
    session: AsyncSession, caller: Caller, b: Book, contact_id: str, body: ContactFields
) -> Contact:
    contact = await get(session, b, contact_id)
    before = _snapshot(contact)
    _apply(contact, body)
    await session.flush()
    _audit(session, caller, "update", contact, b, before=before, after=_snapshot(contact))
    return contact


async def delete(session: AsyncSession, caller: Caller, b: Book, contact_id: str) -> Contact:
    contact = await get(session, b, contact_id)
    await session.delete(contact)
    _audit(session, caller, "delete", contact, b, before=_snapshot(contact))
    return contact
