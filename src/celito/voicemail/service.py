"""Voicemail boxes and messages.

Each user has one box (created on first need, or with the user through
`create_box_for_user`): a PIN (digits, stored hashed), the greeting to play (by index, 0 = the
generic one), and notification settings with the NetSapiens User names. E-mail notification
settings are stored, but this system sends no e-mail yet. Messages sit in the folders new, save
and trash; deleting moves to trash, deleting from trash purges (the row now, the file after
commit). The telephony plane leaves messages through `deposit`; every new, moved, forwarded or
purged message is a `voicemail` event.

Messages are private: only the box's user and the managers who may change that user (Office
Managers, Site Managers of the user's site, Resellers, Super Users) reach a box.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import anyio.to_thread
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.audio import service as audio
from celito.audio.models import AudioFile
from celito.audio.schemas import kilobytes
from celito.audio.storage import AudioStore
from celito.auditlog import service as audit
from celito.auth.caller import Caller, system_caller
from celito.auth.crypto import PasswordHasher
from celito.auth.policy import check_manage_user
from celito.db import utcnow
from celito.domains.models import Domain
from celito.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, Unprocessable
from celito.events import outbox
from celito.kit.paging import Page
from celito.users import service as users
from celito.users.models import User
from celito.voicemail.models import VoicemailBox, VoicemailMessage
from celito.voicemail.schemas import FOLDERS, BoxFields, BoxOut, Folder, MessageOut

MAX_MESSAGES = 1000  # per box, all folders together
SORTABLE = {
    "recorded-datetime": VoicemailMessage.received_at,
    "created-datetime": VoicemailMessage.created_at,
    "file-duration-seconds": VoicemailMessage.duration_ms,
    "FromUser": VoicemailMessage.caller_id_number,
}
_BOX_COLUMNS = {
    "voicemail_enabled": "enabled",
    "voicemail_greeting_index": "greeting_index",
    "voicemail_user_control_enabled": "user_control_enabled",
    "voicemail_receive_broadcast_enabled": "receive_broadcast_enabled",
    "voicemail_playback_announce_datetime_received": "announce_datetime_received",
    "voicemail_playback_announce_caller_id": "announce_caller_id",
    "voicemail_playback_sort_newest_to_oldest": "sort_newest_first",
    "voicemail_transcription_enabled": "transcription",
    "email_send_alert_new_voicemail_enabled": "email_alert_enabled",
    "email_send_alert_new_voicemail_behavior": "email_alert_behavior",
    "email_send_alert_new_voicemail_cc_list_csv": "email_alert_cc_csv",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- PINs (pure) -------------------------------------------------------------------------------


def pin_problem(pin: str, extension: str) -> str | None:
    """Why a PIN is too easy to guess, or None. Digits and length are checked by the schema."""
    if not pin.isascii() or not pin.isdigit() or not 4 <= len(pin) <= 12:
        return "the PIN must be 4 to 12 digits"
    if len(set(pin)) == 1:
        return "the PIN must not be one digit repeated"
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    if steps in ({1}, {9}):
        return "the PIN must not be a run of consecutive digits"
    if pin == extension or pin in extension or (len(extension) >= 4 and extension in pin):
        return "the PIN must not contain the extension"
    return None


def check_pin(pin: str, extension: str) -> str:
    problem = pin_problem(pin, extension)
    if problem:
        raise Unprocessable(f"voicemail-login-pin: {problem}")
    return pin


# --- Boxes ---------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """A user and its box settings (a default, unsaved box until one is stored)."""

    user: User
    box: VoicemailBox

    @property
    def domain(self) -> Domain:
        return self.user.domain


def _default_box(user: User) -> VoicemailBox:
    return VoicemailBox(
        domain_id=user.domain_id,
        user_id=user.id,
        pin_hash=None,
        enabled=True,
        greeting_index=0,
        user_control_enabled=True,
        receive_broadcast_enabled=True,
        announce_datetime_received=False,
        announce_caller_id=False,
        sort_newest_first=True,
        transcription="no",
        email_alert_enabled=False,
        email_alert_behavior="no",
        email_alert_cc_csv="",
    )


async def _box(session: AsyncSession, user: User, *, create: bool) -> VoicemailBox:
    found = await session.scalar(select(VoicemailBox).where(VoicemailBox.user_id == user.id))
    if found is not None:
        return found
    box = _default_box(user)
    if create:
        session.add(box)
        await session.flush()
    return box


async def mailbox(
    session: AsyncSession, caller: Caller, domain: str, user: str, *, write: bool
) -> Mailbox:
    """The box of `user`, if the caller may open it: its own user, or a manager who may change
    that user (reading other people's messages needs the same right as changing them)."""
    target = await users.get(session, caller, domain, user)
    check_manage_user(caller, target)
    return Mailbox(target, await _box(session, target, create=write))


async def _user_in(session: AsyncSession, domain_id: int, extension: str) -> User:
    found = await session.scalar(
        select(User).where(User.domain_id == domain_id, User.user == extension)
    )
    if found is None:
        raise NotFound(f"User {extension} does not exist")
    return found


async def _counts(session: AsyncSession, user_id: int) -> dict[str, tuple[int, int]]:
    rows = await session.execute(
        select(
            VoicemailMessage.folder,
            func.count(),
            func.coalesce(func.sum(VoicemailMessage.size_bytes), 0),
        )
        .where(VoicemailMessage.user_id == user_id)
        .group_by(VoicemailMessage.folder)
    )
    return {folder: (int(n), int(size)) for folder, n, size in rows.all()}


async def box_out(session: AsyncSession, mb: Mailbox) -> BoxOut:
    counts = await _counts(session, mb.user.id)
    b = mb.box
    return BoxOut(
        domain=mb.domain.name,
        user=mb.user.user,
        voicemail_enabled=b.enabled,
        voicemail_login_pin_set=b.pin_hash is not None,
        voicemail_greeting_index=b.greeting_index,
        voicemail_user_control_enabled=b.user_control_enabled,
        voicemail_receive_broadcast_enabled=b.receive_broadcast_enabled,
        voicemail_playback_announce_datetime_received=b.announce_datetime_received,
        voicemail_playback_announce_caller_id=b.announce_caller_id,
        voicemail_playback_sort_newest_to_oldest=b.sort_newest_first,
        voicemail_transcription_enabled=b.transcription,
        email_send_alert_new_voicemail_enabled=b.email_alert_enabled,
        email_send_alert_new_voicemail_behavior=b.email_alert_behavior,
        email_send_alert_new_voicemail_cc_list_csv=b.email_alert_cc_csv,
        voicemail_count_new=counts.get("new", (0, 0))[0],
        voicemail_count_save=counts.get("save", (0, 0))[0],
        voicemail_count_trash=counts.get("trash", (0, 0))[0],
        voicemail_size_bytes=sum(size for _, size in counts.values()),
        created_datetime=b.created_at,
        last_modified_datetime=b.updated_at,
    )


def _box_snapshot(b: VoicemailBox) -> dict[str, Any]:
    values = {api: getattr(b, column) for api, column in _BOX_COLUMNS.items()}
    values["voicemail_login_pin"] = b.pin_hash
    return values


async def _apply(
    session: AsyncSession, b: VoicemailBox, user: User, body: BoxFields, hasher: PasswordHasher
) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"synchronous"})
    if "voicemail_login_pin" in values:
        pin = values.pop("voicemail_login_pin")
        if pin is None or pin == "":
            b.pin_hash = None
        else:
            b.pin_hash = await hasher.hash_async(check_pin(pin, user.user))
    index = values.get("voicemail_greeting_index")
    if index and await audio.find(session, user.domain_id, user.id, "greeting", index) is None:
        raise Unprocessable(
            f"voicemail-greeting-index: greeting {index} does not exist for user {user.user}; "
            "upload it first (POST …/greetings) or use 0 for the generic greeting"
        )
    if values.get("email_send_alert_new_voicemail_cc_list_csv") is not None:
        items = values["email_send_alert_new_voicemail_cc_list_csv"].split(",")
        values["email_send_alert_new_voicemail_cc_list_csv"] = ",".join(
            i.strip() for i in items if i.strip()
        )
    for field, value in values.items():
        if value is None:
            raise Unprocessable(f"{field.replace('_', '-')} cannot be null")
        setattr(b, _BOX_COLUMNS[field], value)


async def update_box(
    session: AsyncSession, caller: Caller, mb: Mailbox, body: BoxFields, *, hasher: PasswordHasher
) -> Mailbox:
    before = _box_snapshot(mb.box)
    await _apply(session, mb.box, mb.user, body, hasher)
    await session.flush()
    audit.record(
        session,
        caller,
        "update",
        "voicemailbox",
        mb.user.uid,
        reseller=mb.domain.reseller.name,
        domain=mb.domain.name,
        user=mb.user.user,
        before=before,
        after=_box_snapshot(mb.box),
    )
    return mb


async def verify_pin(
    session: AsyncSession, domain_id: int, user: str, pin: str, *, hasher: PasswordHasher
) -> bool:
    """For the telephony plane's voicemail IVR: whether `pin` opens the user's box."""
    found = await session.scalar(
        select(VoicemailBox.pin_hash)
        .join(User, User.id == VoicemailBox.user_id)
        .where(User.domain_id == domain_id, User.user == user)
    )
    return await hasher.verify(pin, found)


async def active_greeting(session: AsyncSession, domain_id: int, user: str) -> AudioFile | None:
    """For the telephony plane: the greeting file to play, or None for the generic one (also
    when the chosen greeting was deleted since)."""
    owner = await _user_in(session, domain_id, user)
    box = await _box(session, owner, create=False)
    if not box.greeting_index:
        return None
    return await audio.find(session, domain_id, owner.id, "greeting", box.greeting_index)


# --- Messages ------------------------------------------------------------------------------


def check_folder(folder: str) -> Folder:
    if folder not in FOLDERS:
        raise BadRequest(f"Unknown voicemail folder '{folder[:40]}'; use new, save or trash")
    return folder


def _location(mb_domain: str, mb_user: str, m: VoicemailMessage) -> str:
    return f"/ns-api/v2/domains/{mb_domain}/users/{mb_user}/voicemails/{m.folder}/{m.filename}"


def to_out(m: VoicemailMessage, user: User, base_url: str = "") -> MessageOut:
    return MessageOut(
        domain=user.domain.name,
        user=user.user,
        filename=m.filename,
        index=m.filename.rsplit(".", 1)[0],
        voicemail_folder=m.folder,
        file_duration_seconds=(m.duration_ms + 500) // 1000,
        file_duration_milliseconds=m.duration_ms,
        file_size_kilobytes=kilobytes(m.size_bytes),
        file_size_bytes=m.size_bytes,
        file_content_type=m.content_type,
        file_encoding=m.codec,
        file_sample_rate_hz=m.sample_rate,
        file_channels=m.channels,
        file_access_url=base_url + _location(user.domain.name, user.user, m) + "/download",
        from_name=m.caller_id_name,
        from_user=m.caller_id_number,
        from_host=m.from_host,
        nms_ani=m.caller_id_number,
        transcription=m.transcription,
        voicemail_forwarded_from=m.forwarded_from,
        recorded_datetime=m.received_at,
        created_datetime=m.created_at,
        last_modified_datetime=m.updated_at,
    )


def _emit(
    session: AsyncSession, action: str, m: VoicemailMessage, user: User, **extra: Any
) -> None:
    payload = to_out(m, user).model_dump(by_alias=True, mode="json")
    payload.update(extra)
    outbox.record(
        session,
        "voicemail",
        action,
        payload,
        reseller=user.domain.reseller.name,
        domain=user.domain.name,
        user=user.user,
    )


def _audit(
    session: AsyncSession, caller: Caller, action: str, m: VoicemailMessage, user: User, **kw: Any
) -> None:
    audit.record(
        session,
        caller,
        action,
        "voicemail",
        m.filename,
        reseller=user.domain.reseller.name,
        domain=user.domain.name,
        user=user.user,
        **kw,
    )


def _snapshot(m: VoicemailMessage) -> dict[str, Any]:
    return {
        "filename": m.filename,
        "voicemail-folder": m.folder,
        "file-size-bytes": m.size_bytes,
        "file-duration-milliseconds": m.duration_ms,
        "FromUser": m.caller_id_number,
        "sha256": m.sha256,
    }


def _in_folder(user_id: int, folder: Folder) -> Any:
    return (VoicemailMessage.user_id == user_id) & (VoicemailMessage.folder == folder)


async def list_messages(
    session: AsyncSession, mb: Mailbox, folder: str, page: Page
) -> list[VoicemailMessage]:
    where = _in_folder(mb.user.id, check_folder(folder))
    if page.sort is None and mb.box.sort_newest_first:
        page = Page(start=page.start, limit=page.limit, order="desc", fields=page.fields)
    stmt = page.apply(select(VoicemailMessage).where(where), SORTABLE, "recorded-datetime")
    return list((await session.scalars(stmt)).all())


async def count_messages(session: AsyncSession, mb: Mailbox, folder: str) -> tuple[int, int]:
    where = _in_folder(mb.user.id, check_folder(folder))
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(VoicemailMessage.size_bytes), 0)).where(
                where
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def get_message(
    session: AsyncSession, mb: Mailbox, folder: str, filename: str
) -> VoicemailMessage:
    wanted = check_folder(folder)
    found = await session.scalar(
        select(VoicemailMessage).where(
            VoicemailMessage.user_id == mb.user.id, VoicemailMessage.filename == filename
        )
    )
    shown = filename[:100]
    if found is None:
        raise NotFound(f"Voicemail {shown} does not exist for user {mb.user.user}")
    if found.folder != wanted:
        raise NotFound(f"Voicemail {shown} is not in folder {wanted} (it is in {found.folder})")
    return found


def open_message(m: VoicemailMessage, store: AudioStore) -> Any:
    fh = store.open(m.domain_id, m.storage_name)
    if fh is None:
        raise ServiceUnavailable(
            "The voicemail's audio is missing from this node's storage (with several nodes, "
            "the data directory's audio/ folder must be shared)"
        )
    return fh


async def move(
    session: AsyncSession,
    caller: Caller,
    mb: Mailbox,
    folder: str,
    filename: str,
    to: Folder,
) -> VoicemailMessage:
    m = await get_message(session, mb, folder, filename)
    if m.folder == to:
        return m
    before = m.folder
    m.folder = to
    m.folder_changed_at = utcnow()
    await session.flush()
    _emit(session, "update", m, mb.user, **{"voicemail-folder-previous": before})
    _audit(session, caller, "update", m, mb.user, before={"folder": before}, after={"folder": to})
    return m


async def delete_message(
    session: AsyncSession,
    caller: Caller,
    mb: Mailbox,
    folder: str,
    filename: str,
    *,
    store: AudioStore,
) -> VoicemailMessage:
    """From new or save: to trash. From trash: gone for good (the file after commit)."""
    m = await get_message(session, mb, folder, filename)
    if m.folder != "trash":
        return await move(session, caller, mb, folder, filename, "trash")
    _emit(session, "delete", m, mb.user)
    _audit(session, caller, "delete", m, mb.user, before=_snapshot(m))
    await session.delete(m)
    await store.discard(session, m.domain_id, m.storage_name)
    await session.flush()
    return m


def _new_filename(received: datetime, extension: str) -> str:
    return f"vm-{received:%Y%m%d%H%M%S%f}-{secrets.token_hex(16)}.{extension}"


def _clean(value: str, limit: int) -> str:
    return _CONTROL.sub("", value).strip()[:limit]


async def _room_for_one(session: AsyncSession, user: User, box: VoicemailBox) -> None:
    if not box.enabled:
        raise Conflict(f"Voicemail is turned off for user {user.user}")
    held = await session.scalar(select(func.count()).where(VoicemailMessage.user_id == user.id))
    if (held or 0) >= MAX_MESSAGES:
        raise Conflict(f"The voicemail box of user {user.user} is full ({MAX_MESSAGES} messages)")


async def deposit(
    session: AsyncSession,
    domain_id: int,
    user: str,
    audio_bytes: bytes,
    caller_id: str,
    *,
    store: AudioStore,
    max_bytes: int,
    caller_name: str = "",
    from_host: str = "",
    received_at: datetime | None = None,
    transcription: str = "",
) -> VoicemailMessage:
    """Leaves a new message in `user`'s box (the telephony plane's entry point).

    The audio is checked like an upload (413 too big, 415 not WAV/MP3, 422 damaged), stored,
    and announced with a `voicemail` `create` event. Conflict when the box is turned off or
    full. The caller commits.
    """
    info = audio.inspect(audio_bytes, max_bytes=max_bytes)
    owner = await _user_in(session, domain_id, user)
    box = await _box(session, owner, create=True)
    await _room_for_one(session, owner, box)
    received = received_at or utcnow()
    name = await store.put(session, domain_id, audio_bytes, info.extension)
    m = VoicemailMessage(
        domain_id=domain_id,
        user_id=owner.id,
        folder="new",
        filename=_new_filename(received, info.extension),
        storage_name=name,
        content_type=info.content_type,
        codec=info.codec,
        size_bytes=info.size,
        duration_ms=info.duration_ms,
        sample_rate=info.sample_rate,
        channels=info.channels,
        sha256=hashlib.sha256(audio_bytes).hexdigest(),
        caller_id_number=_clean(caller_id, 64),
        caller_id_name=_clean(caller_name, 100),
        from_host=_clean(from_host, 255),
        transcription=_clean(transcription, 100_000),
        received_at=received,
        folder_changed_at=utcnow(),
    )
    session.add(m)
    await session.flush()
    _emit(session, "create", m, owner)
    _audit(session, system_caller("system"), "create", m, owner, after=_snapshot(m))
    return m


def _destination(value: str, domain: Domain) -> str:
    extension, _, host = value.strip().partition("@")
    if host and host.lower() != domain.name:
        raise Unprocessable(
            f"voicemail-forward-new-destination: a voicemail can only be forwarded to a user "
            f"of domain {domain.name}"
        )
    if not extension:
        raise Unprocessable("voicemail-forward-new-destination: name a user (extension)")
    return extension


async def forward(
    session: AsyncSession,
    caller: Caller,
    mb: Mailbox,
    folder: str,
    filename: str,
    destination: str,
    *,
    store: AudioStore,
) -> VoicemailMessage:
    """Copies the message into another user's box of the same domain, as a new message.
    The original stays where it is."""
    m = await get_message(session, mb, folder, filename)
    extension = _destination(destination, mb.domain)
    target = await session.scalar(
        select(User).where(User.domain_id == mb.domain.id, User.user == extension)
    )
    if target is None:
        raise Unprocessable(
            f"voicemail-forward-new-destination: user {extension[:64]} does not exist in "
            f"domain {mb.domain.name}"
        )
    if target.id == mb.user.id:
        raise Unprocessable("voicemail-forward-new-destination: the message is already here")
    box = await _box(session, target, create=True)
    await _room_for_one(session, target, box)
    name = await store.copy(session, m.domain_id, m.storage_name)
    now = utcnow()
    copy = VoicemailMessage(
        domain_id=m.domain_id,
        user_id=target.id,
        folder="new",
        filename=_new_filename(now, m.filename.rsplit(".", 1)[1]),
        storage_name=name,
        content_type=m.content_type,
        codec=m.codec,
        size_bytes=m.size_bytes,
        duration_ms=m.duration_ms,
        sample_rate=m.sample_rate,
        channels=m.channels,
        sha256=m.sha256,
        caller_id_number=m.caller_id_number,
        caller_id_name=m.caller_id_name,
        from_host=m.from_host,
        transcription=m.transcription,
        forwarded_from=mb.user.uid,
        received_at=m.received_at,
        folder_changed_at=now,
    )
    session.add(copy)
    await session.flush()
    _emit(session, "create", copy, target)
    _audit(
        session,
        caller,
        "create",
        copy,
        target,
        after=_snapshot(copy),
        details={"forwarded-from": f"{mb.user.uid}/{m.filename}"},
    )
    return m


# --- For user creation and deletion --------------------------------------------------------


async def create_box_for_user(
    session: AsyncSession,
    domain_id: int,
    user: str,
    *,
    hasher: PasswordHasher,
    settings: BoxFields | None = None,
) -> VoicemailBox:
    """The user's box, made (or updated) in the caller's transaction, with the voicemail fields
    of a user-creation body (`settings`, same names and checks as PUT …/voicemails)."""
    owner = await _user_in(session, domain_id, user)
    box = await _box(session, owner, create=True)
    if settings is not None:
        await _apply(session, box, owner, settings, hasher)
        await session.flush()
    return box


async def delete_for_user(
    session: AsyncSession, domain_id: int, user: str, *, store: AudioStore
) -> int:
    """Removes the user's box and messages (rows now, files after commit); how many messages.
    Call it before deleting the user, with AudioStore.voicemail(settings)."""
    owner = await session.scalar(select(User).where(User.domain_id == domain_id, User.user == user))
    if owner is None:
        return 0
    names: Sequence[str] = (
        await session.scalars(
            select(VoicemailMessage.storage_name).where(VoicemailMessage.user_id == owner.id)
        )
    ).all()
    for name in names:
        await store.discard(session, domain_id, name)
    await session.execute(sql_delete(VoicemailMessage).where(VoicemailMessage.user_id == owner.id))
    await session.execute(sql_delete(VoicemailBox).where(VoicemailBox.user_id == owner.id))
    return len(names)


async def sweep(session: AsyncSession, store: AudioStore, *, grace_seconds: float = 3600.0) -> int:
    """Removes stored voicemail files no row names (left by a crash); how many."""
    known: dict[int, set[str]] = {
        d: set() for d in (await session.scalars(select(Domain.id))).all()
    }
    rows = await session.execute(select(VoicemailMessage.domain_id, VoicemailMessage.storage_name))
    for domain_id, name in rows.all():
        known.setdefault(domain_id, set()).add(name)
    removed = await anyio.to_thread.run_sync(
        lambda: store.sweep(known, grace_seconds=grace_seconds)
    )
    return len(removed)
