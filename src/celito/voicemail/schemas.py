from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

Folder = Literal["new", "save", "trash"]
FOLDERS: tuple[Folder, ...] = ("new", "save", "trash")
AlertBehavior = Literal[
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
Transcription = Literal["no", "Deepgram", "Google", "Mutare", "Voicebase"]


class BoxFields(ApiModel):
    """A box's settings, with the names of the NetSapiens User object."""

    voicemail_login_pin: str | None = Field(
        None,
        pattern=r"^(\d{4,12})?$",
        description="4 to 12 digits; write-only (stored hashed). An empty string removes it.",
    )
    voicemail_enabled: YesNo | None = None
    voicemail_greeting_index: int | None = Field(
        None, ge=0, le=999, description="0 = the generic greeting; else one of the user's."
    )
    voicemail_user_control_enabled: YesNo | None = None
    voicemail_receive_broadcast_enabled: YesNo | None = None
    voicemail_playback_announce_datetime_received: YesNo | None = None
    voicemail_playback_announce_caller_id: YesNo | None = None
    voicemail_playback_sort_newest_to_oldest: YesNo | None = None
    voicemail_transcription_enabled: Transcription | None = None
    email_send_alert_new_voicemail_enabled: YesNo | None = None
    email_send_alert_new_voicemail_behavior: AlertBehavior | None = None
    email_send_alert_new_voicemail_cc_list_csv: str | None = Field(
        None, max_length=1000, pattern=r"^[A-Za-z0-9._@-]*(,\s*[A-Za-z0-9._@-]+)*$"
    )
    synchronous: YesNo | None = None


class BoxOut(ApiOut):
    domain: str
    user: str
    voicemail_enabled: YesNo
    voicemail_login_pin_set: YesNo
    voicemail_greeting_index: int
    voicemail_user_control_enabled: YesNo
    voicemail_receive_broadcast_enabled: YesNo
    voicemail_playback_announce_datetime_received: YesNo
    voicemail_playback_announce_caller_id: YesNo
    voicemail_playback_sort_newest_to_oldest: YesNo
    voicemail_transcription_enabled: str
    email_send_alert_new_voicemail_enabled: YesNo
    email_send_alert_new_voicemail_behavior: str
    email_send_alert_new_voicemail_cc_list_csv: str
    voicemail_count_new: int
    voicemail_count_save: int
    voicemail_count_trash: int
    voicemail_size_bytes: int
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


class ForwardBody(ApiModel):
    voicemail_forward_new_destination: str = Field(
        min_length=1, max_length=255, description="A user (extension) of the same domain."
    )
    synchronous: YesNo | None = None


class MessageOut(ApiOut):
    domain: str
    user: str
    filename: str
    index: str = Field(description="The filename without its extension (NetSapiens' index).")
    voicemail_folder: str
    file_duration_seconds: int
    file_duration_milliseconds: int
    file_size_kilobytes: str
    file_size_bytes: int
    file_content_type: str
    file_encoding: str
    file_sample_rate_hz: int
    file_channels: int
    file_access_url: str
    from_name: str = Field(alias="FromName")
    from_user: str = Field(alias="FromUser")
    from_host: str = Field(alias="FromHost")
    nms_ani: str = Field(alias="NmsAni")
    transcription: str
    voicemail_forwarded_from: str
    recorded_datetime: ApiDatetime
    created_datetime: ApiDatetime
    last_modified_datetime: ApiDatetime


class FolderCount(ApiOut):
    total: int
    count: int
    size: int


MESSAGE_EXAMPLE: dict[str, Any] = {
    "domain": "acme",
    "user": "1001",
    "filename": "vm-20261127100014008354-6cc082866aafdc5dee7a480c2d339c76.wav",
    "index": "vm-20261127100014008354-6cc082866aafdc5dee7a480c2d339c76",
    "voicemail-folder": "new",
    "file-duration-seconds": 19,
    "file-duration-milliseconds": 19240,
    "file-size-kilobytes": "150.31 KB",
    "file-size-bytes": 153918,
    "file-content-type": "audio/wav",
    "file-encoding": "mulaw",
    "file-sample-rate-hz": 8000,
    "file-channels": 1,
    "file-access-url": "https://pbx.example/ns-api/v2/domains/acme/users/1001/voicemails/new/"
    "vm-20261127100014008354-6cc082866aafdc5dee7a480c2d339c76.wav/download",
    "FromName": "Grace Hopper",
    "FromUser": "+12125550199",
    "FromHost": "acme",
    "NmsAni": "+12125550199",
    "transcription": "",
    "voicemail-forwarded-from": "",
    "recorded-datetime": "2026-11-27T10:00:14Z",
    "created-datetime": "2026-11-27T10:00:34Z",
    "last-modified-datetime": "2026-11-27T10:00:34Z",
}
BOX_EXAMPLE: dict[str, Any] = {
    "domain": "acme",
    "user": "1001",
    "voicemail-enabled": "yes",
    "voicemail-login-pin-set": "yes",
    "voicemail-greeting-index": 1,
    "voicemail-user-control-enabled": "yes",
    "voicemail-receive-broadcast-enabled": "yes",
    "voicemail-playback-announce-datetime-received": "no",
    "voicemail-playback-announce-caller-id": "no",
    "voicemail-playback-sort-newest-to-oldest": "yes",
    "voicemail-transcription-enabled": "no",
    "email-send-alert-new-voicemail-enabled": "yes",
    "email-send-alert-new-voicemail-behavior": "attnew",
    "email-send-alert-new-voicemail-cc-list-csv": "",
    "voicemail-count-new": 2,
    "voicemail-count-save": 5,
    "voicemail-count-trash": 0,
    "voicemail-size-bytes": 512000,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
