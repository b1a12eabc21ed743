"""The shapes of the functions that feed routing snapshots with devices and phone numbers.

By default the loader asks the devices and phone-numbers services
(`routing_devices`, `routing_numbers`); tests pass their own functions.

The target of a number is written as an answer-rule destination: `1001`, `queue_2000`,
`vmail_1001`, an outside number …; `enabled=False` for a number in inventory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from celito.routing.snapshot import Device, PhoneNumber

DeviceSource = Callable[[AsyncSession, int], Awaitable[Sequence[Device]]]
NumberSource = Callable[[AsyncSession, int], Awaitable[Sequence[PhoneNumber]]]
