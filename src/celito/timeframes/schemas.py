"""Time frame bodies and answers, with the ns-api v2 names (RecurringTimeframe and its entries).

Entry fields are strings as NetSapiens sends them ("" = unset); they are checked by
`celito.timeframes.schedule` so that a wrong one gets a message naming it. Read-only fields a
client may send back from a GET (`timeframe-parent-id`, `ordinal-order`, …) are ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints, create_model

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo
from celito.timeframes.schedule import DAYS

TimeframeType = Literal["always", "days-of-week", "specific-dates", "holiday", "custom"]
MAX_ENTRIES = 100
Text = Annotated[str, StringConstraints(max_length=255)] | int | None

# Read-only fields of an entry: accepted (a GET's answer can be sent back) and ignored.
_ECHO = (
    "timeframe-parent-id",
    "ordinal-order",
    "domain",
    "timeframe-expiry-datetime",
    "timeframe-next-observance-datetime",
    "timeframe-recurrence-rrule",
    "timeframe-is-v1",
)
_RECURRENCE = (
    "timeframe-recurrence-type",
    "timeframe-recurrence-begin-date",
    "timeframe-recurrence-custom-interval",
    "timeframe-recurrence-custom-interval-count",
    "timeframe-recurrence-custom-interval-option",
    "timeframe-recurrence-end-option",
    "timeframe-recurrence-end-date",
)
DOW_FIELDS = (
    "timeframe-id",
    *(
        f"timeframe-weekly-{d}-{edge}-time-{n}"
        for d in (DAYS[6], *DAYS[:6])
        for n in (1, 2)
        for edge in ("begin", "end")
    ),
    *_RECURRENCE,
)
DATES_FIELDS = (
    "timeframe-id",
    "timeframe-specific-dates-begin-date",
    "timeframe-specific-dates-begin-time",
    "timeframe-specific-dates-end-date",
    "timeframe-specific-dates-end-time",
    *(f for f in _RECURRENCE if f != "timeframe-recurrence-begin-date"),
)
HOLIDAY_FIELDS = (
    "timeframe-id",
    "timeframe-holiday-uuid",
    "timeframe-holiday-name",
    "timeframe-holiday-begin-date",
    "country-abbreviation",
    "state-province-abbreviation",
    "holiday-api-location-hint",
    "timeframe-holiday-begin-time-1",
    "timeframe-holiday-end-time-1",
    "timeframe-holiday-begin-time-2",
    "timeframe-holiday-end-time-2",
    *(f"timeframe-weekly-{d}-observance-option" for d in DAYS),
    "timeframe-workweek-list",
    "timeframe-recurrence-type",
    "timeframe-recurrence-end-option",
    "timeframe-recurrence-end-date",
)


def _entry_model(name: str, fields: tuple[str, ...]) -> type[ApiModel]:
    spec: dict[str, Any] = {f.replace("-", "_"): (Text, None) for f in fields}
    spec.update({f.replace("-", "_"): (Any, None) for f in _ECHO})
    return create_model(name, __base__=ApiModel, **spec)


if TYPE_CHECKING:
    DowEntry = ApiModel
    DatesEntry = ApiModel
    HolidayEntry = ApiModel
else:
    DowEntry = _entry_model("TimeframeDOW", DOW_FIELDS)
    DatesEntry = _entry_model("TimeframeSpecificDate", DATES_FIELDS)
    HolidayEntry = _entry_model("TimeframeHoliday", HOLIDAY_FIELDS)


def entry_values(entry: ApiModel) -> dict[str, Any]:
    """The entry's given values by API name, read-only echoes left out."""
    return {
        k: v
        for k, v in entry.model_dump(by_alias=True, exclude_unset=True).items()
        if k not in _ECHO
    }


class _Arrays(ApiModel):
    timeframe_days_of_week_array: list[DowEntry] | None = Field(None, max_length=MAX_ENTRIES)
    # The spec also spells it this way in places; both are accepted.
    timeframe_day_of_week_array: list[DowEntry] | None = Field(None, max_length=MAX_ENTRIES)
    timeframe_specific_dates_array: list[DatesEntry] | None = Field(None, max_length=MAX_ENTRIES)
    timeframe_holiday_array: list[HolidayEntry] | None = Field(None, max_length=MAX_ENTRIES)
    synchronous: YesNo | None = None


class TimeframeCreate(_Arrays):
    timeframe_name: str = Field(min_length=1, max_length=100)
    timeframe_type: TimeframeType | None = None
    time_zone: str | None = Field(None, max_length=64)


class TimeframeEntries(_Arrays):
    """Entries to add to a time frame."""


class TimeframeUpdate(_Arrays):
    timeframe_name: str | None = Field(None, min_length=1, max_length=100)
    timeframe_type: TimeframeType | None = None
    # "Convert Timeframe to Another Type" sends {"type": …}.
    type: TimeframeType | None = None
    time_zone: str | None = Field(None, max_length=64)
    update_only: YesNo | None = None


class TimeframeChild(ApiModel):
    child_id: str | None = Field(None, max_length=64)
    synchronous: YesNo | None = None


class TimeframeOut(ApiOut):
    timeframe_id: str
    timeframe_name: str
    domain: str
    user: str | None
    timeframe_type: str
    time_zone: str | None
    timeframe_days_of_week_array: list[dict[str, Any]]
    timeframe_specific_dates_array: list[dict[str, Any]]
    timeframe_holiday_array: list[dict[str, Any]]
    created_datetime: ApiDatetime
    last_modified_datetime: ApiDatetime


_DOW_EXAMPLE = {
    "timeframe-id": "9c1e0a4b7d2f3e51",
    "timeframe-parent-id": "3f6b2a9e0c1d4e58",
    "ordinal-order": 1,
    **{
        f"timeframe-weekly-{d}-{edge}-time-{n}": ""
        for d in (DAYS[6], *DAYS[:6])
        for n in (1, 2)
        for edge in ("begin", "end")
    },
    **{
        f"timeframe-weekly-{d}-{edge}-time-1": t
        for d in DAYS[:5]
        for edge, t in (("begin", "0900"), ("end", "1700"))
    },
    "timeframe-recurrence-type": "weekly",
    "timeframe-recurrence-begin-date": "",
    "timeframe-recurrence-custom-interval": "",
    "timeframe-recurrence-custom-interval-count": "",
    "timeframe-recurrence-custom-interval-option": "",
    "timeframe-recurrence-end-option": "never",
    "timeframe-recurrence-end-date": "",
}
EXAMPLE = {
    "timeframe-id": "3f6b2a9e0c1d4e58",
    "timeframe-name": "Business hours",
    "domain": "acme",
    "user": None,
    "timeframe-type": "days-of-week",
    "time-zone": None,
    "timeframe-days-of-week-array": [_DOW_EXAMPLE],
    "timeframe-specific-dates-array": [],
    "timeframe-holiday-array": [],
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
CREATE_EXAMPLE = {
    "timeframe-name": "Business hours",
    "timeframe-type": "days-of-week",
    "timeframe-days-of-week-array": [
        {
            f"timeframe-weekly-{d}-{edge}-time-1": t
            for d in DAYS[:5]
            for edge, t in (("begin", "0900"), ("end", "1700"))
        }
    ],
}
DATES_EXAMPLE = {
    "timeframe-specific-dates-array": [
        {
            "timeframe-specific-dates-begin-date": "20261224",
            "timeframe-specific-dates-begin-time": "1200",
            "timeframe-specific-dates-end-date": "20261226",
            "timeframe-specific-dates-end-time": "2359",
            "timeframe-recurrence-type": "yearly-on-selected-dates",
            "timeframe-recurrence-end-option": "never",
        }
    ]
}
