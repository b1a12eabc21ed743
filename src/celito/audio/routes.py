# No `from __future__ import annotations`: the routes are made in a loop, and FastAPI must see
# the real annotation objects of these closures.
"""v2 routes for greetings, music on hold and hold messages (user's and domain's)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from celito.audio import service
from celito.audio.schemas import EXAMPLE, AudioCount, AudioFileOut, Kind
from celito.audio.service import LABEL, PLURAL
from celito.audio.storage import AudioStore
from celito.audio.web import base_url, file_responses, read_upload, stream_file
from celito.auth.caller import Caller
from celito.auth.scopes import USER_LEVEL
from celito.kit.docs import ERROR_SCHEMA, EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.web import DbSession, RuntimeDep, caller_for

router = APIRouter(tags=["Audio: greetings, music on hold, hold messages"])
DOMAIN_READERS = tuple(s for s in EVERYONE if s not in USER_LEVEL)
UPLOAD_ERRORS = (401, 403, 404, 409, 413, 422)
UPLOAD_DOC = (
    "\n\nSend either JSON with the file base64-encoded in `base64_file`, or multipart/form-data "
    "with the file in the `File` part and the other fields as form fields. The type is read "
    "from the file's bytes, not from `encoding` or the file name: WAV (PCM, µ-law or A-law) "
    "and MP3 are accepted (415 otherwise), a damaged file is 422, a file over the size limit "
    "(10 MiB by default, CELITO_AUDIO_MAX_BYTES) 413. Duration, sample rate and channels are "
    "measured from the file. `convert` is accepted, but files are stored as uploaded. "
    "Text-to-speech is not available here: a body with a `script` and no file is answered "
    "501 (a `script` sent with a file is kept as the file's description). `synchronous` is "
    "accepted; the answer is always the stored object."
)
MEDIA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "synchronous": {"type": "string", "enum": ["yes", "no"]},
        "index": {"type": "integer", "minimum": 0, "maximum": 999},
        "script": {"type": "string", "maxLength": 2000},
        "convert": {"type": "string", "enum": ["yes", "no"]},
        "encoding": {"type": "string"},
        "base64_file": {"type": "string", "format": "byte"},
        "voice_language": {"type": "string"},
        "voice_id": {"type": "string"},
    },
}
FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{k: v for k, v in MEDIA_SCHEMA["properties"].items() if k != "base64_file"},
        "File": {"type": "string", "format": "binary"},
    },
    "required": ["File"],
}
_EXTRA_ERRORS = {
    415: "Not a WAV or MP3 file (judged from its bytes), or a WAV encoding not supported",
    501: "Text-to-speech is not available: upload a file instead",
}


def _error_doc(code: int) -> dict[str, Any]:
    return {
        "description": _EXTRA_ERRORS[code],
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"code": code, "message": _EXTRA_ERRORS[code]},
            }
        },
    }


def _upload_op(summary: str, description: str, *, roles: Any, example: Any, status: int) -> Any:
    op = operation(
        summary,
        description + UPLOAD_DOC,
        roles=roles,
        example=example,
        status=status,
        errors=UPLOAD_ERRORS,
    )
    op["responses"][415] = _error_doc(415)
    op["responses"][501] = _error_doc(501)
    op["openapi_extra"]["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {
                "schema": MEDIA_SCHEMA,
                "example": {
                    "synchronous": "yes",
                    "index": 1,
                    "script": "Hi, this is Ada. Leave a message.",
                    "encoding": "audio/wav",
                    "base64_file": (  # 10 ms of µ-law WAV
                        "UklGRnYAAABXQVZFZm10IBIAAAAHAAEAQB8AAEAfAAABAAgAAABkYXRhUAAAAH//f/9//3//"
                        "f/9//3//f/9//3//f/9//3//f/9//3//f/9//3//f/9//3//f/9//3//f/9//3//f/9//3//"
                        "f/9//3//f/9//3//f/9//3//"
                    ),
                },
            },
            "multipart/form-data": {"schema": FORM_SCHEMA},
        },
    }
    return op


def _store(runtime: RuntimeDep) -> AudioStore:
    return AudioStore.prompts(runtime.settings)


async def _list(
    session: DbSession,
    caller: Caller,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str | None,
    kind: Kind,
    page: PageParams,
) -> Any:
    page.check_fields(AudioFileOut)
    o = await service.owner(session, caller, domain, user, kind, write=False)
    base = base_url(request, runtime.settings)
    rows = [service.to_out(r, o, base) for r in await service.list_(session, o, page)]
    return page.respond(rows, AudioFileOut)


async def _count(
    session: DbSession, caller: Caller, domain: str, user: str | None, kind: Kind
) -> AudioCount:
    o = await service.owner(session, caller, domain, user, kind, write=False)
    total, size = await service.count(session, o)
    return AudioCount(total=total, count=total, size=size)


async def _get(
    session: DbSession,
    caller: Caller,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str | None,
    kind: Kind,
    index: str,
) -> AudioFileOut:
    number = service.parse_index(index)
    o = await service.owner(session, caller, domain, user, kind, write=False)
    row = await service.get(session, o, number)
    return service.to_out(row, o, base_url(request, runtime.settings))


async def _download(
    session: DbSession,
    caller: Caller,
    domain: str,
    user: str | None,
    kind: Kind,
    index: str,
    runtime: RuntimeDep,
) -> StreamingResponse:
    number = service.parse_index(index)
    o = await service.owner(session, caller, domain, user, kind, write=False)
    row = await service.get(session, o, number)
    fh = service.open_file(row, _store(runtime))
    return stream_file(fh, content_type=row.content_type, filename=service.filename(row))


async def _create(
    session: DbSession,
    caller: Caller,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str | None,
    kind: Kind,
) -> AudioFileOut:
    o = await service.owner(session, caller, domain, user, kind, write=True)
    limit = runtime.settings.audio_max_bytes
    upload = await read_upload(request, max_bytes=limit)
    row = await service.create(session, caller, o, upload, store=_store(runtime), max_bytes=limit)
    return service.to_out(row, o, base_url(request, runtime.settings))


async def _replace(
    session: DbSession,
    caller: Caller,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str | None,
    kind: Kind,
    index: str,
) -> AudioFileOut:
    number = service.parse_index(index)
    o = await service.owner(session, caller, domain, user, kind, write=True)
    limit = runtime.settings.audio_max_bytes
    upload = await read_upload(request, max_bytes=limit)
    row = await service.replace(
        session, caller, o, number, upload, store=_store(runtime), max_bytes=limit
    )
    return service.to_out(row, o, base_url(request, runtime.settings))


async def _delete(
    session: DbSession,
    caller: Caller,
    request: Request,
    runtime: RuntimeDep,
    domain: str,
    user: str | None,
    kind: Kind,
    index: str,
) -> AudioFileOut:
    number = service.parse_index(index)
    o = await service.owner(session, caller, domain, user, kind, write=True)
    row = await service.delete(session, caller, o, number, store=_store(runtime))
    return service.to_out(row, o, base_url(request, runtime.settings))


Handlers = dict[str, Callable[..., Awaitable[Any]]]


def _reader(kind: Kind) -> Any:
    """API keys name `moh` for music on hold and `audio` for the rest."""
    return caller_for("moh" if kind == "moh" else "audio")


def _user_handlers(kind: Kind) -> Handlers:
    dep = _reader(kind)

    async def list_files(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        user: str,
        page: PageParams,
    ) -> Any:
        return await _list(session, caller, request, runtime, domain, user, kind, page)

    async def count_files(
        session: DbSession, caller: Annotated[Caller, dep], domain: str, user: str
    ) -> Any:
        return await _count(session, caller, domain, user, kind)

    async def create_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        user: str,
    ) -> Any:
        return await _create(session, caller, request, runtime, domain, user, kind)

    async def get_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        user: str,
        index: str,
    ) -> Any:
        return await _get(session, caller, request, runtime, domain, user, kind, index)

    async def download_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        runtime: RuntimeDep,
        domain: str,
        user: str,
        index: str,
    ) -> Any:
        return await _download(session, caller, domain, user, kind, index, runtime)

    async def replace_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        user: str,
        index: str,
    ) -> Any:
        return await _replace(session, caller, request, runtime, domain, user, kind, index)

    async def delete_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        user: str,
        index: str,
    ) -> Any:
        return await _delete(session, caller, request, runtime, domain, user, kind, index)

    return {
        "list": list_files,
        "count": count_files,
        "create": create_file,
        "get": get_file,
        "download": download_file,
        "replace": replace_file,
        "delete": delete_file,
    }


def _domain_handlers(kind: Kind) -> Handlers:
    dep = _reader(kind)

    async def list_files(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        page: PageParams,
    ) -> Any:
        return await _list(session, caller, request, runtime, domain, None, kind, page)

    async def count_files(session: DbSession, caller: Annotated[Caller, dep], domain: str) -> Any:
        return await _count(session, caller, domain, None, kind)

    async def create_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
    ) -> Any:
        return await _create(session, caller, request, runtime, domain, None, kind)

    async def get_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        index: str,
    ) -> Any:
        return await _get(session, caller, request, runtime, domain, None, kind, index)

    async def download_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        runtime: RuntimeDep,
        domain: str,
        index: str,
    ) -> Any:
        return await _download(session, caller, domain, None, kind, index, runtime)

    async def replace_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        index: str,
    ) -> Any:
        return await _replace(session, caller, request, runtime, domain, None, kind, index)

    async def delete_file(
        session: DbSession,
        caller: Annotated[Caller, dep],
        request: Request,
        runtime: RuntimeDep,
        domain: str,
        index: str,
    ) -> Any:
        return await _delete(session, caller, request, runtime, domain, None, kind, index)

    return {
        "list": list_files,
        "count": count_files,
        "create": create_file,
        "get": get_file,
        "download": download_file,
        "replace": replace_file,
        "delete": delete_file,
    }


def _register(kind: Kind, per_user: bool) -> None:
    """The seven operations of one family: list, count, create, read, download, replace,
    delete, for a user's files (`per_user`) or the domain's own."""
    what = LABEL[kind].lower()
    owner = "a user's" if per_user else "the domain's"
    base = "/domains/{domain}" + ("/users/{user}" if per_user else "") + f"/{PLURAL[kind]}"
    tag = f"{kind}_{'user' if per_user else 'domain'}"
    readers = EVERYONE if per_user else DOMAIN_READERS
    writers = EVERYONE if per_user else MANAGERS
    who = (
        " A user manages its own; managers those of the users they may change (Call Center "
        "Supervisors read). `~` works for domain and user."
        if per_user
        else " Office Managers, Resellers and Super Users change them; Site Managers and Call "
        "Center Supervisors read them. `{domain}` may be `~`."
    )
    example = {**EXAMPLE, "audio-type": kind, "filename": f"{kind}-1.wav"}
    if not per_user:
        example["user"] = None
    index_doc = {
        "greeting": " Greeting indexes start at 1 (0 is the system's generic greeting).",
        "moh": " Index 0 is the introduction, played once; 1 and up are the tracks.",
        "msg": " Indexes start at 1.",
    }[kind]

    h = _user_handlers(kind) if per_user else _domain_handlers(kind)

    router.add_api_route(
        base,
        h["list"],
        methods=["GET"],
        name=f"list_{tag}",
        response_model=list[AudioFileOut],
        **operation(
            f"List {owner} {what} files",
            f"Every {what} file of {'the user' if per_user else 'the domain'}, with its measured "
            "duration, size and format; `file-access-url` downloads it." + who,
            roles=readers,
            example=[example],
        ),
    )
    router.add_api_route(
        base + "/count",
        h["count"],
        methods=["GET"],
        name=f"count_{tag}",
        response_model=AudioCount,
        **operation(
            f"Count {owner} {what} files",
            "How many files, and their size in bytes together (`total` and NetSapiens' "
            "`count`, `size`)." + who,
            roles=readers,
            example={"total": 1, "count": 1, "size": 41146},
        ),
    )
    router.add_api_route(
        base,
        h["create"],
        methods=["POST"],
        name=f"create_{tag}",
        response_model=AudioFileOut,
        **_upload_op(
            f"Upload {owner} {what} file",
            f"Stores a new {what} file under `index` (or the next free index). An index "
            "already in use is 409: replace it with PUT." + index_doc + who,
            roles=writers,
            example=example,
            status=201,
        ),
    )
    router.add_api_route(
        base + "/{index}",
        h["get"],
        methods=["GET"],
        name=f"get_{tag}",
        response_model=AudioFileOut,
        **operation(
            f"Read one of {owner} {what} files",
            "The file's description; `…/{index}/download` gives the audio itself." + who,
            roles=readers,
            example=example,
        ),
    )
    download = operation(
        f"Download one of {owner} {what} files",
        "The audio itself, streamed with its detected content type (audio/wav or "
        "audio/mpeg) as an attachment. A file of another tenant is never reachable: the "
        "stored name is looked up through the domain and user of this URL." + who,
        roles=readers,
    )
    download["responses"].update(file_responses(f"{kind}-1"))
    router.add_api_route(
        base + "/{index}/download",
        h["download"],
        methods=["GET"],
        name=f"download_{tag}",
        response_class=StreamingResponse,
        **download,
    )
    router.add_api_route(
        base + "/{index}",
        h["replace"],
        methods=["PUT"],
        name=f"replace_{tag}",
        response_model=AudioFileOut,
        **_upload_op(
            f"Replace one of {owner} {what} files",
            "Replaces the audio of an existing index (404 if there is none); the old file is "
            "removed once the change is committed. `script` alone (TTS) is 501." + who,
            roles=writers,
            example=example,
            status=200,
        ),
    )
    router.add_api_route(
        base + "/{index}",
        h["delete"],
        methods=["DELETE"],
        name=f"delete_{tag}",
        response_model=AudioFileOut,
        **operation(
            f"Delete one of {owner} {what} files",
            "Removes it and answers with what was removed; the file leaves the disk once the "
            "deletion is committed." + who,
            roles=writers,
            example=example,
        ),
    )


USER_KINDS: tuple[Kind, ...] = ("greeting", "moh", "msg")
DOMAIN_KINDS: tuple[Kind, ...] = ("moh", "msg")
for _kind in USER_KINDS:
    _register(_kind, per_user=True)
for _kind in DOMAIN_KINDS:
    _register(_kind, per_user=False)
