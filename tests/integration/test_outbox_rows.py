"""The outbox writes events' rows straight to the driver (SQLite: executemany of stored rows;
PostgreSQL: COPY into the queue): what is read back is exactly what was recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select

from celito.config import Settings
from celito.events import outbox
from celito.events.models import Event
from celito.events.sequencer import sequencer_for
from celito.runtime import Runtime

AWKWARD = "tab\there, new\nline, cr\r, back\\slash, \\N, quote\" ' Zoë 東京 😀 \x01"


def test_recorded_events_read_back_exactly(database_url: str, tmp_path: Path) -> None:
    payloads: list[dict[str, Any]] = [
        {"text": AWKWARD, "nested": {"list": [1, 2.5, None, True, AWKWARD]}, "empty": ""},
        {"n": 2},
    ]

    async def run() -> list[tuple[Any, ...]]:
        runtime = Runtime.build(Settings(data_dir=tmp_path, database_url=database_url))
        try:
            async with runtime.db.writer() as session:
                for n, payload in enumerate(payloads):
                    outbox.record(
                        session,
                        "phone",
                        f"act\t{n}\\",
                        payload,
                        reseller="r\\1",
                        domain="rows.test",
                        user=f"u\n{n}",
                        node="n\t1",
                    )
                await session.commit()
            if runtime.db.engine.dialect.name == "postgresql":
                await sequencer_for(runtime.db.engine).settled()
            async with runtime.db.reader() as session:
                rows = await session.execute(
                    select(
                        Event.model,
                        Event.action,
                        Event.reseller,
                        Event.domain,
                        Event.user,
                        Event.node,
                        Event.payload,
                        Event.at,
                    )
                    .where(Event.domain == "rows.test")
                    .order_by(Event.id)
                )
                return [tuple(r) for r in rows]
        finally:
            await runtime.db.dispose()

    rows = asyncio.run(run())
    assert [r[:7] for r in rows] == [
        ("phone", f"act\t{n}\\", "r\\1", "rows.test", f"u\n{n}", "n\t1", payload)
        for n, payload in enumerate(payloads)
    ]
    assert rows[0][7] == rows[1][7] and rows[0][7].tzinfo is not None  # one commit, one time
