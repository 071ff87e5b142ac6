"""What an offer refuses, as problems a caller can act on."""

from __future__ import annotations

from mentorat.errors import Conflict


class AssessmentRequired(Conflict):
    """CASF D221-34: the offer follows an assessment that recommends mentoring."""

    slug = "assessment-required"
    title = "An assessment recommending mentoring, less than a year old, is required"


class OfferDecided(Conflict):
    """A decided offer takes no more answers: a new offer is made instead."""

    slug = "offer-decided"
    title = "The offer is already decided"


class ConsentAlreadyRecorded(Conflict):
    """Facts are append-only: one per party and kind, one answer per party."""

    slug = "consent-already-recorded"
    title = "This fact, or this party's answer, is already recorded"
