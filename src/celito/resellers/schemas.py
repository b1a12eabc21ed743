from __future__ import annotations

from pydantic import Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo


class ResellerFields(ApiModel):
    description: str | None = Field(None, max_length=255)
    email_send_smtp_hostname: str | None = Field(None, max_length=255)
    email_send_smtp_port: int | None = Field(None, ge=1, le=65535)
    email_send_smtp_username: str | None = Field(None, max_length=255)
    email_send_smtp_password: str | None = Field(None, max_length=255)
    api_access: YesNo | None = Field(None, description="Super User only. Off by default.")
    synchronous: YesNo | None = Field(None, description="Accepted for compatibility.")


class ResellerCreate(ResellerFields):
    reseller: str = Field(min_length=1, max_length=64)


class ResellerUpdate(ResellerFields):
    pass


class ResellerOut(ApiOut):
    reseller: str
    description: str
    domains_total: int = 0
    users_total: int = 0
    email_send_smtp_hostname: str | None = None
    email_send_smtp_port: int | None = None
    email_send_smtp_username: str | None = None
    api_access: YesNo
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


EXAMPLE = {
    "reseller": "northwind",
    "description": "Northwind Telecom",
    "domains-total": 3,
    "users-total": 41,
    "email-send-smtp-hostname": None,
    "email-send-smtp-port": None,
    "email-send-smtp-username": None,
    "api-access": "no",
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
