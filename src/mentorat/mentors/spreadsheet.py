"""Mentors in spreadsheets: the import columns (upsert by the association's reference) and the
same columns for exports."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.associations import repository as associations
from mentorat.auth.principal import Principal
from mentorat.errors import InvalidInput, NotFound
from mentorat.mentors.schemas import MentorCreate
from mentorat.mentors.service import to_columns
from mentorat.models import Mentor
from mentorat.profile import availability_to_bytes
from mentorat.settings import Settings
from mentorat.spreadsheets import cells
from mentorat.spreadsheets.importing import Column, ImportSpec, Progress, import_sheet
from mentorat.spreadsheets.schemas import ImportReport

COLUMNS: tuple[Column, ...] = (
    Column("reference", ("reference",), cells.text, "The association's own reference: the key "
           "a re-import matches on.", required=True),
    Column("first_name", ("first_name",), cells.text, "First name.", required=True),
    Column("last_name", ("last_name",), cells.text, "Last name.", required=True),
    Column("email", ("email",), cells.text, "E-mail address."),
    Column("phone", ("phone",), cells.text, "Phone number."),
    Column("commune", ("location", "commune"), cells.text, "Commune.", required=True),
    Column("postcode", ("location", "postcode"), cells.postcode, "Postcode.", required=True),
    Column("latitude", ("location", "latitude"), cells.decimal, "`48.0707` or `48,0707`.",
           required=True),
    Column("longitude", ("location", "longitude"), cells.decimal, "`-0.7734` or `-0,7734`.",
           required=True),
    Column("travel_radius_km", ("travel_radius_km",), cells.decimal, "Kilometres (default 15)."),
    Column("goals", ("goals",), cells.goals, "Goal codes they can help with, `numerique, rome-J`."),
    Column("availability", ("availability",), cells.availability,
           "`mercredi 14:00-17:00; samedi 10:00-12:00`."),
    Column("capacity", ("capacity",), cells.integer, "Simultaneous mentees, 1 to 10 (default 1)."),
    Column("gender", ("gender",), cells.gender, "`female` / `male` / `other` (or in French)."),
    Column("languages", ("languages",), cells.languages, "Languages spoken, `fr, en`."),
    Column("remote_ok", ("remote_ok",), cells.boolean, "`oui` / `non`."),
    Column("honorability_checked_on", ("honorability_check", "checked_on"), cells.day,
           "Date of the honorability check (with valid_until, or neither)."),
    Column("honorability_valid_until", ("honorability_check", "valid_until"), cells.day,
           "Last day the check is valid."),
    Column("training_completed_on", ("training_completed_on",), cells.day, "Training date."),
    Column("active", ("active",), cells.boolean, "`oui` / `non` (default oui)."),
)  # fmt: skip


def _to_columns(model: BaseModel) -> dict[str, Any]:
    if not isinstance(model, MentorCreate):
        raise TypeError(f"expected a MentorCreate, got {type(model).__name__}")
    columns = to_columns(model.model_dump(exclude={"association_id", "availability"}))
    columns["availability"] = availability_to_bytes(model.availability)
    return columns


def _capacity_holds(stored: Mapping[str, Any], values: dict[str, Any]) -> tuple[str, str] | None:
    capacity = values.get("capacity", stored["capacity"])
    if capacity < stored["places_held"]:
        return (
            "capacity",
            f"the mentor holds {stored['places_held']} places (pending proposals and accepted "
            "or active mentorships); the capacity cannot go below that",
        )
    return None


IMPORT_SPEC = ImportSpec(
    entity="mentor",
    schema=MentorCreate,
    columns=COLUMNS,
    table=Mentor.__table__,  # type: ignore[arg-type]
    scope_column="association_id",
    to_columns=_to_columns,
    check_update=_capacity_holds,
    extra_loaded=("places_held",),
)


async def import_mentors(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    *,
    association_id: uuid.UUID | None,
    data: bytes,
    content_type: str | None,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert the file's mentors into one association, in the caller's transaction."""
    association_id = association_id or principal.association_id
    if association_id is None:
        raise InvalidInput("association is required.", field=("query", "association"))
    try:
        await associations.get_scoped(session, principal, association_id)
    except NotFound:
        raise NotFound("No such association in your scope.") from None
    return await import_sheet(
        session,
        IMPORT_SPEC,
        principal,
        scope_value=association_id,
        departement_code=None,
        data=data,
        content_type=content_type,
        dry_run=dry_run,
        max_bytes=settings.import_max_bytes,
        max_rows=settings.import_max_rows,
        progress=progress,
    )


EXPORT_HEADER: tuple[str, ...] = ("id", *(column.name for column in COLUMNS))


def export_cells(mentor: Mentor) -> list[str]:
    """One mentor as the import reads it back."""
    return [
        str(mentor.id),
        mentor.reference or "",
        mentor.first_name,
        mentor.last_name,
        mentor.email or "",
        mentor.phone or "",
        mentor.commune,
        mentor.postcode,
        cells.format_number(mentor.latitude),
        cells.format_number(mentor.longitude),
        cells.format_number(mentor.travel_radius_km),
        cells.format_list(mentor.goals),
        cells.format_packed_availability(mentor.availability),
        str(mentor.capacity),
        mentor.gender or "",
        cells.format_list(mentor.languages),
        cells.format_boolean(mentor.remote_ok),
        cells.format_date(mentor.honorability_checked_on),
        cells.format_date(mentor.honorability_valid_until),
        cells.format_date(mentor.training_completed_on),
        cells.format_boolean(mentor.active),
    ]
