"""Every table, imported once so metadata and Alembic see the whole schema."""

from celito.auditlog.models import AuditEntry
from celito.auth.models import (
    ApiKey,
    LoginFailure,
    OAuthClient,
    OAuthToken,
    RevokedJwt,
    SystemSecret,
)
from celito.db import Base
from celito.domains.models import Domain
from celito.resellers.models import Reseller
from celito.users.models import User

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Domain",
    "LoginFailure",
    "OAuthClient",
    "OAuthToken",
    "Reseller",
    "RevokedJwt",
    "SystemSecret",
    "User",
]
