"""Call queue rules without I/O: ring strategies, agent ids, agent states."""

from __future__ import annotations

import pytest

from celito.callqueues import rules
from celito.errors import BadRequest, Unprocessable


@pytest.mark.parametrize(
    ("strategy", "dispatch"),
    [
        ("ring-all", "Ring All"),
        ("longest-idle", "Round-robin"),
        ("round-robin", "Tiered Round-robin"),
        ("linear-hunt", "Linear Hunt"),
        ("linear-cascade", "Linear Cascade"),
        ("fewest-calls", "Round-robin"),
        ("call-park", "Call Park"),
    ],
)
def test_every_strategy_has_a_netsapiens_dispatch_type(strategy: str, dispatch: str) -> None:
    assert rules.DISPATCH_OF[strategy] == dispatch
    assert dispatch in rules.DISPATCH_TYPES
    assert rules.resolve_strategy(None, None, strategy) == strategy
    assert rules.resolve_strategy(None, dispatch, strategy) == strategy


def test_every_dispatch_type_reads_back_as_a_strategy() -> None:
    for dispatch in rules.DISPATCH_TYPES:
        assert rules.DISPATCH_OF[rules.STRATEGY_OF[dispatch]] == dispatch


def test_dispatch_type_alone() -> None:
    assert rules.resolve_strategy(None, None, None) == rules.DEFAULT_STRATEGY == "longest-idle"
    assert rules.resolve_strategy("ring-all", None, None) == "ring-all"
    assert rules.resolve_strategy("ring-all", "Linear Hunt", None) == "linear-hunt"
    # A NetSapiens client echoing the dispatch type back keeps a celito-only strategy.
    assert rules.resolve_strategy("fewest-calls", "Round-robin", None) == "fewest-calls"
    assert rules.resolve_strategy("fewest-calls", "Ring All", None) == "ring-all"


def test_strategy_and_dispatch_type_must_agree() -> None:
    with pytest.raises(Unprocessable, match="not 'Ring All'"):
        rules.resolve_strategy(None, "Ring All", "linear-hunt")


def test_agent_ids() -> None:
    assert rules.parse_agent_id("1000@Acme.Example", "x").text == "1000@acme.example"
    device = rules.parse_agent_id("SIP:1000a@acme", "x")
    assert device.device and device.name == "1000a" and device.text == "sip:1000a@acme"
    assert rules.parse_agent_id("1000", "acme").text == "1000@acme"
    for bad in ("", "@acme", "sip:@acme", "10 00@acme", "1000@", "../x@acme"):
        with pytest.raises(Unprocessable):
            rules.parse_agent_id(bad, "acme")


def test_device_owner_follows_the_extension_naming() -> None:
    users = ["100", "1000", "1001", "2000"]
    assert rules.device_owner("1000", users) == "1000"
    assert rules.device_owner("1000a", users) == "1000"
    assert rules.device_owner("1000wp", users) == "1000"
    assert rules.device_owner("1001b", users) == "1001"
    assert rules.device_owner("10002", users) is None  # digits make another extension
    assert rules.device_owner("3000a", users) is None
    assert rules.device_owner("1000ä", users) is None


def state(kind: str, single: bool = False, status: str = "available") -> rules.AgentState:
    return rules.AgentState(kind, single, status)


def test_actions_and_statuses() -> None:
    logged_in = state("automatic")
    assert rules.apply_status(logged_in, "logout") == state("manual")
    assert rules.apply_status(logged_in, "onecall") == state("manual", True)
    assert rules.apply_status(state("manual", True), "login") == logged_in
    assert rules.apply_status(logged_in, "lunch") == state("manual", False, "lunch")
    assert rules.apply_status(logged_in, "cust8") == state("manual", False, "cust8")
    assert rules.apply_status(state("manual", False, "lunch"), "available") == logged_in
    assert rules.apply_status(state("manual", False, "lunch"), "online") == logged_in
    # An off-net agent logs back in off-net; a disabled entry does not move.
    assert rules.apply_status(state("offnet-automatic"), "login") == state("offnet-automatic")
    assert rules.apply_status(state("disabled"), "login") == state("disabled")
    with pytest.raises(ValueError):
        rules.apply_status(logged_in, "dance")


def test_availability_for_dispatch() -> None:
    assert rules.availability_for_dispatch("automatic", False, "available") == "available"
    assert rules.availability_for_dispatch("manual", False, "available") == "logged-out"
    assert rules.availability_for_dispatch("manual", True, "available") == "single-call"
    assert rules.availability_for_dispatch("manual", False, "cust3") == "cust3"
    assert rules.availability_for_dispatch("disabled", True, "lunch") == "disabled"


def test_status_words() -> None:
    assert rules.check_status_word(" CUST1 ") == "cust1"
    assert set(rules.CUSTOM_STATUSES) == {f"cust{i}" for i in range(1, 9)}
    for bad in ("cust9", "cust0", "", "asleep"):
        with pytest.raises(BadRequest, match="cust1"):
            rules.check_status_word(bad)
