"""Places held are recounted only for the mentors a change can concern, and written only where
the count moved.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25 19:10:00

Before, every statement on `proposal` recounted every mentor it touched, and rewrote each of
their rows even when the count was the same: a dry run's simulated proposals (which hold no
place) rewrote thousands of wide mentor rows, and bumped the département's matching version
for nothing. Now:
- a proposal statement concerns only the mentors of rows that hold a place (pending) before or
  after it, or whose mentor changed;
- the recount is one grouped count, and only mentors whose count moved are updated (their
  rows are locked as before, so concurrent writers still queue up);
- `mentor` keeps 20 % of each page free, so that the update of `places_held` (no index holds
  it) is a HOT update: no new index entries. It applies to pages written from now on.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECOUNT = """
CREATE OR REPLACE FUNCTION mentor_places_recount(mentors uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(mentors) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM mentor WHERE id = ANY(mentors) ORDER BY id FOR NO KEY UPDATE;
    UPDATE mentor m SET places_held = counted.held
      FROM (SELECT touched.id, coalesce(p.n, 0) + coalesce(s.n, 0) AS held
              FROM unnest(mentors) AS touched(id)
              LEFT JOIN (SELECT mentor_id, count(*) AS n FROM proposal
                          WHERE mentor_id = ANY(mentors) AND status = 'pending'
                          GROUP BY mentor_id) AS p ON p.mentor_id = touched.id
              LEFT JOIN (SELECT mentor_id, count(*) AS n FROM mentorship
                          WHERE mentor_id = ANY(mentors) AND state IN ('accepted', 'active')
                          GROUP BY mentor_id) AS s ON s.mentor_id = touched.id) AS counted
     WHERE m.id = counted.id AND m.places_held <> counted.held;
END
$$
"""

PREVIOUS_RECOUNT = """
CREATE OR REPLACE FUNCTION mentor_places_recount(mentors uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(mentors) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM mentor WHERE id = ANY(mentors) ORDER BY id FOR NO KEY UPDATE;
    UPDATE mentor m SET places_held =
           (SELECT count(*) FROM proposal p WHERE p.mentor_id = m.id AND p.status = 'pending')
         + (SELECT count(*) FROM mentorship s
             WHERE s.mentor_id = m.id AND s.state IN ('accepted', 'active'))
     WHERE m.id = ANY(mentors);
END
$$
"""

# The mentors a statement on `proposal` may have changed the places of.
PROPOSAL_TOUCHED = {
    "insert": "SELECT mentor_id FROM new_rows WHERE status = 'pending'",
    "update": """
        SELECT mentor_id FROM (
            SELECT n.mentor_id AS new_mentor, o.mentor_id AS old_mentor,
                   n.status = 'pending' AS new_holds, o.status = 'pending' AS old_holds
              FROM new_rows n JOIN old_rows o ON o.id = n.id) AS changed
        CROSS JOIN LATERAL (VALUES (new_mentor), (old_mentor)) AS both_sides(mentor_id)
        WHERE (new_holds OR old_holds)
          AND (new_holds IS DISTINCT FROM old_holds OR new_mentor <> old_mentor)
    """,
    "delete": "SELECT mentor_id FROM old_rows WHERE status = 'pending'",
}
PREVIOUS_PROPOSAL_TOUCHED = {
    "insert": "SELECT mentor_id FROM new_rows",
    "update": "SELECT mentor_id FROM new_rows UNION SELECT mentor_id FROM old_rows",
    "delete": "SELECT mentor_id FROM old_rows",
}


def _proposal_function(event: str, touched: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION proposal_places_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM mentor_places_recount(ARRAY(
            SELECT DISTINCT mentor_id FROM ({touched}) AS touched ORDER BY mentor_id));
        RETURN NULL;
    END
    $$
    """


def upgrade() -> None:
    op.execute(RECOUNT)
    for event, touched in PROPOSAL_TOUCHED.items():
        op.execute(_proposal_function(event, touched))
    op.execute("ALTER TABLE mentor SET (fillfactor = 80)")


def downgrade() -> None:
    op.execute("ALTER TABLE mentor RESET (fillfactor)")
    for event, touched in PREVIOUS_PROPOSAL_TOUCHED.items():
        op.execute(_proposal_function(event, touched))
    op.execute(PREVIOUS_RECOUNT)
