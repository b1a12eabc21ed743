"""start/limit/sort/order/fields, applied the same way on every collection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Select

from celito.errors import BadRequest

MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    start: int = 0
    limit: int = 100
    sort: str | None = None
    order: Literal["asc", "desc"] = "asc"
    fields: tuple[str, ...] | None = None

    def apply(self, stmt: Select[Any], sortable: Mapping[str, Any], default: str) -> Select[Any]:
        key = self.sort or default
        column = sortable.get(key)
        if column is None:
            raise BadRequest(f"Cannot sort by '{key}'; sortable fields: {', '.join(sortable)}")
        ordered = column.desc() if self.order == "desc" else column.asc()
        return stmt.order_by(ordered).offset(self.start).limit(self.limit)

    def project(self, rows: Sequence[dict[str, Any]], known: Iterable[str]) -> list[dict[str, Any]]:
        if not self.fields:
            return list(rows)
        unknown = [f for f in self.fields if f not in set(known)]
        if unknown:
            raise BadRequest(f"Unknown field(s) in 'fields': {', '.join(unknown)}")
        return [{k: row.get(k) for k in self.fields} for row in rows]

    def check_fields(self, model: type[BaseModel]) -> None:
        """400 for a `fields` name the model does not have (before any work is done)."""
        self.project([], _names(model))

    def respond(self, rows: Sequence[BaseModel], model: type[BaseModel]) -> Any:
        """The rows as they are, or just the asked-for `fields` (then outside response_model)."""
        if not self.fields:
            return list(rows)
        dumped = [r.model_dump(by_alias=True, mode="json") for r in rows]
        return JSONResponse(self.project(dumped, _names(model)))


def _names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


async def page_params(
    start: Annotated[int, Query(ge=0, description="Offset of the first row (0-based).")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT}.")
    ] = 100,
    sort: Annotated[str | None, Query(description="Field name to sort by.")] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="Sort direction.")] = "asc",
    fields: Annotated[
        str | None, Query(description="Comma-separated field names to return.")
    ] = None,
) -> Page:
    wanted = tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else None
    return Page(start=start, limit=limit, sort=sort, order=order, fields=wanted)


PageParams = Annotated[Page, Depends(page_params)]
