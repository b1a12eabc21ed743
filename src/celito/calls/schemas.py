from __future__ import annotations

from pydantic import Field

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo


class ActiveCallOut(ApiOut):
    """A live call leg (the v2 ActiveCall), plus `call-state` (ringing, active or held)."""

    core_server: str
    call_session_id: str
    call_orig_call_id: str
    call_orig_match_uri: str
    call_orig_user: str
    call_orig_domain: str
    call_orig_uri: str
    call_orig_name: str
    caller_id_number: str
    call_dialed_number: str
    call_by_action: str
    call_by_user: str
    call_by_domain: str
    call_by_call_id: str
    call_term_call_id: str
    call_term_user: str
    call_term_domain: str
    call_term_uri: str
    call_start_datetime: ApiDatetime
    call_answer_datetime: ApiDatetime
    call_orig_info: str
    term_orig_info: str
    call_audio_codec: str
    call_state: str


class CallRequest(ApiModel):
    """Click-to-call (the v2 CallRequest)."""

    call_id: str | None = Field(
        None, min_length=1, max_length=128, description="Your id for the call; made up if absent."
    )
    call_term_user: str = Field(min_length=1, max_length=255)
    call_orig_user: str | None = Field(None, min_length=1, max_length=255)
    dial_rule_application: str = Field("call", min_length=1, max_length=64)
    auto_answer_enabled: YesNo = False
    caller_id_number: str | None = Field(None, max_length=64)
    callback_caller_id_number: str | None = Field(None, max_length=64)
    call_term_added_sip_header: str | None = Field(
        None, max_length=255, pattern=r"^[A-Za-z0-9-]+:[^\r\n]*$"
    )
    synchronous: YesNo | None = None


class CallRequestOut(ApiOut):
    """The click-to-call as the telephony engine accepted it."""

    call_id: str
    domain: str
    user: str
    call_orig_user: str
    call_term_user: str
    dial_rule_application: str
    auto_answer_enabled: YesNo
    caller_id_number: str
    callback_caller_id_number: str
    call_term_added_sip_header: str
    telephony_engine: str
    status: str = "accepted"


class CallActions(ApiModel):
    """Answer / transfer targets (the v2 CallActions; `destination` as in the spec's examples)."""

    call_term_user: str | None = Field(None, min_length=1, max_length=255)
    destination: str | None = Field(None, min_length=1, max_length=255)
    hostname: str | None = Field(None, max_length=255)
    call_destination_session_id: str | None = Field(None, max_length=128)
    synchronous: YesNo | None = None


class TransferPeer(ApiModel):
    destination: str | None = Field(None, min_length=1, max_length=255)
    valid: str | None = Field(None, max_length=1024)
    prefix: str | None = Field(None, max_length=32)
    synchronous: YesNo | None = None


EXAMPLE = {
    "core-server": "node-a",
    "call-session-id": "20261127183242018723",
    "call-orig-call-id": "my-random-unique-callid",
    "call-orig-match-uri": "sip:1001@acme",
    "call-orig-user": "1001",
    "call-orig-domain": "acme",
    "call-orig-uri": "sip:1001@acme",
    "call-orig-name": "Ada Lovelace",
    "caller-id-number": "12125550101",
    "call-dialed-number": "18587645200",
    "call-by-action": "CallRequest",
    "call-by-user": "1001",
    "call-by-domain": "acme",
    "call-by-call-id": "my-random-unique-callid",
    "call-term-call-id": "20261127183258018753-6cc0828",
    "call-term-user": "",
    "call-term-domain": "",
    "call-term-uri": "sip:18587645200@carrier.example",
    "call-start-datetime": "2026-11-27T18:32:58Z",
    "call-answer-datetime": "2026-11-27T18:32:59Z",
    "call-orig-info": "active",
    "term-orig-info": "active",
    "call-audio-codec": "PCMU",
    "call-state": "active",
}
REQUEST_EXAMPLE = {
    "call-id": "k2v9c8x1q4m7z0p3",
    "call-orig-user": "1001",
    "call-term-user": "18587645200",
    "dial-rule-application": "call",
    "auto-answer-enabled": "no",
    "caller-id-number": "12125550100",
    "synchronous": "yes",
}
REQUEST_OUT_EXAMPLE = {
    "call-id": "k2v9c8x1q4m7z0p3",
    "domain": "acme",
    "user": "1001",
    "call-orig-user": "1001@acme",
    "call-term-user": "18587645200",
    "dial-rule-application": "call",
    "auto-answer-enabled": "no",
    "caller-id-number": "12125550100",
    "callback-caller-id-number": "",
    "call-term-added-sip-header": "",
    "telephony-engine": "kamailio",
    "status": "accepted",
}
