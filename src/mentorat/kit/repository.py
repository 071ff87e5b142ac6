"""Helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from mentorat.auth.principal import Principal
from mentorat.errors import Conflict, Forbidden, MentoratError, NotFound, PreconditionFailed
from mentorat.kit.db_errors import violated_constraint

UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"

# Constraints (and trigger checks) that concurrent callers can legitimately run into.
CALLER_CONFLICTS = {
    "ck_mentor_places_within_capacity": "The mentor has no capacity left.",
    "proposal_child_mentored": "The child is already in a mentorship.",
    "uq_mentorship_one_live_per_child": "The child is already in a mentorship.",
    "uq_proposal_one_pending_per_child": "The child already has a pending proposal.",
    "uq_matching_run_one_active_per_departement": (
        "A matching run is already queued or running for this département."
    ),
}


def _driver_error(error: IntegrityError) -> Any:
    original: Any = error.orig
    return getattr(original, "__cause__", None) or original


def _sqlstate(error: IntegrityError) -> str | None:
    return getattr(_driver_error(error), "sqlstate", None)


def caller_conflict(error: IntegrityError) -> str | None:
    """The message for a conflict a caller can cause, or None for a bug of ours."""
    constraint = getattr(_driver_error(error), "constraint_name", None)
    return CALLER_CONFLICTS.get(constraint or "")


async def flush(
    session: AsyncSession,
    *,
    conflict: str = "This record already exists.",
    constraint_problems: Mapping[str, Callable[[], MentoratError]] | None = None,
) -> None:
    """Flush, turning the violations a caller can cause into problems.

    A unique violation is a 409 (a duplicate the caller can fix); a concurrent update of the
    same version is a 412; `constraint_problems` names the problem for a constraint (or a
    trigger's check) the caller's input can break. Any other integrity error is a bug of ours
    and stays a 500.
    """
    try:
        await session.flush()
    except StaleDataError as error:
        raise PreconditionFailed("The record was changed by someone else meanwhile.") from error
    except IntegrityError as error:
        problem = (constraint_problems or {}).get(violated_constraint(error) or "")
        if problem is not None:
            raise problem() from error
        state = _sqlstate(error)
        known = caller_conflict(error)
        if known is not None:
            raise Conflict(known) from error
        if state == UNIQUE_VIOLATION:
            raise Conflict(conflict) from error
        if state == FOREIGN_KEY_VIOLATION:
            raise Conflict("The record is still referenced, or refers to a missing one.") from error
        raise


def live_rows(
    statement: Select[Any], model: Any, principal: Principal, *, include_deleted: bool
) -> Select[Any]:
    """Soft-deleted rows are for an administrator who asks for them; others asking are refused."""
    refuse_deleted_unless_admin(principal, include_deleted)
    return statement if include_deleted else statement.where(model.deleted_at.is_(None))


def refuse_deleted_unless_admin(principal: Principal, include_deleted: bool) -> None:
    if include_deleted and not principal.is_admin:
        raise Forbidden("Only an administrator sees deleted records.")


async def one_or_404(
    session: AsyncSession, statement: Select[Any], what: str, *, for_update: bool = False
) -> Any:
    """The one row `statement` (already scoped) finds, or a 404 that reveals nothing."""
    if for_update:
        statement = statement.with_for_update(of=statement.column_descriptions[0]["entity"])
    found = await session.scalar(statement)
    if found is None:
        raise NotFound(f"No such {what}.")
    return found
