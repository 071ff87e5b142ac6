"""The legal duty: care facts, assessments, consents as the decree sets them, agreements.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 16:00:00

- `child`: came into care on, left care on, legal situation, mentoring requested on (young
  adults); every change of these is kept in `child_care_revision` by a trigger.
- `assessment` (D221-34), append-only.
- `offer`: the legal situation at the time of the offer and its assessment; the answers move
  to `offer_consent`, append-only facts (informed, agreed, refused per party), from which a
  trigger derives the outcome. Existing answers become facts.
- `association_agreement` (D221-37); `mentorship.agreement_signed_on`; département settings:
  first school day, whether the individual agreement must be signed before a mentorship is
  active.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION_ON = "coalesce(current_setting('mentorat.retention', true), '') = 'on'"

# Append-only histories: no UPDATE (but retention's scrub of free texts), no DELETE while the
# row they belong to exists (TG_ARGV: that table, and the column naming it). A purge's
# cascade reaches them once their parent is gone.
FORBID_HISTORY_CHANGE = f"""
CREATE FUNCTION forbid_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_exists boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', TG_ARGV[0])
            INTO parent_exists USING (to_jsonb(OLD) ->> TG_ARGV[1])::uuid;
        IF NOT parent_exists THEN
            RETURN OLD;
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND {RETENTION_ON} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""

REQUIRED_PARTIES = """
CREATE FUNCTION offer_required_parties(situation text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE situation
        WHEN 'parental_authority' THEN ARRAY['child', 'parents']
        WHEN 'delegated_to_ase' THEN ARRAY['child', 'ase']
        WHEN 'pupille' THEN ARRAY['child', 'tutor', 'family_council']
        WHEN 'young_adult' THEN ARRAY['young_adult']
    END
$$
"""

# The outcome follows the facts: refused once a required party refuses, accepted once every
# required party agreed. A decided offer takes no more answers (a new offer is made).
OFFER_DERIVED_OUTCOME = """
CREATE FUNCTION offer_derived_outcome(offer uuid, required text[], excluded bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
            WHEN bool_or(kind = 'refused') THEN 'refused'
            WHEN count(DISTINCT party) FILTER (WHERE kind = 'agreed') = cardinality(required)
                THEN 'accepted'
            ELSE 'pending'
        END
      FROM offer_consent
     WHERE offer_id = offer AND party = ANY (required) AND id IS DISTINCT FROM excluded
$$
"""

# Row triggers of a multi-row INSERT fire after the whole statement, each seeing every row:
# "already decided" is judged on the facts other than the one being checked.
OFFER_CONSENT_DERIVE = """
CREATE FUNCTION offer_consent_derive() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    the_offer offer%ROWTYPE;
    required text[];
    derived text;
BEGIN
    SELECT * INTO the_offer FROM offer WHERE id = NEW.offer_id FOR UPDATE;
    required := offer_required_parties(the_offer.legal_situation);
    IF NEW.kind <> 'informed' AND NOT NEW.party = ANY (required) THEN
        RAISE EXCEPTION 'no answer is expected from the % under %', NEW.party,
            the_offer.legal_situation USING ERRCODE = 'check_violation',
            CONSTRAINT = 'ck_offer_consent_party_required';
    END IF;
    IF NEW.kind <> 'informed'
       AND offer_derived_outcome(NEW.offer_id, required, NEW.id) <> 'pending' THEN
        RAISE EXCEPTION 'the offer is already %', the_offer.outcome
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_offer_consent_offer_pending';
    END IF;
    derived := offer_derived_outcome(NEW.offer_id, required, NULL);
    UPDATE offer
        SET outcome = derived,
            decided_at = CASE WHEN derived <> 'pending'
                THEN coalesce(decided_at, clock_timestamp()) END,
            version = version + 1,
            updated_at = now()
        WHERE id = NEW.offer_id;
    RETURN NULL;
END
$$
"""


CHILD_CARE_COLUMNS = (
    "departement_code",
    "birth_date",
    "college_entry_year",
    "came_into_care_on",
    "left_care_on",
    "legal_situation",
    "mentoring_requested_on",
)


def _row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{column}" for column in CHILD_CARE_COLUMNS)


CHILD_CARE_REVISE = f"""
CREATE FUNCTION child_care_revise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND ({_row("NEW")}, NEW.deleted_at IS NULL)
           IS NOT DISTINCT FROM ({_row("OLD")}, OLD.deleted_at IS NULL) THEN
        RETURN NULL;
    END IF;
    INSERT INTO child_care_revision (child_id, {", ".join(CHILD_CARE_COLUMNS)}, deleted)
        VALUES (NEW.id, {_row("NEW")}, NEW.deleted_at IS NOT NULL);
    RETURN NULL;
END
$$
"""

TRIGGERS = (
    """
    CREATE TRIGGER child_care_revise AFTER INSERT OR UPDATE ON child
        FOR EACH ROW EXECUTE FUNCTION child_care_revise()
    """,
    """
    CREATE TRIGGER offer_consent_derive AFTER INSERT ON offer_consent
        FOR EACH ROW EXECUTE FUNCTION offer_consent_derive()
    """,
    """
    CREATE TRIGGER assessment_append_only BEFORE UPDATE OR DELETE ON assessment
        FOR EACH ROW EXECUTE FUNCTION forbid_history_change('child', 'child_id')
    """,
    """
    CREATE TRIGGER offer_consent_append_only BEFORE UPDATE OR DELETE ON offer_consent
        FOR EACH ROW EXECUTE FUNCTION forbid_history_change('offer', 'offer_id')
    """,
    """
    CREATE TRIGGER child_care_revision_append_only BEFORE UPDATE OR DELETE
        ON child_care_revision
        FOR EACH ROW EXECUTE FUNCTION forbid_history_change('child', 'child_id')
    """,
)
TRIGGER_NAMES = (
    ("child_care_revise", "child"),
    ("offer_consent_derive", "offer_consent"),
    ("assessment_append_only", "assessment"),
    ("offer_consent_append_only", "offer_consent"),
    ("child_care_revision_append_only", "child_care_revision"),
)

# The answers as they were, as facts: dated on the day they were recorded.
ANSWERS_TO_FACTS = """
INSERT INTO offer_consent (offer_id, party, kind, given_on, recorded_at, recorded_by_id,
                           recorded_by_name)
SELECT o.id, answer.party, answer.kind,
       greatest(o.offered_on, (coalesce(o.decided_at, o.updated_at) AT TIME ZONE 'UTC')::date),
       coalesce(o.decided_at, o.updated_at), o.offered_by_id, o.offered_by_name
  FROM offer o
 CROSS JOIN LATERAL (VALUES
        ('child', o.child_answer),
        (CASE o.guardian_answer_source WHEN 'ase_decision' THEN 'ase' ELSE 'parents' END,
         o.guardian_answer)
       ) AS given (party, answer)
 CROSS JOIN LATERAL (SELECT given.party,
                            CASE given.answer WHEN 'accepted' THEN 'agreed' ELSE 'refused' END
                     ) AS answer (party, kind)
 WHERE given.answer <> 'pending'
"""

FACTS_TO_ANSWERS = """
UPDATE offer o
   SET child_answer = coalesce((
           SELECT CASE c.kind WHEN 'agreed' THEN 'accepted' ELSE 'refused' END
             FROM offer_consent c
            WHERE c.offer_id = o.id AND c.party IN ('child', 'young_adult')
              AND c.kind <> 'informed'), 'pending'),
       guardian_answer = coalesce((
           SELECT CASE WHEN bool_or(c.kind = 'refused') THEN 'refused' ELSE 'accepted' END
             FROM offer_consent c
            WHERE c.offer_id = o.id AND c.party IN ('parents', 'ase', 'tutor', 'family_council')
              AND c.kind <> 'informed'
           HAVING count(*) > 0), 'pending')
"""

OFFER_OUTCOME_SQL = (
    "CASE WHEN child_answer = 'refused' OR guardian_answer = 'refused' THEN 'refused'"
    " WHEN child_answer = 'accepted' AND guardian_answer = 'accepted' THEN 'accepted'"
    " ELSE 'pending' END"
)


def upgrade() -> None:
    op.execute(FORBID_HISTORY_CHANGE)
    op.execute(REQUIRED_PARTIES)

    op.add_column(
        "departement",
        sa.Column(
            "school_start_month", sa.SmallInteger(), server_default=sa.text("9"), nullable=False
        ),
    )
    op.add_column(
        "departement",
        sa.Column(
            "school_start_day", sa.SmallInteger(), server_default=sa.text("1"), nullable=False
        ),
    )
    op.add_column(
        "departement",
        sa.Column(
            "individual_agreement_required",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_departement_school_start_date"),
        "departement",
        "school_start_month BETWEEN 1 AND 12 AND school_start_day BETWEEN 1 AND "
        "CASE WHEN school_start_month = 2 THEN 28 "
        "WHEN school_start_month IN (4, 6, 9, 11) THEN 30 ELSE 31 END",
    )

    op.create_table(
        "association_agreement",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("association_id", sa.UUID(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("document_reference", sa.Text(), nullable=True),
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
            "signed_on >= DATE '2000-01-01'",
            name=op.f("ck_association_agreement_signed_on_plausible"),
        ),
        sa.CheckConstraint(
            "document_reference IS NULL OR length(btrim(document_reference)) > 0",
            name=op.f("ck_association_agreement_document_reference_not_blank"),
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from",
            name=op.f("ck_association_agreement_valid_period"),
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_association_agreement_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_association_agreement_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association_agreement")),
    )
    op.create_index(
        "ix_association_agreement_association",
        "association_agreement",
        ["association_id", "valid_from"],
    )
    op.create_index(
        "ix_association_agreement_scope",
        "association_agreement",
        ["departement_code", "association_id", "valid_from"],
    )

    op.create_table(
        "assessment",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "assessed_on >= DATE '2000-01-01'", name=op.f("ck_assessment_assessed_on_plausible")
        ),
        sa.CheckConstraint(
            "outcome = 'mentoring_recommended' OR length(btrim(coalesce(reason, ''))) > 0",
            name=op.f("ck_assessment_reason_unless_recommended"),
        ),
        sa.CheckConstraint(
            "outcome IN ('mentoring_recommended', 'not_now', 'not_applicable')",
            name=op.f("ck_assessment_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
            name=op.f("fk_assessment_child_id_child"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_assessment_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
    )
    op.create_index("ix_assessment_child", "assessment", ["child_id", "assessed_on", "created_at"])
    op.create_index("ix_assessment_departement", "assessment", ["departement_code", "assessed_on"])

    # Children: the care facts. Existing children came into care on the day they were recorded.
    op.add_column(
        "child",
        sa.Column(
            "came_into_care_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False
        ),
    )
    op.execute("UPDATE child SET came_into_care_on = greatest(DATE '1990-01-01', created_at::date)")
    op.add_column("child", sa.Column("left_care_on", sa.Date(), nullable=True))
    op.add_column(
        "child",
        sa.Column(
            "legal_situation", sa.Text(), server_default="parental_authority", nullable=False
        ),
    )
    op.add_column("child", sa.Column("mentoring_requested_on", sa.Date(), nullable=True))
    op.execute(
        """
        UPDATE child c SET legal_situation = 'delegated_to_ase'
         WHERE EXISTS (SELECT 1 FROM offer o WHERE o.child_id = c.id
                        AND o.guardian_answer_source = 'ase_decision')
        """
    )
    op.create_check_constraint(
        op.f("ck_child_legal_situation"),
        "child",
        "legal_situation IN ('parental_authority', 'delegated_to_ase', 'pupille', 'young_adult')",
    )
    op.create_check_constraint(
        op.f("ck_child_care_period"),
        "child",
        "left_care_on IS NULL OR left_care_on >= came_into_care_on",
    )
    op.create_check_constraint(
        op.f("ck_child_came_into_care_plausible"), "child", "came_into_care_on >= DATE '1990-01-01'"
    )
    op.create_index(
        "ix_child_first_name_prefix",
        "child",
        ["departement_code", sa.literal_column("lower(first_name) text_pattern_ops")],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_child_reference_prefix",
        "child",
        ["departement_code", sa.literal_column("lower(reference) text_pattern_ops")],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "child_care_revision",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("child_id", sa.UUID(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("college_entry_year", sa.Integer(), nullable=False),
        sa.Column("came_into_care_on", sa.Date(), nullable=False),
        sa.Column("left_care_on", sa.Date(), nullable=True),
        sa.Column("legal_situation", sa.Text(), nullable=False),
        sa.Column("mentoring_requested_on", sa.Date(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
            name=op.f("fk_child_care_revision_child_id_child"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_care_revision")),
    )
    op.create_index(
        "ix_child_care_revision_child", "child_care_revision", ["child_id", "recorded_at", "id"]
    )
    # The history starts with each child as recorded, dated when they were recorded.
    op.execute(
        f"""
        INSERT INTO child_care_revision (child_id, recorded_at, {", ".join(CHILD_CARE_COLUMNS)}, deleted)
        SELECT c.id, c.created_at, {_row("c")}, c.deleted_at IS NOT NULL FROM child c
        """
    )

    # Offers: the legal situation they were made under, then the answers as facts.
    op.add_column("offer", sa.Column("legal_situation", sa.Text(), nullable=True))
    op.execute(
        "UPDATE offer SET legal_situation = CASE guardian_answer_source"
        " WHEN 'ase_decision' THEN 'delegated_to_ase' ELSE 'parental_authority' END"
    )
    op.alter_column("offer", "legal_situation", nullable=False)
    op.create_check_constraint(
        op.f("ck_offer_legal_situation"),
        "offer",
        "legal_situation IN ('parental_authority', 'delegated_to_ase', 'pupille', 'young_adult')",
    )
    op.add_column("offer", sa.Column("assessment_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_offer_assessment_id_assessment"),
        "offer",
        "assessment",
        ["assessment_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "offer_consent",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("offer_id", sa.UUID(), nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("recorded_by_id", sa.UUID(), nullable=True),
        sa.Column("recorded_by_name", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('informed', 'agreed', 'refused')", name=op.f("ck_offer_consent_kind_known")
        ),
        sa.CheckConstraint(
            "opinion IS NULL OR party IN ('child', 'young_adult')",
            name=op.f("ck_offer_consent_opinion_of_child"),
        ),
        sa.CheckConstraint(
            "party IN ('child', 'parents', 'tutor', 'family_council', 'ase', 'young_adult')",
            name=op.f("ck_offer_consent_party_known"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_offer_consent_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_consent")),
    )
    op.create_index(
        "uq_offer_consent_fact", "offer_consent", ["offer_id", "party", "kind"], unique=True
    )
    op.create_index(
        "uq_offer_consent_one_answer",
        "offer_consent",
        ["offer_id", "party"],
        unique=True,
        postgresql_where=sa.text("kind <> 'informed'"),
    )
    op.execute(ANSWERS_TO_FACTS)
    op.execute("ALTER TABLE offer ALTER COLUMN outcome DROP EXPRESSION")
    op.alter_column("offer", "outcome", server_default="pending")
    op.create_check_constraint(
        op.f("ck_offer_outcome_known"), "offer", "outcome IN ('pending', 'accepted', 'refused')"
    )
    op.drop_column("offer", "child_answer")
    op.drop_column("offer", "guardian_answer_source")
    op.drop_column("offer", "guardian_answer")

    op.add_column("mentorship", sa.Column("agreement_signed_on", sa.Date(), nullable=True))

    op.execute(CHILD_CARE_REVISE)
    op.execute(OFFER_DERIVED_OUTCOME)
    op.execute(OFFER_CONSENT_DERIVE)
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for name, table in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION offer_consent_derive()")
    op.execute("DROP FUNCTION offer_derived_outcome(uuid, text[], bigint)")
    op.execute("DROP FUNCTION child_care_revise()")
    op.drop_column("mentorship", "agreement_signed_on")

    op.add_column(
        "offer",
        sa.Column(
            "child_answer", sa.Text(), server_default=sa.text("'pending'::text"), nullable=False
        ),
    )
    op.add_column(
        "offer",
        sa.Column(
            "guardian_answer", sa.Text(), server_default=sa.text("'pending'::text"), nullable=False
        ),
    )
    op.add_column("offer", sa.Column("guardian_answer_source", sa.Text(), nullable=True))
    op.execute(FACTS_TO_ANSWERS)
    op.execute(
        "UPDATE offer SET guardian_answer_source = CASE legal_situation"
        " WHEN 'delegated_to_ase' THEN 'ase_decision' ELSE 'parental_authority' END"
        " WHERE guardian_answer <> 'pending'"
    )
    op.drop_index("uq_offer_one_pending_per_child", table_name="offer")
    op.drop_column("offer", "outcome")
    op.add_column(
        "offer",
        sa.Column(
            "outcome", sa.Text(), sa.Computed(OFFER_OUTCOME_SQL, persisted=True), nullable=False
        ),
    )
    op.execute(
        "UPDATE offer SET decided_at = CASE WHEN outcome = 'pending' THEN NULL"
        " ELSE coalesce(decided_at, updated_at) END"
    )
    op.create_check_constraint(
        op.f("ck_offer_child_answer"), "offer", "child_answer IN ('pending', 'accepted', 'refused')"
    )
    op.create_check_constraint(
        op.f("ck_offer_guardian_answer"),
        "offer",
        "guardian_answer IN ('pending', 'accepted', 'refused')",
    )
    op.create_check_constraint(
        op.f("ck_offer_guardian_answer_source"),
        "offer",
        "guardian_answer_source IS NULL OR guardian_answer_source IN ('parental_authority', 'ase_decision')",
    )
    op.create_check_constraint(
        op.f("ck_offer_guardian_answer_has_source"),
        "offer",
        "guardian_answer = 'pending' OR guardian_answer_source IS NOT NULL",
    )
    op.create_check_constraint(
        op.f("ck_offer_decided"), "offer", "(outcome = 'pending') = (decided_at IS NULL)"
    )
    op.create_index(
        "uq_offer_one_pending_per_child",
        "offer",
        ["child_id"],
        unique=True,
        postgresql_where=sa.text("outcome = 'pending'"),
    )
    op.drop_index("uq_offer_consent_one_answer", table_name="offer_consent")
    op.drop_index("uq_offer_consent_fact", table_name="offer_consent")
    op.drop_table("offer_consent")
    op.drop_constraint(op.f("fk_offer_assessment_id_assessment"), "offer", type_="foreignkey")
    op.drop_column("offer", "assessment_id")
    op.drop_column("offer", "legal_situation")

    op.drop_index("ix_child_care_revision_child", table_name="child_care_revision")
    op.drop_table("child_care_revision")
    op.drop_index("ix_child_reference_prefix", table_name="child")
    op.drop_index("ix_child_first_name_prefix", table_name="child")
    for column in (
        "mentoring_requested_on",
        "legal_situation",
        "left_care_on",
        "came_into_care_on",
    ):
        op.drop_column("child", column)

    op.drop_index("ix_assessment_departement", table_name="assessment")
    op.drop_index("ix_assessment_child", table_name="assessment")
    op.drop_table("assessment")
    op.drop_index("ix_association_agreement_scope", table_name="association_agreement")
    op.drop_index("ix_association_agreement_association", table_name="association_agreement")
    op.drop_table("association_agreement")

    op.drop_constraint(op.f("ck_departement_school_start_date"), "departement", type_="check")
    for column in ("individual_agreement_required", "school_start_day", "school_start_month"):
        op.drop_column("departement", column)
    op.execute("DROP FUNCTION offer_required_parties(text)")
    op.execute("DROP FUNCTION forbid_history_change()")
