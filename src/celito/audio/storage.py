"""Audio files on disk, kept in step with the database transaction that refers to them.

Layout: `<data dir>/audio/<area>/<domain id>/<name>`, where `area` is `prompts` (greetings, music
on hold, hold messages) or `voicemail`, and `name` is 32 random hex digits plus `.wav`/`.mp3`.
No part of a path ever comes from a request: the domain id is the database's, the name is
random, and `path()` refuses anything else.

How files follow transactions (no orphan files, no missing files):

- A new file is written (to a temporary name, fsync'd, then renamed into place) *before* the
  row that names it is committed, so a committed row always has its file, even after a crash.
  If the transaction rolls back (or the session closes without committing), the new file is
  removed by a session hook.
- A file that a change makes obsolete (delete, replace) is only marked; it is removed after
  the commit. If the transaction rolls back, it stays: the row that still names it is back.
- What a crash can leave behind is a file no row names (written, then the process died before
  commit; or committed, then died before the unlink). `sweep()` removes such files once they
  are older than a grace period; run it from a maintenance job.

Several nodes must share this directory (NFS or similar) to serve each other's files.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from celito.config import Settings

_NAME = re.compile(r"[0-9a-f]{32}\.(?:wav|mp3)")
_KEY = "celito_audio_files"
_installed: list[bool] = []


@dataclass
class _Pending:
    created: list[Path] = field(default_factory=list)
    doomed: list[Path] = field(default_factory=list)


def _unlink(paths: Iterable[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):  # else left for sweep()
            p.unlink(missing_ok=True)


def _install_hooks() -> None:
    if _installed:
        return
    _installed.append(True)

    @sa_event.listens_for(Session, "after_commit")
    def _committed(session: Session) -> None:
        pending: _Pending | None = session.info.pop(_KEY, None)
        if pending is not None:
            _unlink(pending.doomed)

    @sa_event.listens_for(Session, "after_transaction_end")
    def _ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return
        # Still here after the outermost transaction: it did not commit.
        pending: _Pending | None = session.info.pop(_KEY, None)
        if pending is not None:
            _unlink(pending.created)


def _pending(session: AsyncSession) -> _Pending:
    _install_hooks()
    found: _Pending = session.info.setdefault(_KEY, _Pending())
    return found


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{secrets.token_hex(8)}")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # same file system: no copy, each name is removed on its own
    except OSError:
        tmp = target.with_name(f".tmp-{secrets.token_hex(8)}")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)


class AudioStore:
    """One area of the audio directory (prompts or voicemail)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def prompts(cls, settings: Settings) -> AudioStore:
        return cls(settings.resolved_data_dir / "audio" / "prompts")

    @classmethod
    def voicemail(cls, settings: Settings) -> AudioStore:
        return cls(settings.resolved_data_dir / "audio" / "voicemail")

    def path(self, domain_id: int, name: str) -> Path:
        if not _NAME.fullmatch(name) or not isinstance(domain_id, int):
            raise ValueError(f"not a stored audio name: {name!r}")
        return self.root / str(domain_id) / name

    @staticmethod
    def new_name(extension: str) -> str:
        if extension not in ("wav", "mp3"):
            raise ValueError(f"unknown audio extension {extension!r}")
        return f"{secrets.token_hex(16)}.{extension}"

    async def put(self, session: AsyncSession, domain_id: int, data: bytes, extension: str) -> str:
        """Writes a new file; it goes away again unless the session's transaction commits."""
        await session.connection()  # a transaction is open, so its end is seen
        name = self.new_name(extension)
        path = self.path(domain_id, name)
        _pending(session).created.append(path)
        await anyio.to_thread.run_sync(_write, path, data)
        return name

    async def copy(self, session: AsyncSession, domain_id: int, name: str) -> str:
        """A second stored file with the same content (for forwarding a voicemail)."""
        await session.connection()
        source = self.path(domain_id, name)
        copy = self.new_name(name.rsplit(".", 1)[1])
        target = self.path(domain_id, copy)
        _pending(session).created.append(target)
        await anyio.to_thread.run_sync(_copy, source, target)
        return copy

    async def discard(self, session: AsyncSession, domain_id: int, name: str) -> None:
        """Removes the file once (and only if) the session's transaction commits."""
        await session.connection()
        _pending(session).doomed.append(self.path(domain_id, name))

    def open(self, domain_id: int, name: str) -> BinaryIO | None:
        """The file opened for reading (it stays readable even if deleted meanwhile)."""
        try:
            return open(self.path(domain_id, name), "rb")
        except FileNotFoundError:
            return None

    def sweep(self, known: dict[int, set[str]], *, grace_seconds: float = 3600.0) -> list[Path]:
        """Removes files (and stale temporary files) that no row names, once older than the
        grace period, which protects files of transactions still in flight. `known` maps each
        existing domain id to the names its rows hold; a domain missing from it is gone."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        cutoff = time.time() - grace_seconds
        for domain_dir in self.root.iterdir():
            if not domain_dir.is_dir():
                continue
            names = known.get(int(domain_dir.name), set()) if domain_dir.name.isdigit() else set()
            for f in domain_dir.iterdir():
                if f.name in names or not f.is_file():
                    continue
                try:
                    if f.stat().st_mtime < cutoff:
                        f.unlink()
                        removed.append(f)
                except FileNotFoundError:
                    continue
        return removed
