from __future__ import annotations

from pydantic import Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo


class SiteFields(ApiModel):
    time_zone: str | None = Field(None, max_length=64)
    dial_plan: str | None = Field(None, max_length=128)
    dial_policy: str | None = Field(None, max_length=128)
    caller_id_name: str | None = Field(None, max_length=64)
    caller_id_number: str | None = Field(None, max_length=32)
    caller_id_number_emergency: str | None = Field(None, max_length=32)
    area_code: int | None = Field(None, ge=0, le=999)
    emergency_address_id: str | None = Field(None, max_length=64)
    language_token: str | None = Field(None, max_length=16)
    voicemail_enabled: YesNo | None = None
    recording_configuration: str | None = Field(None, max_length=48)
    synchronous: YesNo | None = None


class SiteCreate(SiteFields):
    site: str = Field(min_length=1, max_length=100)


class SiteUpdate(SiteFields):
    pass


class SiteOut(ApiOut):
    site: str
    domain: str
    time_zone: str | None = None
    dial_plan: str | None = None
    dial_policy: str | None = None
    caller_id_name: str | None = None
    caller_id_number: str | None = None
    caller_id_number_emergency: str | None = None
    area_code: int | None = None
    emergency_address_id: str | None = None
    language_token: str | None = None
    voicemail_enabled: YesNo = True
    recording_configuration: str = "no"
    count_users_total: int = 0
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


class DepartmentCreate(ApiModel):
    department: str = Field(min_length=1, max_length=100)
    description: str | None = Field(None, max_length=255)


class DepartmentUpdate(ApiModel):
    description: str | None = Field(None, max_length=255)


class DepartmentOut(ApiOut):
    department: str
    domain: str
    description: str
    count_users_total: int


SITE_EXAMPLE = {
    "site": "HQ",
    "domain": "acme",
    "time-zone": "America/New_York",
    "caller-id-number": "+12125550100",
    "voicemail-enabled": "yes",
    "recording-configuration": "no",
    "count-users-total": 12,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
DEPARTMENT_EXAMPLE = {
    "department": "Sales",
    "domain": "acme",
    "description": "Inside sales",
    "count-users-total": 7,
}
