"""Principals get an email: the identity an OpenID Connect sign-in is matched on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("principal", sa.Column("email", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_principal_email"), "principal", "email IS NULL OR email ~ '^[^@\\s]+@[^@\\s]+$'"
    )
    op.create_index(
        "uq_principal_email_lower", "principal", [sa.text("lower(email)")], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_principal_email_lower", table_name="principal")
    op.drop_constraint(op.f("ck_principal_email"), "principal", type_="check")
    op.drop_column("principal", "email")
