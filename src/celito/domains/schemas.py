from __future__ import annotations

from typing import Literal

from pydantic import Field

from celito.kit.schema import MAX_INT, ApiDatetime, ApiModel, ApiOut, YesNo

Limit = int | None


class DomainFields(ApiModel):
    description: str | None = Field(None, max_length=255)
    api_access: YesNo | None = Field(None, description="Super User only. Off by default.")
    time_zone: str | None = Field(None, max_length=64, examples=["America/New_York"])
    domain_type: Literal["Standard", "Residential", "Hospitality"] | None = None
    dial_plan: str | None = Field(None, max_length=128)
    dial_policy: str | None = Field(None, max_length=128)
    caller_id_name: str | None = Field(None, max_length=64)
    caller_id_number: str | None = Field(None, max_length=32)
    caller_id_number_emergency: str | None = Field(None, max_length=32)
    area_code: int | None = Field(None, ge=0, le=999)
    email_send_from_address: str | None = Field(None, max_length=255)
    music_on_hold_enabled: YesNo | None = None
    music_on_ring_enabled: YesNo | None = None
    music_on_hold_randomized_enabled: YesNo | None = None
    single_sign_on_enabled: YesNo | None = None
    voicemail_enabled: YesNo | None = None
    is_domain_locked: YesNo | None = None
    is_stir_enabled: YesNo | None = None
    language_token: str | None = Field(None, max_length=16)
    limits_max_users: Limit = Field(None, ge=0, le=MAX_INT, description="Empty for no limit.")
    limits_max_active_calls_total: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_active_calls_offnet: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_call_queues: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_auto_attendants: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_conferences: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_departments: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_sites: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_fax_accounts: Limit = Field(None, ge=0, le=MAX_INT)
    limits_max_devices: Limit = Field(None, ge=0, le=MAX_INT)
    synchronous: YesNo | None = Field(None, description="Accepted for compatibility.")


class DomainCreate(DomainFields):
    domain: str = Field(min_length=1, max_length=128)
    reseller: str = Field("~", description="Reseller name; `~` means your own.")


class DomainUpdate(DomainFields):
    reseller: str | None = Field(None, description="Super User only: move to another reseller.")


ATTRIBUTE_FIELDS = tuple(
    name
    for name in DomainFields.model_fields
    if name not in ("description", "api_access", "time_zone", "synchronous")
)


class DomainOut(ApiOut):
    domain: str
    reseller: str
    description: str
    api_access: YesNo
    time_zone: str
    domain_type: str = "Standard"
    dial_plan: str | None = None
    dial_policy: str | None = None
    caller_id_name: str | None = None
    caller_id_number: str | None = None
    caller_id_number_emergency: str | None = None
    area_code: int | None = None
    email_send_from_address: str | None = None
    music_on_hold_enabled: YesNo = True
    music_on_ring_enabled: YesNo = False
    music_on_hold_randomized_enabled: YesNo = False
    single_sign_on_enabled: YesNo = False
    voicemail_enabled: YesNo = True
    is_domain_locked: YesNo = False
    is_stir_enabled: YesNo = False
    language_token: str | None = None
    limits_max_users: Limit = None
    limits_max_active_calls_total: Limit = None
    limits_max_active_calls_offnet: Limit = None
    limits_max_call_queues: Limit = None
    limits_max_auto_attendants: Limit = None
    limits_max_conferences: Limit = None
    limits_max_departments: Limit = None
    limits_max_sites: Limit = None
    limits_max_fax_accounts: Limit = None
    limits_max_devices: Limit = None
    count_users_total: int = 0
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


EXAMPLE = {
    "domain": "acme",
    "reseller": "northwind",
    "description": "Acme Corporation",
    "api-access": "yes",
    "time-zone": "America/New_York",
    "domain-type": "Standard",
    "caller-id-name": "Acme",
    "caller-id-number": "+12125550100",
    "limits-max-users": 50,
    "count-users-total": 12,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
