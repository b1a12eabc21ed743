"""Answer rule bodies and answers, with the ns-api v2 names (Answerrule, AnswerruleFeature)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from celito.kit.schema import MAX_INT, ApiDatetime, ApiModel, ApiOut, YesNo

FEATURES = (
    "simultaneous-ring",
    "do-not-disturb",
    "forward-always",
    "forward-on-active",
    "forward-on-busy",
    "forward-no-answer",
    "forward-when-unregistered",
    "forward-on-dnd",
    "forward-on-spam-call",
    "call-screening",
    "phone-numbers-to-allow",
    "phone-numbers-to-reject",
)
SWITCHES = ("do-not-disturb", "call-screening")
MAX_PARAMETERS = 100


class Feature(ApiModel):
    enabled: YesNo = False
    parameters: list[str | int] | None = Field(None, max_length=MAX_PARAMETERS)


class _Fields(ApiModel):
    enabled: YesNo | None = None
    # Where the rule goes in the user's priority list: 1 is first (0 also means first).
    order: int | None = Field(None, ge=0, le=MAX_INT)
    new_position: Literal["top", "bottom"] | None = None
    simultaneous_ring: Feature | None = None
    do_not_disturb: Feature | None = None
    forward_always: Feature | None = None
    forward_on_active: Feature | None = None
    forward_on_busy: Feature | None = None
    forward_no_answer: Feature | None = None
    forward_when_unregistered: Feature | None = None
    forward_on_dnd: Feature | None = None
    forward_on_spam_call: Feature | None = None
    call_screening: Feature | None = None
    phone_numbers_to_allow: Feature | None = None
    phone_numbers_to_reject: Feature | None = None
    # Read-only in the spec; accepted (a GET's answer can be sent back) and ignored.
    is_active: Any = None
    domain: Any = None
    user: Any = None
    synchronous: YesNo | None = None

    def features(self) -> dict[str, Feature]:
        return {
            name: value
            for name in FEATURES
            if (value := getattr(self, name.replace("-", "_"))) is not None
        }


class AnswerruleCreate(_Fields):
    time_frame: str = Field(min_length=1, max_length=100)


class AnswerruleUpdate(_Fields):
    # Moves the rule to another time frame.
    time_frame: str | None = Field(None, min_length=1, max_length=100)


class ReorderItem(ApiModel):
    time_frame: str = Field(min_length=1, max_length=100)


class FeatureOut(ApiOut):
    enabled: YesNo
    parameters: list[str]


class AnswerruleOut(ApiOut):
    domain: str
    user: str
    time_frame: str
    enabled: YesNo
    is_active: bool
    order: int
    simultaneous_ring: FeatureOut
    do_not_disturb: FeatureOut
    forward_always: FeatureOut
    forward_on_active: FeatureOut
    forward_on_busy: FeatureOut
    forward_no_answer: FeatureOut
    forward_when_unregistered: FeatureOut
    forward_on_dnd: FeatureOut
    forward_on_spam_call: FeatureOut
    call_screening: FeatureOut
    phone_numbers_to_allow: FeatureOut
    phone_numbers_to_reject: FeatureOut
    created_datetime: ApiDatetime
    last_modified_datetime: ApiDatetime


_OFF: dict[str, Any] = {"enabled": "no", "parameters": []}
EXAMPLE = {
    "domain": "acme",
    "user": "1001",
    "time-frame": "Business hours",
    "enabled": "yes",
    "is-active": True,
    "order": 1,
    **{f: _OFF for f in FEATURES},
    "simultaneous-ring": {"enabled": "yes", "parameters": ["<OwnDevices>", "1002;delay=10"]},
    "forward-no-answer": {"enabled": "yes", "parameters": ["vmail_1001"]},
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
CREATE_EXAMPLE = {
    "time-frame": "Business hours",
    "enabled": "yes",
    "simultaneous-ring": {"enabled": "yes", "parameters": ["<OwnDevices>", "1002;delay=10"]},
    "forward-no-answer": {"enabled": "yes", "parameters": ["vmail_1001"]},
}
