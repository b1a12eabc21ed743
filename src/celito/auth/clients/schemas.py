from __future__ import annotations

from pydantic import Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo


class ClientCreate(ApiModel):
    client_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
        description="Chosen id; generated when omitted.",
    )
    name: str = Field(min_length=1, max_length=128)
    reseller: str = Field("~", description="Owning reseller; `~` = yours.")
    domain: str | None = Field(None, description="Limit the client to one domain's users.")


class ClientUpdate(ApiModel):
    name: str | None = Field(None, min_length=1, max_length=128)
    enabled: YesNo | None = None


class TermsAcceptance(ApiModel):
    tos_version: str = Field(description="The version you read, as shown at /ns-api/tos.")


class ClientOut(ApiOut):
    client_id: str
    client_secret: str | None = Field(None, description="Only when created or rotated.")
    name: str
    reseller: str
    domain: str | None
    enabled: YesNo
    tos_version: str | None
    tos_accepted_by: str | None
    tos_accepted_datetime: ApiDatetime
    tos_current: YesNo
    created_by: str
    created_datetime: ApiDatetime


EXAMPLE = {
    "client-id": "acme-crm",
    "client-secret": "cvs_9f… (shown once)",
    "name": "Acme CRM integration",
    "reseller": "northwind",
    "domain": "acme",
    "enabled": "yes",
    "tos-version": None,
    "tos-accepted-by": None,
    "tos-accepted-datetime": None,
    "tos-current": "no",
    "created-by": "admin@system",
    "created-datetime": "2026-11-27T10:00:00Z",
}
