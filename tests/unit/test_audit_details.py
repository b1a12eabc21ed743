"""auditlog.service: before/after summaries name API fields and never carry secrets."""

from __future__ import annotations

from celito.auditlog.service import changed


def test_only_changed_fields_are_kept() -> None:
    before = {"name-first-name": "Ada", "site": "HQ", "department": ""}
    after = {"name-first-name": "Augusta", "site": "HQ", "department": "Ops"}
    assert changed(before, after) == {
        "before": {"name-first-name": "Ada", "department": ""},
        "after": {"name-first-name": "Augusta", "department": "Ops"},
    }


def test_nothing_changed_is_empty() -> None:
    same = {"a": 1, "b": None}
    assert changed(same, dict(same)) == {"before": {}, "after": {}}


def test_new_keys_count_as_changes() -> None:
    assert changed({}, {"voicemail_enabled": False}) == {
        "before": {"voicemail-enabled": None},
        "after": {"voicemail-enabled": False},
    }


def test_names_are_hyphenated() -> None:
    result = changed({"caller_id_number": "1"}, {"caller_id_number": "2"})
    assert result == {"before": {"caller-id-number": "1"}, "after": {"caller-id-number": "2"}}


def test_secrets_are_redacted_but_their_setting_shows() -> None:
    before = {
        "login-password": None,
        "voicemail_login_pin": "1234",
        "email-send-smtp-password": "old-secret",
        "client_secret": "cvs_x",
        "api_key": "nsd_x",
        "access_token": "cva_x",
        "password_hash": "$argon2id$…",
    }
    after = {
        "login-password": "$argon2id$v=19$…",
        "voicemail_login_pin": "4321",
        "email-send-smtp-password": "new-secret",
        "client_secret": "cvs_y",
        "api_key": "nsd_y",
        "access_token": "cva_y",
        "password_hash": "$argon2id$other",
    }
    result = changed(before, after)
    assert result["before"] == {
        "login-password": None,
        "voicemail-login-pin": "[redacted]",
        "email-send-smtp-password": "[redacted]",
        "client-secret": "[redacted]",
        "api-key": "[redacted]",
        "access-token": "[redacted]",
        "password-hash": "[redacted]",
    }
    assert set(result["after"].values()) == {"[redacted]"}
    assert "secret" not in str(result).replace("-secret", "")
    assert "argon2" not in str(result)


def test_clearing_a_secret_shows_as_cleared() -> None:
    result = changed({"login-password": "$argon2id$…"}, {"login-password": None})
    assert result == {"before": {"login-password": "[redacted]"}, "after": {"login-password": None}}


def test_harmless_lookalikes_are_not_redacted() -> None:
    before = {"key-id": "nsd_abc", "language_token": "en_US"}
    after = {"key-id": "nsd_def", "language_token": "fr_FR"}
    assert changed(before, after)["after"] == {"key-id": "nsd_def", "language-token": "fr_FR"}
