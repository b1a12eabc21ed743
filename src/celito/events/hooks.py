"""Commit hooks for the outbox. Kept apart from the models so db.py can import it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

NOTIFY_CHANNEL = "celito_events"
PENDING = "celito_events_pending"
ON_COMMIT_KEY = "celito_on_commit"
# The events.sequencer of the session's database (PostgreSQL), put there by outbox.record.
SEQUENCER = "celito_events_sequencer"
WRITTEN = "celito_events_written"
# Set by a caller that does not read its own events back (events.outbox.number_later).
NUMBER_LATER = "celito_events_number_later"
# Any fixed number: the key of the transaction-level advisory lock under which rows are added
# to `events` on PostgreSQL (by the sequencer, or by a writer that numbers its own rows), so
# ids are handed out in commit order.
OUTBOX_LOCK = 7_142_306_510

# Told that events were committed: the models they are of, or None when that is not known
# (another node's NOTIFY without them, a bulk load, a catch-up). Readers use the models only
# to skip a read no one here wants; they poll as well, so a hint is never needed for
# correctness.
EventsCommitted = Callable[[frozenset[str] | None], None]

_installed: list[bool] = []


def install_commit_hooks() -> None:
    """Writes queued events at commit, then wakes this node (and, PostgreSQL, the others).

    The events are inserted last. SQLite writers are serialised (BEGIN IMMEDIATE), so rows go
    straight into `events` and their ids follow commit order. PostgreSQL transactions put them
    in `event_queue`, lock-free, and the sequencer numbers them right after the COMMIT, before
    the commit returns (see events.sequencer); the wake-up follows that. The listeners are
    global to SQLAlchemy sessions, so they are installed once per process; each Database puts
    its own wake-up callback in its sessions' `info`.
    """
    if _installed:
        return
    _installed.append(True)

    @sa_event.listens_for(Session, "before_commit")
    def _write(session: Session) -> None:
        pending = session.info.get(PENDING)
        if not pending or session.info.get(WRITTEN):
            return
        from celito.events.outbox import write_pending  # outbox imports db.py, which imports us

        write_pending(session, pending)
        session.info[WRITTEN] = True

    @sa_event.listens_for(Session, "after_commit")
    def _wake(session: Session) -> None:
        session.info.pop(WRITTEN, None)
        pending = session.info.pop(PENDING, None)
        if pending:
            hook = session.info.get(ON_COMMIT_KEY)
            models = frozenset(e["model"] for e in pending)
            sequencer = session.info.get(SEQUENCER)
            if sequencer is not None:
                sequencer.after_commit(hook, models, wait=not session.info.get(NUMBER_LATER))
            elif hook is not None:
                hook(models)

    @sa_event.listens_for(Session, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(PENDING, None)
        session.info.pop(WRITTEN, None)
