"""Phone-number spellings to +E.164, and device secrets and fields (pure logic)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from celito.devices import secrets
from celito.devices.schemas import DeviceCreate, DeviceUpdate, normalize_mac
from celito.phonenumbers.e164 import normalize
from celito.phonenumbers.schemas import PhonenumberCreate


@pytest.mark.parametrize(
    ("spelling", "e164"),
    [
        ("+12125550100", "+12125550100"),
        ("+1 (212) 555-0100", "+12125550100"),
        ("12125550100", "+12125550100"),  # NetSapiens: country code without +
        ("2125550100", "+12125550100"),  # ten digits: North American
        ("(212) 555.0100", "+12125550100"),
        ("0012125550100", "+12125550100"),
        ("01112125550100", "+12125550100"),
        ("tel:+44 20 7183 8750", "+442071838750"),
        ("442071838750", "+442071838750"),
        ("4930123456", "+4930123456"),  # ten digits, but not a North American area code
        ("+33 1 42 68 53 00", "+33142685300"),
        ("18005551234", "+18005551234"),
    ],
)
def test_spellings_become_e164(spelling: str, e164: str) -> None:
    assert normalize(spelling) == e164


@pytest.mark.parametrize(
    "bad", ["", "hello", "+1555", "12", "+1 212 555 01000000000000", "1-800-FLOWERS", "+"]
)
def test_not_numbers_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize(bad)


def test_schema_normalises_and_refuses() -> None:
    assert (
        PhonenumberCreate.model_validate({"phonenumber": "1 212 555 0100"}).phonenumber
        == "+12125550100"
    )
    with pytest.raises(ValidationError):
        PhonenumberCreate.model_validate({"phonenumber": "nope"})


def test_generated_passwords_never_hold_a_short_extension() -> None:
    # A two-digit extension turns up in ~1% of random 20-character passwords; the device
    # would then refuse its own generated password (a 422 on create).
    for _ in range(2000):
        assert (
            secrets.problem_with(secrets.generate(names=("10", "10b")), names=("10", "10b")) is None
        )


def test_generated_passwords_are_strong_and_distinct() -> None:
    made = {secrets.generate() for _ in range(50)}
    assert len(made) == 50
    for p in made:
        assert len(p) == secrets.GENERATED_LENGTH and p.isalnum()
        assert any(c.islower() for c in p) and any(c.isupper() for c in p)
        assert any(c.isdigit() for c in p)
        assert secrets.problem_with(p, names=("1001a", "1001")) is None


@pytest.mark.parametrize(
    ("password", "needle"),
    [
        ("Sh0rt", "12 to 64"),
        ("x" * 65, "12 to 64"),
        ("onlyletterslong", "mix letters and digits"),
        ("123456789012", "mix letters and digits"),
        ("has space 1234", "printable"),
        ('quote"Quote123', "printable"),
        ("1001aPassword9", "device name"),
        ("ab1ab1ab1ab1", "repetitive"),
    ],
)
def test_chosen_passwords_are_checked(password: str, needle: str) -> None:
    problem = secrets.problem_with(password, names=("1001a", "1001"))
    assert problem is not None and needle in problem


def test_seal_and_unseal() -> None:
    key = bytes(range(32))
    sealed = secrets.seal(key, "Str0ng-Sip-Pass", bound_to="sip:1001a@acme")
    assert sealed.startswith("v1:") and "Str0ng" not in sealed
    assert secrets.seal(key, "Str0ng-Sip-Pass", bound_to="sip:1001a@acme") != sealed  # nonce
    assert secrets.unseal(key, sealed, bound_to="sip:1001a@acme") == "Str0ng-Sip-Pass"
    with pytest.raises(ValueError):
        secrets.unseal(key, sealed, bound_to="sip:1001b@acme")  # copied onto another device
    with pytest.raises(ValueError):
        secrets.unseal(bytes(32), sealed, bound_to="sip:1001a@acme")  # another key
    with pytest.raises(ValueError):
        secrets.unseal(key, "v0:" + sealed[3:], bound_to="sip:1001a@acme")
    assert secrets.fingerprint(sealed) != secrets.fingerprint(
        secrets.seal(key, "Str0ng-Sip-Pass", bound_to="sip:1001a@acme")
    )
    assert secrets.fingerprint("") == ""


def test_ha1_is_rfc_2617() -> None:
    # RFC 2617 §3.5: Mufasa / testrealm@host.com / Circle Of Life.
    assert secrets.ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == (
        "939e7578ed9e3c518a452acee763bce9"
    )
    assert secrets.ha1b("1001a", "acme", "acme", "pw") == secrets.ha1("1001a@acme", "acme", "pw")


@pytest.mark.parametrize(
    ("mac", "normal"),
    [
        ("80:5E:C0:AA:BB:CC", "805ec0aabbcc"),
        ("80-5e-c0-aa-bb-cc", "805ec0aabbcc"),
        ("805e.c0aa.bbcc", "805ec0aabbcc"),
        ("805EC0AABBCC", "805ec0aabbcc"),
    ],
)
def test_mac_spellings(mac: str, normal: str) -> None:
    assert normalize_mac(mac) == normal
    assert (
        DeviceCreate.model_validate(
            {"device": "1001a", "device-provisioning-mac-address": mac}
        ).device_provisioning_mac_address
        == normal
    )


@pytest.mark.parametrize("bad", ["80:5e:c0:aa:bb", "80:5e:c0:aa:bb:cc:dd", "zz:5e:c0:aa:bb:cc"])
def test_bad_macs(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_mac(bad)


def test_registration_fields_are_read_only() -> None:
    with pytest.raises(ValidationError, match="read-only"):
        DeviceUpdate.model_validate({"device-sip-registration-state": "registered"})
    with pytest.raises(ValidationError, match="read-only"):
        DeviceUpdate.model_validate({"device_sip_registration_user_agent": "x"})
    assert DeviceUpdate.model_validate({"device-push-enabled": "no"}).device_push_enabled is False
