"""Greetings, music on hold and hold messages, per user or per domain: one file per index.

Files are checked by their content (audio.media), stored under the data directory
(audio.storage: random names, written before commit, removed after commit) and described by an
AudioFile row. Text-to-speech is not available on this system: a request that only carries a
`script` is answered 501, never with a fake success.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio.to_thread
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.audio import media
from celito.audio.models import AudioFile
from celito.audio.schemas import AudioFileOut, Kind, MediaFields, kilobytes
from celito.audio.storage import AudioStore
from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.auth.policy import check_manage_user, deny
from celito.auth.scopes import DOMAIN_MANAGERS
from celito.domains import service as domains
from celito.domains.models import Domain
from celito.errors import (
    BadRequest,
    CelitoError,
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from celito.kit.paging import Page
from celito.users import service as users
from celito.users.models import User

MAX_FILES = 100  # per owner and kind
MAX_INDEX = 999
MIN_INDEX: dict[str, int] = {"greeting": 1, "moh": 0, "msg": 1}
LABEL: dict[str, str] = {"greeting": "Greeting", "moh": "Music on hold", "msg": "Hold message"}
PLURAL: dict[str, str] = {"greeting": "greetings", "moh": "moh", "msg": "msg"}
SORTABLE = {
    "ordinal-order": AudioFile.ordinal,
    "index": AudioFile.ordinal,
    "created-datetime": AudioFile.created_at,
    "file-duration-seconds": AudioFile.duration_ms,
    "file-size-bytes": AudioFile.size_bytes,
}
TTS_UNAVAILABLE = (
    "Text-to-speech is not available on this system, so a `script` alone cannot make audio. "
    "Upload the recording instead: a WAV or MP3 file as `base64_file` in JSON, or as the "
    "`File` part of a multipart/form-data body."
)


class TextToSpeechUnavailable(CelitoError):
    status = 501


@dataclass(frozen=True)
class Upload:
    """What a create or replace request carried: its fields and the file (None: no file)."""

    fields: MediaFields
    data: bytes | None


@dataclass(frozen=True)
class Owner:
    """Whose files of which kind: a user's, or the domain's own (user None)."""

    domain: Domain
    user: User | None
    kind: Kind

    def clause(self) -> Any:
        who = (
            AudioFile.user_id.is_(None) if self.user is None else AudioFile.user_id == self.user.id
        )
        return (AudioFile.domain_id == self.domain.id) & who & (AudioFile.kind == self.kind)

    def name(self, index: int) -> str:
        where = f"user {self.user.user}" if self.user else f"domain {self.domain.name}"
        return f"{LABEL[self.kind]} {index} of {where}"


async def owner(
    session: AsyncSession,
    caller: Caller,
    domain: str,
    user: str | None,
    kind: Kind,
    *,
    write: bool,
) -> Owner:
    """Resolves the owner and checks the caller may read (or change) its files.

    A user's files: the user itself and whoever may read (change) that user. The domain's own:
    managers read (Site Managers and supervisors too); Office Managers, Resellers and Super
    Users change them. Outside the caller's tenancy: 404.
    """
    if user is None:
        found = await domains.get(session, caller, domain)
        what = f"the domain's {LABEL[kind].lower()} files"
        if caller.is_user_level:
            raise deny(f"A {caller.scope} cannot read {what}")
        if write and caller.scope not in DOMAIN_MANAGERS:
            raise deny(f"A {caller.scope} cannot change {what}")
        return Owner(found, None, kind)
    target = await users.get(session, caller, domain, user)
    if write:
        check_manage_user(caller, target)
    return Owner(target.domain, target, kind)


def parse_index(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 3):
        raise BadRequest(f"index '{value[:40]}' is not valid: use a whole number 0 to {MAX_INDEX}")
    return int(value)


def filename(row: AudioFile) -> str:
    return f"{row.kind}-{row.ordinal}.{'mp3' if row.codec == 'mp3' else 'wav'}"


def to_out(row: AudioFile, o: Owner, base_url: str = "") -> AudioFileOut:
    at = f"/domains/{o.domain.name}" + (f"/users/{o.user.user}" if o.user else "")
    return AudioFileOut(
        domain=o.domain.name,
        user=o.user.user if o.user else None,
        audio_type=row.kind,
        filename=filename(row),
        ordinal_order=row.ordinal,
        file_duration_seconds=(row.duration_ms + 500) // 1000,
        file_duration_milliseconds=row.duration_ms,
        file_size_kilobytes=kilobytes(row.size_bytes),
        file_size_bytes=row.size_bytes,
        file_content_type=row.content_type,
        file_encoding=row.codec,
        file_sample_rate_hz=row.sample_rate,
        file_channels=row.channels,
        file_script_text=row.script,
        file_source=row.source,
        file_access_url=f"{base_url}/ns-api/v2{at}/{PLURAL[row.kind]}/{row.ordinal}/download",
        uploaded_by=row.uploaded_by,
        created_datetime=row.created_at,
        last_modified_datetime=row.updated_at,
    )


def snapshot(row: AudioFile) -> dict[str, Any]:
    return {
        "ordinal-order": row.ordinal,
        "filename": filename(row),
        "file-content-type": row.content_type,
        "file-encoding": row.codec,
        "file-size-bytes": row.size_bytes,
        "file-duration-milliseconds": row.duration_ms,
        "sha256": row.sha256,
        "file-script-text": row.script,
    }


def _audit(
    session: AsyncSession, caller: Caller, action: str, row: AudioFile, o: Owner, **kw: Any
) -> None:
    audit.record(
        session,
        caller,
        action,
        "audio",
        f"{row.kind}/{row.ordinal}",
        reseller=o.domain.reseller.name,
        domain=o.domain.name,
        user=o.user.user if o.user else "",
        **kw,
    )


async def list_(session: AsyncSession, o: Owner, page: Page) -> list[AudioFile]:
    stmt = page.apply(select(AudioFile).where(o.clause()), SORTABLE, "ordinal-order")
    return list((await session.scalars(stmt)).all())


async def count(session: AsyncSession, o: Owner) -> tuple[int, int]:
    """How many files, and their bytes together."""
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(AudioFile.size_bytes), 0)).where(o.clause())
        )
    ).one()
    return int(row[0]), int(row[1])


async def get(session: AsyncSession, o: Owner, index: int) -> AudioFile:
    found = await session.scalar(select(AudioFile).where(o.clause(), AudioFile.ordinal == index))
    if found is None:
        raise NotFound(f"{o.name(index)} does not exist")
    return found


def inspect(data: bytes, *, max_bytes: int) -> media.AudioInfo:
    """The audio's facts, or 413 (too big), 415 (not WAV/MP3), 422 (damaged)."""
    return media.inspect(data, max_bytes=max_bytes)


def _require_file(upload: Upload) -> bytes:
    if upload.data is None:
        if upload.fields.script:
            raise TextToSpeechUnavailable(TTS_UNAVAILABLE)
        raise Unprocessable(
            "No audio file: send `base64_file` in JSON, or a `File` part in multipart/form-data"
        )
    return upload.data


async def _free_index(session: AsyncSession, o: Owner) -> int:
    used = set((await session.scalars(select(AudioFile.ordinal).where(o.clause()))).all())
    for i in range(1, MAX_INDEX + 1):  # music on hold's 0 (the intro) only when asked for
        if i not in used:
            return i
    raise Conflict(f"No free index left for {LABEL[o.kind].lower()} files")


def _fill(row: AudioFile, info: media.AudioInfo, data: bytes, name: str, caller: Caller) -> None:
    row.storage_name = name
    row.content_type = info.content_type
    row.codec = info.codec
    row.size_bytes = info.size
    row.duration_ms = info.duration_ms
    row.sample_rate = info.sample_rate
    row.channels = info.channels
    row.bits_per_sample = info.bits_per_sample
    row.sha256 = hashlib.sha256(data).hexdigest()
    row.source = "upload"
    row.uploaded_by = caller.uid


async def _flush(session: AsyncSession, o: Owner, index: int) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same index won
        raise Conflict(f"{o.name(index)} already exists") from exc


async def create(
    session: AsyncSession,
    caller: Caller,
    o: Owner,
    upload: Upload,
    *,
    store: AudioStore,
    max_bytes: int,
) -> AudioFile:
    data = _require_file(upload)
    info = inspect(data, max_bytes=max_bytes)
    index = upload.fields.index
    if index is None:
        index = await _free_index(session, o)
    elif index < MIN_INDEX[o.kind]:
        raise Unprocessable(f"index must be {MIN_INDEX[o.kind]} to {MAX_INDEX} for this kind")
    elif await session.scalar(select(AudioFile.id).where(o.clause(), AudioFile.ordinal == index)):
        raise Conflict(f"{o.name(index)} already exists; replace it with PUT on its index")
    total, _ = await count(session, o)
    if total >= MAX_FILES:
        raise Conflict(f"At most {MAX_FILES} {LABEL[o.kind].lower()} files are kept per owner")
    name = await store.put(session, o.domain.id, data, info.extension)
    row = AudioFile(
        domain_id=o.domain.id,
        user_id=o.user.id if o.user else None,
        kind=o.kind,
        ordinal=index,
        script=upload.fields.script or "",
    )
    _fill(row, info, data, name, caller)
    session.add(row)
    await _flush(session, o, index)
    _audit(session, caller, "create", row, o, after=snapshot(row))
    return row


async def replace(
    session: AsyncSession,
    caller: Caller,
    o: Owner,
    index: int,
    upload: Upload,
    *,
    store: AudioStore,
    max_bytes: int,
) -> AudioFile:
    row = await get(session, o, index)
    if upload.fields.index is not None and upload.fields.index != index:
        raise Unprocessable(f"index {upload.fields.index} in the body differs from {index}")
    data = _require_file(upload)
    info = inspect(data, max_bytes=max_bytes)
    before = snapshot(row)
    name = await store.put(session, o.domain.id, data, info.extension)
    await store.discard(session, o.domain.id, row.storage_name)
    _fill(row, info, data, name, caller)
    if upload.fields.script is not None:
        row.script = upload.fields.script
    await session.flush()
    _audit(session, caller, "update", row, o, before=before, after=snapshot(row))
    return row


async def delete(
    session: AsyncSession, caller: Caller, o: Owner, index: int, *, store: AudioStore
) -> AudioFile:
    row = await get(session, o, index)
    await session.delete(row)
    await store.discard(session, o.domain.id, row.storage_name)
    _audit(session, caller, "delete", row, o, before=snapshot(row))
    return row


def open_file(row: AudioFile, store: AudioStore) -> BinaryIO:
    found = store.open(row.domain_id, row.storage_name)
    if found is None:
        raise ServiceUnavailable(
            "The audio file is missing from this node's storage (with several nodes, the data "
            "directory's audio/ folder must be shared)"
        )
    return found


# --- For other resources (voicemail, user deletion, the telephony plane) -----------------------


async def find(
    session: AsyncSession, domain_id: int, user_id: int | None, kind: Kind, index: int
) -> AudioFile | None:
    who = AudioFile.user_id.is_(None) if user_id is None else AudioFile.user_id == user_id
    found: AudioFile | None = await session.scalar(
        select(AudioFile).where(
            AudioFile.domain_id == domain_id,
            who,
            AudioFile.kind == kind,
            AudioFile.ordinal == index,
        )
    )
    return found


async def delete_for_user(
    session: AsyncSession, domain_id: int, user: str, *, store: AudioStore
) -> int:
    """Removes all of a user's audio files (rows now, files after commit); how many. Call it
    before deleting the user, with AudioStore.prompts(settings)."""
    rows = (
        await session.scalars(
            select(AudioFile)
            .join(User, User.id == AudioFile.user_id)
            .where(User.domain_id == domain_id, User.user == user)
        )
    ).all()
    for row in rows:
        await store.discard(session, domain_id, row.storage_name)
        await session.delete(row)
    await session.flush()
    return len(rows)


async def sweep(session: AsyncSession, store: AudioStore, *, grace_seconds: float = 3600.0) -> int:
    """Removes stored files no row names (left by a crash); how many. See audio.storage."""
    known: dict[int, set[str]] = {
        d: set() for d in (await session.scalars(select(Domain.id))).all()
    }
    for domain_id, name in (
        await session.execute(select(AudioFile.domain_id, AudioFile.storage_name))
    ).all():
        known.setdefault(domain_id, set()).add(name)
    removed = await anyio.to_thread.run_sync(
        lambda: store.sweep(known, grace_seconds=grace_seconds)
    )
    return len(removed)
