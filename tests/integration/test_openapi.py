"""The live docs: /ns-api/openapi.json documents every operation; /ns-api/apidoc/ works offline.

Every operation needs a summary, a description, the roles allowed (`x-roles`, also named on the
description's `**Roles:**` line) and an example. The docs page loads nothing from another
host, opens with how to get a token, and its Authorize and Try it out use the serving server.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Iterator
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from celito.auth.scopes import Scope
from tests.support.live import LiveServer
from tests.support.tenants import Tenant

DOCS = "/ns-api/apidoc/"
OPENAPI = "/ns-api/openapi.json"
TOKEN_PATH = "/ns-api/oauth2/token"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
KNOWN_ROLES = {str(s) for s in Scope}
ROLES_LINE = re.compile(r"\*\*Roles:\*\*(.*)")


# ---------------------------------------------------------------------------------------------
# The checks, as functions of a spec, so that they can be shown to fail on a broken one.


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _media_has_example(media: dict[str, Any]) -> bool:
    if media.get("example") not in (None, "", {}, []):
        return True
    examples = media.get("examples") or {}
    return any(isinstance(e, dict) and e.get("value") not in (None, "") for e in examples.values())


def has_example(op: dict[str, Any]) -> bool:
    """An example of a successful answer or of the request body (error examples do not count)."""
    for status, response in op.get("responses", {}).items():
        if str(status).startswith("2") and any(
            _media_has_example(m) for m in response.get("content", {}).values()
        ):
            return True
    body = op.get("requestBody", {}).get("content", {})
    return any(_media_has_example(m) for m in body.values())


def problems_of(op: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if not str(op.get("summary") or "").strip():
        found.append("no summary")
    description = str(op.get("description") or "").strip()
    if not description:
        found.append("no description")
    roles = op.get("x-roles")
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(r, str) and r.strip() for r in roles)
    ):
        found.append("no x-roles (the roles allowed)")
    else:
        unknown = [r for r in roles if r not in KNOWN_ROLES and not r.startswith("anyone")]
        if unknown:
            found.append(f"x-roles names no known role: {unknown}")
        line = ROLES_LINE.search(description)
        if line is None:
            found.append("no '**Roles:** …' line in the description")
        else:
            unnamed = [r for r in roles if r not in line.group(1)]
            if unnamed:
                found.append(f"roles {unnamed} not named on the description's Roles line")
    if not has_example(op):
        found.append("no example (of a 2xx response or of the request body)")
    return found


def error_shape_problems(op: dict[str, Any]) -> list[str]:
    """Refusals are `{"code": <status>, "message": "…"}`; FastAPI's 422 `detail` is never sent."""
    found: list[str] = []
    for status, response in op.get("responses", {}).items():
        if str(status).startswith(("1", "2", "3")):
            continue
        for media in response.get("content", {}).values():
            if "HTTPValidationError" in repr(media.get("schema", {})):
                found.append(f"{status} documents FastAPI's {{detail: [...]}}, never sent")
            example = media.get("example")
            if isinstance(example, dict) and set(example) != {"code", "message"}:
                found.append(f"{status} example is not {{code, message}}: {example}")
    return found


def undocumented(spec: dict[str, Any]) -> dict[str, list[str]]:
    return {label: p for label, op in operations(spec) if (p := problems_of(op))}


def report(bad: dict[str, list[str]], what: str = "are not fully documented") -> str:
    lines = [f"{len(bad)} operation(s) {what}:"]
    lines += [f"  {label}: {'; '.join(p)}" for label, p in sorted(bad.items())]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def spec(server: LiveServer) -> dict[str, Any]:
    r = httpx.get(server.base_url + OPENAPI, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture(scope="module")
def docs_html(server: LiveServer) -> str:
    r = httpx.get(server.base_url + DOCS, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.other: list[str] = []
        self.inline_js: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.scripts.append(a["src"])
        elif tag == "link" and "stylesheet" in a.get("rel", "").split():
            self.styles.append(a.get("href", ""))
        for key in ("src", "href", "action", "data"):
            if a.get(key) and a[key] not in self.scripts + self.styles:
                self.other.append(a[key])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_js.append(data)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


# ---------------------------------------------------------------------------------------------
# openapi.json


def test_every_operation_has_summary_description_roles_and_example(
    spec: dict[str, Any],
) -> None:
    labels = [label for label, _ in operations(spec)]
    assert len(labels) >= 10, f"suspiciously few operations in the spec: {labels}"
    bad = undocumented(spec)
    assert not bad, report(bad)


def test_error_responses_have_the_shape_the_server_sends(spec: dict[str, Any]) -> None:
    bad = {label: p for label, op in operations(spec) if (p := error_shape_problems(op))}
    assert not bad, report(bad, "document errors the server does not send")


def test_yes_no_fields_document_their_defaults_as_sent(spec: dict[str, Any]) -> None:
    """A yes/no field's default is "yes" or "no" in the docs, as the API sends it."""
    found: list[tuple[str, Any]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("enum") == ["yes", "no"] and "default" in node:
                found.append((where, node["default"]))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec["components"]["schemas"], "")
    assert found, "no yes/no field with a default: the check checks nothing"
    assert [(w, d) for w, d in found if d not in ("yes", "no")] == []


def test_the_check_names_each_operation_that_lacks_something() -> None:
    """The check above can fail: a spec missing each piece is reported per operation."""
    complete = {
        "summary": "Get a thing",
        "description": "Reads it.\n\n**Roles:** Office Manager, Super User.",
        "x-roles": ["Office Manager", "Super User"],
        "responses": {"200": {"content": {"application/json": {"example": {"a": 1}}}}},
    }
    error_example_only = {
        **complete,
        "responses": {"404": {"content": {"application/json": {"example": {"code": 404}}}}},
    }
    spec = {
        "paths": {
            "/ok": {"get": complete},
            "/no-summary": {"get": {**complete, "summary": " "}},
            "/no-description": {"get": {**complete, "description": ""}},
            "/no-roles": {"get": {k: v for k, v in complete.items() if k != "x-roles"}},
            "/roles-not-described": {"get": {**complete, "description": "Reads it."}},
            "/role-missing-from-line": {
                "get": {**complete, "x-roles": ["Office Manager", "Reseller", "Super User"]}
            },
            "/misspelt-role": {
                "get": {
                    **complete,
                    "x-roles": ["Super user"],
                    "description": "x\n\n**Roles:** Super user.",
                }
            },
            "/no-example": {"delete": error_example_only},
            "/request-example-only": {
                "post": {
                    **error_example_only,
                    "requestBody": {"content": {"application/json": {"example": {"b": 2}}}},
                }
            },
        }
    }
    bad = undocumented(spec)
    assert set(bad) == {
        "GET /no-summary",
        "GET /no-description",
        "GET /no-roles",
        "GET /roles-not-described",
        "GET /role-missing-from-line",
        "GET /misspelt-role",
        "DELETE /no-example",
    }, report(bad)
    assert "no summary" in bad["GET /no-summary"]
    assert "no example (of a 2xx response or of the request body)" in bad["DELETE /no-example"]
    assert "GET /no-roles" in report(bad)
    fastapi_422 = {
        "responses": {
            "422": {
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                    }
                }
            },
            "404": {"content": {"application/json": {"example": {"detail": "Not Found"}}}},
        }
    }
    assert len(error_shape_problems(fastapi_422)) == 2
    assert error_shape_problems(complete) == []


def test_the_description_opens_with_how_to_get_a_token(spec: dict[str, Any]) -> None:
    description: str = spec["info"]["description"]
    first_line = description.strip().splitlines()[0]
    assert first_line.startswith("#"), f"the description should open with a heading: {first_line!r}"
    assert "token" in first_line.lower(), f"the first heading is not about tokens: {first_line!r}"
    blocks = re.findall(r"```[a-z]*\n(.*?)```", description, re.S)
    assert blocks, "the description has no code block"
    first = blocks[0]
    assert first.lstrip().startswith("curl "), f"the first code block is not a curl:\n{first}"
    assert "grant_type=password" in first
    assert TOKEN_PATH in first
    for field in ("client_id", "client_secret", "username", "password"):
        assert f"{field}=" in first, f"the token curl does not send {field}"


def _run_documented_curl(
    block: str, server: LiveServer, values: dict[str, str], username: str
) -> httpx.Response:
    """Runs the docs' token curl against the live server, with the reader's values filled in."""
    words = shlex.split(block.replace("\\\n", " "))
    assert words[0] == "curl"
    url = next(w for w in words if w.startswith("http"))
    assert urlsplit(url).path == TOKEN_PATH, url
    if server.settings.public_url:
        assert url.startswith(server.settings.public_url.rstrip("/")), url
    data: dict[str, str] = {}
    for flag, value in pairwise(words):
        if flag in ("-d", "--data", "--data-urlencode"):
            key, _, raw = value.partition("=")
            data[key] = re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], raw)
    data["username"] = username  # the docs show an example login such as 1000@acme
    return httpx.post(server.base_url + TOKEN_PATH, data=data, timeout=30)


def test_the_documented_token_curl_gets_a_token(
    spec: dict[str, Any], server: LiveServer, tenant: Tenant
) -> None:
    block = re.findall(r"```[a-z]*\n(.*?)```", spec["info"]["description"], re.S)[0]
    values = {
        "CLIENT_ID": tenant.api.client_id,
        "CLIENT_SECRET": tenant.api.client_secret,
        "PASSWORD": tenant.passwords["Office Manager"],
    }
    r = _run_documented_curl(block, server, values, tenant.uid("Office Manager"))
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]


def test_security_schemes_offer_the_password_flow_and_a_bearer(spec: dict[str, Any]) -> None:
    schemes: dict[str, dict[str, Any]] = spec.get("components", {}).get("securitySchemes", {})
    password = {
        name: s
        for name, s in schemes.items()
        if s.get("type") == "oauth2" and "password" in s.get("flows", {})
    }
    bearer = {
        name: s
        for name, s in schemes.items()
        if s.get("type") == "http" and str(s.get("scheme", "")).lower() == "bearer"
    }
    assert password, f"no OAuth2 password flow among {schemes}"
    assert bearer, f"no bearer scheme among {schemes}"
    for name, s in password.items():
        # Relative, so Authorize logs in at the server that serves the docs.
        assert s["flows"]["password"]["tokenUrl"] == TOKEN_PATH, name
    wanted = {next(iter(password)), next(iter(bearer))}
    one_sided = [
        label
        for label, op in operations(spec)
        if "security" in op
        and op["security"]
        and not wanted <= {name for requirement in op["security"] for name in requirement}
    ]
    assert not one_sided, f"operations not usable with both {sorted(wanted)}: {one_sided}"


def test_try_it_targets_the_serving_server(spec: dict[str, Any], server: LiveServer) -> None:
    spec_url = server.base_url + OPENAPI
    servers = spec.get("servers") or [{"url": "/"}]
    for entry in servers:
        resolved = urljoin(spec_url, entry["url"])
        assert _origin(resolved) == _origin(server.base_url), (
            f"try it would call {resolved}, not the server at {server.base_url}"
        )
    base = urljoin(spec_url, servers[0]["url"]).rstrip("/")
    assert httpx.get(base + "/ns-api/v2/version", timeout=30).status_code == 200


@pytest.mark.parametrize("location", ["basic", "request-body"])
def test_the_password_flow_works_the_way_swagger_ui_sends_it(
    spec: dict[str, Any], server: LiveServer, tenant: Tenant, location: str
) -> None:
    """Swagger UI's Authorize posts a form with an empty scope, client credentials in either
    an HTTP Basic header (its default) or the body; then it sends the access token as bearer."""
    scheme = next(
        s for s in spec["components"]["securitySchemes"].values() if s.get("type") == "oauth2"
    )
    token_url = urljoin(server.base_url + OPENAPI, scheme["flows"]["password"]["tokenUrl"])
    form = {
        "grant_type": "password",
        "scope": "",
        "username": tenant.uid("Basic User"),
        "password": tenant.passwords["Basic User"],
    }
    headers: dict[str, str] = {}
    if location == "basic":
        pair = f"{tenant.api.client_id}:{tenant.api.client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    else:
        form |= {"client_id": tenant.api.client_id, "client_secret": tenant.api.client_secret}
    r = httpx.post(token_url, data=form, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"].lower() == "bearer"
    me = httpx.get(
        server.base_url + "/ns-api/v2/domains/~/users/~",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=30,
    )
    assert me.status_code == 200, me.text
    assert me.json()["user"] == "1001"


# ---------------------------------------------------------------------------------------------
# /ns-api/apidoc/


def test_apidoc_without_slash_redirects(server: LiveServer) -> None:
    r = httpx.get(server.base_url + DOCS.rstrip("/"), timeout=30)
    assert r.status_code in (301, 302, 307, 308)
    assert urljoin(server.base_url + DOCS.rstrip("/"), r.headers["location"]).endswith(DOCS)


def test_the_docs_page_loads_nothing_from_another_host(docs_html: str, server: LiveServer) -> None:
    links = _Links()
    links.feed(docs_html)
    here = _origin(server.base_url)
    every_url = links.scripts + links.styles + links.other
    every_url += re.findall(r"""(?:https?:)?//[^\s"'<>`)]+""", docs_html)
    foreign = [
        u
        for u in every_url
        if urlsplit(urljoin(server.base_url + DOCS, u)).netloc
        and _origin(urljoin(server.base_url + DOCS, u)) != here
    ]
    assert not foreign, f"the docs page refers to other hosts: {foreign}"
    # Swagger UI's default validatorUrl would fetch a badge from validator.swagger.io.
    assert re.search(r"""["']?validatorUrl["']?\s*:\s*null""", "".join(links.inline_js)), (
        "validatorUrl must be null so that Swagger UI calls no outside validator"
    )


def test_the_docs_assets_are_served_here(docs_html: str, server: LiveServer) -> None:
    links = _Links()
    links.feed(docs_html)
    assert any(s.endswith(".js") for s in links.scripts), links.scripts
    assert any(s.endswith(".css") for s in links.styles), links.styles
    page = server.base_url + DOCS
    with httpx.Client(timeout=30) as c:
        for url, kind in [(u, "javascript") for u in links.scripts] + [
            (u, "css") for u in links.styles
        ]:
            r = c.get(urljoin(page, url))
            assert r.status_code == 200, f"{url}: {r.status_code}"
            assert kind in r.headers["content-type"], f"{url}: {r.headers['content-type']}"
            assert len(r.content) > 1000, f"{url} is nearly empty"
        bundle = c.get(urljoin(page, next(s for s in links.scripts if "bundle" in s))).text
        assert "SwaggerUIBundle" in bundle
        js = "".join(links.inline_js)
        assert OPENAPI in js, "the page does not load this server's openapi.json"
        redirect = re.search(r"""oauth2RedirectUrl:[^'"]*['"]([^'"]+)['"]""", js)
        assert redirect, "no oauth2RedirectUrl in the page"
        r = c.get(urljoin(page, redirect.group(1)))
        assert r.status_code == 200 and "oauth2" in r.text.lower()


def test_the_docs_page_keeps_authorization_and_enables_try_it(docs_html: str) -> None:
    js = docs_html.replace(" ", "")
    assert '"persistAuthorization":true' in js
    assert '"tryItOutEnabled":true' in js
