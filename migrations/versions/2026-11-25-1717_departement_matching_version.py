"""A version per département that PostgreSQL bumps on any change to what its mentors' matching
arrays are made of, so that a process may keep those arrays and know when they are stale.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 17:17:00

Bumped, by statement-level triggers, for every département concerned by a change to:
- `mentor` (any column: profile, capacity, places held, honorability, deletion), for each
  département served by the mentor's association, before and after the change. Places held
  are kept in `mentor.places_held` by the triggers of `proposal` and `mentorship`, so a change
  of places held is a change of the mentor row and bumps it too;
- `association_departement` (which associations serve the département);
- `association_agreement` (whose mentors may be proposed in the département on a date);
- `pair_exclusion`, for the département of the child (candidates read a child's exclusions
  with each request; the bump keeps the version a complete statement of change).
The values come from a sequence, so a number is never given twice, even by a transaction
that rolls back: an array loaded with version v is the data of version v and nothing else.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP_FUNCTION = """
CREATE FUNCTION departement_matching_bump(codes text[]) RETURNS void LANGUAGE sql AS $$
    -- In code order: two transactions bumping the same départements lock them in one order.
    INSERT INTO departement_matching_version AS v (departement_code, version)
    SELECT code, nextval('departement_matching_version_seq')
      FROM (SELECT DISTINCT code FROM unnest(codes) AS code WHERE code IS NOT NULL) AS c
     ORDER BY code
    ON CONFLICT (departement_code) DO UPDATE SET version = EXCLUDED.version
$$
"""

# What each table's changed rows say about the départements concerned; `rows` is the
# transition table (new rows, old rows, or both for an UPDATE).
AFFECTED: dict[str, str] = {
    "mentor": (
        "SELECT ad.departement_code FROM association_departement ad"
        " WHERE ad.association_id IN (SELECT association_id FROM {rows})"
    ),
    "association_departement": "SELECT departement_code FROM {rows}",
    "association_agreement": "SELECT departement_code FROM {rows}",
    "pair_exclusion": (
        "SELECT c.departement_code FROM child c WHERE c.id IN (SELECT child_id FROM {rows})"
    ),
}
EVENTS = {
    "INSERT": ("REFERENCING NEW TABLE AS new_rows", ("new_rows",)),
    "UPDATE": ("REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", ("old_rows", "new_rows")),
    "DELETE": ("REFERENCING OLD TABLE AS old_rows", ("old_rows",)),
}


def _name(table: str, event: str) -> str:
    return f"{table}_matching_bump_{event.lower()}"


def upgrade() -> None:
    op.execute("CREATE SEQUENCE departement_matching_version_seq")
    # No foreign key: a département being deleted cascades to association_departement, whose
    # trigger bumps that very département.
    op.create_table(
        "departement_matching_version",
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("departement_code", name=op.f("pk_departement_matching_version")),
    )
    op.execute(BUMP_FUNCTION)
    for table, affected in AFFECTED.items():
        for event, (referencing, tables) in EVENTS.items():
            codes = " UNION ".join(affected.format(rows=rows) for rows in tables)
            op.execute(
                f"""
                CREATE FUNCTION {_name(table, event)}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM departement_matching_bump(ARRAY({codes}));
                    RETURN NULL;
                END
                $$
                """
            )
            op.execute(
                f"CREATE TRIGGER {_name(table, event)} AFTER {event} ON {table} {referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {_name(table, event)}()"
            )


def downgrade() -> None:
    for table in AFFECTED:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER {_name(table, event)} ON {table}")
            op.execute(f"DROP FUNCTION {_name(table, event)}()")
    op.execute("DROP FUNCTION departement_matching_bump(text[])")
    op.drop_table("departement_matching_version")
    op.execute("DROP SEQUENCE departement_matching_version_seq")
