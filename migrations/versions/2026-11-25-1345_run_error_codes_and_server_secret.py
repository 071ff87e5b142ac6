"""Failed runs carry an error code and a sentence, not SQL; a shared secret signs cursors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:45:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUN_ERROR_CODES = (
    "abandoned",
    "database_unavailable",
    "database_error",
    "timeout",
    "internal_error",
)
# Until now a failed run kept "<exception class>: <message>", SQL and parameters included.
# Classify the old texts, then keep only the sentence readers may see.
CLASSIFY_OLD_ERRORS = """
UPDATE matching_run SET error_code = CASE
    WHEN error LIKE 'Abandoned:%' THEN 'abandoned'
    WHEN error ILIKE '%statement timeout%' OR error ILIKE '%canceling statement%'
        THEN 'timeout'
    WHEN error ILIKE '%connection was closed%' OR error ILIKE '%Connect call failed%'
        OR error ILIKE '%CannotConnectNow%' OR error ILIKE '%ConnectionDoesNotExist%'
        OR error ILIKE '%connection is closed%' THEN 'database_unavailable'
    WHEN error LIKE '%[SQL:%' OR error LIKE 'DBAPIError%' OR error LIKE 'IntegrityError%'
        OR error LIKE 'ProgrammingError%' OR error LIKE 'OperationalError%'
        THEN 'database_error'
    ELSE 'internal_error'
END
WHERE status = 'failed'
"""
SENTENCES = {
    "database_unavailable": "The database could not be reached during the run; "
    "nothing was written. Start the run again.",
    "database_error": "The database refused part of the run's work; nothing was written.",
    "timeout": "The run took longer than the database allows; nothing was written.",
    "internal_error": "The run stopped on an unexpected error; nothing was written.",
}


def upgrade() -> None:
    op.create_table(
        "server_secret",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("octet_length(value) >= 32", name=op.f("ck_server_secret_value_length")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secret")),
    )
    op.get_bind().execute(
        sa.text("INSERT INTO server_secret (name, value) VALUES ('cursor', :value)"),
        {"value": secrets.token_bytes(32)},
    )

    op.add_column("matching_run", sa.Column("error_code", sa.Text(), nullable=True))
    op.execute(CLASSIFY_OLD_ERRORS)
    for code, sentence in SENTENCES.items():
        op.get_bind().execute(
            sa.text("UPDATE matching_run SET error = :sentence WHERE error_code = :code"),
            {"sentence": sentence, "code": code},
        )
    codes = ", ".join(f"'{code}'" for code in RUN_ERROR_CODES)
    op.create_check_constraint(
        op.f("ck_matching_run_error_code"),
        "matching_run",
        f"error_code IS NULL OR error_code IN ({codes})",
    )
    op.create_check_constraint(
        op.f("ck_matching_run_failed_error_code"),
        "matching_run",
        "(status = 'failed') = (error_code IS NOT NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_matching_run_failed_error_code"), "matching_run", type_="check")
    op.drop_constraint(op.f("ck_matching_run_error_code"), "matching_run", type_="check")
    op.drop_column("matching_run", "error_code")
    op.drop_table("server_secret")
