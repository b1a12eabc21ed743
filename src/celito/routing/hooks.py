"""Where routing snapshots get devices and phone numbers from.

Devices (and their registration state) and phone numbers belong to their own resources. Each
plugs in one async function, typically from its service module:

    from celito.routing import hooks
    from celito.routing.snapshot import Device

    async def routing_devices(session: AsyncSession, domain_id: int) -> Sequence[Device]:
        ...  # every device of the domain: Device(name="1001a", user="1001", registered=True)

    hooks.provide_devices(routing_devices)

and likewise `hooks.provide_numbers(...)` with `PhoneNumber(number="+12125550100",
target="1001")` (the target written as an answer-rule destination: `1001`, `user_1001`,
`queue_2000`, `aa_3000`, `vmail_1001`, an outside number …; `enabled=False` for a number in
inventory). Until a resource plugs in, snapshots have no devices (every user is unregistered)
or no numbers. `load_snapshot(..., devices=…, numbers=…)` overrides these per call (tests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from celito.routing.snapshot import Device, PhoneNumber

DeviceSource = Callable[[AsyncSession, int], Awaitable[Sequence[Device]]]
NumberSource = Callable[[AsyncSession, int], Awaitable[Sequence[PhoneNumber]]]


class _Sources:
    devices: DeviceSource | None = None
    numbers: NumberSource | None = None


SOURCES = _Sources()


def provide_devices(source: DeviceSource | None) -> None:
    SOURCES.devices = source


def provide_numbers(source: NumberSource | None) -> None:
    SOURCES.numbers = source
