"""Per-operation documentation: summary, description, allowed roles and an example."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from celito.auth.scopes import Scope

EVERYONE = tuple(s for s in Scope if s is not Scope.NO_PORTAL)
MANAGERS = (Scope.SUPER_USER, Scope.RESELLER, Scope.OFFICE_MANAGER)


def operation(
    summary: str,
    description: str,
    *,
    roles: Iterable[Scope | str],
    example: Any = None,
    status: int = 200,
    request_example: Any = None,
    errors: Iterable[int] = (400, 401, 403, 404),
    security: list[dict[str, list[str]]] | None = None,
) -> dict[str, Any]:
    """`security` overrides the operation's declared auth (e.g. bearer optional)."""
    role_names = [str(r) for r in roles]
    responses: dict[int | str, dict[str, Any]] = {}
    if example is not None:
        responses[status] = {"content": {"application/json": {"example": example}}}
    for code in errors:
        responses[code] = _error_response(_ERROR_TEXT[code], code, _ERROR_TEXT[code])
    # Every other refusal has the same shape. Documenting it also keeps FastAPI from adding its
    # own 422 `{"detail": [...]}` response, which this API never sends (a bad query or path
    # parameter is a 400, a malformed body a 422, both as `{code, message}`).
    responses["default"] = _error_response(
        "Any other error (429, 5xx, …), in the same shape", 429, _ERROR_TEXT[429]
    )
    extra: dict[str, Any] = {"x-roles": role_names}
    if security is not None:
        extra["security"] = security
    if request_example is not None:
        extra["requestBody"] = {
            "content": {"application/json": {"example": request_example}},
        }
    return {
        "summary": summary,
        "description": f"{description}\n\n**Roles:** {', '.join(role_names)}.",
        "responses": responses,
        "openapi_extra": extra,
        "status_code": status,
    }


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer", "description": "the HTTP status"},
        "message": {"type": "string", "description": "what went wrong, for a person to read"},
    },
}


def _error_response(description: str, code: int, message: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": ERROR_SCHEMA,
                "example": {"code": code, "message": message},
            }
        },
    }


_ERROR_TEXT = {
    400: "Bad request: a path or query parameter is invalid",
    401: "Missing, expired or revoked credentials",
    403: "Your role may not do this",
    404: "Not found (or outside your tenancy)",
    409: "Conflict with an existing object or a limit",
    413: "Body too large",
    414: "Query string too long",
    422: "Malformed body: unknown field, wrong type or missing field",
    429: "Too many requests; retry after the Retry-After header",
    503: "A required service is not configured",
    502: "Something the platform called for you (a phone) refused or failed",
    504: "Something the platform called for you (a phone) did not answer in time",
}
