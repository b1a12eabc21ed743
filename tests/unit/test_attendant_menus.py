"""Attendant menus without I/O: structure checks, dead-end detection, PUT merging."""

from __future__ import annotations

from typing import Any

import pytest

from celito.autoattendants import menus

NO_DIAL = {k: "no" for k in menus.DIAL_BY_EXTENSION}


def to(app: str, target: str = "") -> dict[str, Any]:
    return {"destination-application": app, "destination-user": target}


def menu(**options: Any) -> dict[str, Any]:
    return {**NO_DIAL, **{k.replace("_", "-"): v for k, v in options.items()}}


def test_structure() -> None:
    menus.check_structure(menu(option_1=to("to-user", "1000"), no_key_press="option-1"))
    with pytest.raises(ValueError, match="option-7, which it does not offer"):
        menus.check_structure(menu(option_1=to("to-user", "1000"), no_key_press="option-7"))
    with pytest.raises(ValueError, match="both a destination and a sub-menu"):
        menus.check_structure(menu(option_1={**to("to-user", "1"), "auto-attendant": menu()}))
    with pytest.raises(ValueError, match="needs a destination-application"):
        menus.check_structure(menu(option_1={"description": "nothing"}))
    deep: dict[str, Any] = menu(option_1=to("hangup"))
    for _ in range(menus.MAX_DEPTH - 1):
        deep = menu(option_1={"auto-attendant": deep})
    menus.check_structure(deep)
    with pytest.raises(ValueError, match="at most 5 deep"):
        menus.check_structure(menu(option_1={"auto-attendant": deep}))


def test_a_menu_with_a_person_a_number_or_dialling_has_a_way_out() -> None:
    none: set[str] = set()
    assert menus.has_way_out(menu(option_1=to("to-user", "1000")), none, none)
    assert menus.has_way_out(menu(option_1=to("to-connection", "+12125550100")), none, none)
    assert menus.has_way_out(menu(option_1=to("hangup")), none, none)
    assert menus.has_way_out(menu(no_key_press="hangup"), none, none)
    assert menus.has_way_out({}, none, none)  # dial-by-extension is on by default
    assert menus.has_way_out({**NO_DIAL, "4-digit-dial-by-extension": "yes"}, none, none)
    assert not menus.has_way_out(menu(), none, none)
    assert not menus.has_way_out(menu(option_1={"auto-attendant": menu()}), none, none)
    assert menus.has_way_out(
        menu(option_1={"auto-attendant": menu(option_1=to("to-user", "1000"))}), none, none
    )


def test_attendants_that_only_call_each_other_are_a_dead_end() -> None:
    variants = {
        ("3000", "P1"): menu(option_1=to("to-user", "3001")),
        ("3001", "P2"): menu(option_1=to("to-user", "3000")),
    }
    found = menus.dead_ends(variants, {"3000", "3001"})
    assert {(d.extension, d.via) for d in found} == {("3000", ("3001",)), ("3001", ("3000",))}
    assert "lead only to attendant(s) 3001" in sorted(found)[0].message()
    # One exit anywhere in the loop frees both.
    variants[("3001", "P2")] = menu(option_1=to("to-user", "3000"), option_2=to("to-user", "1000"))
    assert menus.dead_ends(variants, {"3000", "3001"}) == set()


def test_a_loop_back_to_the_main_menu_is_fine_when_the_main_menu_has_a_way_out() -> None:
    variants = {
        ("3000", "P1"): menu(
            option_1=to("to-callqueue", "2000"),
            option_2={"auto-attendant": menu(option_9=to("to-user", "3000"))},
        )
    }
    assert menus.dead_ends(variants, {"3000"}) == set()
    # Without the queue, the sub-menu only loops back to a main menu with no way out.
    variants[("3000", "P1")] = menu(
        option_2={"auto-attendant": menu(option_9=to("to-user", "3000"))}
    )
    found = menus.dead_ends(variants, {"3000"})
    assert {d.path for d in found} == {(), ("option-2",)}


def test_an_attendant_is_live_when_any_time_frame_variant_is() -> None:
    variants = {
        ("3000", "P1"): menu(option_1=to("to-user", "1000")),
        ("3000", "P2"): menu(option_1=to("to-user", "3001")),
        ("3001", "P3"): menu(option_1=to("to-user", "3000")),
    }
    assert menus.dead_ends(variants, {"3000", "3001"}) == set()
    del variants[("3000", "P1")]
    assert {d.prompt for d in menus.dead_ends(variants, {"3000", "3001"})} == {"P2", "P3"}


def test_destinations_walk_sub_menus() -> None:
    tree = menu(
        option_1=to("to-user", "1000"),
        option_2={"auto-attendant": menu(option_3=to("to-callqueue", "2000"))},
    )
    assert list(menus.destinations(tree)) == [
        ((), "option-1", "to-user", "1000"),
        (("option-2",), "option-3", "to-callqueue", "2000"),
    ]


def test_merge() -> None:
    current = menu(option_1=to("to-user", "1000"), option_2=to("to-user", "1001"))
    merged = menus.merge(
        current,
        {"option-2": {"remove": "yes"}, "option-3": to("hangup"), "no-key-press": "hangup"},
    )
    assert merged["option-1"] == to("to-user", "1000")
    assert "option-2" not in merged
    assert merged["option-3"] == to("hangup") and merged["no-key-press"] == "hangup"
    assert current["option-2"] == to("to-user", "1001")  # the stored menu is not touched
