from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from celito.callqueues.rules import AvailabilityType
from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

DispatchType = Literal[
    "Round-robin", "Tiered Round-robin", "Ring All", "Linear Cascade", "Linear Hunt", "Call Park"
]
Strategy = Literal[
    "ring-all",
    "longest-idle",
    "round-robin",
    "linear-hunt",
    "linear-cascade",
    "fewest-calls",
    "call-park",
]
RecordingConfiguration = Literal[
    "no", "yes", "yes-with-transcription", "yes-with-transcription-and-sentiment"
]
Phrase = str | None

# Fields of a read that a client may send back unchanged: accepted, ignored.
READ_ONLY_QUEUE = frozenset(
    {
        "domain",
        "active_queued_calls_total_current",
        "callqueue_count_agents_available",
        "callqueue_count_agents_total",
        "created_datetime",
        "last_modified_datetime",
    }
)


class QueueFields(ApiModel):
    description: str | None = Field(None, max_length=255)
    callqueue_dispatch_type: DispatchType | None = None
    callqueue_dispatch_strategy: Strategy | None = Field(
        None, description="celito's name for the ring strategy; see the operation description."
    )
    callqueue_calculate_statistics: YesNo | None = None
    callqueue_agent_dispatch_timeout_seconds: int | None = Field(
        None, ge=1, le=3600, description="How long one agent rings before the next attempt."
    )
    callqueue_agent_wrap_up_allowance_seconds: int | None = Field(
        None, ge=0, le=3600, description="Wrap-up time new agents get unless they say otherwise."
    )
    callqueue_debug: YesNo | None = None
    callqueue_force_full_intro_playback: YesNo | None = None
    callqueue_max_callback_queueing_hours: int | None = Field(None, ge=0, le=6)
    callqueue_max_current_callers_to_accept_new_callers: int | None = Field(
        None, ge=0, le=100_000, description="0 is unlimited."
    )
    callqueue_max_current_wait_to_accept_new_callers_seconds: int | None = Field(
        None, ge=0, le=86_400, description="0 is unlimited."
    )
    callqueue_max_wait_timeout_minutes: int | None = Field(
        None, ge=0, le=1440, description="Longest wait before overflow; 0 is unlimited."
    )
    callqueue_require_available_agents_to_accept_new_callers: YesNo | None = None
    callqueue_overflow_destination_application: str | None = Field(
        None,
        max_length=64,
        description="Where callers go when the queue refuses them or they wait too long: "
        "to-user (any extension), to-callqueue, to-voicemail, to-connection or hangup.",
    )
    callqueue_overflow_destination_user: str | None = Field(None, max_length=64)
    callqueue_supervisors: list[str] | None = Field(
        None,
        max_length=100,
        description="Users (extensions) of the domain with the Call Center Supervisor scope "
        "who manage this queue's agents.",
    )
    callqueue_source_match: str | None = Field(None, max_length=128)
    callqueue_sms_enable: YesNo | None = None
    callqueue_sms_phrase_initiate_chat: Phrase = Field(None, max_length=255)
    callqueue_sms_phrase_initiate_success: Phrase = Field(None, max_length=255)
    callqueue_sms_phrase_initiation_fail: Phrase = Field(None, max_length=255)
    callqueue_sms_phrase_no_agents_available: Phrase = Field(None, max_length=255)
    callqueue_sms_phrase_terminate_chat: Phrase = Field(None, max_length=255)
    callqueue_sms_phrase_terminate_success: Phrase = Field(None, max_length=255)
    callqueue_agent_auto_logout_after_missed: YesNo | None = None
    callqueue_sim_ring_1st_round: int | None = Field(None, ge=0, le=99)
    callqueue_sim_ring_increment: int | None = Field(None, ge=0, le=99)
    recording_configuration: RecordingConfiguration | None = None
    # Read-only in a read-back; ignored.
    domain: str | None = Field(None, max_length=128, description="Read-only; ignored.")
    active_queued_calls_total_current: Any = Field(None, description="Read-only; ignored.")
    callqueue_count_agents_available: Any = Field(None, description="Read-only; ignored.")
    callqueue_count_agents_total: Any = Field(None, description="Read-only; ignored.")
    created_datetime: Any = Field(None, description="Read-only; ignored.")
    last_modified_datetime: Any = Field(None, description="Read-only; ignored.")
    synchronous: YesNo | None = None


class QueueCreate(QueueFields):
    callqueue: str = Field(min_length=1, max_length=64, description="The queue's extension.")


class QueueUpdate(QueueFields):
    callqueue: str | None = Field(None, max_length=64, description="Cannot change.")


# Attributes and their defaults, as a read shows them.
QUEUE_DEFAULTS: dict[str, Any] = {
    "callqueue_calculate_statistics": True,
    "callqueue_agent_dispatch_timeout_seconds": 30,
    "callqueue_agent_wrap_up_allowance_seconds": 0,
    "callqueue_debug": False,
    "callqueue_force_full_intro_playback": False,
    "callqueue_max_callback_queueing_hours": 0,
    "callqueue_max_current_callers_to_accept_new_callers": 0,
    "callqueue_max_current_wait_to_accept_new_callers_seconds": 0,
    "callqueue_max_wait_timeout_minutes": 0,
    "callqueue_require_available_agents_to_accept_new_callers": False,
    "callqueue_source_match": None,
    "callqueue_sms_enable": False,
    "callqueue_sms_phrase_initiate_chat": None,
    "callqueue_sms_phrase_initiate_success": None,
    "callqueue_sms_phrase_initiation_fail": None,
    "callqueue_sms_phrase_no_agents_available": None,
    "callqueue_sms_phrase_terminate_chat": None,
    "callqueue_sms_phrase_terminate_success": None,
    "callqueue_agent_auto_logout_after_missed": False,
    "callqueue_sim_ring_1st_round": 0,
    "callqueue_sim_ring_increment": 1,
    "recording_configuration": "no",
}


class QueueOut(ApiOut):
    callqueue: str
    domain: str
    description: str
    callqueue_dispatch_type: str
    callqueue_dispatch_strategy: str
    callqueue_calculate_statistics: YesNo
    callqueue_agent_dispatch_timeout_seconds: int
    callqueue_agent_wrap_up_allowance_seconds: int
    callqueue_debug: YesNo
    callqueue_force_full_intro_playback: YesNo
    callqueue_max_callback_queueing_hours: int
    callqueue_max_current_callers_to_accept_new_callers: int
    callqueue_max_current_wait_to_accept_new_callers_seconds: int
    callqueue_max_wait_timeout_minutes: int
    callqueue_require_available_agents_to_accept_new_callers: YesNo
    callqueue_overflow_destination_application: str | None = None
    callqueue_overflow_destination_user: str | None = None
    callqueue_supervisors: list[str]
    callqueue_source_match: str | None = None
    callqueue_sms_enable: YesNo
    callqueue_sms_phrase_initiate_chat: str | None = None
    callqueue_sms_phrase_initiate_success: str | None = None
    callqueue_sms_phrase_initiation_fail: str | None = None
    callqueue_sms_phrase_no_agents_available: str | None = None
    callqueue_sms_phrase_terminate_chat: str | None = None
    callqueue_sms_phrase_terminate_success: str | None = None
    callqueue_agent_auto_logout_after_missed: YesNo
    callqueue_sim_ring_1st_round: int
    callqueue_sim_ring_increment: int
    recording_configuration: str
    callqueue_count_agents_total: int
    callqueue_count_agents_available: int
    active_queued_calls_total_current: int = 0
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


class QueueListItem(ApiOut):
    """`callqueues/list`: what agents and supervisors need to know of a queue."""

    callqueue: str
    domain: str
    description: str
    callqueue_dispatch_type: str
    callqueue_count_agents_total: int
    callqueue_count_agents_available: int


READ_ONLY_AGENT = frozenset(
    {
        "callqueue",
        "domain",
        "callqueue_agent_has_registered_devices",
        "callqueue_agent_availability_for_dispatch",
        "callqueue_agent_status",
        "callqueue_agent_single_call",
        "callqueue_agent_entry_type",
        "created_datetime",
        "active_calls_total_current",
        "last_modified_datetime",
        "last_callqueue_dispatch_datetime",
        "login_username",
        "name_full_name",
        "agent_name_first_name",
        "agent_name_last_name",
        "agent_department",
        "agent_site",
        "agent_user_scope",
        "agent_status_message",
        "user",
        "device",
    }
)


class AgentFields(ApiModel):
    callqueue_agent_availability_type: AvailabilityType | None = None
    callqueue_agent_wrap_up_allowance_seconds: int | None = Field(None, ge=0, le=3600)
    auto_answer_enabled: YesNo | None = None
    callqueue_agent_dispatch_order_ordinal: int | None = Field(None, ge=0, le=100_000)
    callqueue_agent_dispatch_queue_priority_ordinal: int | None = Field(None, ge=0, le=100_000)
    limits_max_active_calls_total: int | None = Field(None, ge=1, le=100)
    callqueue_agent_answer_confirmation_enabled: YesNo | None = None
    callqueue_agent_max_concurrent_sms_conversations: int | None = Field(None, ge=0, le=100)
    # Read-only in a read-back; ignored (`callqueue` and `domain` must match the path).
    callqueue: str | None = Field(None, max_length=64, description="Must match the path.")
    domain: str | None = Field(None, max_length=128, description="Must match the path.")
    callqueue_agent_has_registered_devices: Any = Field(None, description="Read-only; ignored.")
    callqueue_agent_availability_for_dispatch: Any = Field(None, description="Read-only; ignored.")
    callqueue_agent_status: Any = Field(None, description="Read-only; use the agent actions.")
    callqueue_agent_single_call: Any = Field(None, description="Read-only; use the actions.")
    created_datetime: Any = Field(None, description="Read-only; ignored.")
    callqueue_agent_entry_type: Any = Field(None, description="Read-only; ignored.")
    active_calls_total_current: Any = Field(None, description="Read-only; ignored.")
    last_modified_datetime: Any = Field(None, description="Read-only; ignored.")
    last_callqueue_dispatch_datetime: Any = Field(None, description="Read-only; ignored.")
    login_username: Any = Field(None, description="Read-only; ignored.")
    name_full_name: Any = Field(None, description="Read-only; ignored.")
    agent_name_first_name: Any = Field(None, description="Read-only; ignored.")
    agent_name_last_name: Any = Field(None, description="Read-only; ignored.")
    agent_department: Any = Field(None, description="Read-only; ignored.")
    agent_site: Any = Field(None, description="Read-only; ignored.")
    agent_user_scope: Any = Field(None, description="Read-only; ignored.")
    agent_status_message: Any = Field(None, description="Read-only; ignored.")
    user: Any = Field(None, description="Read-only; ignored.")
    device: Any = Field(None, description="Read-only; ignored.")
    synchronous: YesNo | None = None


class AgentCreate(AgentFields):
    callqueue_agent_id: str = Field(
        min_length=1, max_length=200, description="user@domain or sip:device@domain"
    )


class AgentUpdate(AgentFields):
    callqueue_agent_id: str | None = Field(None, max_length=200, description="Cannot change.")


AGENT_DEFAULTS: dict[str, Any] = {
    "auto_answer_enabled": False,
    "callqueue_agent_dispatch_order_ordinal": 0,
    "callqueue_agent_dispatch_queue_priority_ordinal": 0,
    "limits_max_active_calls_total": 1,
    "callqueue_agent_answer_confirmation_enabled": False,
    "callqueue_agent_max_concurrent_sms_conversations": 0,
}


class AgentOut(ApiOut):
    domain: str
    callqueue: str
    callqueue_agent_id: str
    callqueue_agent_entry_type: str
    user: str
    device: str | None = None
    callqueue_agent_availability_type: str
    callqueue_agent_single_call: YesNo
    callqueue_agent_status: str
    callqueue_agent_availability_for_dispatch: str
    callqueue_agent_wrap_up_allowance_seconds: int
    auto_answer_enabled: YesNo
    callqueue_agent_dispatch_order_ordinal: int
    callqueue_agent_dispatch_queue_priority_ordinal: int
    limits_max_active_calls_total: int
    callqueue_agent_answer_confirmation_enabled: YesNo
    callqueue_agent_max_concurrent_sms_conversations: int
    active_calls_total_current: int = 0
    last_callqueue_dispatch_datetime: ApiDatetime = None
    login_username: str | None = None
    name_full_name: str
    agent_name_first_name: str
    agent_name_last_name: str
    agent_department: str
    agent_site: str
    agent_user_scope: str
    agent_status_message: str | None = None
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


QUEUE_EXAMPLE: dict[str, Any] = {
    "callqueue": "2000",
    "domain": "acme",
    "description": "Sales",
    "callqueue-dispatch-type": "Round-robin",
    "callqueue-dispatch-strategy": "longest-idle",
    "callqueue-calculate-statistics": "yes",
    "callqueue-agent-dispatch-timeout-seconds": 20,
    "callqueue-agent-wrap-up-allowance-seconds": 15,
    "callqueue-debug": "no",
    "callqueue-force-full-intro-playback": "no",
    "callqueue-max-callback-queueing-hours": 0,
    "callqueue-max-current-callers-to-accept-new-callers": 10,
    "callqueue-max-current-wait-to-accept-new-callers-seconds": 0,
    "callqueue-max-wait-timeout-minutes": 5,
    "callqueue-require-available-agents-to-accept-new-callers": "no",
    "callqueue-overflow-destination-application": "to-voicemail",
    "callqueue-overflow-destination-user": "1000",
    "callqueue-supervisors": ["1200"],
    "callqueue-source-match": None,
    "callqueue-sms-enable": "no",
    "callqueue-agent-auto-logout-after-missed": "no",
    "callqueue-sim-ring-1st-round": 0,
    "callqueue-sim-ring-increment": 1,
    "recording-configuration": "no",
    "callqueue-count-agents-total": 3,
    "callqueue-count-agents-available": 2,
    "active-queued-calls-total-current": 0,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
QUEUE_LIST_EXAMPLE = {
    k: QUEUE_EXAMPLE[k]
    for k in (
        "callqueue",
        "domain",
        "description",
        "callqueue-dispatch-type",
        "callqueue-count-agents-total",
        "callqueue-count-agents-available",
    )
}
QUEUE_CREATE_EXAMPLE = {
    "callqueue": "2000",
    "description": "Sales",
    "callqueue-dispatch-strategy": "longest-idle",
    "callqueue-agent-dispatch-timeout-seconds": 20,
    "callqueue-max-wait-timeout-minutes": 5,
    "callqueue-overflow-destination-application": "to-voicemail",
    "callqueue-overflow-destination-user": "1000",
    "callqueue-supervisors": ["1200"],
}
AGENT_EXAMPLE: dict[str, Any] = {
    "domain": "acme",
    "callqueue": "2000",
    "callqueue-agent-id": "1300@acme",
    "callqueue-agent-entry-type": "user",
    "user": "1300",
    "device": None,
    "callqueue-agent-availability-type": "automatic",
    "callqueue-agent-single-call": "no",
    "callqueue-agent-status": "available",
    "callqueue-agent-availability-for-dispatch": "available",
    "callqueue-agent-wrap-up-allowance-seconds": 15,
    "auto-answer-enabled": "no",
    "callqueue-agent-dispatch-order-ordinal": 0,
    "callqueue-agent-dispatch-queue-priority-ordinal": 0,
    "limits-max-active-calls-total": 1,
    "callqueue-agent-answer-confirmation-enabled": "no",
    "callqueue-agent-max-concurrent-sms-conversations": 0,
    "active-calls-total-current": 0,
    "last-callqueue-dispatch-datetime": None,
    "login-username": "jane@acme.example",
    "name-full-name": "Jane Doe",
    "agent-name-first-name": "Jane",
    "agent-name-last-name": "Doe",
    "agent-department": "Sales",
    "agent-site": "HQ",
    "agent-user-scope": "Call Center Agent",
    "agent-status-message": None,
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
AGENT_CREATE_EXAMPLE = {
    "callqueue-agent-id": "1300@acme",
    "callqueue-agent-availability-type": "automatic",
    "callqueue-agent-wrap-up-allowance-seconds": 15,
    "limits-max-active-calls-total": 1,
}
