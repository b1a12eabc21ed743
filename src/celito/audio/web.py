"""The HTTP side of audio files, shared by the audio and voicemail routes: reading an upload
(JSON with base64, or multipart/form-data), streaming a stored file, and the body limits the
app's body guard applies to upload paths."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

import anyio.to_thread
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from celito.audio.media import UnsupportedMediaType
from celito.audio.schemas import MediaFields
from celito.audio.service import Upload
from celito.config import Settings
from celito.errors import PayloadTooLarge, Unprocessable

# The paths that take audio uploads: …/greetings, …/moh, …/msg (domain or user), with an index.
UPLOAD_PATHS = r"/ns-api/v2/domains/[^/]+(?:/users/[^/]+)?/(?:greetings|moh|msg)(?:/[^/]+)?/?"
FILE_PARTS = ("File", "file")
CHUNK = 64 * 1024


def body_limits(settings: Settings) -> list[tuple[str, int, tuple[str, ...]]]:
    """(path pattern, byte limit, extra content types) for the app's body guard: an upload
    body may hold the largest file base64-encoded (4/3 of it) plus the other fields."""
    limit = settings.audio_max_bytes * 4 // 3 + 64 * 1024
    return [(UPLOAD_PATHS, max(limit, settings.max_body_bytes), ("multipart/form-data",))]


def base_url(request: Request, settings: Settings) -> str:
    return settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


def _invalid(err: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in err.errors()])


def decode_base64(text: str, *, max_bytes: int) -> bytes:
    s = text.strip()
    if s.startswith("data:") and "," in s:
        s = s.split(",", 1)[1]  # a data: URL
    s = "".join(s.split())
    if len(s) // 4 * 3 > max_bytes + 3:
        raise PayloadTooLarge(f"The audio file is larger than the limit of {max_bytes} bytes")
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unprocessable("base64_file is not valid base64") from exc


async def read_upload(request: Request, *, max_bytes: int) -> Upload:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: bytes | None = None
    if kind == "multipart/form-data":
        fields: dict[str, Any] = {}
        try:
            form = await request.form(max_files=1, max_fields=20, max_part_size=64 * 1024)
        except (MultiPartException, HTTPException) as exc:  # Starlette wraps the first
            detail = exc.message if isinstance(exc, MultiPartException) else exc.detail
            raise Unprocessable(f"The multipart body is malformed: {detail}") from exc
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key not in FILE_PARTS:
                    raise Unprocessable(f"Unexpected file part '{key}'; send the file as 'File'")
                data = await value.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise PayloadTooLarge(
                        f"The audio file is larger than the limit of {max_bytes} bytes"
                    )
            elif key in FILE_PARTS:
                raise Unprocessable("'File' must be a file part (with a filename)")
            else:
                fields[key] = value
        raw: Any = fields
    elif kind in ("application/json", "") or kind.endswith("+json"):
        body = await request.body()
        if not body.strip():
            raise Unprocessable("A JSON body is required")
        try:
            raw = json.loads(body)
        except ValueError as exc:
            raise Unprocessable("The body is not valid JSON") from exc
        if not isinstance(raw, dict):
            raise Unprocessable("The body must be a JSON object")
    else:
        raise UnsupportedMediaType(f"Send application/json or multipart/form-data, not {kind}")
    try:
        model = MediaFields.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    if model.base64_file is not None:
        if data is not None:
            raise Unprocessable("Send the file once: either base64_file or a File part")
        data = decode_base64(model.base64_file, max_bytes=max_bytes)
        model = model.model_copy(update={"base64_file": None})
    return Upload(model, data)


def stream_file(fh: BinaryIO, *, content_type: str, filename: str) -> StreamingResponse:
    """Streams an already opened file, so a concurrent delete cannot cut the answer short."""
    size = os.fstat(fh.fileno()).st_size

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(fh.read, CHUNK):
                yield chunk
        finally:
            fh.close()

    return StreamingResponse(
        chunks(),
        media_type=content_type,
        headers={
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def file_responses(example_name: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a download: the audio types it may answer with."""
    return {
        200: {
            "description": "The audio file, with its detected content type",
            "content": {
                "audio/wav": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": f"(the bytes of {example_name}.wav)",
                },
                "audio/mpeg": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": f"(the bytes of {example_name}.mp3)",
                },
            },
        }
    }
