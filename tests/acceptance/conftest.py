"""Servers for event tests: deliveries to loopback allowed, short timeouts and heartbeats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, _database_url
from tests.support.live import LiveServer, bootstrap, live_server, test_settings
from tests.support.tenants import Api, Tenant, make_tenant


@pytest.fixture(scope="session", params=BACKENDS)
def events_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    backend: str = request.param
    tmp = tmp_path_factory.mktemp(f"events-{backend}")
    stack: list[object] = []
    url = _database_url(backend, tmp, stack)
    settings = test_settings(
        tmp,
        url,
        webhook_allow_private=True,
        webhook_timeout_seconds=1.5,
        stream_heartbeat_seconds=1.0,
        node_id=f"events-{backend}",
    )
    client_id, secret = bootstrap(settings)
    with live_server(settings) as live:
        live.backend = backend  # type: ignore[attr-defined]
        live.operator = (client_id, secret)  # type: ignore[attr-defined]
        yield live
    for ctx in stack:
        ctx.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def events_api(events_server: LiveServer) -> Api:
    client_id, secret = events_server.operator  # type: ignore[attr-defined]
    return Api(
        events_server.base_url,
        events_server.backend,  # type: ignore[attr-defined]
        client_id,
        secret,
    )


@pytest.fixture()
def etenant(events_api: Api) -> Tenant:
    return make_tenant(events_api)


@pytest.fixture()
def other_etenant(events_api: Api) -> Tenant:
    return make_tenant(events_api)
