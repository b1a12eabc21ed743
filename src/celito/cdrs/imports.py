"""Loading many CDRs: batches ingested over concurrent transactions, and the files read for it.

`service.ingest` stores one batch in the caller's transaction. On PostgreSQL a batch's work is
two steps on one connection: the COPY of its CDRs, which overlaps with this process preparing
the rows, then at commit the COPY of its `cdr` events, during which this process waits. With
two transactions in flight, one batch's events go in while the next batch's CDRs do, and the
database's work is spread over two backends: ~1.25-1.3x the rows a second of one transaction
at a time on a 2-core machine (bench/cdr_bench.py). Batches commit independently, in whichever
order they finish; events still follow commit order, which is all the outbox promises.

SQLite has one writer at a time: there, batches go one after the other.

Re-running a load is harmless: a CDR already stored (same `id`) is counted as a duplicate and
not stored again, so a load that stopped half-way is finished by running it again.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from celito.auditlog import service as audit
from celito.auth.caller import Caller
from celito.cdrs import service
from celito.db import Database

BATCH = 5000
POSTGRES_STREAMS = 2

Row = Mapping[str, Any]


@dataclass
class LoadResult:
    """What became of a load; `rejected` holds (the row's number, reason)."""

    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    batches: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


# A row with its number (a file's line number); a row given as a string is one that could
# not be read, and the string says why.
Numbered = tuple[int, Row | str]


def batched(rows: Iterable[Numbered], size: int = BATCH) -> Iterator[list[Numbered]]:
    batch: list[Numbered] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def ingest_batches(
    db: Database,
    batches: Iterable[Sequence[Numbered]],
    *,
    streams: int | None = None,
    on_batch: Callable[[LoadResult], None] | None = None,
    audit_as: tuple[Caller, str] | None = None,
) -> LoadResult:
    """Ingests each batch in a transaction of its own, `streams` at a time (default: 2 on
    PostgreSQL, 1 on SQLite). Rows that could not be read are rejected with their reason.
    `on_batch` sees the running totals after each commit. A database error stops the load
    and is raised once the batches in flight end; every batch committed before stays.

    With `audit_as` (who, what is loaded: a file's name) each batch's transaction also writes
    an audit entry saying which rows it stored; the telephony plane's own CDRs go without."""
    if streams is None:
        streams = 1 if db.is_sqlite else POSTGRES_STREAMS
    if streams < 1:
        raise ValueError("streams must be at least 1")
    total = LoadResult()
    source = iter(batches)
    failed: list[BaseException] = []

    async def worker() -> None:
        while not failed:
            batch = next(source, None)
            if batch is None:
                return
            rows: list[Row] = []
            numbers: list[int] = []
            for number, row in batch:
                if isinstance(row, str):
                    total.rejected.append((number, row))
                else:
                    rows.append(row)
                    numbers.append(number)
            total.received += len(batch)
            try:
                async with db.writer() as session:
                    result = await service.ingest(session, rows)
                    if audit_as is not None:
                        _audit(session, audit_as, batch, result)
                    await session.commit()
            except Exception as exc:
                failed.append(exc)
                return
            total.inserted += result.inserted
            total.duplicates += result.duplicates
            total.rejected.extend((numbers[i], reason) for i, reason in result.rejected)
            total.batches += 1
            if on_batch is not None:
                on_batch(total)

    await asyncio.gather(*(worker() for _ in range(streams)))
    if failed:
        raise failed[0]
    total.rejected.sort()
    return total


def _audit(
    session: AsyncSession,
    audit_as: tuple[Caller, str],
    batch: Sequence[Numbered],
    result: service.IngestResult,
) -> None:
    caller, source = audit_as
    details = {
        "rows": f"{batch[0][0]}-{batch[-1][0]}",
        "inserted": result.inserted,
        "duplicates": result.duplicates,
        "rejected": len(batch) - result.received + len(result.rejected),
    }
    audit.record(session, caller, "import", "cdrs", source, details=details)


# --- files -------------------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[Numbered]:
    """The CDRs of a file with their line numbers, in the field names of the API's CDRs
    (CdrD):

    - `.jsonl` / `.ndjson`: one JSON object a line (blank lines skipped);
    - `.csv`: a header of field names, then one CDR a line; an empty cell is an absent field.
      The API's CSV export reads back as it was written.

    A row that cannot be read comes as a string saying why (ingest_batches rejects it), so
    one bad line does not stop the rest.
    """
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _json_lines(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise ValueError(f"{path.name}: expected a .jsonl, .ndjson or .csv file")


def _json_lines(path: Path) -> Iterator[Numbered]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON ({exc.msg})"
                continue
            yield number, value if isinstance(value, dict) else "not a JSON object"


def _csv_rows(path: Path) -> Iterator[Numbered]:
    with path.open(encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        for values in reader:
            if not values:
                continue
            number = reader.line_num
            if len(values) != len(header):
                yield number, f"{len(values)} cells where the header names {len(header)}"
                continue
            yield number, {name: value for name, value in zip(header, values, strict=True) if value}
