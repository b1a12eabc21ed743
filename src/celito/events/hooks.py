"""Commit hooks for the outbox. Kept apart from the models so db.py can import it."""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.orm import Session

NOTIFY_CHANNEL = "celito_events"
PENDING = "celito_events_pending"
ON_COMMIT_KEY = "celito_on_commit"
# Any fixed number: the key of the transaction-level advisory lock that orders event ids.
OUTBOX_LOCK = 7_142_306_510

_installed: list[bool] = []


def install_commit_hooks() -> None:
    """Writes queued events at commit, then wakes this node and (PostgreSQL) the others.

    The events are inserted last, under a transaction-level advisory lock on PostgreSQL, so
    ids are handed out in commit order: a reader that sees id N has seen every id below N that
    will ever commit. SQLite writers are serialised already (BEGIN IMMEDIATE). The listeners
    are global to SQLAlchemy sessions, so they are installed once per process; each Database
    puts its own wake-up callback in its sessions' `info`.
    """
    if _installed:
        return
    _installed.append(True)

    @sa_event.listens_for(Session, "before_commit")
    def _write(session: Session) -> None:
        pending = session.info.get(PENDING)
        if not pending or session.info.get("celito_events_written"):
            return
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
            session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        session.add_all(pending)
        session.info["celito_events_written"] = True

    @sa_event.listens_for(Session, "after_commit")
    def _wake(session: Session) -> None:
        session.info.pop("celito_events_written", None)
        if session.info.pop(PENDING, None):
            hook = session.info.get(ON_COMMIT_KEY)
            if hook is not None:
                hook()

    @sa_event.listens_for(Session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(PENDING, None)
        session.info.pop("celito_events_written", None)
