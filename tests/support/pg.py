"""Throwaway PostgreSQL databases on the local server (CELITO_TEST_PG_URL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("CELITO_TEST_PG_URL", DEFAULT_URL)


def unavailable_reason() -> str | None:
    url = make_url(admin_url())
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {url.render_as_string()}: {exc}".strip()


def require() -> None:
    """Skip with the reason when PostgreSQL is unreachable; fail instead under CI."""
    import pytest

    reason = unavailable_reason()
    if reason and os.environ.get("CELITO_REQUIRE_POSTGRES"):
        pytest.fail(f"CELITO_REQUIRE_POSTGRES is set but {reason}")
    if reason:
        pytest.skip(f"postgres backend skipped: {reason}")


def _libpq(url: object) -> str:
    u = make_url(str(url)) if not hasattr(url, "set") else url
    return u.set(drivername="postgresql").render_as_string(hide_password=False)  # type: ignore[attr-defined]


@contextmanager
def fresh_database() -> Iterator[str]:
    """Creates `celito_test_<random>`, yields its SQLAlchemy URL, drops it afterwards."""
    base = make_url(admin_url())
    name = f"celito_test_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
