"""Many proposal actions in one request: each is the single action, in a savepoint of its own.

The request is one transaction. An action refused (not pending any more, not the caller's
side, out of scope...) rolls back its own savepoint only and is answered with its problem;
the others stand. A failure of the request itself (its body, or an unexpected error) rolls
back everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal
from mentorat.errors import MentoratError
from mentorat.kit.problems import domain_problem
from mentorat.proposals import service
from mentorat.proposals.schemas import BulkAction


@dataclass(frozen=True, slots=True)
class Outcome:
    action: BulkAction
    error: MentoratError | None


async def _apply_one(session: AsyncSession, principal: Principal, action: BulkAction) -> None:
    if action.action == "validate":
        await service.validate(session, principal, action.proposal_id)
    elif action.action == "accept":
        await service.accept(session, principal, action.proposal_id)
    else:
        await service.decline(session, principal, action.proposal_id, action.reason or "")


async def apply_actions(
    session: AsyncSession, principal: Principal, actions: list[BulkAction], *, instance: str
) -> list[dict[str, Any]]:
    """Each action's outcome, in order: the proposal as it now is, or the problem."""
    outcomes: list[Outcome] = []
    for action in actions:
        try:
            async with session.begin_nested():
                await _apply_one(session, principal, action)
        except MentoratError as error:
            outcomes.append(Outcome(action, error))
        else:
            outcomes.append(Outcome(action, None))
    done: list[uuid.UUID] = list(
        dict.fromkeys(o.action.proposal_id for o in outcomes if o.error is None)
    )
    views = dict(zip(done, await service.views_of_ids(session, principal, done), strict=True))
    return [
        {
            "proposal_id": outcome.action.proposal_id,
            "action": outcome.action.action,
            "status": 200 if outcome.error is None else outcome.error.status,
            "proposal": views[outcome.action.proposal_id] if outcome.error is None else None,
            "problem": None if outcome.error is None else domain_problem(outcome.error, instance),
        }
        for outcome in outcomes
    ]
