"""All tables on one Base, so relations can cross domains and Alembic sees everything."""

from mentorat.models.association import Association, association_departement
from mentorat.models.audit import AuditEvent
from mentorat.models.auth import ROLES, ApiToken, Principal
from mentorat.models.base import Base
from mentorat.models.child import Child
from mentorat.models.departement import Departement, DepartementMatchingVersion
from mentorat.models.event import EVENT_TYPES, REMINDER_KINDS, Event, ReminderSent
from mentorat.models.legal import Assessment, AssociationAgreement, ChildCareRevision, OfferConsent
from mentorat.models.matching import MatchingRun, MatchingRunUnmatched, PairExclusion, Proposal
from mentorat.models.mentor import Mentor
from mentorat.models.mentorship import (
    IdempotencyRecord,
    Meeting,
    Mentorship,
    MentorshipEvent,
    Objective,
    ObjectiveRevision,
    Offer,
)
from mentorat.models.server_secret import ServerSecret
from mentorat.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "EVENT_TYPES",
    "REMINDER_KINDS",
    "ROLES",
    "ApiToken",
    "Assessment",
    "Association",
    "AssociationAgreement",
    "AuditEvent",
    "Base",
    "Child",
    "ChildCareRevision",
    "Departement",
    "DepartementMatchingVersion",
    "Event",
    "IdempotencyRecord",
    "MatchingRun",
    "MatchingRunUnmatched",
    "Meeting",
    "Mentor",
    "Mentorship",
    "MentorshipEvent",
    "Objective",
    "ObjectiveRevision",
    "Offer",
    "OfferConsent",
    "PairExclusion",
    "Principal",
    "Proposal",
    "ReminderSent",
    "ServerSecret",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "association_departement",
]
