from __future__ import annotations

from typing import Literal

from pydantic import Field

from celito.auth.scopes import Scope
from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

MODELS = (
    "account",
    "agent",
    "answerrule",
    "apikey",
    "attendant",
    "audio",
    "auditlog",
    "call",
    "callqueue",
    "cdr",
    "conference",
    "contact",
    "department",
    "device",
    "dialplan",
    "dialrule",
    "domain",
    "event",
    "jwt",
    "message",
    "moh",
    "oauth",
    "phoneconfiguration",
    "phonenumber",
    "presence",
    "recording",
    "reseller",
    "site",
    "subscriber",
    "subscription",
    "timeframe",
    "voicemail",
)


class ApiKeyFields(ApiModel):
    description: str | None = Field(None, min_length=12, max_length=255)
    ip_address: str | None = Field(None, max_length=1000, description="CSV of IPs and CIDRs.")
    readonly: YesNo | None = None
    allowed_models: list[str] | Literal["*"] | None = Field(
        None, description='`*` or a list of model names, e.g. ["subscriber", "cdr"].'
    )


class ApiKeyCreate(ApiKeyFields):
    description: str = Field(min_length=12, max_length=255)
    reseller: str | None = Field(None, description="Defaults to yours; `*` = none (Super User).")
    domain: str | None = None
    user: str | None = None
    user_scope: Scope = Scope.OFFICE_MANAGER
    can_create_keys: YesNo = False


class ApiKeyUpdate(ApiKeyFields):
    pass


class ApiKeyOut(ApiOut):
    key_id: str
    key: str | None = Field(None, description="Only in the create response; never again.")
    description: str
    reseller: str
    domain: str | None
    user: str | None
    user_scope: str
    ip_address: str
    readonly: YesNo
    can_create_keys: YesNo
    allowed_models: list[str] | Literal["*"]
    created_by: str
    created_datetime: ApiDatetime
    lastused_datetime: ApiDatetime


EXAMPLE = {
    "key-id": "nsd_UKkxfEzv",
    "key": "nsd_UKkxfEzv_Xp3… (shown once)",
    "description": "Helpdesk call logger",
    "reseller": "northwind",
    "domain": "acme",
    "user": None,
    "user-scope": "Office Manager",
    "ip-address": "203.0.113.0/24",
    "readonly": "yes",
    "can-create-keys": "no",
    "allowed-models": ["cdr", "subscriber"],
    "created-by": "1000@acme",
    "created-datetime": "2026-11-27T10:00:00Z",
    "lastused-datetime": None,
}
