"""The registration lookup presence uses by default: the devices resource's registrations.

A user counts as registered when at least one of its devices is registered now
(`devices.service.is_registered`: registered and not lapsed) and that device is not marked
`device-sip-registration-ignore-for-presence-calculation`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, exists, false, func

from celito.db import UTCDateTime
from celito.devices import service as devices
from celito.devices.models import Device
from celito.users.models import User

IGNORED = "device_sip_registration_ignore_for_presence_calculation"

_REGISTERED = exists().where(
    Device.user_id == User.id,
    Device.domain_id == User.domain_id,
    devices.registered_clause(bindparam("now", type_=UTCDateTime())),
    func.coalesce(Device.attributes[IGNORED].as_boolean(), false()).is_(false()),
)


def registered_users() -> ColumnElement[bool]:
    return _REGISTERED
