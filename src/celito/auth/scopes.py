"""The NetSapiens user scopes (roles), ordered by reach."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    NO_PORTAL = "No Portal"
    BASIC_USER = "Basic User"
    SIMPLE_USER = "Simple User"
    ADVANCED_USER = "Advanced User"
    CALL_CENTER_AGENT = "Call Center Agent"
    SITE_MANAGER = "Site Manager"
    CALL_CENTER_SUPERVISOR = "Call Center Supervisor"
    OFFICE_MANAGER = "Office Manager"
    RESELLER = "Reseller"
    SUPER_USER = "Super User"
    NDP = "NDP"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def outranks(self, other: Scope) -> bool:
        return self.rank > other.rank


# NDP (the provisioning service) is ranked with Office Manager: it reaches one domain's phones.
_RANK = {
    Scope.NO_PORTAL: 0,
    Scope.BASIC_USER: 1,
    Scope.SIMPLE_USER: 2,
    Scope.ADVANCED_USER: 3,
    Scope.CALL_CENTER_AGENT: 4,
    Scope.SITE_MANAGER: 5,
    Scope.CALL_CENTER_SUPERVISOR: 6,
    Scope.NDP: 7,
    Scope.OFFICE_MANAGER: 7,
    Scope.RESELLER: 8,
    Scope.SUPER_USER: 9,
}

USER_LEVEL = frozenset(
    {
        Scope.NO_PORTAL,
        Scope.BASIC_USER,
        Scope.SIMPLE_USER,
        Scope.ADVANCED_USER,
        Scope.CALL_CENTER_AGENT,
    }
)
DOMAIN_MANAGERS = frozenset({Scope.OFFICE_MANAGER, Scope.RESELLER, Scope.SUPER_USER})
