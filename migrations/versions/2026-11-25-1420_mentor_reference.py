"""The association's own reference for a mentor, so a spreadsheet import can upsert.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('mentor', sa.Column('reference', sa.Text(), nullable=True))
    op.create_unique_constraint(
        op.f('uq_mentor_association_id_reference'), 'mentor', ['association_id', 'reference']
    )
    op.create_check_constraint(
        op.f('ck_mentor_reference_not_blank'),
        'mentor',
        'reference IS NULL OR length(btrim(reference)) > 0',
    )


def downgrade() -> None:
    op.drop_constraint(op.f('ck_mentor_reference_not_blank'), 'mentor', type_='check')
    op.drop_constraint(op.f('uq_mentor_association_id_reference'), 'mentor', type_='unique')
    op.drop_column('mentor', 'reference')
