"""Offers, mentorships and their events, objectives with revisions, meetings, idempotency.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 01:26:12.409711
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A mentor's places are held by pending proposals and by accepted or active mentorships (a
# paused one frees its place until it resumes). Statement-level triggers on both tables lock
# the touched mentor rows (in id order) and recount into mentor.places_held, which a CHECK
# keeps within the capacity: concurrent writers queue up and never overfill a mentor.
# The lock is FOR NO KEY UPDATE, not FOR UPDATE: the foreign key check of the same INSERT has
# already taken FOR KEY SHARE on the mentor row, and FOR UPDATE conflicts with the KEY SHARE
# of a concurrent insert, so two writers deadlocked. NO KEY UPDATE still excludes the other
# writers' NO KEY UPDATE (and the FOR UPDATE of a capacity change).
MENTOR_HOLD_FUNCTION = """
CREATE FUNCTION mentor_places_recount(mentors uuid[]) RETURNS void LANGUAGE plpgsql AS $$
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

# What matching needs of a mentor, packed into one binary record (see models/mentor.py,
# MENTOR_RECORD_FIELDS); frozen here as it was when this revision was written.
MENTOR_RECORD_SQL = " || ".join(
    (
        'uuid_send(id)',
        'float4send(latitude::real)',
        'float4send(longitude::real)',
        'float4send(travel_radius_km::real)',
        "int8send(mentorat_code_mask(goals, ARRAY['orientation', 'stage', 'alternance', "
        "'apprentissage', 'emploi', 'numerique', 'scolarite', 'confiance', 'rome-A', "
        "'rome-B', 'rome-C', 'rome-D', 'rome-E', 'rome-F', 'rome-G', 'rome-H', 'rome-I', "
        "'rome-J', 'rome-K', 'rome-L', 'rome-M', 'rome-N']))",
        'availability',
        'boolsend(remote_ok)',
        "int2send((CASE gender WHEN 'female' THEN 1 WHEN 'male' THEN 2 WHEN 'other' THEN 3 "
        'ELSE 0 END)::smallint)',
        "int8send(mentorat_code_mask(languages, ARRAY['fr', 'en', 'ar', 'es', 'pt', 'de', "
        "'it', 'tr', 'ro', 'ru', 'uk', 'pl', 'zh', 'vi', 'ta', 'bn', 'ur', 'fa', 'ps', "
        "'ku', 'am', 'ti', 'so', 'sw', 'wo', 'ff', 'bm', 'ln', 'sq', 'hy', 'ka', 'sr', "
        "'nl', 'ber', 'km', 'lo', 'ht', 'rcf', 'gcf', 'sgn']))",
        'boolsend(active AND deleted_at IS NULL)',
        "date_send(coalesce(honorability_checked_on, 'infinity'::date))",
        "date_send(coalesce(honorability_valid_until, '-infinity'::date))",
        'int4send(greatest(capacity - places_held, 0))',
    )
)

PROPOSAL_HOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION proposal_hold_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'pending' THEN
        IF EXISTS (SELECT 1 FROM mentorship WHERE child_id = NEW.child_id
                   AND state IN ('accepted', 'active', 'paused')) THEN
            RAISE EXCEPTION 'child % is already in a mentorship', NEW.child_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'proposal_child_mentored';
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""

# Statement-level: a run's multi-row insert recounts each touched mentor once, in id order.
PLACES_EVENTS = {
    "INSERT": ("REFERENCING NEW TABLE AS new_rows", "SELECT mentor_id FROM new_rows"),
    "UPDATE": (
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "SELECT mentor_id FROM new_rows UNION SELECT mentor_id FROM old_rows",
    ),
    "DELETE": ("REFERENCING OLD TABLE AS old_rows", "SELECT mentor_id FROM old_rows"),
}
PLACES_TRIGGER_FUNCTIONS = tuple(
    f"""
    CREATE FUNCTION {table}_places_{event.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM mentor_places_recount(ARRAY(
            SELECT DISTINCT mentor_id FROM ({rows}) AS touched ORDER BY mentor_id));
        RETURN NULL;
    END
    $$
    """
    for table in ("proposal", "mentorship")
    for event, (_, rows) in PLACES_EVENTS.items()
)

# Append-only: no UPDATE ever, and no DELETE while the mentorship exists. Rows go only with
# their mentorship (the ON DELETE CASCADE of a child's or mentor's purge), which is already
# gone when the cascade reaches them; without that exception no child could be purged.
FORBID_CHANGE_FUNCTION = """
CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND NOT EXISTS (SELECT 1 FROM mentorship WHERE id = OLD.mentorship_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""

TRIGGERS = (
    *(
        f"""
        CREATE TRIGGER {table}_places_{event.lower()} AFTER {event} ON {table}
            {transition}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_places_{event.lower()}()
        """
        for table in ("proposal", "mentorship")
        for event, (transition, _) in PLACES_EVENTS.items()
    ),
    """
    CREATE TRIGGER mentorship_event_append_only BEFORE UPDATE OR DELETE ON mentorship_event
        FOR EACH ROW EXECUTE FUNCTION forbid_change()
    """,
    """
    CREATE TRIGGER objective_revision_append_only BEFORE UPDATE OR DELETE ON objective_revision
        FOR EACH ROW EXECUTE FUNCTION forbid_change()
    """,
)

PREVIOUS_PROPOSAL_HOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION proposal_hold_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mentor_capacity integer;
    held integer;
BEGIN
    IF NEW.status <> 'pending' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'pending' AND OLD.mentor_id = NEW.mentor_id THEN
        RETURN NEW;
    END IF;
    SELECT capacity INTO mentor_capacity FROM mentor WHERE id = NEW.mentor_id FOR UPDATE;
    SELECT count(*) INTO held FROM proposal
        WHERE mentor_id = NEW.mentor_id AND status = 'pending' AND id <> NEW.id;
    IF held + 1 > mentor_capacity THEN
        RAISE EXCEPTION 'mentor % has no capacity left', NEW.mentor_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'proposal_mentor_capacity';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('principal_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.LargeBinary(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('principal_id', 'key', name=op.f('pk_idempotency_record'))
    )
    op.create_table('offer',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('child_id', sa.UUID(), nullable=False),
    sa.Column('departement_code', sa.Text(), nullable=False),
    sa.Column('offered_on', sa.Date(), nullable=False),
    sa.Column('offered_by_id', sa.UUID(), nullable=True),
    sa.Column('offered_by_name', sa.Text(), nullable=False),
    sa.Column('child_answer', sa.Text(), server_default='pending', nullable=False),
    sa.Column('guardian_answer', sa.Text(), server_default='pending', nullable=False),
    sa.Column('guardian_answer_source', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), sa.Computed("CASE WHEN child_answer = 'refused' OR guardian_answer = 'refused' THEN 'refused' WHEN child_answer = 'accepted' AND guardian_answer = 'accepted' THEN 'accepted' ELSE 'pending' END", persisted=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("(outcome = 'pending') = (decided_at IS NULL)", name=op.f('ck_offer_decided')),
    sa.CheckConstraint("child_answer IN ('pending', 'accepted', 'refused')", name=op.f('ck_offer_child_answer')),
    sa.CheckConstraint("guardian_answer = 'pending' OR guardian_answer_source IS NOT NULL", name=op.f('ck_offer_guardian_answer_has_source')),
    sa.CheckConstraint("guardian_answer IN ('pending', 'accepted', 'refused')", name=op.f('ck_offer_guardian_answer')),
    sa.CheckConstraint("guardian_answer_source IS NULL OR guardian_answer_source IN ('parental_authority', 'ase_decision')", name=op.f('ck_offer_guardian_answer_source')),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], name=op.f('fk_offer_child_id_child'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_offer_departement_code_departement'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer'))
    )
    op.create_index('ix_offer_child', 'offer', ['child_id', 'offered_on', 'created_at'], unique=False)
    op.create_index('uq_offer_one_pending_per_child', 'offer', ['child_id'], unique=True, postgresql_where=sa.text("outcome = 'pending'"))
    op.create_table('mentorship',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('proposal_id', sa.UUID(), nullable=True),
    sa.Column('child_id', sa.UUID(), nullable=False),
    sa.Column('mentor_id', sa.UUID(), nullable=False),
    sa.Column('departement_code', sa.Text(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("(state = 'ended') = (end_reason IS NOT NULL AND ended_at IS NOT NULL)", name=op.f('ck_mentorship_ended_with_reason')),
    sa.CheckConstraint("end_reason IS NULL OR end_reason IN ('completed', 'child_choice', 'mentor_unavailable', 'placement_change', 'age_limit', 'safeguarding', 'other')", name=op.f('ck_mentorship_end_reason_known')),
    sa.CheckConstraint("state IN ('accepted', 'active', 'paused', 'ended')", name=op.f('ck_mentorship_state')),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], name=op.f('fk_mentorship_child_id_child'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['departement_code'], ['departement.code'], name=op.f('fk_mentorship_departement_code_departement'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor.id'], name=op.f('fk_mentorship_mentor_id_mentor'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_mentorship_proposal_id_proposal'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentorship')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_mentorship_proposal_id'))
    )
    op.create_index('ix_mentorship_departement', 'mentorship', ['departement_code', 'created_at', 'id'], unique=False)
    op.create_index('ix_mentorship_mentor_live', 'mentorship', ['mentor_id'], unique=False, postgresql_where=sa.text("state <> 'ended'"))
    op.create_index('uq_mentorship_one_live_per_child', 'mentorship', ['child_id'], unique=True, postgresql_where=sa.text("state IN ('accepted', 'active', 'paused')"))
    op.create_table('meeting',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('mentorship_id', sa.UUID(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('entered_by_id', sa.UUID(), nullable=True),
    sa.Column('entered_by_name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.CheckConstraint("mode IN ('in_person', 'remote')", name=op.f('ck_meeting_mode')),
    sa.CheckConstraint('duration_minutes BETWEEN 1 AND 720', name=op.f('ck_meeting_duration_range')),
    sa.CheckConstraint('note IS NULL OR length(note) <= 1000', name=op.f('ck_meeting_note_short')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_meeting_mentorship_id_mentorship'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    op.create_index('ix_meeting_mentorship', 'meeting', ['mentorship_id', 'held_on'], unique=False)
    op.create_table('mentorship_event',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('mentorship_id', sa.UUID(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('principal_id', sa.UUID(), nullable=True),
    sa.Column('principal_name', sa.Text(), nullable=False),
    sa.Column('from_state', sa.Text(), nullable=True),
    sa.Column('to_state', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_mentorship_event_mentorship_id_mentorship'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentorship_event'))
    )
    op.create_index('ix_mentorship_event_mentorship', 'mentorship_event', ['mentorship_id', 'occurred_at', 'id'], unique=False)
    op.create_table('objective',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('mentorship_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Text(), server_default='open', nullable=False),
    sa.Column('progress', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("category IN ('orientation', 'stage', 'alternance', 'apprentissage', 'emploi', 'numerique', 'scolarite', 'confiance', 'rome-A', 'rome-B', 'rome-C', 'rome-D', 'rome-E', 'rome-F', 'rome-G', 'rome-H', 'rome-I', 'rome-J', 'rome-K', 'rome-L', 'rome-M', 'rome-N')", name=op.f('ck_objective_category_known')),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'achieved', 'abandoned')", name=op.f('ck_objective_status')),
    sa.CheckConstraint('length(btrim(title)) > 0', name=op.f('ck_objective_title_not_blank')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_objective_progress_range')),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_objective_mentorship_id_mentorship'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective'))
    )
    op.create_index('ix_objective_mentorship', 'objective', ['mentorship_id', 'created_at', 'id'], unique=False)
    op.create_table('objective_revision',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('objective_id', sa.UUID(), nullable=False),
    sa.Column('mentorship_id', sa.UUID(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('principal_id', sa.UUID(), nullable=True),
    sa.Column('principal_name', sa.Text(), nullable=False),
    sa.Column('values', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('changed_fields', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['mentorship_id'], ['mentorship.id'], name=op.f('fk_objective_revision_mentorship_id_mentorship'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_objective_revision_objective_id_objective'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objective_revision')),
    sa.UniqueConstraint('objective_id', 'revision', name=op.f('uq_objective_revision_objective_id_revision'))
    )
    op.create_index('ix_objective_revision_mentorship', 'objective_revision', ['mentorship_id', 'recorded_at', 'id'], unique=False)
    op.add_column('proposal', sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('proposal', sa.Column('validated_by_name', sa.Text(), nullable=True))
    op.add_column('proposal', sa.Column('mentor_accepted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('proposal', sa.Column('mentor_accepted_by_name', sa.Text(), nullable=True))
    op.add_column('proposal', sa.Column('decline_reason', sa.Text(), nullable=True))
    op.add_column('proposal', sa.Column('declined_by_name', sa.Text(), nullable=True))

    op.add_column(
        'mentor', sa.Column('places_held', sa.Integer(), server_default=sa.text('0'), nullable=False)
    )
    op.add_column(
        'mentor',
        sa.Column('matching_record', sa.LargeBinary(), sa.Computed(MENTOR_RECORD_SQL, persisted=True)),
    )
    # Pending proposals from matching runs already hold places.
    op.execute(
        "UPDATE mentor m SET places_held = (SELECT count(*) FROM proposal p"
        " WHERE p.mentor_id = m.id AND p.status = 'pending')"
    )
    op.create_check_constraint(
        op.f('ck_mentor_places_within_capacity'), 'mentor', 'places_held BETWEEN 0 AND capacity'
    )

    for statement in (
        MENTOR_HOLD_FUNCTION,
        PROPOSAL_HOLD_FUNCTION,
        *PLACES_TRIGGER_FUNCTIONS,
        FORBID_CHANGE_FUNCTION,
        *TRIGGERS,
    ):
        op.execute(statement)

def downgrade() -> None:
    for trigger, table in (
        ("objective_revision_append_only", "objective_revision"),
        ("mentorship_event_append_only", "mentorship_event"),
        *(
            (f"{table}_places_{event.lower()}", table)
            for table in ("proposal", "mentorship")
            for event in PLACES_EVENTS
        ),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in (
        "forbid_change()",
        *(
            f"{table}_places_{event.lower()}()"
            for table in ("proposal", "mentorship")
            for event in PLACES_EVENTS
        ),
        "mentor_places_recount(uuid[])",
    ):
        op.execute(f"DROP FUNCTION {function}")
    op.execute(PREVIOUS_PROPOSAL_HOLD_FUNCTION)
    op.drop_constraint(op.f('ck_mentor_places_within_capacity'), 'mentor', type_='check')
    op.drop_column('mentor', 'matching_record')
    op.drop_column('mentor', 'places_held')
    op.drop_column('proposal', 'declined_by_name')
    op.drop_column('proposal', 'decline_reason')
    op.drop_column('proposal', 'mentor_accepted_by_name')
    op.drop_column('proposal', 'mentor_accepted_at')
    op.drop_column('proposal', 'validated_by_name')
    op.drop_column('proposal', 'validated_at')
    op.drop_index('ix_objective_revision_mentorship', table_name='objective_revision')
    op.drop_table('objective_revision')
    op.drop_index('ix_objective_mentorship', table_name='objective')
    op.drop_table('objective')
    op.drop_index('ix_mentorship_event_mentorship', table_name='mentorship_event')
    op.drop_table('mentorship_event')
    op.drop_index('ix_meeting_mentorship', table_name='meeting')
    op.drop_table('meeting')
    op.drop_index('uq_mentorship_one_live_per_child', table_name='mentorship', postgresql_where=sa.text("state IN ('accepted', 'active', 'paused')"))
    op.drop_index('ix_mentorship_mentor_live', table_name='mentorship', postgresql_where=sa.text("state <> 'ended'"))
    op.drop_index('ix_mentorship_departement', table_name='mentorship')
    op.drop_table('mentorship')
    op.drop_index('uq_offer_one_pending_per_child', table_name='offer', postgresql_where=sa.text("outcome = 'pending'"))
    op.drop_index('ix_offer_child', table_name='offer')
    op.drop_table('offer')
    op.drop_table('idempotency_record')
