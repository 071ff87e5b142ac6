"""What an educator's own proposal refuses, as problems a caller can act on."""

from __future__ import annotations

from mentorat.errors import Conflict
from mentorat.kit.clock import local_date
from mentorat.matching.declines import RememberedDecline


class RecentlyDeclined(Conflict):
    """The pair's last proposal was declined and the département still remembers it: proposing
    it again takes an explicit `repropose`."""

    slug = "recently-declined"
    title = "This pair was declined recently"

    def __init__(self, decline: RememberedDecline, departement_code: str) -> None:
        day = local_date(decline.declined_at, departement_code).isoformat()
        why = f": {decline.reason}" if decline.reason else ""
        super().__init__(
            f"A proposal of this pair was declined on {day}{why}. Its département remembers "
            f'it until {decline.remembered_until.isoformat()}; send "repropose": true to '
            "propose the pair again all the same.",
            reason="declined_recently",
            declined_proposal_id=str(decline.proposal_id),
            declined_at=decline.declined_at.isoformat(),
            decline_reason=decline.reason,
            remembered_until=decline.remembered_until.isoformat(),
        )
