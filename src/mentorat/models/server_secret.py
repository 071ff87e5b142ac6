from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, LargeBinary, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from mentorat.models.base import Base


class ServerSecret(Base):
    """Secrets every API process must share (e.g. the key that signs list cursors), made once
    in PostgreSQL so that processes behind a load balancer agree without configuration."""

    __tablename__ = "server_secret"
    __table_args__ = (CheckConstraint("octet_length(value) >= 32", name="value_length"),)

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
