from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import StreamingResponse

from celito.audio.storage import AudioStore
from celito.audio.web import base_url, file_responses, stream_file
from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, operation
from celito.kit.paging import PageParams
from celito.voicemail import service
from celito.voicemail.schemas import (
    BOX_EXAMPLE,
    MESSAGE_EXAMPLE,
    BoxFields,
    BoxOut,
    Folder,
    FolderCount,
    ForwardBody,
    MessageOut,
)
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(prefix="/domains/{domain}/users/{user}/voicemails", tags=["Voicemail"])
Reader = Annotated[Caller, caller_for("voicemail")]
WHO = (
    " A user opens its own box; Office Managers, Site Managers (their site), Resellers and "
    "Super Users open the boxes of the users they may change. Messages are private: other "
    "roles get 403. `~` works for domain and user."
)
FOLDER_DOC = " `{folder}` is `new`, `save` or `trash` (anything else: 400)."
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)


def _store(runtime: RuntimeDep) -> AudioStore:
    return AudioStore.voicemail(runtime.settings)


@router.get(
    "",
    response_model=BoxOut,
    **operation(
        "Read a voicemail box",
        "The box's settings (with the NetSapiens User names) and how many messages each "
        "folder holds. The PIN is never shown, only whether one is set. (NetSapiens has no "
        "such route; its settings live on the user.)" + WHO,
        roles=EVERYONE,
        example=BOX_EXAMPLE,
    ),
)
async def get_box(session: DbSession, caller: Reader, domain: str, user: str) -> BoxOut:
    mb = await service.mailbox(session, caller, domain, user, write=False)
    return await service.box_out(session, mb)


@router.put(
    "",
    response_model=BoxOut,
    **operation(
        "Change a voicemail box",
        "Changes the given settings. `voicemail-login-pin` is 4 to 12 digits, not one digit "
        "repeated, not a run like 1234 or 4321, not containing the extension; it is stored "
        'hashed (Argon2id) and never returned; `""` removes it. `voicemail-greeting-index` '
        "is 0 (the generic greeting) or the index of one of the user's greetings (422 "
        "otherwise). The e-mail alert settings are stored, but this system does not send "
        "e-mail yet." + WHO,
        roles=EVERYONE,
        example=BOX_EXAMPLE,
        request_example={
            "voicemail-login-pin": "730519",
            "voicemail-greeting-index": 1,
            "email-send-alert-new-voicemail-enabled": "yes",
            "email-send-alert-new-voicemail-behavior": "attnew",
        },
        errors=WRITE_ERRORS,
    ),
)
async def update_box(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    body: Annotated[BoxFields, Body()],
) -> BoxOut:
    mb = await service.mailbox(session, caller, domain, user, write=True)
    await service.update_box(session, caller, mb, body, hasher=runtime.hasher)
    return await service.box_out(session, mb)


@router.get(
    "/{folder}",
    response_model=list[MessageOut],
    **operation(
        "List voicemail in a folder",
        "The folder's messages, newest first unless the box prefers oldest first "
        "(`voicemail-playback-sort-newest-to-oldest`) or `sort`/`order` say otherwise; "
        "sortable: recorded-datetime, created-datetime, file-duration-seconds, FromUser. "
        "Duration, size and format are measured from the audio; `file-access-url` downloads "
        "it." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example=[MESSAGE_EXAMPLE],
    ),
)
async def list_messages(
    session: DbSession,
    caller: Reader,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    page: PageParams,
) -> Any:
    page.check_fields(MessageOut)
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=False)
    base = base_url(request, runtime.settings)
    rows = await service.list_messages(session, mb, folder, page)
    return page.respond([service.to_out(m, mb.user, base) for m in rows], MessageOut)


@router.get(
    "/{folder}/count",
    response_model=FolderCount,
    **operation(
        "Count voicemail in a folder",
        "How many messages and their bytes together (`total`, and NetSapiens' `count` and "
        "`size`)." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example={"total": 2, "count": 2, "size": 64728},
    ),
)
async def count_messages(
    session: DbSession, caller: Reader, domain: str, user: str, folder: str
) -> FolderCount:
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=False)
    total, size = await service.count_messages(session, mb, folder)
    return FolderCount(total=total, count=total, size=size)


@router.get(
    "/{folder}/{filename}",
    response_model=MessageOut,
    **operation(
        "Read a voicemail",
        "One message by its filename, in the folder it is in (404 naming the right folder "
        "otherwise). `…/download` gives the audio." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example=MESSAGE_EXAMPLE,
    ),
)
async def get_message(
    session: DbSession,
    caller: Reader,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
) -> MessageOut:
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=False)
    m = await service.get_message(session, mb, folder, filename)
    return service.to_out(m, mb.user, base_url(request, runtime.settings))


_download = operation(
    "Download a voicemail's audio",
    "The recording, streamed with its detected content type (audio/wav or audio/mpeg) as an "
    "attachment. It is found through the box of this URL's domain and user only, so "
    "another tenant's messages are never reachable." + FOLDER_DOC + WHO,
    roles=EVERYONE,
)
_download["responses"].update(file_responses("vm-20261127100014008354-6cc0…"))


@router.get("/{folder}/{filename}/download", response_class=StreamingResponse, **_download)
async def download_message(
    session: DbSession,
    caller: Reader,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
) -> StreamingResponse:
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=False)
    m = await service.get_message(session, mb, folder, filename)
    fh = service.open_message(m, _store(runtime))
    return stream_file(fh, content_type=m.content_type, filename=m.filename)


@router.delete(
    "/{folder}/{filename}",
    response_model=MessageOut,
    **operation(
        "Delete a voicemail",
        "From `new` or `save`: moves the message to `trash`. From `trash`: removes it for "
        "good (its audio leaves the disk once that is committed). Answers with the message "
        "as it now is (or was). A `voicemail` event follows (`update`, or `delete` when "
        "purged)." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example={**MESSAGE_EXAMPLE, "voicemail-folder": "trash"},
        errors=WRITE_ERRORS,
    ),
)
async def delete_message(
    session: DbSession,
    caller: Reader,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
) -> MessageOut:
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=True)
    m = await service.delete_message(session, caller, mb, folder, filename, store=_store(runtime))
    return service.to_out(m, mb.user, base_url(request, runtime.settings))


async def _move(
    session: DbSession,
    caller: Caller,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
    to: Folder,
) -> MessageOut:
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=True)
    m = await service.move(session, caller, mb, folder, filename, to)
    return service.to_out(m, mb.user, base_url(request, runtime.settings))


@router.patch(
    "/{folder}/{filename}/save",
    response_model=MessageOut,
    **operation(
        "Save a voicemail",
        "Moves the message to the `save` folder (from `new`, or back from `trash`); a "
        "`voicemail` `update` event names the previous folder." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example={**MESSAGE_EXAMPLE, "voicemail-folder": "save"},
        errors=WRITE_ERRORS,
    ),
)
async def save_message(
    session: DbSession,
    caller: Reader,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
) -> MessageOut:
    return await _move(session, caller, request, runtime, domain, user, folder, filename, "save")


@router.patch(
    "/{folder}/{filename}/new",
    response_model=MessageOut,
    **operation(
        "Mark a voicemail as new",
        "Moves the message back to the `new` folder (unheard), from `save` or `trash`. Not in "
        "NetSapiens, which only has …/save." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example=MESSAGE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def renew_message(
    session: DbSession,
    caller: Reader,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
) -> MessageOut:
    return await _move(session, caller, request, runtime, domain, user, folder, filename, "new")


@router.patch(
    "/{folder}/{filename}/forward",
    response_model=MessageOut,
    **operation(
        "Forward a voicemail",
        "Copies the message into the box of another user of the same domain "
        "(`voicemail-forward-new-destination`: an extension, or `ext@domain` of this domain), "
        "where it arrives as a new message naming who forwarded it; that user gets a "
        "`voicemail` `create` event. The original stays where it is, and is the answer. "
        "Any user of the domain can be the destination (not only those you may read); an "
        "unknown user is 422, a box that is turned off or full 409." + FOLDER_DOC + WHO,
        roles=EVERYONE,
        example=MESSAGE_EXAMPLE,
        request_example={"voicemail-forward-new-destination": "1002"},
        errors=WRITE_ERRORS,
    ),
)
async def forward_message(
    session: DbSession,
    caller: Reader,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str,
    folder: str,
    filename: str,
    body: Annotated[ForwardBody, Body()],
) -> MessageOut:
    service.check_folder(folder)
    mb = await service.mailbox(session, caller, domain, user, write=True)
    m = await service.forward(
        session,
        caller,
        mb,
        folder,
        filename,
        body.voicemail_forward_new_destination,
        store=_store(runtime),
    )
    return service.to_out(m, mb.user, base_url(request, runtime.settings))
