from __future__ import annotations

from typing import Any, Literal

from pydantic import EmailStr, Field

from celito.auth.scopes import Scope
from celito.kit.schema import MAX_INT, ApiDatetime, ApiModel, ApiOut, YesNo

RecordingConfiguration = Literal[
    "no", "yes", "yes-with-transcription", "yes-with-transcription-and-sentiment"
]
VoicemailAlert = Literal[
    "no",
    "yes",
    "attnew",
    "attsave",
    "atttrash",
    "brief",
    "briefattnew",
    "briefattsave",
    "briefatttrash",
]


class UserFields(ApiModel):
    name_first_name: str | None = Field(None, max_length=100)
    name_last_name: str | None = Field(None, max_length=100)
    email_address: EmailStr | Literal[""] | None = None
    login_username: str | None = Field(None, max_length=255)
    login_password: str | None = Field(
        None, description="Portal/API password. Write-only: stored hashed, never returned."
    )
    user_scope: Scope | None = None
    department: str | None = Field(None, max_length=100)
    site: str | None = Field(None, max_length=100)
    time_zone: str | None = Field(None, max_length=64)
    account_status: Literal["standard", "reset", "new", "pwd reset", "disabled"] | None = None
    voicemail_login_pin: str | None = Field(None, pattern=r"^\d{4,12}$")
    privacy: YesNo | None = None
    dial_plan: str | None = Field(None, max_length=128)
    dial_policy: str | None = Field(None, max_length=128)
    status_message: str | None = Field(None, max_length=255)
    caller_id_name: str | None = Field(None, max_length=64)
    caller_id_number: str | None = Field(None, max_length=32)
    caller_id_number_emergency: str | None = Field(None, max_length=32)
    area_code: int | None = Field(None, ge=0, le=999)
    service_code: str | None = Field(None, max_length=64)
    language_token: str | None = Field(None, max_length=16)
    ring_no_answer_timeout_seconds: int | None = Field(None, ge=1, le=600)
    limits_max_active_calls_total: int | None = Field(None, ge=0, le=MAX_INT)
    limits_max_data_storage_kilobytes: int | None = Field(None, ge=0, le=MAX_INT)
    voicemail_enabled: YesNo | None = None
    voicemail_user_control_enabled: YesNo | None = None
    voicemail_receive_broadcast_enabled: YesNo | None = None
    voicemail_greeting_index: int | None = Field(None, ge=0, le=MAX_INT)
    voicemail_playback_announce_datetime_received: YesNo | None = None
    voicemail_playback_announce_caller_id: YesNo | None = None
    voicemail_playback_sort_newest_to_oldest: YesNo | None = None
    voicemail_transcription_enabled: (
        Literal["no", "Deepgram", "Google", "Mutare", "Voicebase"] | None
    ) = None
    phone_numbers_to_allow_enabled: YesNo | None = None
    phone_numbers_to_reject_enabled: YesNo | None = None
    call_screening_enabled: YesNo | None = None
    reject_anonymous_calls_enabled: YesNo | None = None
    directory_name_visible_in_list_enabled: YesNo | None = None
    directory_announce_in_dial_by_name_enabled: YesNo | None = None
    email_send_alert_new_voicemail_behavior: VoicemailAlert | None = None
    email_send_alert_new_voicemail_enabled: YesNo | None = None
    email_send_alert_new_voicemail_cc_list_csv: str | None = Field(None, max_length=1000)
    email_send_alert_new_missed_call_enabled: YesNo | None = None
    email_send_alert_data_storage_limit_reached_enabled: YesNo | None = None
    emergency_address_id: str | None = Field(None, max_length=64)
    call_recordings_hide_from_others_enabled: YesNo | None = None
    music_on_hold_randomized_enabled: YesNo | None = None
    recording_configuration: RecordingConfiguration | None = None
    synchronous: YesNo | None = Field(None, description="Accepted for compatibility.")


class UserCreate(UserFields):
    user: str = Field(min_length=1, max_length=64, description="The extension, e.g. 1001.")
    devices: list[str] | None = Field(
        None,
        max_length=10,
        description='Devices to create with the user (e.g. ["1001", "1001a"]); their SIP '
        "passwords are in the response's `provisioned`.",
    )
    phonenumber: str | None = Field(
        None, max_length=32, description="A DID to route to the new user (to-user)."
    )


class UserUpdate(UserFields):
    pass


COLUMN_FIELDS = frozenset(
    {
        "name_first_name",
        "name_last_name",
        "email_address",
        "login_username",
        "login_password",
        "user_scope",
        "department",
        "site",
        "time_zone",
        "account_status",
        "synchronous",
    }
)
ATTRIBUTE_FIELDS = tuple(n for n in UserFields.model_fields if n not in COLUMN_FIELDS)


class UserOut(ApiOut):
    domain: str
    user: str
    name_first_name: str
    name_last_name: str
    login_username: str | None
    email_address: str
    user_scope: str
    department: str
    site: str
    time_zone: str | None
    account_status: str
    voicemail_login_pin: str | None = None
    privacy: YesNo = False
    dial_plan: str | None = None
    dial_policy: str | None = None
    status_message: str | None = None
    caller_id_name: str | None = None
    caller_id_number: str | None = None
    caller_id_number_emergency: str | None = None
    area_code: int | None = None
    service_code: str | None = None
    language_token: str | None = None
    ring_no_answer_timeout_seconds: int = 25
    limits_max_active_calls_total: int | None = None
    limits_max_data_storage_kilobytes: int | None = None
    voicemail_enabled: YesNo = True
    voicemail_user_control_enabled: YesNo = True
    voicemail_receive_broadcast_enabled: YesNo = True
    voicemail_greeting_index: int | None = None
    voicemail_playback_announce_datetime_received: YesNo = False
    voicemail_playback_announce_caller_id: YesNo = False
    voicemail_playback_sort_newest_to_oldest: YesNo = True
    voicemail_transcription_enabled: str = "no"
    phone_numbers_to_allow_enabled: YesNo = True
    phone_numbers_to_reject_enabled: YesNo = True
    call_screening_enabled: YesNo = False
    reject_anonymous_calls_enabled: YesNo = False
    directory_name_visible_in_list_enabled: YesNo = True
    directory_announce_in_dial_by_name_enabled: YesNo = True
    email_send_alert_new_voicemail_behavior: str = "no"
    email_send_alert_new_voicemail_enabled: YesNo = False
    email_send_alert_new_voicemail_cc_list_csv: str | None = None
    email_send_alert_new_missed_call_enabled: YesNo = False
    email_send_alert_data_storage_limit_reached_enabled: YesNo = False
    emergency_address_id: str | None = None
    call_recordings_hide_from_others_enabled: YesNo = False
    music_on_hold_randomized_enabled: YesNo = False
    recording_configuration: str = "no"
    user_presence_status: str = "inactive"
    active_calls_total_current: int = 0
    password_set: YesNo = False
    provisioned: dict[str, Any] | None = Field(
        None,
        description="Only when created: the devices, voicemail box, answer rule and "
        "number made with the user.",
    )
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


class UserListItem(ApiOut):
    """The directory projection of /users/list: safe for every user of the domain."""

    domain: str
    user: str
    name_first_name: str
    name_last_name: str
    email_address: str
    department: str
    site: str
    user_scope: str


EXAMPLE = {
    "domain": "acme",
    "user": "1001",
    "name-first-name": "Ada",
    "name-last-name": "Lovelace",
    "login-username": "ada@acme.example",
    "email-address": "ada@acme.example",
    "user-scope": "Basic User",
    "department": "Engineering",
    "site": "HQ",
    "time-zone": "America/New_York",
    "account-status": "standard",
    "voicemail-enabled": "yes",
    "password-set": "yes",
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
