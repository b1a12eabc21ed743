"""Every table, imported once so metadata and Alembic see the whole schema."""

from celito.answerrules.models import AnswerRule
from celito.audio.models import AudioFile
from celito.auditlog.models import AuditEntry
from celito.auth.models import (
    ApiKey,
    LoginFailure,
    OAuthClient,
    OAuthToken,
    RevokedJwt,
    SystemSecret,
)
from celito.autoattendants.models import AutoAttendant
from celito.callqueues.models import CallQueue, CallQueueAgent, CallQueueSupervisor
from celito.calls.models import ActiveCall
from celito.cdrs.models import Cdr
from celito.conferences.models import Conference
from celito.contacts.models import Contact
from celito.db import Base
from celito.devices.models import Device
from celito.dialplans.models import Dialplan, Dialrule
from celito.domains.models import Domain
from celito.events.models import Event, Node
from celito.extensions.models import Extension
from celito.phonenumbers.models import PhoneNumber
from celito.phones.models import HookCall, Phone, PhoneHook, PhoneLine, ProvisioningProfile
from celito.presence.models import UserPresence
from celito.resellers.models import Reseller
from celito.sites.models import Department, Site
from celito.subscriptions.models import DeliveryAttempt, Subscription
from celito.timeframes.models import Timeframe
from celito.users.models import User
from celito.voicemail.models import VoicemailBox, VoicemailMessage

__all__ = [
    "ActiveCall",
    "AnswerRule",
    "ApiKey",
    "AudioFile",
    "AuditEntry",
    "AutoAttendant",
    "Base",
    "CallQueue",
    "CallQueueAgent",
    "CallQueueSupervisor",
    "Cdr",
    "Conference",
    "Contact",
    "DeliveryAttempt",
    "Department",
    "Device",
    "Dialplan",
    "Dialrule",
    "Domain",
    "Event",
    "Extension",
    "HookCall",
    "LoginFailure",
    "Node",
    "OAuthClient",
    "OAuthToken",
    "Phone",
    "PhoneHook",
    "PhoneLine",
    "PhoneNumber",
    "ProvisioningProfile",
    "Reseller",
    "RevokedJwt",
    "Site",
    "Subscription",
    "SystemSecret",
    "Timeframe",
    "User",
    "UserPresence",
    "VoicemailBox",
    "VoicemailMessage",
]
