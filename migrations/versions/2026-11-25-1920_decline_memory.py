"""A declined proposal is remembered: the département's decline memory, in months, and an index
to find a pair's proposals.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 19:20:00

`departement.decline_memory_months` (default 6, 0 turns the memory off): how long after a
decline runs leave the pair out and candidates list it last. What happened to the pair's real
proposals after the decline says whether it is still remembered (an educator's re-proposal
lifts it), hence `ix_proposal_pair`, partial so that dry runs' simulated proposals do not
feed it; `ix_proposal_declined` finds a département's recent declines.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "departement",
        sa.Column(
            "decline_memory_months", sa.SmallInteger(), server_default=sa.text("6"), nullable=False
        ),
    )
    op.create_check_constraint(
        op.f("ck_departement_decline_memory_months"),
        "departement",
        "decline_memory_months BETWEEN 0 AND 60",
    )
    op.create_index(
        "ix_proposal_declined",
        "proposal",
        ["departement_code", "decided_at"],
        postgresql_where=sa.text("status = 'declined'"),
    )
    op.create_index(
        "ix_proposal_pair",
        "proposal",
        ["child_id", "mentor_id"],
        postgresql_where=sa.text("status <> 'simulated'"),
    )


def downgrade() -> None:
    op.drop_index("ix_proposal_pair", table_name="proposal")
    op.drop_index("ix_proposal_declined", table_name="proposal")
    op.drop_constraint(op.f("ck_departement_decline_memory_months"), "departement", type_="check")
    op.drop_column("departement", "decline_memory_months")
