from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from celito.kit.schema import MAX_INT, ApiDatetime, ApiModel, ApiOut, YesNo

FailOption = Literal[
    "",
    "repeat",
    "hangup",
    "option-1",
    "option-2",
    "option-3",
    "option-4",
    "option-5",
    "option-6",
    "option-7",
    "option-8",
    "option-9",
    "option-0",
    "option-*",
    "option-#",
]
# A time frame by name; `*` (the default) is "at any time".
TIME_FRAME_PATTERN = r"^(\*|[A-Za-z0-9][A-Za-z0-9 ._-]{0,63})$"
# Greetings: audio by index (`100`) or by file name (`greeting-100.wav`), comma-separated.
GREETINGS_PATTERN = (
    r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\s*,\s*[A-Za-z0-9][A-Za-z0-9._-]{0,127})*\s*$"
)
READ_ONLY_AUDIO = frozenset(
    {
        "file_duration_seconds",
        "file_size_kilobytes",
        "file_access_url",
        "created_datetime",
        "file_source",
    }
)


class AudioRef(ApiModel):
    """The menu's prompt: a reference to an audio file of the domain (by index or file name)
    and the text-to-speech script it was made from. Stored as given."""

    filename: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ordinal_order: int | None = Field(None, ge=0, le=MAX_INT, description="The audio's index.")
    file_script_text: str | None = Field(None, max_length=4000)
    text_to_speech_voice_id: str | None = Field(None, max_length=64)
    text_to_speech_language: str | None = Field(None, max_length=16)
    # Read-only in NetSapiens: accepted from a read-back, ignored.
    file_duration_seconds: Any = Field(None, description="Read-only; ignored.")
    file_size_kilobytes: Any = Field(None, description="Read-only; ignored.")
    file_access_url: Any = Field(None, description="Read-only; ignored.")
    created_datetime: Any = Field(None, description="Read-only; ignored.")
    file_source: Any = Field(None, description="Read-only; ignored.")


class MenuOption(ApiModel):
    """What a key does: a destination, or a sub-menu (`auto-attendant`)."""

    destination_application: str | None = Field(
        None, max_length=64, description="A dial-rule application, e.g. to-user, to-callqueue."
    )
    destination_user: str | None = Field(None, max_length=64)
    caller_name_translation: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=255)
    call_to_record: str | None = Field(None, max_length=64)
    auto_attendant: Menu | None = None
    audio: AudioRef | None = None
    remove: YesNo | None = Field(None, description="On update: yes removes this option.")


class Menu(ApiModel):
    """NetSapiens' AutoAttendantTier."""

    intro_greetings: str | None = Field(None, max_length=1000, pattern=GREETINGS_PATTERN)
    audio: AudioRef | None = None
    unassigned_key_press: FailOption | None = None
    no_key_press: FailOption | None = None
    no_key_press_timeout_seconds: int | None = Field(
        None, ge=1, le=60, description="Seconds to wait for a key (default 5)."
    )
    dial_by_extension_3: YesNo | None = Field(None, alias="3-digit-dial-by-extension")
    dial_by_extension_4: YesNo | None = Field(None, alias="4-digit-dial-by-extension")
    dial_by_extension_5: YesNo | None = Field(None, alias="5-digit-dial-by-extension")
    option_1: MenuOption | None = None
    option_2: MenuOption | None = None
    option_3: MenuOption | None = None
    option_4: MenuOption | None = None
    option_5: MenuOption | None = None
    option_6: MenuOption | None = None
    option_7: MenuOption | None = None
    option_8: MenuOption | None = None
    option_9: MenuOption | None = None
    option_0: MenuOption | None = None
    option_star: MenuOption | None = Field(None, alias="option-*")
    option_hash: MenuOption | None = Field(None, alias="option-#")


MenuOption.model_rebuild()


class AttendantCreate(ApiModel):
    user: str = Field(min_length=1, max_length=64, description="The attendant's extension.")
    attendant_name: str = Field(min_length=1, max_length=255)
    time_frame: str | None = Field(None, max_length=64, pattern=TIME_FRAME_PATTERN)
    auto_attendant: Menu | None = None
    synchronous: YesNo | None = None


class AttendantUpdate(ApiModel):
    attendant_name: str | None = Field(None, min_length=1, max_length=255)
    time_frame: str | None = Field(None, max_length=64, pattern=TIME_FRAME_PATTERN)
    auto_attendant: Menu | None = None
    # Echoed back from a read: accepted when they match, refused when they differ.
    user: str | None = Field(None, max_length=64)
    starting_prompt: str | None = Field(None, max_length=80)
    read_path: Any = Field(None, description="Read-only; ignored.")
    domain: Any = Field(None, description="Read-only; ignored.")
    created_datetime: Any = Field(None, description="Read-only; ignored.")
    last_modified_datetime: Any = Field(None, description="Read-only; ignored.")
    synchronous: YesNo | None = None


class AttendantOut(ApiOut):
    attendant_name: str
    user: str
    domain: str
    time_frame: str
    starting_prompt: str
    read_path: str
    auto_attendant: dict[str, Any]
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


MENU_EXAMPLE = {
    "intro-greetings": "100",
    "audio": {"ordinal-order": 101, "file-script-text": "For sales press 1, support press 2."},
    "no-key-press": "option-1",
    "unassigned-key-press": "repeat",
    "no-key-press-timeout-seconds": 5,
    "3-digit-dial-by-extension": "no",
    "4-digit-dial-by-extension": "yes",
    "5-digit-dial-by-extension": "no",
    "option-1": {
        "description": "Sales",
        "destination-application": "to-callqueue",
        "destination-user": "2000",
    },
    "option-2": {
        "description": "Support menu",
        "auto-attendant": {
            "4-digit-dial-by-extension": "no",
            "option-1": {"destination-application": "to-user", "destination-user": "1000"},
            "option-9": {"destination-application": "to-user", "destination-user": "3000"},
            "no-key-press": "option-1",
        },
    },
    "option-0": {"destination-application": "to-voicemail", "destination-user": "1000"},
}
EXAMPLE = {
    "attendant-name": "Main menu",
    "user": "3000",
    "domain": "acme",
    "time-frame": "*",
    "starting-prompt": "Prompt_300001",
    "read-path": "/ns-api/v2/domains/acme/users/3000/autoattendants/Prompt_300001",
    "auto-attendant": MENU_EXAMPLE,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
CREATE_EXAMPLE = {
    "user": "3000",
    "attendant-name": "Main menu",
    "time-frame": "*",
    "auto-attendant": MENU_EXAMPLE,
}
