"""What a portal/API password must be (celito.auth.password_policy)."""

from __future__ import annotations

import pytest

from celito.auth.password_policy import MAX_LENGTH, MIN_LENGTH, check_password
from celito.errors import Unprocessable

TOO_SHORT = f"login-password must be at least {MIN_LENGTH} characters"
TOO_LONG = f"login-password must be at most {MAX_LENGTH} characters"
GUESSABLE = "login-password is too easy to guess; choose a longer, rarer one"
PERSONAL = "login-password must not contain your extension, login or name"


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Pw-" + "k3J9x" * 2,
        "x" * (MIN_LENGTH - 4) + "abcd",
        "é😀ü🚀ßø∂ƒ©˙",
        "a" * (MAX_LENGTH - 3) + "bcd",
    ],
)
def test_good_passwords_pass(password: str) -> None:
    check_password(password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", TOO_SHORT),
        ("Short-1!", TOO_SHORT),
        ("x" * (MIN_LENGTH - 1), TOO_SHORT),
        ("a1b2c3d4e5" + "f" * (MAX_LENGTH - 9), TOO_LONG),
        ("password123", GUESSABLE),
        ("PASSWORD123", GUESSABLE),
        ("1234567890", GUESSABLE),
        ("qwertyuiop", GUESSABLE),
        ("aaaaaaaaaaaa", GUESSABLE),
        ("abcabcabcabc", GUESSABLE),
        ("ababababababab", GUESSABLE),
    ],
)
def test_bad_passwords_are_422_with_a_clear_message(password: str, message: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_password(password)
    assert caught.value.status == 422
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("password", "personal"),
    [
        ("my-1001-Secret!", ("1001", "", "Ada", "Lovelace")),
        ("LOVELACE-rules-77", ("1001", "", "Ada", "Lovelace")),
        ("x-ada.l@acme.example-x", ("1001", "ada.l@acme.example", "", "")),
    ],
)
def test_personal_words_are_refused(password: str, personal: tuple[str, ...]) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_password(password, personal=personal)
    assert caught.value.message == PERSONAL


def test_short_personal_words_do_not_count() -> None:
    # A two-letter name or an empty login would forbid far too much.
    check_password("Al-went-to-the-sea", personal=("10", "", "Al", ""))
    check_password("nothing-personal-9", personal=("", "", "", ""))


def test_length_is_checked_before_guessability() -> None:
    with pytest.raises(Unprocessable) as caught:
        check_password("password", personal=("password",))
    assert caught.value.message == TOO_SHORT
