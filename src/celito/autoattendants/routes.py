from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from celito.auth.caller import Caller
from celito.auth.scopes import Scope
from celito.autoattendants import service
from celito.autoattendants.schemas import (
    CREATE_EXAMPLE,
    EXAMPLE,
    AttendantCreate,
    AttendantOut,
    AttendantUpdate,
)
from celito.kit.docs import MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.web import DbSession, caller_for

router = APIRouter(prefix="/domains/{domain}", tags=["Auto attendants"])
Reader = Annotated[Caller, caller_for("attendant")]
READERS = (*MANAGERS, Scope.SITE_MANAGER, Scope.CALL_CENTER_SUPERVISOR)
WRITE_ERRORS = (401, 403, 404, 409, 422)
ABOUT = (
    " An attendant is an extension of the domain (`user`) with one menu per time frame; each "
    "menu is named by its `starting-prompt` (`Prompt_<extension><nn>`), unique in the domain."
)
MENU_RULES = (
    " Menu options (`option-1` … `option-9`, `option-0`, `option-*`, `option-#`) hold a "
    "`destination-application` and `destination-user`, or a sub-menu (`auto-attendant`, up to "
    "5 deep). Destinations are checked against the domain's extension plan: `to-user` reaches "
    "any extension (user, queue, attendant, conference), `to-callqueue` a queue, "
    "`to-voicemail` the voicemail of a user, `to-connection` a phone number, `hangup` ends "
    "the call; anything else is a 422. `no-key-press` (after `no-key-press-timeout-seconds`, "
    "default 5) and `unassigned-key-press` are `repeat` (default), `hangup` or an option the "
    "menu offers. The greeting is a reference to the domain's audio (`intro-greetings`: "
    "indexes or file names; `audio`: `ordinal-order`/`filename`), stored as given. "
    "`time-frame` is `*` (any time, the default) or a time frame's name. Loops between menus "
    "are allowed unless they make a dead end: every menu must offer a way out (a person, "
    "queue, conference, voicemail or number, dial-by-extension, or a hang-up), directly or "
    "through other menus; a write that would leave one without is refused (422)."
)
PROMPT_DOC = " `{prompt}` is the variant's `starting-prompt`."


@router.get(
    "/autoattendants",
    response_model=list[AttendantOut],
    **operation(
        "List auto attendants",
        "Every attendant menu of the domain (one row per attendant and time frame), with the "
        "`read-path` of each." + ABOUT,
        roles=READERS,
        example=[EXAMPLE],
    ),
)
async def list_attendants(
    session: DbSession, caller: Reader, domain: str, page: PageParams
) -> list[AttendantOut]:
    return await service.list_(session, caller, domain, page)


@router.get(
    "/autoattendants/count",
    response_model=Count,
    **operation(
        "Count auto attendants",
        "How many attendants (extensions) the domain has, as `limits-max-auto-attendants` "
        "counts them.",
        roles=READERS,
        example={"total": 2},
    ),
)
async def count_attendants(session: DbSession, caller: Reader, domain: str) -> Count:
    return Count(total=await service.count(session, caller, domain))


@router.post(
    "/autoattendants",
    response_model=AttendantOut,
    **operation(
        "Create an auto attendant",
        "Creates an attendant's menu for one time frame. The first menu of an extension "
        "claims it in the domain's extension plan (409 if a user, queue or conference has "
        "it) and counts against `limits-max-auto-attendants` (409); another time frame of the "
        "same attendant adds a variant (409 if that time frame already has one)."
        + ABOUT
        + MENU_RULES,
        roles=MANAGERS,
        example=EXAMPLE,
        status=201,
        request_example=CREATE_EXAMPLE,
        errors=WRITE_ERRORS,
    ),
)
async def create_attendant(
    session: DbSession, caller: Reader, domain: str, body: Annotated[AttendantCreate, Body()]
) -> AttendantOut:
    return await service.create(session, caller, domain, body)


def _read_doc(extra: str) -> dict[str, Any]:
    return operation(
        "Read an auto attendant",
        "One attendant menu." + extra + PROMPT_DOC,
        roles=READERS,
        example=EXAMPLE,
    )


def _update_doc(extra: str) -> dict[str, Any]:
    return operation(
        "Update an auto attendant",
        "Changes `attendant-name`, `time-frame` or the menu. Menu keys given replace theirs "
        '(a whole option or sub-menu at a time); an option sent as `{"remove": "yes"}` or '
        "`null` is removed; keys not sent stay. `user` and `starting-prompt` cannot change."
        + extra
        + PROMPT_DOC
        + MENU_RULES,
        roles=MANAGERS,
        example=EXAMPLE,
        request_example={
            "attendant-name": "Main menu (after hours)",
            "auto-attendant": {
                "option-2": {"remove": "yes"},
                "option-9": {"destination-application": "hangup"},
            },
        },
        errors=WRITE_ERRORS,
    )


def _delete_doc(extra: str) -> dict[str, Any]:
    return operation(
        "Delete an auto attendant",
        "Removes one menu; with the attendant's last menu its extension is released. 409 "
        "while a menu or a queue overflow still sends calls to the attendant, or when the "
        "deletion would leave another menu with no way out." + extra + PROMPT_DOC,
        roles=MANAGERS,
        example=EXAMPLE,
        errors=(401, 403, 404, 409),
    )


SPEC_PATH = " NetSapiens' path, by attendant extension (`{user}`) and prompt."
SHORT_PATH = " Same as …/users/{user}/autoattendants/{prompt}, by prompt alone."


@router.get("/autoattendants/{prompt}", response_model=AttendantOut, **_read_doc(SHORT_PATH))
async def get_attendant(
    session: DbSession, caller: Reader, domain: str, prompt: str
) -> AttendantOut:
    return await service.get(session, caller, domain, prompt, user=None)


@router.put("/autoattendants/{prompt}", response_model=AttendantOut, **_update_doc(SHORT_PATH))
async def update_attendant(
    session: DbSession,
    caller: Reader,
    domain: str,
    prompt: str,
    body: Annotated[AttendantUpdate, Body()],
) -> AttendantOut:
    return await service.update(session, caller, domain, prompt, body, user=None)


@router.delete("/autoattendants/{prompt}", response_model=AttendantOut, **_delete_doc(SHORT_PATH))
async def delete_attendant(
    session: DbSession, caller: Reader, domain: str, prompt: str
) -> AttendantOut:
    return await service.delete(session, caller, domain, prompt, user=None)


@router.get(
    "/users/{user}/autoattendants/{prompt}",
    response_model=AttendantOut,
    **_read_doc(SPEC_PATH),
)
async def get_user_attendant(
    session: DbSession, caller: Reader, domain: str, user: str, prompt: str
) -> AttendantOut:
    return await service.get(session, caller, domain, prompt, user=user)


@router.put(
    "/users/{user}/autoattendants/{prompt}",
    response_model=AttendantOut,
    **_update_doc(SPEC_PATH),
)
async def update_user_attendant(
    session: DbSession,
    caller: Reader,
    domain: str,
    user: str,
    prompt: str,
    body: Annotated[AttendantUpdate, Body()],
) -> AttendantOut:
    return await service.update(session, caller, domain, prompt, body, user=user)


@router.delete(
    "/users/{user}/autoattendants/{prompt}",
    response_model=AttendantOut,
    **_delete_doc(SPEC_PATH),
)
async def delete_user_attendant(
    session: DbSession, caller: Reader, domain: str, user: str, prompt: str
) -> AttendantOut:
    return await service.delete(session, caller, domain, prompt, user=user)
