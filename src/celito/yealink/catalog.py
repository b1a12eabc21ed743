"""The Yealink models the platform provisions: common-file code, family, firmware generation,
SIP accounts and line keys (sources: yealink.md §4.3, Wazo's and FusionPBX's model tables).

The generation decides the key names in the files (V7x bare names, V8x `static.` names). It is
the model's default here; a phone that reports its firmware in the User-Agent overrides it
(`generation_of_firmware`), because older models such as the T46G later got V8x firmware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Generation = Literal["v7x", "v8x"]


@dataclass(frozen=True)
class PhoneModel:
    name: str
    code: str  # the `y0000000000XX.cfg` code, three digits
    family: str
    generation: Generation
    accounts: int
    line_keys: int
    touch: bool = False  # key sequences (`A;B;C`) do not work on touch-screen models

    @property
    def common_file(self) -> str:
        return f"y000000000{self.code}.cfg"


def _m(
    name: str,
    code: str,
    family: str,
    generation: Generation,
    accounts: int,
    line_keys: int,
    touch: bool = False,
) -> PhoneModel:
    return PhoneModel(name, code, family, generation, accounts, line_keys, touch)


MODELS: dict[str, PhoneModel] = {
    m.name: m
    for m in (
        _m("T20P", "007", "T2x", "v7x", 1, 2),
        _m("T22P", "005", "T2x", "v7x", 3, 3),
        _m("T26P", "004", "T2x", "v7x", 3, 13),
        _m("T28P", "000", "T2x", "v7x", 6, 16),
        _m("T19P_E2", "053", "T2x E2", "v8x", 1, 0),
        _m("T21P_E2", "052", "T2x E2", "v8x", 2, 2),
        _m("T23G", "044", "T2x", "v8x", 3, 3),
        _m("T27G", "069", "T2x", "v8x", 6, 21),
        _m("T29G", "046", "T2x", "v8x", 16, 27),
        _m("T40G", "076", "T4x", "v8x", 3, 3),
        _m("T41P", "036", "T4x", "v7x", 6, 15),
        _m("T42G", "029", "T4x", "v7x", 12, 15),
        _m("T46G", "028", "T4x", "v7x", 16, 27),
        _m("T48G", "035", "T4x", "v7x", 16, 29, touch=True),
        _m("T41S", "068", "T4xS", "v8x", 6, 15),
        _m("T42S", "067", "T4xS", "v8x", 12, 15),
        _m("T46S", "066", "T4xS", "v8x", 16, 27),
        _m("T48S", "065", "T4xS", "v8x", 16, 29, touch=True),
        _m("T42U", "116", "T4xU", "v8x", 12, 15),
        _m("T43U", "107", "T4xU", "v8x", 12, 21),
        _m("T46U", "108", "T4xU", "v8x", 16, 27),
        _m("T48U", "109", "T4xU", "v8x", 16, 29, touch=True),
        _m("T52S", "074", "T5x", "v8x", 12, 21),
        _m("T54S", "070", "T5x", "v8x", 16, 27),
        _m("T53", "095", "T5x", "v8x", 12, 21),
        _m("T53W", "095", "T5x", "v8x", 12, 21),
        _m("T54W", "096", "T5x", "v8x", 16, 27),
        _m("T57W", "097", "T5x", "v8x", 16, 29, touch=True),
        _m("T58A", "058", "T5x", "v8x", 16, 27, touch=True),
        _m("T58W", "150", "T5x", "v8x", 16, 27, touch=True),
        _m("T30P", "127", "T3x", "v8x", 1, 0),
        _m("T31G", "123", "T3x", "v8x", 2, 2),
        _m("T33G", "124", "T3x", "v8x", 4, 4),
        _m("T32G", "032", "T3x", "v7x", 3, 3),
        _m("T38G", "038", "T3x", "v7x", 6, 16),
        _m("VP530", "023", "VP", "v7x", 4, 0, touch=True),
        _m("VP-T49G", "051", "VP", "v8x", 16, 29, touch=True),
        _m("CP920", "078", "CP", "v8x", 1, 0, touch=True),
        _m("CP960", "073", "CP", "v8x", 1, 0, touch=True),
        _m("W60B", "077", "DECT", "v8x", 8, 0),
        _m("W70B", "146", "DECT", "v8x", 10, 0),
    )
}

_ALIASES = {re.sub(r"[^A-Z0-9]", "", name): name for name in MODELS}
_FIRMWARE = re.compile(r"^\d+\.(\d+)\.")


def find(model: str) -> PhoneModel | None:
    """`T46S`, `t46s`, `SIP-T46S`, `Yealink T46S`, `T21P E2` all name the same model."""
    key = re.sub(r"[^A-Z0-9]", "", model.upper())
    for prefix in ("YEALINK", "SIP"):
        key = key.removeprefix(prefix)
    name = _ALIASES.get(key)
    return MODELS[name] if name else None


def by_code(code: str) -> list[PhoneModel]:
    return [m for m in MODELS.values() if m.code == code]


def generation_of_firmware(firmware: str) -> Generation | None:
    """Yealink firmware is `<model code>.<release>.…`; releases 80 and later are V8x."""
    found = _FIRMWARE.match(firmware)
    if not found:
        return None
    return "v8x" if int(found.group(1)) >= 80 else "v7x"
