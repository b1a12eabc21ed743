"""Where a call may be sent: attendant menu options and call queue overflow share this check.

A destination is a NetSapiens dial-rule application (`destination-application`) and its
target (`destination-user`), checked against the domain's extension plan:

| applications                                          | target                             |
|-------------------------------------------------------|------------------------------------|
| `to-user` and its variants                            | any extension of the domain (a     |
|                                                       | user, queue, attendant, conference)|
| `to-callqueue`, `…-announce-count-callers-ahead`,     | a call queue of the domain         |
| `…-announce-expected-wait-time`                       |                                    |
| `to-voicemail`, `to-voicemail-residential`            | a user of the domain whose         |
|                                                       | voicemail is not turned off        |
| `to-connection` and its variants                      | a phone number (digits, optional +)|
| `hangup`                                              | none                               |

Other applications (`available-number`, `spam-screening`, `toggle-timeframe`, device routes)
are not call destinations and are refused with 422.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from celito.domains.models import Domain
from celito.errors import Unprocessable
from celito.extensions import service as extensions
from celito.users.models import User

USER_APPS = frozenset(
    {
        "to-user",
        "to-user-residential",
        "to-user-add-header",
        "to-user-residential-add-header",
        "to-user-notify-of-recording",
        "to-user-answer-and-fake-ringback",
    }
)
QUEUE_APPS = frozenset(
    {
        "to-callqueue",
        "to-callqueue-announce-count-callers-ahead",
        "to-callqueue-announce-expected-wait-time",
    }
)
VOICEMAIL_APPS = frozenset({"to-voicemail", "to-voicemail-residential"})
CONNECTION_APPS = frozenset(
    {
        "to-connection",
        "to-connection-or-user-no-failover",
        "to-connection-block-caller-id",
        "to-connection-no-timeout",
        "to-connection-add-header",
        "to-connection-add-header-force-caller-id",
        "to-connection-add-header-no-timeout",
    }
)
HANGUP = "hangup"
APPLICATIONS = USER_APPS | QUEUE_APPS | VOICEMAIL_APPS | CONNECTION_APPS | {HANGUP}
# Applications whose target is an extension of the domain (so deleting it would dangle).
EXTENSION_APPS = USER_APPS | QUEUE_APPS | VOICEMAIL_APPS
_NUMBER = re.compile(r"\+?[0-9]{2,20}")


def check_application(application: str, *, field: str) -> str:
    if application not in APPLICATIONS:
        raise Unprocessable(
            f"{field} '{application}' is not a call destination; use one of: "
            + ", ".join(sorted(APPLICATIONS))
        )
    return application


async def check_destination(
    session: AsyncSession,
    domain: Domain,
    application: str,
    target: str | None,
    *,
    field: str,
) -> str:
    """The checked target ("" for hangup), or 422 saying what is wrong with it."""
    check_application(application, field=f"{field} destination-application")
    target = (target or "").strip()
    where = f"{field}: {application}"
    if application == HANGUP:
        if target:
            raise Unprocessable(f"{where} takes no destination-user (got '{target}')")
        return ""
    if not target:
        raise Unprocessable(f"{where} needs a destination-user")
    if application in CONNECTION_APPS:
        number = target.replace(" ", "").replace("-", "")
        if not _NUMBER.fullmatch(number):
            raise Unprocessable(f"{where} needs a phone number, not '{target}'")
        return number
    kind = await extensions.kind_of(session, domain.id, target)
    if kind is None:
        raise Unprocessable(f"{where}: extension {target} does not exist in domain {domain.name}")
    if application in QUEUE_APPS and kind != "callqueue":
        raise Unprocessable(f"{where}: extension {target} is a {kind}, not a call queue")
    if application in VOICEMAIL_APPS:
        if kind != "user":
            raise Unprocessable(
                f"{where}: extension {target} is a {kind}; only users have voicemail"
            )
        attributes = await session.scalar(
            select(User.attributes).where(User.domain_id == domain.id, User.user == target)
        )
        if attributes is not None and attributes.get("voicemail_enabled") is False:
            raise Unprocessable(f"{where}: user {target} has voicemail turned off")
    return target
