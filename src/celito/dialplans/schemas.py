from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from celito.dialplans import applications
from celito.kit.schema import ApiModel, ApiOut, YesNo

Scheme = Literal["[*]", "sip:", "<Null>"]
_MATCHING = (
    "dial-rule-matching-to-uri",
    "dial-rule-matching-from-uri",
    "dial-rule-matching-day-of-week",
    "dial-rule-matching-start-date",
    "dial-rule-matching-end-date",
    "dial-rule-matching-start-time",
    "dial-rule-matching-end-time",
)


def application_name(value: str | None) -> str | None:
    """A v2 name or a v1 responder → the v2 name (pydantic turns the ValueError into a 422)."""
    return applications.to_v2(value) if value is not None else None


class RouteFields(ApiModel):
    """Where a call goes: shared by dial rules and phone numbers (which are dial rules of the
    DID table in NetSapiens). v1 names (`responder`, `to_user`, …) are accepted too."""

    enabled: YesNo | None = None
    dial_rule_application: str | None = Field(
        None,
        description="A v2 application (to-user, to-callqueue, available-number, …) or its v1 "
        "responder (sip:start@to-user, …); answers always use the v2 name.",
        json_schema_extra={"examples": list(applications.V2_NAMES)},
    )
    dial_rule_parameter: str | None = Field(None, max_length=255)
    dial_rule_translation_destination_user: str | None = Field(None, max_length=128)
    dial_rule_translation_destination_host: str | None = Field(None, max_length=128)
    dial_rule_translation_source_name: str | None = Field(None, max_length=128)
    dial_rule_description: str | None = Field(None, max_length=255)
    synchronous: YesNo | None = None

    @model_validator(mode="before")
    @classmethod
    def _v1_names(cls, data: Any) -> Any:
        return applications.rename_v1_fields(data)

    _application = field_validator("dial_rule_application")(application_name)


class DialruleFields(RouteFields):
    dial_rule_translation_destination_scheme: Scheme | None = None
    dial_rule_translation_source_scheme: Scheme | None = None
    dial_rule_translation_source_user: str | None = Field(None, max_length=128)
    dial_rule_translation_source_host: str | None = Field(None, max_length=128)


class DialruleCreate(DialruleFields):
    dial_rule_matching_to_uri: str = Field(min_length=1, max_length=160)
    dial_rule_matching_from_uri: str | None = Field(None, max_length=160)
    dial_rule_matching_day_of_week: str | None = Field(None, max_length=32)
    dial_rule_matching_start_date: str | None = Field(None, max_length=10)
    dial_rule_matching_end_date: str | None = Field(None, max_length=10)
    dial_rule_matching_start_time: str | None = Field(None, max_length=5)
    dial_rule_matching_end_time: str | None = Field(None, max_length=5)
    dial_rule_dial_plan: str | None = Field(None, max_length=64)


class DialruleUpdate(DialruleFields):
    dialrule: str | None = Field(None, max_length=800)

    @model_validator(mode="before")
    @classmethod
    def _matching_is_fixed(cls, data: Any) -> Any:
        data = applications.rename_v1_fields(data)
        if isinstance(data, dict):
            sent = [k for k in _MATCHING if k in data or k.replace("-", "_") in data]
            if sent:
                raise ValueError(
                    f"{', '.join(sent)}: what a rule matches cannot be changed (it is the "
                    "rule's id); delete the rule and create a new one"
                )
        return data


class DialruleOut(ApiOut):
    domain: str
    dial_rule_dial_plan: str
    dialrule: str
    dial_rule_matching_to_uri: str
    dial_rule_matching_from_uri: str
    dial_rule_matching_day_of_week: str
    dial_rule_matching_start_date: str
    dial_rule_matching_end_date: str
    dial_rule_matching_start_time: str
    dial_rule_matching_end_time: str
    enabled: YesNo
    dial_rule_application: str
    dial_rule_parameter: str
    dial_rule_translation_destination_scheme: str
    dial_rule_translation_destination_user: str
    dial_rule_translation_destination_host: str
    dial_rule_translation_source_name: str
    dial_rule_translation_source_scheme: str
    dial_rule_translation_source_user: str
    dial_rule_translation_source_host: str
    dial_rule_description: str


class DialplanCreate(ApiModel):
    dial_rule_dial_plan: str = Field(min_length=1, max_length=64)
    dial_rule_description: str | None = Field(None, max_length=255)
    synchronous: YesNo | None = None


class DialplanGlobalCreate(DialplanCreate):
    domain: str = Field(
        min_length=1, max_length=128, description="`*` for a system-wide plan, else a domain."
    )


class DialplanUpdate(ApiModel):
    dial_rule_description: str | None = Field(None, max_length=255)
    synchronous: YesNo | None = None


class DialplanOut(ApiOut):
    dialplan_id: int = Field(alias="dialplan_id")
    domain: str
    dial_rule_dial_plan: str
    dial_rule_description: str
    count_dial_rules_total: int = 0


DIALPLAN_EXAMPLE = {
    "dialplan_id": 7,
    "domain": "acme",
    "dial-rule-dial-plan": "acme",
    "dial-rule-description": "Acme's own translations",
    "count-dial-rules-total": 3,
}
DIALRULE_EXAMPLE = {
    "domain": "acme",
    "dial-rule-dial-plan": "acme",
    "dialrule": "c2lwOjYxMUAqfHwqfHwqfHwqfHwqfHwqfHwq",
    "dial-rule-matching-to-uri": "sip:611@*",
    "dial-rule-matching-from-uri": "*",
    "dial-rule-matching-day-of-week": "*",
    "dial-rule-matching-start-date": "*",
    "dial-rule-matching-end-date": "*",
    "dial-rule-matching-start-time": "*",
    "dial-rule-matching-end-time": "*",
    "enabled": "yes",
    "dial-rule-application": "to-callqueue",
    "dial-rule-parameter": "",
    "dial-rule-translation-destination-scheme": "[*]",
    "dial-rule-translation-destination-user": "3000",
    "dial-rule-translation-destination-host": "acme",
    "dial-rule-translation-source-name": "611 - [*]",
    "dial-rule-translation-source-scheme": "[*]",
    "dial-rule-translation-source-user": "[*]",
    "dial-rule-translation-source-host": "[*]",
    "dial-rule-description": "611 - Customer Service Direct Dial",
}
DIALRULE_REQUEST = {
    "dial-rule-matching-to-uri": "sip:611@*",
    "dial-rule-application": "to-callqueue",
    "dial-rule-translation-destination-user": "3000",
    "dial-rule-translation-source-name": "611 - [*]",
    "dial-rule-description": "611 - Customer Service Direct Dial",
}
