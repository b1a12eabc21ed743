"""auth.policy: the role rules of netsapiens.md §1.5, as pure functions."""

from __future__ import annotations

import pytest

from celito.auth.caller import Caller
from celito.auth.policy import (
    ScopeDenied,
    check_manage_user,
    check_manage_users_in_domain,
    check_scope_grant,
    may_see_domain_users,
)
from celito.auth.scopes import Scope
from celito.errors import Forbidden
from celito.users.models import User

ME = 1
OTHER = 2


def caller(scope: Scope, user_id: int | None = ME) -> Caller:
    return Caller(
        scope=scope,
        user_id=user_id,
        user="1000",
        domain_id=10,
        domain="acme",
        reseller_id=100,
        reseller="nw",
    )


def user(scope: Scope, pk: int = OTHER) -> User:
    return User(id=pk, scope=scope.value, user=str(pk))


def test_scope_denied_is_a_403() -> None:
    assert issubclass(ScopeDenied, Forbidden)
    assert ScopeDenied("x").status == 403


@pytest.mark.parametrize(
    ("granter", "wanted", "allowed"),
    [
        (Scope.SUPER_USER, Scope.SUPER_USER, True),
        (Scope.SUPER_USER, Scope.RESELLER, True),
        (Scope.RESELLER, Scope.RESELLER, True),
        (Scope.RESELLER, Scope.SUPER_USER, False),
        (Scope.OFFICE_MANAGER, Scope.OFFICE_MANAGER, True),
        (Scope.OFFICE_MANAGER, Scope.BASIC_USER, True),
        (Scope.OFFICE_MANAGER, Scope.RESELLER, False),
        (Scope.OFFICE_MANAGER, Scope.SUPER_USER, False),
        (Scope.SITE_MANAGER, Scope.BASIC_USER, True),
        (Scope.SITE_MANAGER, Scope.CALL_CENTER_SUPERVISOR, False),
        (Scope.SITE_MANAGER, Scope.OFFICE_MANAGER, False),
        (Scope.BASIC_USER, Scope.ADVANCED_USER, False),
        (Scope.BASIC_USER, Scope.NO_PORTAL, True),
    ],
)
def test_nobody_grants_more_than_it_has(granter: Scope, wanted: Scope, allowed: bool) -> None:
    if allowed:
        check_scope_grant(caller(granter), wanted)
        return
    with pytest.raises(ScopeDenied) as caught:
        check_scope_grant(caller(granter), wanted)
    assert caught.value.message == f"A {granter} cannot grant the scope '{wanted}'"


def test_everyone_may_change_itself() -> None:
    for scope in Scope:
        check_manage_user(caller(scope), user(scope, pk=ME), password_change=True)


@pytest.mark.parametrize(
    "scope",
    [
        Scope.CALL_CENTER_SUPERVISOR,
        Scope.CALL_CENTER_AGENT,
        Scope.BASIC_USER,
        Scope.ADVANCED_USER,
        Scope.NDP,
    ],
)
def test_non_managers_change_only_themselves(scope: Scope) -> None:
    with pytest.raises(ScopeDenied) as caught:
        check_manage_user(caller(scope), user(Scope.NO_PORTAL))
    assert caught.value.message == f"A {scope} may only change its own user"


@pytest.mark.parametrize(
    ("manager", "target", "allowed", "password_allowed"),
    [
        (Scope.OFFICE_MANAGER, Scope.BASIC_USER, True, True),
        (Scope.OFFICE_MANAGER, Scope.CALL_CENTER_SUPERVISOR, True, True),
        (Scope.OFFICE_MANAGER, Scope.OFFICE_MANAGER, True, False),
        (Scope.OFFICE_MANAGER, Scope.RESELLER, False, False),
        (Scope.SITE_MANAGER, Scope.BASIC_USER, True, True),
        (Scope.SITE_MANAGER, Scope.SITE_MANAGER, True, False),
        (Scope.SITE_MANAGER, Scope.OFFICE_MANAGER, False, False),
        (Scope.RESELLER, Scope.OFFICE_MANAGER, True, True),
        (Scope.RESELLER, Scope.RESELLER, True, False),
        (Scope.RESELLER, Scope.SUPER_USER, False, False),
        (Scope.SUPER_USER, Scope.SUPER_USER, True, True),
    ],
)
def test_managers_change_those_they_do_not_rank_below(
    manager: Scope, target: Scope, allowed: bool, password_allowed: bool
) -> None:
    c, t = caller(manager), user(target)
    if allowed:
        check_manage_user(c, t)
    else:
        with pytest.raises(ScopeDenied):
            check_manage_user(c, t)
    if password_allowed:
        check_manage_user(c, t, password_change=True)
    else:
        with pytest.raises(ScopeDenied):
            check_manage_user(c, t, password_change=True)


def test_a_key_without_a_user_is_never_itself() -> None:
    # An API key has no user: user_id None must not match a user that is not yet saved.
    key = caller(Scope.BASIC_USER, user_id=None)
    with pytest.raises(ScopeDenied):
        check_manage_user(key, user(Scope.BASIC_USER, pk=None))  # type: ignore[arg-type]


@pytest.mark.parametrize("scope", list(Scope))
def test_who_creates_and_deletes_users(scope: Scope) -> None:
    managers = {Scope.SUPER_USER, Scope.RESELLER, Scope.OFFICE_MANAGER, Scope.SITE_MANAGER}
    if scope in managers:
        check_manage_users_in_domain(caller(scope))
    else:
        with pytest.raises(ScopeDenied) as caught:
            check_manage_users_in_domain(caller(scope))
        assert caught.value.message == f"A {scope} cannot create or delete users"


@pytest.mark.parametrize("scope", list(Scope))
def test_who_lists_domain_users(scope: Scope) -> None:
    user_level = {
        Scope.NO_PORTAL,
        Scope.BASIC_USER,
        Scope.SIMPLE_USER,
        Scope.ADVANCED_USER,
        Scope.CALL_CENTER_AGENT,
    }
    assert may_see_domain_users(caller(scope)) is (scope not in user_level)
