"""Phone numbers in the spellings people use, to +E.164.

Accepted: `+1 (212) 555-0100`, `+12125550100`, `0012125550100` and `01112125550100` (the
international prefixes 00 and 011), `12125550100` (NetSapiens' spelling: the country code
without the +), `(212) 555-0100` / `2125550100` (ten digits: a North American number), and
`tel:+12125550100`. Spaces, dots, dashes and parentheses are ignored. The number must be a
valid number of its country's plan (Google's libphonenumber metadata).
"""

from __future__ import annotations

import re

import phonenumbers

_SEPARATORS = re.compile(r"[\s().\-/]")
_SHAPE = re.compile(r"\+?\d{4,20}")


def normalize(text: str) -> str:
    """The number as +E.164, or ValueError saying why it is not one."""
    raw = text.strip()
    if raw.lower().startswith("tel:"):
        raw = raw[4:]
    compact = _SEPARATORS.sub("", raw)
    if not _SHAPE.fullmatch(compact):
        raise ValueError(f"'{text}' is not a phone number (digits, optionally after a +)")
    if compact.startswith("+"):
        candidates = [compact]
    elif compact.startswith("011"):
        candidates = ["+" + compact[3:]]
    elif compact.startswith("00"):
        candidates = ["+" + compact[2:]]
    elif len(compact) == 10:
        candidates = ["+1" + compact, "+" + compact]
    else:
        candidates = ["+" + compact]
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(
        f"'{text}' is not a valid phone number; give it in E.164 with its country code, "
        "e.g. +12125550100"
    )
