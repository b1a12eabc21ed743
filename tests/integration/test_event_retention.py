"""Outbox retention: events older than the retention go, found by id (no index on `at`)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from celito.config import Settings
from celito.db import utcnow
from celito.events.models import Event
from celito.events.node import EventServices, last_event_before
from celito.runtime import Runtime

NOW = utcnow()


def _run(url: str, tmp_path: Path, ages: dict[int, float], cutoff_days: float) -> object:
    """Events with the given ids, `ages[id]` days old; then what the test asks."""

    async def run() -> tuple[int | None, list[int]]:
        settings = Settings(data_dir=tmp_path, database_url=url, event_retention_days=cutoff_days)
        runtime = Runtime.build(settings)
        try:
            async with runtime.db.writer() as session:
                await session.execute(delete(Event))
                for event_id, days in ages.items():
                    at = NOW - timedelta(days=days)
                    session.add(Event(id=event_id, at=at, model="subscriber", action="update"))
                await session.commit()
            async with runtime.db.reader() as session:
                last = await last_event_before(session, NOW - timedelta(days=cutoff_days))
            await EventServices(runtime)._purge()
            async with runtime.db.reader() as session:
                left = list(await session.scalars(select(Event.id).order_by(Event.id)))
            return last, left
        finally:
            await runtime.db.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("ages", "expected_last"),
    [
        ({}, None),
        ({3: 2.0, 4: 1.0}, None),  # every event within the retention
        ({1: 50.0, 2: 40.0}, 2),  # every event past it
        # Gaps in the ids, an old run and a new run: the boundary is the last old one.
        ({1: 60, 2: 59, 5: 45, 9: 31, 10: 29, 40: 3, 41: 0.1}, 9),
        ({7: 31, 1000: 1}, 7),
        ({7: 40, 8: 35, 9: 33, 10: 32, 11: 31, 12: 30.5, 13: 29}, 12),
    ],
)
def test_the_boundary_is_the_newest_event_past_retention_and_older_ones_go(
    database_url: str, tmp_path: Path, ages: dict[int, float], expected_last: int | None
) -> None:
    last, left = _run(database_url, tmp_path, ages, cutoff_days=30)  # type: ignore[misc]
    assert last == expected_last
    assert left == sorted(i for i, days in ages.items() if days < 30)
