from __future__ import annotations

from sqlalchemy import CheckConstraint, Text
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base, TimestampMixin

# 01-19, 2A, 2B, 21-95, 971-976, and codes such as 69M for authorities that run the ASE on
# their own territory.
DEPARTEMENT_CODE_PATTERN = r"^(0[1-9]|1[0-9]|2[AB1-9]|[3-8][0-9]|9[0-5]|97[1-6]|[0-9]{2}M)$"


class Departement(TimestampMixin, Base):
    __tablename__ = "departement"
    __table_args__ = (
        CheckConstraint(f"code ~ '{DEPARTEMENT_CODE_PATTERN}'", name="code_format"),
        CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
