"""Matching runs, proposals (capacity held in PostgreSQL), pair exclusions, goal bitmasks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:19:17.437029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Bit i of a mask is set when vocabulary[i] is in codes: matching loads integers, not arrays.
CODE_MASK_FUNCTION = """
CREATE FUNCTION mentorat_code_mask(codes text[], vocabulary text[]) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bit_or(1::bigint << (array_position(vocabulary, code) - 1)), 0)
    FROM unnest(codes) AS code
$$
"""

# A pending proposal holds one of the mentor's places. The mentor row is locked while
# counting, so concurrent writers (runs of two départements, educators) queue up.
PROPOSAL_HOLD_FUNCTION = """
CREATE FUNCTION proposal_hold_check() RETURNS trigger LANGUAGE plpgsql AS $$
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
PROPOSAL_HOLD_TRIGGER = """
CREATE TRIGGER proposal_hold_check BEFORE INSERT OR UPDATE OF status, mentor_id ON proposal
    FOR EACH ROW EXECUTE FUNCTION proposal_hold_check()
"""


def upgrade() -> None:
    op.execute(CODE_MASK_FUNCTION)
    op.create_table(
        "matching_run",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.UUID(), nullable=True),
        sa.Column("requested_by_name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("phase", sa.Text(), nullable=True),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("min_score", sa.Float(), nullable=False),
        sa.Column("weights", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("needed_hours", sa.Float(), server_default=sa.text("2"), nullable=False),
        sa.Column("child_ids", postgresql.ARRAY(sa.UUID()), nullable=True),
        sa.Column("mentor_ids", postgresql.ARRAY(sa.UUID()), nullable=True),
        sa.Column(
            "figures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status IN ('succeeded', 'failed')) = (finished_at IS NOT NULL)",
            name=op.f("ck_matching_run_finished"),
        ),
        sa.CheckConstraint(
            "objective IN ('coverage_first', 'total_score')", name=op.f("ck_matching_run_objective")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_matching_run_status"),
        ),
        sa.CheckConstraint(
            "min_score BETWEEN 0 AND 1", name=op.f("ck_matching_run_min_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_matching_run_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_run")),
    )
    op.create_index(
        "ix_matching_run_page",
        "matching_run",
        ["departement_code", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_matching_run_one_active_per_departement",
        "matching_run",
        ["departement_code"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "matching_run_unmatched",
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("feasible_mentors", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.REAL(), nullable=True),
        sa.Column("excluded_by_reason", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "reason IN ('no_feasible_mentor', 'taken_by_others', 'below_min_score')",
            name=op.f("ck_matching_run_unmatched_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
            name=op.f("fk_matching_run_unmatched_child_id_child"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["matching_run.id"],
            name=op.f("fk_matching_run_unmatched_run_id_matching_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "child_id", name=op.f("pk_matching_run_unmatched")),
    )
    op.create_table(
        "pair_exclusion",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("mentor_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.UUID(), nullable=True),
        sa.Column("created_by_name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(btrim(reason)) > 0", name=op.f("ck_pair_exclusion_reason_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
            name=op.f("fk_pair_exclusion_child_id_child"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentor.id"],
            name=op.f("fk_pair_exclusion_mentor_id_mentor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_exclusion")),
        sa.UniqueConstraint(
            "child_id", "mentor_id", name=op.f("uq_pair_exclusion_child_id_mentor_id")
        ),
    )
    op.create_index("ix_pair_exclusion_mentor", "pair_exclusion", ["mentor_id"], unique=False)
    op.create_table(
        "proposal",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("mentor_id", sa.UUID(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("score", sa.REAL(), nullable=False),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by_id", sa.UUID(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "status IN ('simulated', 'pending', 'accepted', 'declined', 'withdrawn')",
            name=op.f("ck_proposal_status"),
        ),
        sa.CheckConstraint("score BETWEEN 0 AND 1", name=op.f("ck_proposal_score_range")),
        sa.ForeignKeyConstraint(
            ["child_id"], ["child.id"], name=op.f("fk_proposal_child_id_child"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_proposal_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentor.id"],
            name=op.f("fk_proposal_mentor_id_mentor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["matching_run.id"],
            name=op.f("fk_proposal_run_id_matching_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
        sa.UniqueConstraint("run_id", "child_id", name=op.f("uq_proposal_run_id_child_id")),
    )
    op.create_index(
        "ix_proposal_mentor_pending",
        "proposal",
        ["mentor_id"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_proposal_run", "proposal", ["run_id", "child_id"], unique=False)
    op.create_index(
        "uq_proposal_one_pending_per_child",
        "proposal",
        ["child_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.add_column(
        "child",
        sa.Column(
            "goals_mask",
            sa.BigInteger(),
            sa.Computed(
                "mentorat_code_mask(goals, ARRAY['orientation', 'stage', 'alternance', 'apprentissage', 'emploi', 'numerique', 'scolarite', 'confiance', 'rome-A', 'rome-B', 'rome-C', 'rome-D', 'rome-E', 'rome-F', 'rome-G', 'rome-H', 'rome-I', 'rome-J', 'rome-K', 'rome-L', 'rome-M', 'rome-N'])",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.add_column(
        "child",
        sa.Column(
            "languages_mask",
            sa.BigInteger(),
            sa.Computed(
                "mentorat_code_mask(languages, ARRAY['fr', 'en', 'ar', 'es', 'pt', 'de', 'it', 'tr', 'ro', 'ru', 'uk', 'pl', 'zh', 'vi', 'ta', 'bn', 'ur', 'fa', 'ps', 'ku', 'am', 'ti', 'so', 'sw', 'wo', 'ff', 'bm', 'ln', 'sq', 'hy', 'ka', 'sr', 'nl', 'ber', 'km', 'lo', 'ht', 'rcf', 'gcf', 'sgn'])",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.add_column(
        "mentor",
        sa.Column(
            "goals_mask",
            sa.BigInteger(),
            sa.Computed(
                "mentorat_code_mask(goals, ARRAY['orientation', 'stage', 'alternance', 'apprentissage', 'emploi', 'numerique', 'scolarite', 'confiance', 'rome-A', 'rome-B', 'rome-C', 'rome-D', 'rome-E', 'rome-F', 'rome-G', 'rome-H', 'rome-I', 'rome-J', 'rome-K', 'rome-L', 'rome-M', 'rome-N'])",
                persisted=True,
            ),
            nullable=False,
        ),
    )
    op.add_column(
        "mentor",
        sa.Column(
            "languages_mask",
            sa.BigInteger(),
            sa.Computed(
                "mentorat_code_mask(languages, ARRAY['fr', 'en', 'ar', 'es', 'pt', 'de', 'it', 'tr', 'ro', 'ru', 'uk', 'pl', 'zh', 'vi', 'ta', 'bn', 'ur', 'fa', 'ps', 'ku', 'am', 'ti', 'so', 'sw', 'wo', 'ff', 'bm', 'ln', 'sq', 'hy', 'ka', 'sr', 'nl', 'ber', 'km', 'lo', 'ht', 'rcf', 'gcf', 'sgn'])",
                persisted=True,
            ),
            nullable=False,
        ),
    )

    op.execute(PROPOSAL_HOLD_FUNCTION)
    op.execute(PROPOSAL_HOLD_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER proposal_hold_check ON proposal")
    op.execute("DROP FUNCTION proposal_hold_check()")
    op.drop_column("mentor", "languages_mask")
    op.drop_column("mentor", "goals_mask")
    op.drop_column("child", "languages_mask")
    op.drop_column("child", "goals_mask")
    op.drop_index(
        "uq_proposal_one_pending_per_child",
        table_name="proposal",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_proposal_run", table_name="proposal")
    op.drop_index(
        "ix_proposal_mentor_pending",
        table_name="proposal",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("proposal")
    op.drop_index("ix_pair_exclusion_mentor", table_name="pair_exclusion")
    op.drop_table("pair_exclusion")
    op.drop_table("matching_run_unmatched")
    op.drop_index(
        "uq_matching_run_one_active_per_departement",
        table_name="matching_run",
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.drop_index("ix_matching_run_page", table_name="matching_run")
    op.drop_table("matching_run")
    op.execute("DROP FUNCTION mentorat_code_mask(text[], text[])")
