"""One error hierarchy; each carries its HTTP status and renders as {"code", "message"}."""

from __future__ import annotations


class CelitoError(Exception):
    status = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(CelitoError):
    status = 400


class Unauthorized(CelitoError):
    status = 401


class Forbidden(CelitoError):
    status = 403


class NotFound(CelitoError):
    status = 404


class Conflict(CelitoError):
    status = 409


class PayloadTooLarge(CelitoError):
    status = 413


class Unprocessable(CelitoError):
    status = 422


class TooManyRequests(CelitoError):
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class BadGateway(CelitoError):
    """Something the platform called on the caller's behalf (a phone) refused or failed."""

    status = 502


class ServiceUnavailable(CelitoError):
    status = 503


class GatewayTimeout(CelitoError):
    """Something the platform called on the caller's behalf (a phone) did not answer."""

    status = 504
