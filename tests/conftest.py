"""Fixtures: a live server per database backend (SQLite always; PostgreSQL when reachable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from celito.migrate import upgrade
from tests.support import pg
from tests.support.live import LiveServer, bootstrap, live_server, test_settings
from tests.support.tenants import Api, Tenant, make_tenant

BACKENDS = ["sqlite", "postgres"]


def _database_url(backend: str, tmp: Path, stack: list[object]) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'celito.db'}"
    pg.require()
    ctx = pg.fresh_database()
    stack.append(ctx)
    return ctx.__enter__()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for the module's tests (they skip without one)."""
    pg.require()
    with pg.fresh_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each backend, for tests that build their own Runtime."""
    stack: list[object] = []
    url = _database_url(request.param, tmp_path, stack)
    upgrade(url)
    yield url
    for ctx in stack:
        ctx.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(backend)
    stack: list[object] = []
    url = _database_url(backend, tmp, stack)
    settings = test_settings(tmp, url)
    client_id, secret = bootstrap(settings)
    with live_server(settings) as live:
        live.backend = backend  # type: ignore[attr-defined]
        live.operator = (client_id, secret)  # type: ignore[attr-defined]
        yield live
    for ctx in stack:
        ctx.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def api(server: LiveServer) -> Api:
    client_id, secret = server.operator  # type: ignore[attr-defined]
    return Api(server.base_url, server.backend, client_id, secret)  # type: ignore[attr-defined]


@pytest.fixture()
def tenant(api: Api) -> Tenant:
    return make_tenant(api)


@pytest.fixture()
def other_tenant(api: Api) -> Tenant:
    return make_tenant(api)
