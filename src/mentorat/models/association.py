from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Column, ForeignKey, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from mentorat.kit.text import name_key
from mentorat.models.base import Base, TimestampMixin, VersionedMixin, uuid_pk
from mentorat.models.departement import Departement

association_departement = Table(
    "association_departement",
    Base.metadata,
    Column("association_id", ForeignKey("association.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "departement_code",
        ForeignKey("departement.code", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Association(TimestampMixin, VersionedMixin, Base):
    __tablename__ = "association"
    __table_args__ = (
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        CheckConstraint(
            "contact_email IS NULL OR contact_email ~ '^[^@\\s]+@[^@\\s]+$'", name="email"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    # Unique instead of the name itself: names that look the same (case, Unicode form,
    # invisible characters) are one name. Kept from `name` by the validator below.
    name_key: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)

    departements: Mapped[list[Departement]] = relationship(
        secondary=association_departement, lazy="raise", order_by=Departement.code
    )

    @validates("name")
    def _keep_name_key(self, _: str, name: str) -> str:
        self.name_key = name_key(name)
        return name
