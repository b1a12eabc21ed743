"""The live documentation at /ns-api/apidoc/: Swagger UI served from local files, no CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
## 1. Get a token

```sh
curl -s {base}/ns-api/oauth2/token \\
  -d grant_type=password \\
  -d client_id="$CLIENT_ID" -d client_secret="$CLIENT_SECRET" \\
  -d username=1000@acme -d password="$PASSWORD"
```

`CLIENT_ID` and `CLIENT_SECRET` are an OAuth client's, issued by your reseller (or
`celito admin create-client`) and with its terms of service accepted; `username` and
`password` are a user's login (`extension@domain`) on a domain whose API access is enabled.
A server started with `celito serve` prints demo credentials and keeps them in
`demo-credentials.json` in its data directory. If the answer is `access_denied`, its message
says which step is missing and whom to ask.

The answer holds `access_token` (valid `expires_in` seconds), `refresh_token` (one use; send
`grant_type=refresh_token` for a new pair) and who you are: `scope` is your role.

## 2. Call the API

```sh
curl -s {base}/ns-api/v2/domains/~/users/~ -H "Authorization: Bearer $ACCESS_TOKEN"
```

`~` means "mine": `/domains/~` is your domain, `/domains/~/users/~` your user.

## 3. Try it here

Press **Authorize** and either

* under **oauth2-password**, enter the user's `username` and `password` and the client's
  `client_id` and `client_secret` (either client credentials location works), then
  **Authorize**; or
* under **bearer**, paste an access token, a JWT or an API key (without the word `Bearer`).

Then open an operation, for a start `GET /ns-api/v2/domains/{{domain}}/users/{{user}}` with
`~` for both, and press **Execute**: the request goes to this server, and its curl
equivalent is shown with the answer.

## Conventions

celitoVoice speaks the NetSapiens **ns-api**: v2 REST under `/ns-api/v2/` with hyphenated
field names, the token endpoint at `/ns-api/oauth2/token`. Every request but this page, the
token endpoint, `/ns-api/v2/version` and the terms carries `Authorization: Bearer <token>`.
Each operation lists the roles allowed to call it.

Collections take `start`, `limit` (1 to 1000, default 100), `sort`, `order` and `fields`; they
answer bare JSON arrays, and `/count` answers `{{"total": N}}`. Errors are
`{{"code": <status>, "message": "…"}}`.
"""

# Swagger UI's settings. The client credentials location of the password flow has no setting;
# it defaults to an HTTP Basic header, which the token endpoint accepts as well as the body.
SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    "persistAuthorization": True,  # a reload keeps you logged in
    "displayRequestDuration": True,
    "docExpansion": "none",
    "filter": True,
    "tryItOutEnabled": True,  # Execute is there at once, no "Try it out" click first
    "deepLinking": True,  # an operation's URL can be shared
    "validatorUrl": None,  # the default would load a badge from validator.swagger.io
}
INIT_OAUTH: dict[str, Any] = {"appName": "celitoVoice API docs"}

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
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        init_oauth=INIT_OAUTH,
    )


@router.get(REDIRECT_URL)
async def oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def mount_docs(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(f"{DOCS_URL}static", StaticFiles(directory=ASSETS), name="apidoc-static")
