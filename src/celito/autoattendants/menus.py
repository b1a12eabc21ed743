"""Attendant menus as data, and the checks that need no database. No I/O here.

A menu (NetSapiens `AutoAttendantTier`) is a dict in API form: `option-1` … `option-9`,
`option-0`, `option-*`, `option-#`, each either a destination (`destination-application` +
`destination-user`) or a sub-menu (`auto-attendant`); `no-key-press` (the caller pressed
nothing before the timeout) and `unassigned-key-press` (a key with no option) say `repeat`,
`hangup` or which option to take; `3-`/`4-`/`5-digit-dial-by-extension` let callers dial an
extension directly.

Dead ends
---------
Menus may loop: an option can send the caller to another attendant, or back to this one, and
that is often what is wanted ("press 9 to hear the main menu again"). A loop is refused only
when it makes a dead end: a menu from which no sequence of key presses ever reaches anything
but more menus. A menu has a way out when one of these holds:

* dial-by-extension is on (3, 4 or 5 digits);
* a key press (or no key press) hangs up;
* an option reaches a person, a queue, a conference, a voicemail box or a phone number;
* an option opens a sub-menu that has a way out;
* an option sends the caller to an attendant that has a way out (in any of its time-frame
  variants: some time of day offers one).

"Has a way out" for attendants is the least fixed point of these rules, so attendants that only
send callers to each other have none, while a loop through an attendant that also offers a
person is fine. Every menu and sub-menu of every attendant must have a way out after a write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from celito.autoattendants.destinations import HANGUP, USER_APPS

OPTION_KEYS = (
    "option-1",
    "option-2",
    "option-3",
    "option-4",
    "option-5",
    "option-6",
    "option-7",
    "option-8",
    "option-9",
    "option-0",
    "option-*",
    "option-#",
)
FAIL_KEYS = ("no-key-press", "unassigned-key-press")
DIAL_BY_EXTENSION = (
    "3-digit-dial-by-extension",
    "4-digit-dial-by-extension",
    "5-digit-dial-by-extension",
)
MAX_DEPTH = 5

Menu = Mapping[str, Any]


def options(menu: Menu) -> dict[str, Mapping[str, Any]]:
    return {k: menu[k] for k in OPTION_KEYS if isinstance(menu.get(k), Mapping)}


def walk(menu: Menu, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Menu]]:
    """Every menu in the tree, the top one first, with the option keys that lead to it."""
    yield path, menu
    for key, option in options(menu).items():
        sub = option.get("auto-attendant")
        if isinstance(sub, Mapping):
            yield from walk(sub, (*path, key))


def describe(path: tuple[str, ...]) -> str:
    return "the main menu" if not path else "the sub-menu under " + " → ".join(path)


def check_structure(menu: Menu) -> None:
    """Each option is one destination or one sub-menu; fail keys name existing options;
    menus nest at most MAX_DEPTH deep. Raises ValueError with the reason."""
    for path, tier in walk(menu):
        if len(path) >= MAX_DEPTH:
            raise ValueError(f"menus nest at most {MAX_DEPTH} deep ({describe(path)})")
        present = options(tier)
        for key, option in present.items():
            has_sub = isinstance(option.get("auto-attendant"), Mapping)
            has_app = bool(option.get("destination-application"))
            if has_sub and has_app:
                raise ValueError(
                    f"{key} of {describe(path)} has both a destination and a sub-menu; "
                    "give one of them"
                )
            if not has_sub and not has_app:
                raise ValueError(
                    f"{key} of {describe(path)} needs a destination-application or an "
                    "auto-attendant sub-menu"
                )
        for fail in FAIL_KEYS:
            action = tier.get(fail)
            if action and action.startswith("option-") and action not in present:
                raise ValueError(f"{fail} of {describe(path)} is {action}, which it does not offer")


def destinations(menu: Menu) -> Iterator[tuple[tuple[str, ...], str, str, str]]:
    """(path, option key, application, target) of every destination option in the tree."""
    for path, tier in walk(menu):
        for key, option in options(tier).items():
            app = option.get("destination-application")
            if app:
                yield path, key, str(app), str(option.get("destination-user") or "")


def has_way_out(tier: Menu, live: set[str], attendants: set[str]) -> bool:
    if any(tier.get(k, True) not in (False, "no") for k in DIAL_BY_EXTENSION):
        return True
    if HANGUP in (tier.get(k) for k in FAIL_KEYS):
        return True
    for option in options(tier).values():
        sub = option.get("auto-attendant")
        if isinstance(sub, Mapping):
            if has_way_out(sub, live, attendants):
                return True
            continue
        app = option.get("destination-application")
        target = str(option.get("destination-user") or "")
        if app in USER_APPS and target in attendants:
            if target in live:
                return True
            continue
        if app:
            return True
    return False


def live_attendants(variants: Mapping[str, list[Menu]], attendants: set[str]) -> set[str]:
    """The attendants (extensions) that offer a way out in some variant: a least fixed point."""
    live: set[str] = set()
    changed = True
    while changed:
        changed = False
        for ext, menus in variants.items():
            if ext not in live and any(has_way_out(m, live, attendants) for m in menus):
                live.add(ext)
                changed = True
    return live


@dataclass(frozen=True, order=True)
class DeadEnd:
    extension: str
    prompt: str
    path: tuple[str, ...]
    via: tuple[str, ...]  # the attendants its options lead to

    def message(self) -> str:
        where = f"{describe(self.path)} of attendant {self.extension} ({self.prompt})"
        if self.via:
            return (
                f"{where} has no way out: its options lead only to attendant(s) "
                f"{', '.join(self.via)}, which never reach a person, queue, conference, "
                "voicemail or number. Add such an option, turn on dial-by-extension, or make "
                "a key press hang up"
            )
        return (
            f"{where} has no way out: add an option that reaches a person, queue, conference, "
            "voicemail or number, turn on dial-by-extension, or make a key press hang up"
        )


def dead_ends(variants: Mapping[tuple[str, str], Menu], attendants: set[str]) -> set[DeadEnd]:
    """Every menu or sub-menu, of every (extension, prompt) variant, with no way out."""
    by_ext: dict[str, list[Menu]] = {}
    for (ext, _prompt), menu in variants.items():
        by_ext.setdefault(ext, []).append(menu)
    live = live_attendants(by_ext, attendants)
    found: set[DeadEnd] = set()
    for (ext, prompt), menu in variants.items():
        for path, tier in walk(menu):
            if not has_way_out(tier, live, attendants):
                via = sorted(
                    {
                        str(o.get("destination-user"))
                        for o in options(tier).values()
                        if o.get("destination-application") in USER_APPS
                        and str(o.get("destination-user") or "") in attendants
                    }
                )
                found.add(DeadEnd(ext, prompt, path, tuple(via)))
    return found


def merge(current: Menu, change: Menu) -> dict[str, Any]:
    """A PUT's menu applied to the stored one: keys given replace theirs (a whole option or
    sub-menu at a time), an option with `remove: yes` goes away, keys not given stay."""
    merged = dict(current)
    for key, value in change.items():
        if (
            key in OPTION_KEYS
            and isinstance(value, Mapping)
            and value.get("remove") in (True, "yes")
        ):
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
