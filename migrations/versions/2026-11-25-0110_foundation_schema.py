"""Foundation schema: départements, associations, children, mentors, principals, tokens, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 01:10:28.421479
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEPARTEMENTS: tuple[tuple[str, str], ...] = (
    ("01", "Ain"),
    ("02", "Aisne"),
    ("03", "Allier"),
    ("04", "Alpes-de-Haute-Provence"),
    ("05", "Hautes-Alpes"),
    ("06", "Alpes-Maritimes"),
    ("07", "Ardèche"),
    ("08", "Ardennes"),
    ("09", "Ariège"),
    ("10", "Aube"),
    ("11", "Aude"),
    ("12", "Aveyron"),
    ("13", "Bouches-du-Rhône"),
    ("14", "Calvados"),
    ("15", "Cantal"),
    ("16", "Charente"),
    ("17", "Charente-Maritime"),
    ("18", "Cher"),
    ("19", "Corrèze"),
    ("2A", "Corse-du-Sud"),
    ("2B", "Haute-Corse"),
    ("21", "Côte-d'Or"),
    ("22", "Côtes-d'Armor"),
    ("23", "Creuse"),
    ("24", "Dordogne"),
    ("25", "Doubs"),
    ("26", "Drôme"),
    ("27", "Eure"),
    ("28", "Eure-et-Loir"),
    ("29", "Finistère"),
    ("30", "Gard"),
    ("31", "Haute-Garonne"),
    ("32", "Gers"),
    ("33", "Gironde"),
    ("34", "Hérault"),
    ("35", "Ille-et-Vilaine"),
    ("36", "Indre"),
    ("37", "Indre-et-Loire"),
    ("38", "Isère"),
    ("39", "Jura"),
    ("40", "Landes"),
    ("41", "Loir-et-Cher"),
    ("42", "Loire"),
    ("43", "Haute-Loire"),
    ("44", "Loire-Atlantique"),
    ("45", "Loiret"),
    ("46", "Lot"),
    ("47", "Lot-et-Garonne"),
    ("48", "Lozère"),
    ("49", "Maine-et-Loire"),
    ("50", "Manche"),
    ("51", "Marne"),
    ("52", "Haute-Marne"),
    ("53", "Mayenne"),
    ("54", "Meurthe-et-Moselle"),
    ("55", "Meuse"),
    ("56", "Morbihan"),
    ("57", "Moselle"),
    ("58", "Nièvre"),
    ("59", "Nord"),
    ("60", "Oise"),
    ("61", "Orne"),
    ("62", "Pas-de-Calais"),
    ("63", "Puy-de-Dôme"),
    ("64", "Pyrénées-Atlantiques"),
    ("65", "Hautes-Pyrénées"),
    ("66", "Pyrénées-Orientales"),
    ("67", "Bas-Rhin"),
    ("68", "Haut-Rhin"),
    ("69", "Rhône"),
    ("69M", "Métropole de Lyon"),
    ("70", "Haute-Saône"),
    ("71", "Saône-et-Loire"),
    ("72", "Sarthe"),
    ("73", "Savoie"),
    ("74", "Haute-Savoie"),
    ("75", "Paris"),
    ("76", "Seine-Maritime"),
    ("77", "Seine-et-Marne"),
    ("78", "Yvelines"),
    ("79", "Deux-Sèvres"),
    ("80", "Somme"),
    ("81", "Tarn"),
    ("82", "Tarn-et-Garonne"),
    ("83", "Var"),
    ("84", "Vaucluse"),
    ("85", "Vendée"),
    ("86", "Vienne"),
    ("87", "Haute-Vienne"),
    ("88", "Vosges"),
    ("89", "Yonne"),
    ("90", "Territoire de Belfort"),
    ("91", "Essonne"),
    ("92", "Hauts-de-Seine"),
    ("93", "Seine-Saint-Denis"),
    ("94", "Val-de-Marne"),
    ("95", "Val-d'Oise"),
    ("971", "Guadeloupe"),
    ("972", "Martinique"),
    ("973", "Guyane"),
    ("974", "La Réunion"),
    ("976", "Mayotte"),
)

APPEND_ONLY_AUDIT = (
    """
    CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
    """,
)


def upgrade() -> None:
    op.create_table(
        "association",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
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
            "contact_email IS NULL OR contact_email ~ '^[^@\\s]+@[^@\\s]+$'",
            name=op.f("ck_association_email"),
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_association_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association")),
        sa.UniqueConstraint("name", name=op.f("uq_association_name")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("principal_id", sa.UUID(), nullable=True),
        sa.Column("principal_name", sa.Text(), nullable=False),
        sa.Column("principal_role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "action IN ('read', 'create', 'update', 'delete', 'purge', 'revoke')",
            name=op.f("ck_audit_event_action"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    op.create_index(
        "ix_audit_event_entity",
        "audit_event",
        ["entity_type", "entity_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_audit_event_principal", "audit_event", ["principal_id", "occurred_at"], unique=False
    )
    op.create_table(
        "departement",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
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
            "code ~ '^(0[1-9]|1[0-9]|2[AB1-9]|[3-8][0-9]|9[0-5]|97[1-6]|[0-9]{2}M)$'",
            name=op.f("ck_departement_code_format"),
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_departement_name_not_blank")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departement")),
    )
    op.create_table(
        "association_departement",
        sa.Column("association_id", sa.UUID(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_association_departement_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_association_departement_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "association_id", "departement_code", name=op.f("pk_association_departement")
        ),
    )
    op.create_index(
        op.f("ix_association_departement_departement_code"),
        "association_departement",
        ["departement_code"],
        unique=False,
    )
    op.create_table(
        "child",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("school_level", sa.Text(), nullable=False),
        sa.Column("college_entry_year", sa.Integer(), nullable=False),
        sa.Column("mentor_gender_preference", sa.Text(), nullable=True),
        sa.Column("referent_educator", sa.Text(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("postcode", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column(
            "goals",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "languages",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("availability", sa.LargeBinary(), nullable=False),
        sa.Column("remote_ok", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
            "birth_date >= DATE '1990-01-01'", name=op.f("ck_child_birth_date_plausible")
        ),
        sa.CheckConstraint(
            "goals <@ ARRAY['orientation', 'stage', 'alternance', 'apprentissage', 'emploi', 'numerique', 'scolarite', 'confiance', 'rome-A', 'rome-B', 'rome-C', 'rome-D', 'rome-E', 'rome-F', 'rome-G', 'rome-H', 'rome-I', 'rome-J', 'rome-K', 'rome-L', 'rome-M', 'rome-N']::text[]",
            name=op.f("ck_child_goals_known"),
        ),
        sa.CheckConstraint(
            "languages <@ ARRAY['fr', 'en', 'ar', 'es', 'pt', 'de', 'it', 'tr', 'ro', 'ru', 'uk', 'pl', 'zh', 'vi', 'ta', 'bn', 'ur', 'fa', 'ps', 'ku', 'am', 'ti', 'so', 'sw', 'wo', 'ff', 'bm', 'ln', 'sq', 'hy', 'ka', 'sr', 'nl', 'ber', 'km', 'lo', 'ht', 'rcf', 'gcf', 'sgn']::text[]",
            name=op.f("ck_child_languages_known"),
        ),
        sa.CheckConstraint(
            "mentor_gender_preference IS NULL OR mentor_gender_preference IN ('female', 'male')",
            name=op.f("ck_child_mentor_gender_preference"),
        ),
        sa.CheckConstraint(
            "postcode ~ '^[0-9][0-9AB][0-9]{3}$'", name=op.f("ck_child_postcode_format")
        ),
        sa.CheckConstraint(
            "school_level IN ('cm1', 'cm2', '6e', '5e', '4e', '3e', '2nde', '1re', 'terminale', 'cap', 'autre')",
            name=op.f("ck_child_school_level"),
        ),
        sa.CheckConstraint(
            "college_entry_year BETWEEN 2000 AND 2100", name=op.f("ck_child_college_entry_year")
        ),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_child_latitude_range")),
        sa.CheckConstraint("length(btrim(commune)) > 0", name=op.f("ck_child_commune_not_blank")),
        sa.CheckConstraint(
            "length(btrim(first_name)) > 0", name=op.f("ck_child_first_name_not_blank")
        ),
        sa.CheckConstraint(
            "length(btrim(reference)) > 0", name=op.f("ck_child_reference_not_blank")
        ),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name=op.f("ck_child_longitude_range")),
        sa.CheckConstraint(
            "octet_length(availability) = 42", name=op.f("ck_child_availability_size")
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_child_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child")),
        sa.UniqueConstraint(
            "departement_code", "reference", name=op.f("uq_child_departement_code_reference")
        ),
    )
    op.create_index("ix_child_page", "child", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_child_scope_page",
        "child",
        ["departement_code", "created_at", "id"],
        unique=False,
        postgresql_where="deleted_at IS NULL",
    )
    op.create_table(
        "mentor",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("association_id", sa.UUID(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("travel_radius_km", sa.Double(), nullable=False),
        sa.Column("capacity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("gender", sa.Text(), nullable=True),
        sa.Column("honorability_checked_on", sa.Date(), nullable=True),
        sa.Column("honorability_valid_until", sa.Date(), nullable=True),
        sa.Column("training_completed_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("commune", sa.Text(), nullable=False),
        sa.Column("postcode", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=False),
        sa.Column("longitude", sa.Double(), nullable=False),
        sa.Column(
            "goals",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "languages",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("availability", sa.LargeBinary(), nullable=False),
        sa.Column("remote_ok", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
            "email IS NULL OR email ~ '^[^@\\s]+@[^@\\s]+$'", name=op.f("ck_mentor_email")
        ),
        sa.CheckConstraint(
            "gender IS NULL OR gender IN ('female', 'male', 'other')", name=op.f("ck_mentor_gender")
        ),
        sa.CheckConstraint(
            "goals <@ ARRAY['orientation', 'stage', 'alternance', 'apprentissage', 'emploi', 'numerique', 'scolarite', 'confiance', 'rome-A', 'rome-B', 'rome-C', 'rome-D', 'rome-E', 'rome-F', 'rome-G', 'rome-H', 'rome-I', 'rome-J', 'rome-K', 'rome-L', 'rome-M', 'rome-N']::text[]",
            name=op.f("ck_mentor_goals_known"),
        ),
        sa.CheckConstraint(
            "languages <@ ARRAY['fr', 'en', 'ar', 'es', 'pt', 'de', 'it', 'tr', 'ro', 'ru', 'uk', 'pl', 'zh', 'vi', 'ta', 'bn', 'ur', 'fa', 'ps', 'ku', 'am', 'ti', 'so', 'sw', 'wo', 'ff', 'bm', 'ln', 'sq', 'hy', 'ka', 'sr', 'nl', 'ber', 'km', 'lo', 'ht', 'rcf', 'gcf', 'sgn']::text[]",
            name=op.f("ck_mentor_languages_known"),
        ),
        sa.CheckConstraint(
            "postcode ~ '^[0-9][0-9AB][0-9]{3}$'", name=op.f("ck_mentor_postcode_format")
        ),
        sa.CheckConstraint(
            "(honorability_checked_on IS NULL) = (honorability_valid_until IS NULL) AND (honorability_valid_until IS NULL OR honorability_valid_until >= honorability_checked_on)",
            name=op.f("ck_mentor_honorability_dates"),
        ),
        sa.CheckConstraint("capacity BETWEEN 1 AND 10", name=op.f("ck_mentor_capacity_range")),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_mentor_latitude_range")),
        sa.CheckConstraint("length(btrim(commune)) > 0", name=op.f("ck_mentor_commune_not_blank")),
        sa.CheckConstraint(
            "length(btrim(first_name)) > 0", name=op.f("ck_mentor_first_name_not_blank")
        ),
        sa.CheckConstraint(
            "length(btrim(last_name)) > 0", name=op.f("ck_mentor_last_name_not_blank")
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_mentor_longitude_range")
        ),
        sa.CheckConstraint(
            "octet_length(availability) = 42", name=op.f("ck_mentor_availability_size")
        ),
        sa.CheckConstraint(
            "travel_radius_km > 0 AND travel_radius_km <= 200", name=op.f("ck_mentor_travel_radius")
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_mentor_association_id_association"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentor")),
    )
    op.create_index("ix_mentor_page", "mentor", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_mentor_scope_page",
        "mentor",
        ["association_id", "created_at", "id"],
        unique=False,
        postgresql_where="deleted_at IS NULL",
    )
    op.create_table(
        "principal",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("departement_code", sa.Text(), nullable=True),
        sa.Column("association_id", sa.UUID(), nullable=True),
        sa.Column("mentor_id", sa.UUID(), nullable=True),
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
            "(role = 'admin' AND departement_code IS NULL AND association_id IS NULL  AND mentor_id IS NULL) OR (role IN ('departement_manager', 'educator') AND departement_code IS NOT NULL  AND association_id IS NULL AND mentor_id IS NULL) OR (role = 'coordinator' AND association_id IS NOT NULL  AND departement_code IS NULL AND mentor_id IS NULL) OR (role = 'mentor' AND mentor_id IS NOT NULL  AND departement_code IS NULL AND association_id IS NULL)",
            name=op.f("ck_principal_role_scope"),
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_principal_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["association.id"],
            name=op.f("fk_principal_association_id_association"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["departement_code"],
            ["departement.code"],
            name=op.f("fk_principal_departement_code_departement"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"],
            ["mentor.id"],
            name=op.f("fk_principal_mentor_id_mentor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_principal")),
    )
    op.create_index(
        op.f("ix_principal_association_id"), "principal", ["association_id"], unique=False
    )
    op.create_index(
        op.f("ix_principal_departement_code"), "principal", ["departement_code"], unique=False
    )
    op.create_index(op.f("ix_principal_mentor_id"), "principal", ["mentor_id"], unique=False)
    op.create_table(
        "api_token",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("principal_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > created_at",
            name=op.f("ck_api_token_expiry_after_creation"),
        ),
        sa.CheckConstraint("octet_length(token_hash) = 32", name=op.f("ck_api_token_hash_size")),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principal.id"],
            name=op.f("fk_api_token_principal_id_principal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index("ix_api_token_principal", "api_token", ["principal_id"], unique=False)

    for statement in APPEND_ONLY_AUDIT:
        op.execute(statement)
    departement = sa.table("departement", sa.column("code", sa.Text), sa.column("name", sa.Text))
    op.bulk_insert(departement, [{"code": code, "name": name} for code, name in DEPARTEMENTS])


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
    op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
    op.execute("DROP FUNCTION audit_event_append_only()")
    op.drop_index("ix_api_token_principal", table_name="api_token")
    op.drop_table("api_token")
    op.drop_index(op.f("ix_principal_mentor_id"), table_name="principal")
    op.drop_index(op.f("ix_principal_departement_code"), table_name="principal")
    op.drop_index(op.f("ix_principal_association_id"), table_name="principal")
    op.drop_table("principal")
    op.drop_index(
        "ix_mentor_scope_page", table_name="mentor", postgresql_where="deleted_at IS NULL"
    )
    op.drop_index("ix_mentor_page", table_name="mentor")
    op.drop_table("mentor")
    op.drop_index("ix_child_scope_page", table_name="child", postgresql_where="deleted_at IS NULL")
    op.drop_index("ix_child_page", table_name="child")
    op.drop_table("child")
    op.drop_index(
        op.f("ix_association_departement_departement_code"), table_name="association_departement"
    )
    op.drop_table("association_departement")
    op.drop_table("departement")
    op.drop_index("ix_audit_event_principal", table_name="audit_event")
    op.drop_index("ix_audit_event_entity", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_table("association")
