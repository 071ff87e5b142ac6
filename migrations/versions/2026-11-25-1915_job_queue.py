"""The job queue (procrastinate 3.10.0's schema) and the attempt of a matching run.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 19:15:00

The queue's schema is the one procrastinate 3.10.0 ships (`procrastinate/sql/schema.sql`),
vendored in `migrations/procrastinate/schema-3.10.0.sql` so that this revision builds the same
schema whatever version is installed later. A later procrastinate brings its own SQL
migrations (`procrastinate/sql/migrations/`): each upgrade of the package adds a new Alembic
revision that runs the new ones, in order (see README, "Workers").

Runs queued or running before this revision were executed inside an API process and have no
job: they are marked failed (`abandoned`), as the start-up recovery used to do.
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parents[1] / "procrastinate" / "schema-3.10.0.sql"
ABANDONED = "Abandoned: the process running it stopped before it finished."


def _execute_script(sql: str) -> None:
    """Several statements (and dollar-quoted function bodies) sent as one simple query, which
    asyncpg's `execute` does when given no parameters."""
    bind = op.get_bind()
    bind.exec_driver_sql("SELECT 1")  # opens the migration's transaction first, if not yet open
    raw = bind.connection.dbapi_connection
    raw.run_async(lambda connection: connection.execute(sql))


def upgrade() -> None:
    _execute_script(SCHEMA.read_text(encoding="utf-8"))
    op.add_column(
        "matching_run",
        sa.Column("attempt", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        sa.text(
            "UPDATE matching_run SET status = 'failed', phase = 'failed', finished_at = now(),"
            " error_code = 'abandoned', error = :error WHERE status IN ('queued', 'running')"
        ).bindparams(error=ABANDONED)
    )


def downgrade() -> None:
    op.drop_column("matching_run", "attempt")
    # Every object procrastinate made: tables first (their triggers go with them), then
    # functions and types, found by name so that objects of later procrastinate migrations go too.
    _execute_script(
        """
        DO $$
        DECLARE
            item record;
        BEGIN
            FOR item IN
                SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND c.relkind = 'r'
                  AND c.relname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.relname);
            END LOOP;
            FOR item IN
                SELECT p.oid::regprocedure AS signature FROM pg_proc p
                JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
            END LOOP;
            FOR item IN
                SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                  AND t.typtype IN ('e', 'c')
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c'
                  )
            LOOP
                EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
            END LOOP;
        END
        $$
        """
    )
