"""Tenancy and role rules, written once. Every tenant query is scoped through these clauses.

A resource outside the caller's tenancy is reported as missing (404); a resource the caller can
see but may not act on is a scope refusal (403, or NetSapiens' 401 'Invalid Scope' by setting).
"""

from __future__ import annotations

from sqlalchemy import and_, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.domains.models import Domain
from celito.errors import Forbidden
from celito.resellers.models import Reseller
from celito.users.models import User


class ScopeDenied(Forbidden):
    """A role refusal (as opposed to a tenancy miss)."""


def deny(message: str) -> ScopeDenied:
    return ScopeDenied(message)


def reseller_clause(caller: Caller) -> ColumnElement[bool]:
    if caller.is_super:
        return true()
    if caller.is_reseller and caller.reseller_id is not None:
        return Reseller.id == caller.reseller_id
    return false()


def reseller_tenancy_clause(caller: Caller) -> ColumnElement[bool]:
    """The resellers that exist for the caller: all (Super User), else the caller's own."""
    if caller.is_super:
        return true()
    if caller.reseller_id is not None:
        return Reseller.id == caller.reseller_id
    return false()


def domain_clause(caller: Caller) -> ColumnElement[bool]:
    if caller.is_super:
        return true()
    if caller.is_reseller and caller.reseller_id is not None:
        return Domain.reseller_id == caller.reseller_id
    if caller.domain_id is not None:
        return Domain.id == caller.domain_id
    return false()


def user_clause(caller: Caller) -> ColumnElement[bool]:
    """Users the caller may read. Callers of user level see only themselves."""
    if caller.is_super:
        return true()
    if caller.is_reseller:
        if caller.reseller_id is None:
            return false()
        # A correlated clause on users itself: a bare Domain clause would make a cartesian
        # product and let a Reseller reach the users of every domain.
        return User.domain_id.in_(select(Domain.id).where(Domain.reseller_id == caller.reseller_id))
    if caller.domain_id is None:
        return false()
    in_domain = User.domain_id == caller.domain_id
    if caller.scope in (Scope.OFFICE_MANAGER, Scope.CALL_CENTER_SUPERVISOR, Scope.NDP):
        return in_domain
    if caller.scope is Scope.SITE_MANAGER:
        return and_(in_domain, User.site == caller.site)
    if caller.user_id is not None:
        return User.id == caller.user_id
    return false()


def may_see_domain_users(caller: Caller) -> bool:
    return not caller.is_user_level


def check_scope_grant(caller: Caller, wanted: Scope) -> None:
    """Nobody hands out more reach than they have; only a Super User makes Super Users."""
    if caller.is_super:
        return
    if wanted.outranks(caller.scope) or wanted is Scope.SUPER_USER:
        raise deny(f"A {caller.scope} cannot grant the scope '{wanted}'")


def check_manage_user(caller: Caller, target: User, *, password_change: bool = False) -> None:
    """Write access to a user the caller can already see."""
    if caller.user_id is not None and caller.user_id == target.id:
        return
    if caller.is_super:
        return
    if caller.scope not in (Scope.RESELLER, Scope.OFFICE_MANAGER, Scope.SITE_MANAGER):
        raise deny(f"A {caller.scope} may only change its own user")
    target_scope = Scope(target.scope)
    if target_scope.outranks(caller.scope):
        raise deny(f"A {caller.scope} cannot change a {target_scope}")
    if password_change and target_scope.rank >= caller.scope.rank:
        raise deny(f"A {caller.scope} cannot set another {target_scope}'s password")


def check_manage_users_in_domain(caller: Caller) -> None:
    if caller.is_super or caller.scope in (
        Scope.RESELLER,
        Scope.OFFICE_MANAGER,
        Scope.SITE_MANAGER,
    ):
        return
    raise deny(f"A {caller.scope} cannot create or delete users")
