"""SIP device secrets: generated strong, stored sealed, handed to the registrar as digests.

Why reversible encryption and not a one-way hash: a SIP password is not a login password. The
phone must be given it in clear (the provisioning file, or a manager typing it into a phone),
so a manager must be able to read it again, and SIP digest authentication needs either the
password or HA1 = MD5(user:realm:password), which is itself password-equivalent for that realm.
A one-way hash would make the password unusable; storing it in clear would put every phone's
credentials into every backup and log.

So the password is sealed with AES-256-GCM (a random 96-bit nonce per seal, the device's SIP
URI as associated data so a sealed value copied onto another device does not open), under a
key every node shares, created once in `system_secrets` (like the JWT signing key). The
registrar never gets the clear password: it is given HA1/HA1b digests (`registrar_digests`).
Nothing here logs, and audit entries carry only a fingerprint of the sealed value.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import string

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.models import SystemSecret

KEY_NAME = "device_secrets_aes256gcm"
_VERSION = "v1:"
# Letters and digits only: every phone's web UI and config format takes them unescaped.
_ALPHABET = string.ascii_letters + string.digits
GENERATED_LENGTH = 20  # ~119 bits
MIN_LENGTH = 12
MAX_LENGTH = 64
_ALLOWED = re.compile(r"[!-~]+")  # printable ASCII, no spaces
_FORBIDDEN_CHARS = set("\"'\\<>&")


def generate(*, names: tuple[str, ...] = ()) -> str:
    """A fresh SIP password with at least one lower, one upper letter and one digit, that
    `problem_with` accepts for `names` (a short extension such as `10` turns up by chance)."""
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))
        if (
            any(c.islower() for c in value)
            and any(c.isupper() for c in value)
            and any(c.isdigit() for c in value)
            and problem_with(value, names=names) is None
        ):
            return value


def problem_with(password: str, *, names: tuple[str, ...]) -> str | None:
    """Why a chosen SIP password is refused, or None when it is acceptable."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"must be {MIN_LENGTH} to {MAX_LENGTH} characters"
    if not _ALLOWED.fullmatch(password) or _FORBIDDEN_CHARS & set(password):
        return "may hold printable characters except spaces, quotes, \\ < > and &"
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        return "must mix letters and digits"
    lowered = password.lower()
    if any(n and n.lower() in lowered for n in names):
        return "must not contain the device name or the user's extension"
    if len(set(password)) < 5:
        return "is too repetitive"
    return None


async def load_key(session: AsyncSession, name: str = KEY_NAME) -> bytes:
    """A 256-bit key every node shares, created on first use (`name` keeps purposes apart)."""
    existing = await session.get(SystemSecret, name)
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(SystemSecret(name=name, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another node created it first
        existing = await session.get(SystemSecret, name)
    assert existing is not None
    return bytes.fromhex(existing.value)


@functools.lru_cache(maxsize=8)
def _cipher(key: bytes) -> AESGCM:
    # A node uses one or two keys; setting one up costs more than opening a short secret
    # (phones' files open three per download). The object is stateless and thread-safe.
    return AESGCM(key)


def seal(key: bytes, plaintext: str, *, bound_to: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _cipher(key).encrypt(nonce, plaintext.encode(), bound_to.encode())
    return _VERSION + base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, sealed: str, *, bound_to: str) -> str:
    if not sealed.startswith(_VERSION):
        raise ValueError("unknown sealed-secret version")
    raw = base64.b64decode(sealed[len(_VERSION) :])
    try:
        return _cipher(key).decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
    except InvalidTag:
        raise ValueError("the sealed secret does not open with this key and device") from None


def fingerprint(sealed: str) -> str:
    """Tells that a secret changed without telling anything about it (for audit diffs)."""
    return hashlib.sha256(sealed.encode()).hexdigest()[:12] if sealed else ""


def ha1(user: str, realm: str, password: str) -> str:
    """RFC 2617 HA1, what a registrar such as Kamailio (auth_db `ha1`) verifies against."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def ha1b(user: str, domain: str, realm: str, password: str) -> str:
    """HA1 for clients that send `user@domain` as the digest username (Kamailio `ha1b`)."""
    return ha1(f"{user}@{domain}", realm, password)
