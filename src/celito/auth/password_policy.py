"""What a portal/API password must be. Length over composition rules, as NIST SP 800-63B says."""

from __future__ import annotations

from celito.errors import Unprocessable

MIN_LENGTH = 10
MAX_LENGTH = 128
_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "changeme12",
        "administrator",
        "passw0rd12",
        "abcdefghij",
        "0987654321",
        "1q2w3e4r5t",
        "qwerty1234",
        "football12",
        "monkey1234",
    }
)


def check_password(password: str, *, personal: tuple[str, ...] = ()) -> None:
    if len(password) < MIN_LENGTH:
        raise Unprocessable(f"login-password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise Unprocessable(f"login-password must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        raise Unprocessable("login-password is too easy to guess; choose a longer, rarer one")
    for word in personal:
        if word and len(word) >= 3 and word.lower() in lowered:
            raise Unprocessable("login-password must not contain your extension, login or name")
