"""Conference fields keep NetSapiens' own names, which for conferences are snake_case."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from celito.kit.schema import ApiDatetime, ApiModel, YesNo

PIN = r"^(\d{3,12})?$"
MAX_PARTICIPANTS = 500


class ConferenceFields(ApiModel):
    model_config = ConfigDict(alias_generator=None)

    name: str | None = Field(None, max_length=128)
    owner: str | None = Field(None, max_length=64, description="A user (extension) of the domain.")
    conference_type: Literal["dedicated", "shared"] | None = None
    direct_dial: str | None = Field(None, max_length=64, pattern=r"^[0-9A-Za-z._-]*$")
    leader_pin: str | None = Field(None, pattern=PIN, description="3 to 12 digits; empty: none.")
    speaker_pin: str | None = Field(None, pattern=PIN, description="3 to 12 digits; empty: none.")
    participants_pin: str | None = Field(
        None, pattern=PIN, description="3 to 12 digits; empty: none."
    )
    max_participants: int | None = Field(None, ge=2, le=MAX_PARTICIPANTS)
    quorum: int | None = Field(None, ge=0, le=MAX_PARTICIPANTS)
    save_participants: YesNo | None = None
    request_name: YesNo | None = None
    annc_part: YesNo | None = None
    annc_join: YesNo | None = None
    annc_depart: YesNo | None = None
    lock_part: YesNo | None = None
    mute: YesNo | None = None
    activate: YesNo | None = None
    leader_required: Literal["no", "yes", "to-start"] | None = None
    time_begin: str | None = Field(None, max_length=64)
    time_end: str | None = Field(None, max_length=64)
    gmt_offset: str | None = Field(None, max_length=8, pattern=r"^([+-]?\d{1,2}(:?\d{2})?)?$")
    audio_dir: str | None = Field(None, max_length=128)
    dial_plan: str | None = Field(None, max_length=128)
    trigger_by: str | None = Field(None, max_length=64)
    prompt_audio_id: str | None = Field(None, alias="promptAudioId", max_length=64)
    conf_options: str | None = Field(None, alias="confOptions", max_length=255)
    # Read-only in a read-back; ignored.
    domain: Any = Field(None, description="Read-only; ignored.")
    aor: Any = Field(None, description="Read-only; ignored.")
    owner_domain: Any = Field(None, description="Read-only; ignored.")
    owner_uid: Any = Field(None, description="Read-only; ignored.")
    num_participants: Any = Field(None, description="Read-only; ignored.")
    created_datetime: Any = Field(None, alias="created-datetime", description="Ignored.")
    last_modified_datetime: Any = Field(
        None, alias="last-modified-datetime", description="Ignored."
    )
    synchronous: YesNo | None = None


READ_ONLY = frozenset(
    {
        "domain",
        "aor",
        "owner_domain",
        "owner_uid",
        "num_participants",
        "created_datetime",
        "last_modified_datetime",
        "synchronous",
    }
)


class ConferenceCreate(ConferenceFields):
    conference: str = Field(min_length=1, max_length=64, description="The bridge's extension.")


class ConferenceUpdate(ConferenceFields):
    conference: str | None = Field(None, max_length=64, description="Cannot change.")


ATTRIBUTE_DEFAULTS: dict[str, Any] = {
    "conference_type": "dedicated",
    "quorum": 0,
    "save_participants": False,
    "request_name": False,
    "annc_part": False,
    "annc_join": False,
    "annc_depart": False,
    "lock_part": False,
    "mute": False,
    "activate": True,
    "leader_required": "no",
}


class ConferenceOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    conference: str
    domain: str
    aor: str
    name: str
    owner: str
    owner_domain: str
    owner_uid: str
    conference_type: str
    direct_dial: str
    leader_pin: str | None = None
    speaker_pin: str | None = None
    participants_pin: str | None = None
    max_participants: str
    num_participants: str = "0"
    quorum: str
    save_participants: YesNo
    request_name: YesNo
    annc_part: YesNo
    annc_join: YesNo
    annc_depart: YesNo
    lock_part: YesNo
    mute: YesNo
    activate: YesNo
    leader_required: str
    time_begin: str | None = None
    time_end: str | None = None
    gmt_offset: str | None = None
    audio_dir: str | None = None
    dial_plan: str | None = None
    trigger_by: str | None = None
    prompt_audio_id: str | None = Field(None, alias="promptAudioId")
    conf_options: str | None = Field(None, alias="confOptions")
    created_datetime: ApiDatetime = Field(None, alias="created-datetime")
    last_modified_datetime: ApiDatetime = Field(None, alias="last-modified-datetime")


EXAMPLE: dict[str, Any] = {
    "conference": "3005",
    "domain": "acme",
    "aor": "3005@acme",
    "name": "My Conference Room",
    "owner": "1000",
    "owner_domain": "acme",
    "owner_uid": "1000@acme",
    "conference_type": "dedicated",
    "direct_dial": "3005",
    "leader_pin": "5678",
    "speaker_pin": None,
    "participants_pin": "1111",
    "max_participants": "10",
    "num_participants": "0",
    "quorum": "2",
    "save_participants": "yes",
    "request_name": "no",
    "annc_part": "yes",
    "annc_join": "no",
    "annc_depart": "no",
    "lock_part": "no",
    "mute": "no",
    "activate": "yes",
    "leader_required": "no",
    "time_begin": None,
    "time_end": None,
    "gmt_offset": None,
    "audio_dir": None,
    "dial_plan": None,
    "trigger_by": None,
    "promptAudioId": None,
    "confOptions": None,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
CREATE_EXAMPLE = {
    "conference": "3005",
    "owner": "1000",
    "name": "My Conference Room",
    "conference_type": "dedicated",
    "direct_dial": "3005",
    "leader_pin": "5678",
    "participants_pin": "1111",
    "max_participants": "10",
    "save_participants": "yes",
    "request_name": "no",
    "annc_part": "yes",
    "leader_required": "no",
    "quorum": "2",
}
