"""The pure parts of Yealink support: files, Digest, the lenient request line, the receiver's
split of unencoded values, hook templates, the model catalog."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from celito.errors import Unprocessable
from celito.phones import hooks
from celito.phones.service import parse_overrides
from celito.yealink import catalog, digest, events, render
from celito.yealink.lenient import repair_line
from celito.yealink.receiver import parse

T46S = catalog.MODELS["T46S"]
T46G = catalog.MODELS["T46G"]


def spec(model: catalog.PhoneModel, generation: catalog.Generation) -> render.PhoneSpec:
    account = render.Account(
        position=1,
        enabled=True,
        label="1001",
        display_name="Jane Doe",
        user_name="1001",
        password="Secr3tSecr3tX",
        server="acme.example",
        port=5060,
        transport="tcp",
    )
    return render.PhoneSpec(
        mac="001565aabbcc",
        model=model,
        generation=generation,
        domain="acme.example",
        accounts=(account,),
        keys=(render.Key("line", "", "1001", 1), render.Key("blf", "1002", "Bob", 1)),
        time_zone="Europe/Berlin",
        action_url_base="https://pbx.example/ns-api/hooks/yealink/001565aabbcc/TOKEN",
        control_ips=("203.0.113.7",),
        provisioning_url="https://pbx.example/cfg/",
        resync_minutes=1440,
        web_password="WebPassw0rd",
        overrides=(("lang.gui", "English"),),
    )


def test_v8x_file_uses_static_and_sip_server_names() -> None:
    text = render.phone_file(spec(T46S, "v8x"))
    assert text.startswith("#!version:1.0.0.1\n")
    lines = set(text.splitlines())
    assert "account.1.sip_server.1.address = acme.example" in lines
    assert "account.1.sip_server.1.transport_type = 1" in lines
    assert "static.auto_provision.server.url = https://pbx.example/cfg/" in lines
    assert "static.security.user_password = admin:WebPassw0rd" in lines
    assert "features.action_uri_limit_ip = 203.0.113.7" in lines
    assert "local_time.time_zone = +1" in lines and "local_time.summer_time = 2" in lines
    assert "linekey.2.type = 16" in lines and "linekey.2.value = 1002" in lines
    assert "lang.gui = English" in lines
    registered = [x for x in lines if x.startswith("action_url.registered = ")]
    assert registered == [
        "action_url.registered = https://pbx.example/ns-api/hooks/yealink/001565aabbcc/TOKEN/"
        "registered?mac=$mac&ip=$ip&model=$model&firmware=$firmware&active_user=$active_user"
        "&active_host=$active_host&local=$local&display_local=$display_local"
    ]
    # Every configured URL fits the firmware's 511-character limit.
    assert all(len(x.split(" = ", 1)[1]) <= 511 for x in lines if x.startswith("action_url."))


def test_v7x_file_uses_bare_names_and_log_on() -> None:
    lines = set(render.phone_file(spec(T46G, "v7x")).splitlines())
    assert "account.1.sip_server_host = acme.example" in lines
    assert "account.1.transport = 1" in lines
    assert "auto_provision.server.url = https://pbx.example/cfg/" in lines
    assert any(x.startswith("action_url.log_on = ") for x in lines)
    assert not any(x.startswith("action_url.registered = ") for x in lines)
    assert not any(x.startswith("action_url.held = ") for x in lines)
    assert not any(x.startswith("static.") for x in lines)


def test_common_and_boot_files() -> None:
    assert T46S.common_file == "y000000000066.cfg"
    assert render.boot_file("001565aabbcc", T46S).splitlines() == [
        "#!version:1.0.0.1",
        'include:config "y000000000066.cfg"',
        'include:config "001565aabbcc.cfg"',
    ]
    assert render.common_file(T46G).startswith("#!version:1.0.0.1\n")
    assert "static." not in render.common_file(T46G)


def test_catalog_spellings_and_firmware_generation() -> None:
    assert catalog.find("yealink t46s") is T46S and catalog.find("T99X") is None
    assert catalog.find("SIP-T46S") is T46S and catalog.find("t21p e2") is catalog.MODELS["T21P_E2"]
    assert catalog.generation_of_firmware("66.86.0.15") == "v8x"
    assert catalog.generation_of_firmware("28.73.0.50") == "v7x"
    assert catalog.generation_of_firmware("junk") is None
    assert {m.name for m in catalog.by_code("095")} == {"T53", "T53W"}


def test_overrides_refuse_platform_keys_and_multiline_values() -> None:
    assert parse_overrides("# comment\nlang.gui = English\n\nfeatures.dnd.enable=1") == {
        "lang.gui": "English",
        "features.dnd.enable": "1",
    }
    for blob in (
        "action_url.call_established = http://evil/",
        "static.security.user_password = a:b",
        "ACTION_URL.CALL_ESTABLISHED = http://evil/",
        "Features.Action_URI_Limit_IP = 0.0.0.0",
        "static.auto_provision.server.url = http://elsewhere/",
        "no equals sign",
        "bad key! = 1",
    ):
        with pytest.raises(Unprocessable):
            parse_overrides(blob)
    assert render.override_problem("lang.gui", "a\nb") is not None


def _digest_header(key: bytes, user: str, password: str, uri: str, nonce: str) -> str:
    ha1 = hashlib.md5(f"{user}:{digest.REALM}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"GET:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{user}", realm="{digest.REALM}", nonce="{nonce}", uri="{uri}", '
        f'qop=auth, nc=00000001, cnonce="abc", response="{response}", algorithm=MD5'
    )


def test_digest_accepts_the_right_password_only_and_spots_stale_nonces() -> None:
    key = b"k" * 32
    nonce = digest.new_nonce(key)
    offered = digest.parse(_digest_header(key, "acme", "Right-Pass-123", "/cfg/a.cfg", nonce))
    assert offered is not None and offered.username == "acme"
    assert offered.check("Right-Pass-123", "GET", key) == "ok"
    assert offered.check("wrong", "GET", key) == "bad"
    assert offered.uri_matches("/cfg/a.cfg") and not offered.uri_matches("/cfg/b.cfg")
    old = digest.new_nonce(key, now=1_000_000)
    stale = digest.parse(_digest_header(key, "acme", "Right-Pass-123", "/cfg/a.cfg", old))
    assert stale is not None and stale.check("Right-Pass-123", "GET", key) == "stale"
    forged = digest.parse(
        _digest_header(
            b"x" * 32, "acme", "Right-Pass-123", "/cfg/a.cfg", digest.new_nonce(b"x" * 32)
        )
    )
    assert forged is not None and forged.check("Right-Pass-123", "GET", key) == "bad"
    assert digest.parse("Bearer abc") is None and digest.parse(None) is None


def test_lenient_line_encodes_only_phone_hook_targets() -> None:
    path = b"GET /ns-api/hooks/yealink/m/t/hold?display_remote="
    line = path + b"O'Brien & Sons #2 100% \xc3\xa9 HTTP/1.1"
    assert repair_line(line) == path + b"O'Brien%20&%20Sons%20%232%20100%25%20%C3%A9 HTTP/1.1"
    assert repair_line(b"GET /ns-api/v2/x?a=b c HTTP/1.1") == b"GET /ns-api/v2/x?a=b c HTTP/1.1"
    assert repair_line(b"GET /ns-api/hooks/yealink/m/t/x?a=%41 HTTP/1.1").endswith(
        b"a=%41 HTTP/1.1"
    )


def test_receiver_splits_on_the_known_order() -> None:
    event = events.EVENTS["incoming_call"]
    query = (
        "mac=001565aabbcc&ip=10.1.1.1&model=T46S&firmware=66&active_user=1001&active_host=acme"
        "&local=sip:1001@acme&call_id=4&callDirection=in&duration=0&calledNumber=+4930123"
        "&remote=sip:+4930123@carrier&display_local=Jane%20Doe&display_remote=A%20&%20B%20=%20C"
    )
    values = parse(query, event)
    assert values["display_remote"] == "A & B = C"
    assert values["calledNumber"] == "+4930123"  # a + is a plus, not a space
    assert values["display_local"] == "Jane Doe"
    # A query in another order still parses (standard rules), unknown names are dropped.
    assert parse("active_user=1002&mac=x&evil=1", event) == {"active_user": "1002", "mac": "x"}


def test_hook_fill_encodes_every_value() -> None:
    template = "https://crm.example/in/$active_user/x?display=$display_local&n=$calledNumber"
    filled = hooks.fill(
        template, {"active_user": "1001/../admin", "display_local": "A&b=c d", "calledNumber": "+1"}
    )
    assert filled == "https://crm.example/in/1001%2F..%2Fadmin/x?display=A%26b%3Dc%20d&n=%2B1"
    assert hooks.variables_in(template) == ["active_user", "display_local", "calledNumber"]
    # `${name}` where letters follow the variable; an encoded `%` stays as written.
    braced = "https://crm.example/x?u=${active_user}ext&pct=100%25&d=${display_local}"
    assert hooks.variables_in(braced) == ["active_user", "display_local"]
    assert (
        hooks.fill(braced, {"active_user": "1001", "display_local": "A B"})
        == "https://crm.example/x?u=1001ext&pct=100%25&d=A%20B"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1/x?u=$nope", "$nope"),
        ("http://127.0.0.1/x?u=${nope}", "$nope"),
        ("http://127.0.0.1/x?amt=100%", "%25"),
        ("http://127.0.0.1/x?amt=%zz", "%25"),
        ("http://$domain.example/x", "host"),
        ("ftp://crm.example/x", "http"),
    ],
)
def test_hook_templates_refused(url: str, problem: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        asyncio.run(hooks.check_template(url, allow_private=True))
    assert problem in refused.value.message


def test_hook_template_private_target_refused_unless_allowed() -> None:
    with pytest.raises(Unprocessable):
        asyncio.run(hooks.check_template("http://127.0.0.1/x?u=$active_user", allow_private=False))
    asyncio.run(hooks.check_template("http://127.0.0.1/x?u=$active_user", allow_private=True))
