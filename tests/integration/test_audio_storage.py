"""Audio files follow the database transaction: a new file survives only a commit, an
obsolete one leaves only after a commit; sweep() clears what a crash leaves behind."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from celito.audio.storage import AudioStore
from celito.db import Database


def _db(tmp_path: Path) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'files.db'}")


def test_new_files_survive_only_a_commit(tmp_path: Path) -> None:
    store = AudioStore(tmp_path / "audio")

    async def go() -> None:
        db = _db(tmp_path)
        try:
            async with db.writer() as s:
                kept = await store.put(s, 7, b"kept", "wav")
                await s.commit()
            async with db.writer() as s:
                dropped = await store.put(s, 7, b"dropped", "wav")
                assert store.path(7, dropped).exists()  # written before the commit
                await s.rollback()
            async with db.writer() as s:
                unsaid = await store.put(s, 7, b"unsaid", "mp3")
                # the session closes without committing
            async with db.writer() as s:
                failed = await store.put(s, 7, b"failed", "wav")
                with pytest.raises(Exception, match="no such table"):
                    await s.execute(text("INSERT INTO nowhere VALUES (1)"))
                await s.rollback()
            assert store.path(7, kept).read_bytes() == b"kept"
            for name in (dropped, unsaid, failed):
                assert not store.path(7, name).exists(), name
            # An obsolete file stays until the change commits.
            async with db.writer() as s:
                await store.discard(s, 7, kept)
                await s.rollback()
            assert store.path(7, kept).exists()
            async with db.writer() as s:
                await store.discard(s, 7, kept)
                await s.execute(text("SELECT 1"))
                assert store.path(7, kept).exists()
                await s.commit()
            assert not store.path(7, kept).exists()
            # A copy (forwarding) is a file of its own, and follows its transaction too.
            async with db.writer() as s:
                original = await store.put(s, 7, b"message", "wav")
                await s.commit()
            async with db.writer() as s:
                copy = await store.copy(s, 7, original)
                assert store.path(7, copy).read_bytes() == b"message"
                await s.rollback()
            assert not store.path(7, copy).exists() and store.path(7, original).exists()
            async with db.writer() as s:
                copy = await store.copy(s, 7, original)
                await s.commit()
            async with db.writer() as s:
                await store.discard(s, 7, original)
                await s.commit()
            assert store.path(7, copy).read_bytes() == b"message"
            # Nothing but final names is left in the folder (no temporary files).
            assert {p.name for p in (tmp_path / "audio" / "7").iterdir()} == {copy}
        finally:
            await db.dispose()

    asyncio.run(go())


def test_paths_come_only_from_stored_names(tmp_path: Path) -> None:
    store = AudioStore(tmp_path)
    good = AudioStore.new_name("wav")
    assert store.path(3, good) == tmp_path / "3" / good
    for bad in (
        "../../etc/passwd",
        "/etc/passwd",
        good.upper(),
        good + "/x",
        "a" * 32 + ".exe",
        "",
    ):
        with pytest.raises(ValueError):
            store.path(3, bad)
    with pytest.raises(ValueError):
        store.path("3/../4", good)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AudioStore.new_name("sh")


def test_sweep_removes_only_old_unnamed_files(tmp_path: Path) -> None:
    store = AudioStore(tmp_path)
    named, orphan, young = (AudioStore.new_name("wav") for _ in range(3))
    gone_domain = AudioStore.new_name("mp3")
    for domain, name in ((1, named), (1, orphan), (1, young), (2, gone_domain)):
        store.path(domain, name).parent.mkdir(parents=True, exist_ok=True)
        store.path(domain, name).write_bytes(b"x")
    stale_tmp = tmp_path / "1" / ".tmp-0123456789abcdef"
    stale_tmp.write_bytes(b"half")
    old = time.time() - 7200
    for p in (store.path(1, named), store.path(1, orphan), store.path(2, gone_domain), stale_tmp):
        os.utime(p, (old, old))
    removed = store.sweep({1: {named}}, grace_seconds=3600)
    assert {p.name for p in removed} == {orphan, gone_domain, stale_tmp.name}
    assert store.path(1, named).exists() and store.path(1, young).exists()
    assert AudioStore(tmp_path / "nothing-yet").sweep({}) == []
