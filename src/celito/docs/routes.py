"""The live documentation at /ns-api/apidoc/: Swagger UI served from local files, no CDN."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_URL = "/ns-api/apidoc/"
OPENAPI_URL = "/ns-api/openapi.json"
REDIRECT_URL = "/ns-api/apidoc/oauth2-redirect"

INTRODUCTION = """
celitoVoice speaks the NetSapiens **ns-api**: v2 REST under `/ns-api/v2/` with hyphenated
field names, the token endpoint at `/ns-api/oauth2/token`. Every request but this page, the
token endpoint, `/ns-api/v2/version` and the terms carries `Authorization: Bearer <token>`.

## 1. Get a token

You need an OAuth client (`client_id`, `client_secret`, issued by your reseller or
`celito admin create-client`) whose terms of service are accepted, and a user's login on a
domain whose API access is enabled. Then:

```sh
curl -s {base}/ns-api/oauth2/token \\
  -d grant_type=password \\
  -d client_id=$CLIENT_ID -d client_secret=$CLIENT_SECRET \\
  -d username=1000@acme -d password=$PASSWORD
```

The answer holds `access_token` (valid `expires_in` seconds), `refresh_token` (one use; send
`grant_type=refresh_token` for a new pair) and who you are: `scope` is your role.

## 2. Call the API

```sh
curl -s {base}/ns-api/v2/domains/~/users/~ -H "Authorization: Bearer $ACCESS_TOKEN"
```

`~` means "mine": `/domains/~` is your domain, `/domains/~/users/~` your user.

## 3. Try it here

Press **Authorize**: log in with the *oauth2-password* flow (username, password, client id and
secret — choose "Request body" for the client credentials), or paste a token, JWT or API key
under *bearer*. Every operation's **Try it out** then runs against this server.

Collections take `start`, `limit` (1 to 1000, default 100), `sort`, `order` and `fields`; they
answer bare JSON arrays, and `/count` answers `{{"total": N}}`. Errors are
`{{"code": <status>, "message": "…"}}`. Each operation lists the roles allowed to call it.
"""

router = APIRouter(include_in_schema=False)


@router.get("/ns-api/apidoc")
async def apidoc_slash() -> RedirectResponse:
    return RedirectResponse(DOCS_URL)


@router.get(DOCS_URL)
async def apidoc() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="celitoVoice API",
        oauth2_redirect_url=REDIRECT_URL,
        swagger_js_url=f"{DOCS_URL}static/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_URL}static/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_URL}static/favicon.png",
        swagger_ui_parameters={
            "persistAuthorization": True,
            "displayRequestDuration": True,
            "docExpansion": "none",
            "filter": True,
            "tryItOutEnabled": True,
        },
    )


@router.get(REDIRECT_URL)
async def oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def mount_docs(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(f"{DOCS_URL}static", StaticFiles(directory=ASSETS), name="apidoc-static")
