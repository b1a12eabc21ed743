from tests.support.tenants import Tenant


def test_version_names_the_node(tenant: Tenant) -> None:
    with tenant.api.http() as c:
        r = c.get("/ns-api/v2/version")
    assert r.status_code == 200
    assert r.json() == {"apiversion": "Version: 45.0.0", "hostname": "test-node"}


def test_a_user_reads_itself_with_tilde(tenant: Tenant) -> None:
    with tenant.as_role("Basic User") as c:
        r = c.get("/ns-api/v2/domains/~/users/~")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == "1001"
    assert body["domain"] == tenant.domain
    assert "login-password" not in body and "password_hash" not in body
