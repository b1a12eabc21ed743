from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

Kind = Literal["greeting", "moh", "msg"]


class MediaFields(ApiModel):
    """The NetSapiens MediaRequest: JSON with `base64_file`, or the same names as form fields
    (the file then in the `File` part). Names are accepted with `_` (as NetSapiens) or `-`."""

    synchronous: YesNo | None = Field(None, description="Accepted; every write is synchronous.")
    index: int | None = Field(
        None, ge=0, le=999, description="The file's index; omitted on create = the next free."
    )
    script: str | None = Field(
        None, max_length=2000, description="What the audio says. Alone (no file) it asks for TTS."
    )
    convert: YesNo | None = Field(
        None, description="Accepted; files are stored as uploaded, never transcoded."
    )
    encoding: str | None = Field(
        None, max_length=64, description="The client's claim; the type is read from the file."
    )
    base64_file: str | None = Field(None, description="The file, base64 (JSON only).")
    voice_language: str | None = Field(None, max_length=16, description="TTS only.")
    voice_id: str | None = Field(None, max_length=64, description="TTS only.")


class AudioFileOut(ApiOut):
    domain: str
    user: str | None
    audio_type: str
    filename: str
    ordinal_order: int
    file_duration_seconds: int
    file_duration_milliseconds: int
    file_size_kilobytes: str
    file_size_bytes: int
    file_content_type: str
    file_encoding: str
    file_sample_rate_hz: int
    file_channels: int
    file_script_text: str
    file_source: str
    file_access_url: str
    text_to_speech_voice_id: str = ""
    text_to_speech_language: str = ""
    uploaded_by: str
    created_datetime: ApiDatetime
    last_modified_datetime: ApiDatetime


class AudioCount(BaseModel):
    total: int
    count: int = Field(description="Same as total (NetSapiens' name).")
    size: int = Field(description="Bytes, all files together.")


def kilobytes(size: int) -> str:
    return f"{size / 1024:.2f} KB"


EXAMPLE: dict[str, Any] = {
    "domain": "acme",
    "user": "1001",
    "audio-type": "greeting",
    "filename": "greeting-1.wav",
    "ordinal-order": 1,
    "file-duration-seconds": 4,
    "file-duration-milliseconds": 4120,
    "file-size-kilobytes": "32.23 KB",
    "file-size-bytes": 33004,
    "file-content-type": "audio/wav",
    "file-encoding": "mulaw",
    "file-sample-rate-hz": 8000,
    "file-channels": 1,
    "file-script-text": "Hi, this is Ada. Leave a message.",
    "file-source": "upload",
    "file-access-url": "https://pbx.example/ns-api/v2/domains/acme/users/1001/greetings/1/download",
    "text-to-speech-voice-id": "",
    "text-to-speech-language": "",
    "uploaded-by": "1001@acme",
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
