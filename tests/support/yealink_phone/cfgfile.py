"""How the phone reads `.cfg` and `.boot` files, and the configuration they build (§4.1, §4.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEADER = "#!version:1.0.0.1"
NULL = "%NULL%"
# One line per web user, the same key each time: `static.security.user_password = admin:secret`.
PASSWORD_KEYS = ("static.security.user_password", "security.user_password")
_INCLUDE = re.compile(r'include:config\s+"([^"]+)"')


class Rejected(ValueError):
    """The file is not one the phone accepts (the header is not exactly right)."""


@dataclass
class CfgFile:
    entries: list[tuple[str, str]]
    """`key = value` lines in file order; a key may repeat (web passwords do)."""
    ignored: list[str] = field(default_factory=list)
    """Lines that are neither blank, a comment nor `key = value`: the phone skips them, and a test
    of a provisioning renderer wants this empty."""


@dataclass
class BootFile:
    includes: list[str]
    overwrite_mode: bool
    ignored: list[str] = field(default_factory=list)


def _lines(data: bytes) -> list[str]:
    # Undecodable bytes are kept visible rather than refused: the firmware stores bytes.
    lines = data.decode("utf-8", errors="replace").split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    if lines[0] != HEADER:
        # Exact, as on the phone: a UTF-8 BOM, leading blank line or trailing space all fail.
        raise Rejected(f"first line is {lines[0]!r}, not {HEADER!r}")
    return lines[1:]


def parse_cfg(data: bytes) -> CfgFile:
    cfg = CfgFile(entries=[])
    for line in _lines(data):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            cfg.ignored.append(line)
            continue
        # Values are taken verbatim (quotes included): Yealink's own templates never quote.
        cfg.entries.append((key.strip(), value.strip()))
    return cfg


def parse_boot(data: bytes) -> BootFile:
    boot = BootFile(includes=[], overwrite_mode=False)
    for line in _lines(data):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        include = _INCLUDE.fullmatch(stripped)
        if include:
            boot.includes.append(include.group(1))
            continue
        key, sep, value = stripped.partition("=")
        if sep and key.strip() == "overwrite_mode":
            boot.overwrite_mode = value.strip() == "1"
            continue
        boot.ignored.append(line)
    return boot


class PhoneConfig:
    """The settings the phone holds, built up file by file; later files override earlier ones."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        # key → web user → password, from the repeated `…user_password = user:password` lines.
        self.passwords: dict[str, dict[str, str]] = {}

    def copy(self) -> PhoneConfig:
        other = PhoneConfig()
        other.values = dict(self.values)
        other.passwords = {key: dict(users) for key, users in self.passwords.items()}
        return other

    def apply(self, cfg: CfgFile, *, overwrite_mode: bool = False) -> None:
        for key, value in cfg.entries:
            if value == "":
                # A blank value leaves the setting alone, unless overwrite_mode asks for blanks to
                # mean "factory default" (the setting disappears from what was provisioned).
                if overwrite_mode:
                    self.values.pop(key, None)
                    self.passwords.pop(key, None)
                continue
            value = "" if value == NULL else value
            self.values[key] = value
            if key in PASSWORD_KEYS:
                user, sep, password = value.partition(":")
                if sep:
                    self.passwords.setdefault(key, {})[user] = password

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def password(self, key: str, user: str) -> str | None:
        return self.passwords.get(key, {}).get(user)
