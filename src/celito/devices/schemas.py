from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

RecordingConfiguration = Literal[
    "yes", "yes-with-transcription", "yes-with-transcription-and-sentiment", "no"
]
_MAC_SEPARATORS = re.compile(r"[:\-. ]")
_MAC = re.compile(r"[0-9a-f]{12}")

# Set by the SIP registrar (telephony plane), never by a client.
READ_ONLY = frozenset(
    {
        "device-sip-registration-uri",
        "device-sip-registration-state",
        "device-sip-registration-contact",
        "device-sip-registration-core-server",
        "device-sip-registration-datetime",
        "device-sip-registration-expires-datetime",
        "device-sip-registration-ip-address",
        "device-sip-registration-user-agent",
        "device-sip-latency-seconds-current",
        "device-sip-latency-seconds-average",
        "error-reading-from-endpoint-module",
        "login-username",
        "name-full-name",
    }
)


def normalize_mac(value: str) -> str:
    """`00:15:65:AA:BB:CC`, `00-15-65-aa-bb-cc`, `0015.65aa.bbcc` → `001565aabbcc`."""
    mac = _MAC_SEPARATORS.sub("", value).lower()
    if not _MAC.fullmatch(mac):
        raise ValueError("must be a MAC address of 12 hex digits (separators : - . allowed)")
    return mac


class DeviceFields(ApiModel):
    device_sip_registration_password: str | None = Field(None, min_length=1, max_length=128)
    caller_id_number_emergency: str | None = Field(None, max_length=32)
    device_force_notify_new_voicemails_enabled: YesNo | None = None
    device_level_call_recording_enabled: YesNo | None = None
    device_push_enabled: YesNo | None = None
    device_sip_registration_expiry_seconds: int | None = Field(None, ge=10, le=86400)
    device_sip_registration_ignore_for_presence_calculation: YesNo | None = None
    device_sip_registration_ignore_report_enabled: YesNo | None = None
    device_sip_no_to_tag_in_cancel: YesNo | None = None
    device_srtp_enabled: Literal["yes", "no", "opportunistic"] | None = None
    auto_answer_enabled: YesNo | None = None
    device_sip_allowed_user_agent: str | None = Field(None, max_length=255)
    device_sip_nat_traversal_enabled: Literal["automatic", "none", "never", "fixed"] | None = None
    emergency_address_id: str | None = Field(None, max_length=64)
    device_models_model: str | None = Field(None, max_length=64)
    device_provisioning_mac_address: str | None = Field(None, max_length=32)
    device_provisioning_registration_core_server: str | None = Field(None, max_length=128)
    device_provisioning_sip_transport_protocol: Literal["udp", "tcp", "tls"] | None = None
    device_provisioning_username: str | None = Field(None, max_length=64)
    device_provisioning_password: str | None = Field(None, max_length=128)
    device_provisioning_line: int | None = Field(None, ge=1, le=64)
    device_provisioning_overrides: str | None = Field(None, max_length=4096)
    recording_configuration: RecordingConfiguration | None = None
    synchronous: YesNo | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_read_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            sent = sorted(READ_ONLY & {str(k).replace("_", "-") for k in data})
            if sent:
                raise ValueError(
                    f"{', '.join(sent)}: read-only (kept by the SIP registrar, not settable)"
                )
        return data

    @field_validator("device_provisioning_mac_address")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        return normalize_mac(value) if value else value


class DeviceCreate(DeviceFields):
    device: str = Field(min_length=1, max_length=64)


class DeviceUpdate(DeviceFields):
    pass


# What a user may change on its own device; everything else is a manager's.
USER_EDITABLE = frozenset(
    {
        "device_push_enabled",
        "auto_answer_enabled",
        "device_force_notify_new_voicemails_enabled",
        "device_sip_registration_ignore_for_presence_calculation",
        "synchronous",
    }
)
# Kept in Device.attributes as given (the rest live in columns).
ATTRIBUTE_FIELDS = tuple(
    n
    for n in DeviceFields.model_fields
    if n
    not in {
        "device_sip_registration_password",
        "device_provisioning_password",
        "device_models_model",
        "device_provisioning_mac_address",
        "synchronous",
    }
)
DEFAULTS: dict[str, Any] = {
    "caller_id_number_emergency": "[*]",
    "device_force_notify_new_voicemails_enabled": False,
    "device_level_call_recording_enabled": False,
    "device_push_enabled": True,
    "device_sip_registration_expiry_seconds": 60,
    "device_sip_registration_ignore_for_presence_calculation": False,
    "device_sip_registration_ignore_report_enabled": False,
    "device_sip_no_to_tag_in_cancel": False,
    "device_srtp_enabled": "no",
    "auto_answer_enabled": False,
    "device_sip_allowed_user_agent": "",
    "device_sip_nat_traversal_enabled": "automatic",
    "emergency_address_id": None,
    "device_provisioning_registration_core_server": "",
    "device_provisioning_sip_transport_protocol": "udp",
    "device_provisioning_username": None,
    "device_provisioning_line": None,
    "device_provisioning_overrides": "",
    "recording_configuration": "no",
}


class DeviceOut(ApiOut):
    device: str
    user: str
    domain: str
    device_sip_registration_uri: str
    device_sip_registration_state: Literal["registered", "unregistered"]
    device_sip_registration_password: str | None = Field(
        None,
        description="Shown on create and to those who manage the device's user; null to others.",
    )
    caller_id_number_emergency: str = "[*]"
    device_force_notify_new_voicemails_enabled: YesNo = False
    device_level_call_recording_enabled: YesNo = False
    device_push_enabled: YesNo = True
    device_sip_registration_contact: str = ""
    device_sip_registration_core_server: str = ""
    device_sip_registration_datetime: ApiDatetime = None
    device_sip_registration_expires_datetime: ApiDatetime = None
    device_sip_registration_expiry_seconds: int = 60
    device_sip_registration_ignore_for_presence_calculation: YesNo = False
    device_sip_registration_ignore_report_enabled: YesNo = False
    device_sip_registration_ip_address: str = ""
    device_sip_registration_user_agent: str = ""
    device_sip_no_to_tag_in_cancel: YesNo = False
    device_srtp_enabled: str = "no"
    auto_answer_enabled: YesNo = False
    device_sip_allowed_user_agent: str = ""
    device_sip_nat_traversal_enabled: str = "automatic"
    device_sip_latency_seconds_current: float | None = None
    device_sip_latency_seconds_average: float | None = None
    emergency_address_id: str | None = None
    error_reading_from_endpoint_module: YesNo = False
    login_username: str | None = None
    name_full_name: str = ""
    device_models_model: str = ""
    device_provisioning_mac_address: str = ""
    device_provisioning_registration_core_server: str = ""
    device_provisioning_sip_transport_protocol: str = "udp"
    device_provisioning_username: str | None = None
    device_provisioning_password: str | None = None
    device_provisioning_line: int | None = None
    device_provisioning_overrides: str = ""
    recording_configuration: str = "no"
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


SECRET_FIELDS = frozenset({"device_sip_registration_password", "device_provisioning_password"})

EXAMPLE: dict[str, Any] = {
    "device": "1001a",
    "user": "1001",
    "domain": "acme",
    "device-sip-registration-uri": "sip:1001a@acme",
    "device-sip-registration-state": "registered",
    "device-sip-registration-password": "q7VfR2mXc9LtB4sWn8Kd",
    "caller-id-number-emergency": "[*]",
    "device-force-notify-new-voicemails-enabled": "no",
    "device-level-call-recording-enabled": "no",
    "device-push-enabled": "yes",
    "device-sip-registration-contact": "sip:1001a@192.0.2.10:5060;transport=udp",
    "device-sip-registration-core-server": "core1.acme",
    "device-sip-registration-datetime": "2026-11-27T10:00:00Z",
    "device-sip-registration-expires-datetime": "2026-11-27T10:01:00Z",
    "device-sip-registration-expiry-seconds": 60,
    "device-sip-registration-ip-address": "192.0.2.10:5060",
    "device-sip-registration-user-agent": "Yealink SIP-T54W 96.86.0.70",
    "device-srtp-enabled": "no",
    "auto-answer-enabled": "no",
    "device-sip-nat-traversal-enabled": "automatic",
    "login-username": "ada@acme.example",
    "name-full-name": "Ada Lovelace",
    "device-models-model": "T54W",
    "device-provisioning-mac-address": "805ec0aabbcc",
    "device-provisioning-sip-transport-protocol": "udp",
    "recording-configuration": "no",
    "created-datetime": "2026-11-27T09:00:00Z",
    "last-modified-datetime": "2026-11-27T09:00:00Z",
}
