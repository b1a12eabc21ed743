"""A Yealink phone emulator for acceptance tests and benchmarks (issue 5).

It provisions itself from `/cfg/` the way the firmware does, fires Action URLs with the firmware's
raw, unencoded substitution, and serves Action URI (`/servlet?key=…`), recording everything.
Facts come from shared/reference/yealink.md; where that says UNVERIFIED the code says so too.

    with YealinkPhone("001565aabbcc", provisioning_url=url, username=u, password=p) as phone:
        phone.provision()
        call = phone.incoming_call("1002", "Jane Doe")
        phone.answer()
        phone.hang_up()
        assert [r.event for r in phone.fired()] == [...]

`python -m tests.support.yealink_phone --help` runs one from the command line.
"""

from tests.support.yealink_phone.action_url import ActionUrlRecord
from tests.support.yealink_phone.calldata import Account, Call, Forward
from tests.support.yealink_phone.catalog import MODEL_CODES, action_url_key, model_code
from tests.support.yealink_phone.cfgfile import PhoneConfig, Rejected, parse_boot, parse_cfg
from tests.support.yealink_phone.phone import YealinkPhone
from tests.support.yealink_phone.provisioning import Fetch
from tests.support.yealink_phone.servlet import ServletRequest, ip_allowed

__all__ = [
    "MODEL_CODES",
    "Account",
    "ActionUrlRecord",
    "Call",
    "Fetch",
    "Forward",
    "PhoneConfig",
    "Rejected",
    "ServletRequest",
    "YealinkPhone",
    "action_url_key",
    "ip_allowed",
    "model_code",
    "parse_boot",
    "parse_cfg",
]
