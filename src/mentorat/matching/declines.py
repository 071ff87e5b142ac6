"""Declined proposals remembered: for the months its département says, a declined pair is
not proposed again by runs and comes last among the child's candidates.

A decline is remembered until something happens to a real (not simulated) proposal of the
same pair after it: an educator's re-proposal (validated when made), a validation, an
acceptance, or another decline (which is then the one remembered). "After" compares the
moments the service recorded (validated_at, mentor_accepted_at, decided_at), so two steps of
one transaction keep their order. The memory is counted in days of the département: a decline
on day d is remembered while the run date (or today) is before d plus the département's
`decline_memory_months`. With 0 months nothing is remembered.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Select, and_, cast, exists, func, literal, select
from sqlalchemy.orm import aliased

from mentorat.kit.clock import time_zone_name
from mentorat.models import Departement, Proposal


@dataclass(frozen=True)
class RememberedDecline:
    """What a child's candidates and a refused re-proposal say of a decline."""

    proposal_id: uuid.UUID
    declined_at: datetime
    reason: str | None
    declined_by_name: str | None
    remembered_until: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "proposal_id": self.proposal_id,
            "declined_at": self.declined_at,
            "reason": self.reason,
            "declined_by_name": self.declined_by_name,
            "remembered_until": self.remembered_until,
        }


def remembered_declines(departement_code: str, run_date: date) -> Select[Any]:
    """The département's declined pairs still remembered on `run_date`: child_id, mentor_id,
    and the decline's proposal_id, declined_at, reason, declined_by_name, remembered_until.
    Callers may narrow it with `.where(...)` (a child, a pair); a run reads them all (a few
    thousand at most) rather than join them with its children and mentors, a plan PostgreSQL
    can get badly wrong on a bulk-loaded table whose statistics are not yet gathered."""
    months = (
        select(Departement.decline_memory_months)
        .where(Departement.code == departement_code)
        .scalar_subquery()
    )
    zone = time_zone_name(departement_code)
    declined_on = cast(func.timezone(zone, Proposal.decided_at), Date)
    remembered_until = cast(declined_on + func.make_interval(0, months), Date)
    # The same condition as a range of decided_at, for the index: a decline before the local
    # day (run_date - months) is forgotten, since adding months to a date never overshoots.
    earliest = func.timezone(
        zone, cast(literal(run_date), Date) - func.make_interval(0, months, 0, 1)
    )
    later = aliased(Proposal)
    # GREATEST ignores NULLs: the last step recorded on the later proposal.
    later_step = func.greatest(later.validated_at, later.mentor_accepted_at, later.decided_at)
    return select(
        Proposal.child_id,
        Proposal.mentor_id,
        Proposal.id.label("proposal_id"),
        Proposal.decided_at.label("declined_at"),
        Proposal.decline_reason.label("reason"),
        Proposal.declined_by_name,
        remembered_until.label("remembered_until"),
    ).where(
        Proposal.status == "declined",
        Proposal.departement_code == departement_code,
        months > 0,
        Proposal.decided_at >= earliest,
        remembered_until > run_date,
        ~exists().where(
            and_(
                later.child_id == Proposal.child_id,
                later.mentor_id == Proposal.mentor_id,
                later.status != "simulated",
                later.id != Proposal.id,
                later_step > Proposal.decided_at,
            )
        ),
    )


def child_declines_json(child_id: uuid.UUID, departement_code: str, run_date: date) -> Any:
    """A scalar subquery: the child's remembered declines as one JSON array (NULL when none),
    to be read in the statement that reads the child."""
    declines = (
        remembered_declines(departement_code, run_date)
        .where(Proposal.child_id == child_id)
        .subquery()
    )
    return (
        select(
            func.json_agg(
                func.json_build_array(
                    declines.c.mentor_id, declines.c.proposal_id, declines.c.declined_at,
                    declines.c.reason, declines.c.declined_by_name, declines.c.remembered_until,
                )
            )
        )
        .select_from(declines)
        .scalar_subquery()
    )  # fmt: skip


def parse_child_declines(value: Any) -> dict[uuid.UUID, RememberedDecline]:
    """`child_declines_json`'s value, by mentor id."""
    if value is None:
        return {}
    rows = json.loads(value) if isinstance(value, str) else value
    return {
        uuid.UUID(mentor_id): RememberedDecline(
            proposal_id=uuid.UUID(proposal_id),
            declined_at=datetime.fromisoformat(declined_at),
            reason=reason,
            declined_by_name=declined_by_name,
            remembered_until=date.fromisoformat(remembered_until),
        )
        for mentor_id, proposal_id, declined_at, reason, declined_by_name, remembered_until in rows
    }


def decline_from_row(row: Any) -> RememberedDecline:
    return RememberedDecline(
        proposal_id=row.proposal_id,
        declined_at=row.declined_at,
        reason=row.reason,
        declined_by_name=row.declined_by_name,
        remembered_until=row.remembered_until,
    )
