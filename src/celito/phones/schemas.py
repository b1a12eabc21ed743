"""Phones in the NetSapiens NdpPhone shape (`device-provisioning-*`, `device-models-*`), plus
what the platform knows about the phone itself (`phone-*`: what the phone last reported)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from celito.devices.schemas import normalize_mac
from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

MAX_LINES = 8
Transport = Literal["udp", "tcp", "tls"]


class PhoneFields(ApiModel):
    domain: str | None = Field(None, max_length=128)
    reseller: str | None = Field(None, max_length=64)
    device_models_brand_and_model: str | None = Field(None, max_length=64)
    device_models_firmware_generation: Literal["v7x", "v8x", ""] | None = None
    notes: str | None = Field(None, max_length=2000)
    device_provisioning_sip_transport_protocol: Transport | None = None
    device_provisioning_username: str | None = Field(None, max_length=64)
    device_provisioning_password: str | None = Field(None, max_length=128)
    device_models_overrides_blob: str | None = Field(None, max_length=65536)
    device_provisioning_sip_uri_1: str | None = Field(None, max_length=255)
    device_provisioning_line_1_enabled: YesNo | None = None
    device_provisioning_sip_uri_1_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_2: str | None = Field(None, max_length=255)
    device_provisioning_line_2_enabled: YesNo | None = None
    device_provisioning_sip_uri_2_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_3: str | None = Field(None, max_length=255)
    device_provisioning_line_3_enabled: YesNo | None = None
    device_provisioning_sip_uri_3_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_4: str | None = Field(None, max_length=255)
    device_provisioning_line_4_enabled: YesNo | None = None
    device_provisioning_sip_uri_4_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_5: str | None = Field(None, max_length=255)
    device_provisioning_line_5_enabled: YesNo | None = None
    device_provisioning_sip_uri_5_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_6: str | None = Field(None, max_length=255)
    device_provisioning_line_6_enabled: YesNo | None = None
    device_provisioning_sip_uri_6_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_7: str | None = Field(None, max_length=255)
    device_provisioning_line_7_enabled: YesNo | None = None
    device_provisioning_sip_uri_7_shared_line_enabled: YesNo | None = None
    device_provisioning_sip_uri_8: str | None = Field(None, max_length=255)
    device_provisioning_line_8_enabled: YesNo | None = None
    device_provisioning_sip_uri_8_shared_line_enabled: YesNo | None = None


class PhoneCreate(PhoneFields):
    device_provisioning_mac_address: str = Field(max_length=32)
    device_models_brand_and_model: str = Field(max_length=64)

    @field_validator("device_provisioning_mac_address")
    @classmethod
    def _mac(cls, value: str) -> str:
        return normalize_mac(value)


class PhoneUpdate(PhoneFields):
    """PUT /domains/{d}/phones names the phone in the body (the NetSapiens form)."""

    device_provisioning_mac_address: str | None = Field(None, max_length=32)

    @field_validator("device_provisioning_mac_address")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        return normalize_mac(value) if value is not None else None


class PhoneSelect(ApiModel):
    """DELETE /domains/{d}/phones: the phone named in the body; other fields are ignored."""

    model_config = {"extra": "ignore"}
    device_provisioning_mac_address: str = Field(max_length=32)

    @field_validator("device_provisioning_mac_address")
    @classmethod
    def _mac(cls, value: str) -> str:
        return normalize_mac(value)


class PhoneOut(ApiOut):
    device_provisioning_mac_address: str
    domain: str
    reseller: str
    device_models_brand_and_model: str
    device_models_brand: str = "yealink"
    device_models_model: str
    device_models_model_code: str
    device_models_family: str
    device_models_firmware_generation: str
    device_models_count_accounts: int
    device_models_count_buttons: int
    device_models_resync_support_enabled: str = "yes"
    device_models_overrides_blob: str
    notes: str
    device_provisioning_sip_transport_protocol: str
    device_provisioning_username: str
    device_provisioning_password: str | None = None
    device_provisioning_last_retrieved_datetime: ApiDatetime = None
    device_provisioning_resync_pending: YesNo = False
    device_provisioning_ndp_hostname: str = ""
    device_sip_registration_state: str
    device_sip_registration_user_agent: str
    device_provisioning_sip_uri_1: str | None = None
    device_provisioning_line_1_enabled: str | None = None
    device_provisioning_sip_uri_1_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_2: str | None = None
    device_provisioning_line_2_enabled: str | None = None
    device_provisioning_sip_uri_2_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_3: str | None = None
    device_provisioning_line_3_enabled: str | None = None
    device_provisioning_sip_uri_3_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_4: str | None = None
    device_provisioning_line_4_enabled: str | None = None
    device_provisioning_sip_uri_4_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_5: str | None = None
    device_provisioning_line_5_enabled: str | None = None
    device_provisioning_sip_uri_5_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_6: str | None = None
    device_provisioning_line_6_enabled: str | None = None
    device_provisioning_sip_uri_6_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_7: str | None = None
    device_provisioning_line_7_enabled: str | None = None
    device_provisioning_sip_uri_7_shared_line_enabled: str | None = None
    device_provisioning_sip_uri_8: str | None = None
    device_provisioning_line_8_enabled: str | None = None
    device_provisioning_sip_uri_8_shared_line_enabled: str | None = None
    phone_lines: list[dict[str, Any]]
    phone_last_seen_datetime: ApiDatetime = None
    phone_ip_address: str
    phone_firmware: str
    phone_dnd_enabled: YesNo
    phone_forwarding: dict[str, Any]
    phone_call: dict[str, Any]
    phone_last_event: str
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


class ProvisioningUpdate(ApiModel):
    password: str | None = Field(
        None, description="`generate` for a new random one, or a chosen one (12-64 characters)"
    )
    transport: Transport | None = None
    sip_server: str | None = Field(None, max_length=255)
    sip_port: int | None = Field(None, ge=1, le=65535)
    outbound_proxy: str | None = Field(None, max_length=255)
    time_zone: str | None = Field(None, max_length=64)
    resync_minutes: int | None = Field(None, ge=0, le=43200)
    blf_colleagues: YesNo | None = None
    voicemail_number: str | None = Field(None, max_length=32)
    overrides: dict[str, str] | None = None


class ProvisioningOut(ApiOut):
    domain: str
    url: str
    username: str
    password: str
    transport: str
    sip_server: str
    sip_port: int
    outbound_proxy: str
    time_zone: str
    resync_minutes: int
    blf_colleagues: YesNo
    voicemail_number: str
    overrides: dict[str, str]
    phones_total: int
    last_modified_datetime: ApiDatetime = None


class ModelOut(ApiOut):
    """NdpModel (the spec uses snake_case here)."""

    brand: str
    model: str
    brand_model: str
    device_type: str
    ndp_syntax: str
    phone_ext: int
    sidecar: str
    resync: str
    description: str
    code: str
    family: str
    firmware_generation: str
    line_keys: int

    model_config = {"alias_generator": None, "populate_by_name": True}
