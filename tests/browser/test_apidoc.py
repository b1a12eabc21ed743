"""A newcomer at /ns-api/apidoc/: reads how to get a token, authorizes, tries an operation."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import Tab
from tests.support.tenants import Tenant

# The page does not depend on the database: SQLite only.
pytestmark = pytest.mark.parametrize("server", ["sqlite"], indirect=True)

DOCS = "/ns-api/apidoc/"
ME_PATH = "/ns-api/v2/domains/{domain}/users/{user}"


def open_docs(tab: Tab) -> None:
    tab.page.goto(tab.url(DOCS))
    # The spec is large; on a busy machine Swagger UI takes a while to render it.
    expect(tab.page.locator(".swagger-ui .info .title")).to_contain_text(
        "celitoVoice API", timeout=30_000
    )


def auth_container(tab: Tab, scheme: str) -> Locator:
    return tab.page.locator(".modal-ux .auth-container").filter(
        has=tab.page.locator("h4", has_text=scheme)
    )


def open_authorize(tab: Tab) -> None:
    tab.page.locator(".scheme-container button.authorize").click()
    expect(tab.page.locator(".modal-ux")).to_be_visible()


def close_authorize(tab: Tab) -> None:
    tab.page.locator(".modal-ux button.btn-done").first.click()
    expect(tab.page.locator(".modal-ux")).to_have_count(0)


def try_me(tab: Tab, tenant: Tenant, screenshot: str = "") -> dict[str, object]:
    """Opens GET …/users/{user}, runs it with ~ for both, returns the JSON Swagger UI shows."""
    page = tab.page
    page.locator("h3.opblock-tag", has_text="Users").first.click()
    op = page.locator(".opblock.opblock-get").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{ME_PATH}"]')
    )
    expect(op).to_have_count(1)
    op.locator(".opblock-summary").first.click()
    try_it = op.locator("button.try-out__btn", has_text="Try it out")
    if try_it.count():
        try_it.click()
    for name in ("domain", "user"):
        op.locator(f'tr[data-param-name="{name}"] input').fill("~")
    op.locator("button.execute").click()
    live = op.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_have_text("200", timeout=15_000)
    body = live.locator(".response-col_description .highlight-code pre").first
    expect(body).to_contain_text(f'"domain": "{tenant.domain}"')
    live.scroll_into_view_if_needed()
    shown: dict[str, object] = json.loads(body.inner_text())
    # Swagger UI shows the request as a curl against this very server.
    expect(op.locator(".curl-command")).to_contain_text(
        f"{tab.server.base_url}/ns-api/v2/domains/~/users/~"
    )
    if screenshot:
        op.screenshot(path=str(tab.artifact(screenshot)))
    return shown


def test_the_page_opens_with_how_to_get_a_token(tab: Tab) -> None:
    open_docs(tab)
    page = tab.page
    intro = page.locator(".swagger-ui .info .description")
    first_heading = intro.locator("h1, h2, h3").first
    expect(first_heading).to_contain_text("Get a token")
    expect(first_heading).to_be_in_viewport()
    curl = intro.locator("pre").first
    expect(curl).to_be_visible()
    expect(curl).to_contain_text("curl")
    expect(curl).to_contain_text("grant_type=password")
    expect(curl).to_contain_text("/ns-api/oauth2/token")
    expect(page.locator(".scheme-container button.authorize")).to_be_visible()
    tab.screenshot("apidoc.png")
    tab.assert_self_contained()


@pytest.mark.parametrize(
    "location", ["basic", "request-body"], ids=["client-in-basic-header", "client-in-body"]
)
def test_authorize_with_the_password_flow_then_try_it(
    tab: Tab, tenant: Tenant, location: str
) -> None:
    open_docs(tab)
    open_authorize(tab)
    box = auth_container(tab, "oauth2-password")
    box.locator("#oauth_username").fill(tenant.uid("Basic User"))
    box.locator("#oauth_password").fill(tenant.passwords["Basic User"])
    expect(box.locator("#password_type")).to_have_value("basic")  # Swagger UI's default
    box.locator("#password_type").select_option(location)
    box.locator("[data-name=clientId]").fill(tenant.api.client_id)
    box.locator("[data-name=clientSecret]").fill(tenant.api.client_secret)
    box.locator("button.authorize").click()
    expect(box.locator("button", has_text="Logout")).to_be_visible()
    expect(box.locator(".errors")).to_have_count(0)
    close_authorize(tab)
    expect(tab.page.locator(".scheme-container button.authorize.locked")).to_be_visible()

    me = try_me(tab, tenant, screenshot=f"apidoc-tried-{location}.png")
    assert me["user"] == "1001"
    assert me["domain"] == tenant.domain
    assert "login-password" not in me
    tab.assert_self_contained()


def test_authorize_with_a_pasted_bearer_token_then_try_it(tab: Tab, tenant: Tenant) -> None:
    token = tenant.api.token(tenant.uid("Office Manager"), tenant.passwords["Office Manager"])
    open_docs(tab)
    open_authorize(tab)
    box = auth_container(tab, "bearer")
    box.locator("input").first.fill(token)
    box.locator("button.authorize").click()
    expect(box.locator("button", has_text="Logout")).to_be_visible()
    close_authorize(tab)

    me = try_me(tab, tenant)
    assert me["user"] == "1000"
    assert me["user-scope"] == "Office Manager"
    tab.assert_self_contained()


def test_without_authorizing_try_it_shows_the_401(tab: Tab, tenant: Tenant) -> None:
    """The opposite case, so that the 200s above are known to come from the authorization."""
    open_docs(tab)
    page = tab.page
    page.locator("h3.opblock-tag", has_text="Users").first.click()
    op = page.locator(".opblock.opblock-get").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{ME_PATH}"]')
    )
    op.locator(".opblock-summary").first.click()
    try_it = op.locator("button.try-out__btn", has_text="Try it out")
    if try_it.count():
        try_it.click()
    for name in ("domain", "user"):
        op.locator(f'tr[data-param-name="{name}"] input').fill("~")
    op.locator("button.execute").click()
    live = op.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_contain_text("401")
    expect(live.locator(".response-col_description")).to_contain_text(
        re.compile(r"Authorization: Bearer|bearer", re.I)
    )
    tab.assert_self_contained()
