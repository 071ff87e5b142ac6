from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from mentorat.errors import Forbidden


class Role(StrEnum):
    admin = "admin"
    departement_manager = "departement_manager"
    educator = "educator"
    coordinator = "coordinator"
    mentor = "mentor"


DEPARTEMENT_ROLES = frozenset({Role.departement_manager, Role.educator})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, with the scope every repository filters on."""

    id: uuid.UUID
    name: str
    role: Role
    departement_code: str | None = None
    association_id: uuid.UUID | None = None
    mentor_id: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def in_departement_role(self) -> bool:
        return self.role in DEPARTEMENT_ROLES

    @property
    def scope_departement(self) -> str:
        """The département a département role works in (PostgreSQL requires one)."""
        if self.departement_code is None:
            raise Forbidden("This token is not attached to a département.")
        return self.departement_code
