"""Errors of the mentorship domain that callers can act on."""

from __future__ import annotations

from mentorat.errors import Conflict


class IndividualAgreementRequired(Conflict):
    """The département requires the individual agreement before a mentorship is active."""

    slug = "individual-agreement-required"
    title = "The individual agreement must be signed first"
