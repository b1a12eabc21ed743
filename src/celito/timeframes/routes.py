from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from celito.auth.caller import Caller
from celito.kit.docs import EVERYONE, MANAGERS, operation
from celito.kit.paging import PageParams
from celito.kit.schema import Count
from celito.timeframes import service
from celito.timeframes.schemas import (
    CREATE_EXAMPLE,
    DATES_EXAMPLE,
    EXAMPLE,
    TimeframeChild,
    TimeframeCreate,
    TimeframeEntries,
    TimeframeOut,
    TimeframeUpdate,
)
from celito.timeframes.service import Owner
from celito.web import DbSession, caller_for

router = APIRouter(tags=["Time frames"])
Reader = Annotated[Caller, caller_for("timeframe")]
WRITE_ERRORS = (401, 403, 404, 409, 422)

SEMANTICS = (
    "\n\nTypes: `always`; `days-of-week` (one entry: up to two `hhmm` windows per weekday, every "
    "week or every N weeks/months); `specific-dates` (spans from begin date+time to end "
    "date+time, optionally recurring); `holiday` (dates, yearly if asked, moved by the "
    "observance option of the weekday they fall on); `custom` (any mix). Windows are "
    "`[begin, end)`; an end of `2359` or `2400` is the end of the day; begin must be before "
    "end and a window cannot cross midnight (use two days). Times are read on the wall clock "
    "of the time frame's `time-zone` when set, else of the user whose answer rule uses it "
    "(then the domain's): across a daylight-saving change a window in the skipped hour does "
    "not happen and one in the repeated hour lasts both passes. A bad field is a 422 naming "
    "it. Entry `timeframe-id`s are generated."
)
SHARED_DOC = (
    " Shared time frames belong to the domain: its people read them, its Office Managers, "
    "Resellers and Super Users change them. `{domain}` may be `~`."
)
USER_DOC = (
    " A user's own time frames: the user manages its own; Office Managers, Site Managers (their "
    "site), Resellers and Super Users manage those of users they may change. `~` works for "
    "domain and user. A user's own time frame cannot share a name with a shared one."
)


async def _domain_reader(session: DbSession, caller: Reader, domain: str) -> Owner:
    return await service.owner(session, caller, domain, None, write=False)


async def _domain_writer(session: DbSession, caller: Reader, domain: str) -> Owner:
    return await service.owner(session, caller, domain, None, write=True)


async def _user_reader(session: DbSession, caller: Reader, domain: str, user: str) -> Owner:
    return await service.owner(session, caller, domain, user, write=False)


async def _user_writer(session: DbSession, caller: Reader, domain: str, user: str) -> Owner:
    return await service.owner(session, caller, domain, user, write=True)


def _routes(base: str, reader: Any, writer: Any, doc: str, write_roles: Any, user: bool) -> None:
    # Closures: annotations here are resolved in the module, so the dependency is a default.
    read_owner: Any = Depends(reader)
    write_owner: Any = Depends(writer)
    example = {**EXAMPLE, "user": "1001"} if user else EXAMPLE
    whose = "the user's own" if user else "the domain's shared"

    @router.get(
        base,
        response_model=list[TimeframeOut],
        **operation(
            f"List {whose} time frames",
            "Every time frame with its entries; page with `start`/`limit`, sort by "
            "`timeframe-name`, `timeframe-type` or `created-datetime`." + doc,
            roles=EVERYONE,
            example=[example],
        ),
    )
    async def list_timeframes(
        *, session: DbSession, o: Owner = read_owner, page: PageParams
    ) -> list[TimeframeOut]:
        return [service.to_out(t, o) for t in await service.list_(session, o, page)]

    @router.get(
        f"{base}/count",
        response_model=Count,
        **operation(
            f"Count {whose} time frames",
            "How many there are." + doc,
            roles=EVERYONE,
            example={"total": 3},
        ),
    )
    async def count_timeframes(*, session: DbSession, o: Owner = read_owner) -> Count:
        return Count(total=await service.count(session, o))

    @router.post(
        base,
        response_model=TimeframeOut,
        **operation(
            f"Create a time frame ({whose})",
            "Creates a time frame of any type: give `timeframe-type` and the entries in "
            "`timeframe-days-of-week-array`, `timeframe-specific-dates-array` or "
            "`timeframe-holiday-array` (a type left out is inferred from the arrays given: none "
            "→ always, several → custom). `time-zone` (optional, IANA) pins the time frame to a "
            "zone. Names are unique (409)." + SEMANTICS + doc,
            roles=write_roles,
            example=example,
            status=201,
            request_example=CREATE_EXAMPLE,
            errors=WRITE_ERRORS,
        ),
    )
    async def create_timeframe(
        *,
        session: DbSession,
        caller: Reader,
        o: Owner = write_owner,
        body: Annotated[TimeframeCreate, Body()],
    ) -> TimeframeOut:
        return service.to_out(await service.create(session, caller, o, body), o)

    @router.get(
        f"{base}/{{id}}",
        response_model=TimeframeOut,
        **operation(
            "Read a time frame",
            "One time frame by its `timeframe-id` (or its name)." + doc,
            roles=EVERYONE,
            example=example,
        ),
    )
    async def get_timeframe(*, session: DbSession, o: Owner = read_owner, id: str) -> TimeframeOut:
        return service.to_out(await service.get(session, o, id), o)

    @router.post(
        f"{base}/{{id}}",
        response_model=TimeframeOut,
        **operation(
            "Add entries to a time frame",
            "Appends date ranges (specific-dates), holidays (holiday) or any entries (custom); "
            "answers the whole time frame. An always or days-of-week time frame takes none "
            "(422): change those with PUT. At most 100 entries per array (409)." + SEMANTICS + doc,
            roles=write_roles,
            example=example,
            request_example=DATES_EXAMPLE,
            errors=WRITE_ERRORS,
        ),
    )
    async def add_timeframe_entries(
        *,
        session: DbSession,
        caller: Reader,
        o: Owner = write_owner,
        id: str,
        body: Annotated[TimeframeEntries, Body()],
    ) -> TimeframeOut:
        return service.to_out(await service.add_entries(session, caller, o, id, body), o)

    @router.put(
        f"{base}/{{id}}",
        response_model=TimeframeOut,
        **operation(
            "Update, replace entries of, rename or convert a time frame",
            "One operation for the spec's variants: an array given replaces that array's "
            "entries; with `update-only: yes` its entries (named by `timeframe-id`) are changed "
            "in place instead (a days-of-week entry without an id replaces the one entry); "
            "`type` (or `timeframe-type`) converts: to custom keeps the entries, custom cannot "
            "be converted, other conversions drop them; `timeframe-name` renames (answer rules "
            'follow); `time-zone` pins it to a zone ("" unpins). Answers the whole time frame.'
            + SEMANTICS
            + doc,
            roles=write_roles,
            example=example,
            request_example={"update-only": "yes", **CREATE_EXAMPLE},
            errors=WRITE_ERRORS,
        ),
    )
    async def update_timeframe(
        *,
        session: DbSession,
        caller: Reader,
        o: Owner = write_owner,
        id: str,
        body: Annotated[TimeframeUpdate, Body()],
    ) -> TimeframeOut:
        return service.to_out(await service.update(session, caller, o, id, body), o)

    @router.delete(
        f"{base}/{{id}}",
        response_model=TimeframeOut,
        **operation(
            "Delete a time frame, or one of its entries",
            "With `child_id` (in the body, as the spec sends it, or in the query) deletes that "
            "entry and answers the time frame; without, deletes the time frame and answers what "
            "was deleted. A time frame that answer rules use is not deleted (409 naming the "
            "users): delete or move those rules first, so that no rule silently stops working."
            + doc,
            roles=write_roles,
            example=example,
            errors=(401, 403, 404, 409, 422),
        ),
    )
    async def delete_timeframe(
        *,
        session: DbSession,
        caller: Reader,
        o: Owner = write_owner,
        id: str,
        body: Annotated[TimeframeChild | None, Body()] = None,
        child_id: Annotated[
            str | None, Query(description="The entry to delete (instead of the time frame).")
        ] = None,
    ) -> TimeframeOut:
        if child_id is not None and (body is None or not body.child_id):
            body = TimeframeChild(child_id=child_id)
        return service.to_out(await service.delete(session, caller, o, id, body), o)


_routes("/domains/{domain}/timeframes", _domain_reader, _domain_writer, SHARED_DOC, MANAGERS, False)
_routes(
    "/domains/{domain}/users/{user}/timeframes",
    _user_reader,
    _user_writer,
    USER_DOC,
    EVERYONE,
    True,
)
