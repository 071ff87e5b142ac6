"""Children in spreadsheets: the import columns (upsert by the département's reference) and
the same columns for exports."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.auth.principal import Principal
from mentorat.children.schemas import ChildCreate
from mentorat.errors import InvalidInput, NotFound
from mentorat.kit.clock import today_in
from mentorat.models import Child, Departement
from mentorat.profile import availability_to_bytes, profile_to_columns
from mentorat.settings import Settings
from mentorat.spreadsheets import cells
from mentorat.spreadsheets.importing import Column, ImportSpec, Progress, import_sheet
from mentorat.spreadsheets.schemas import ImportReport

COLUMNS: tuple[Column, ...] = (
    Column("reference", ("reference",), cells.text, "The département's file reference: the key "
           "a re-import matches on.", required=True),
    Column("first_name", ("first_name",), cells.text, "First name.", required=True),
    Column("birth_date", ("birth_date",), cells.day, "`2014-09-02` or `02/09/2014`.",
           required=True),
    Column("school_level", ("school_level",), cells.code, "`cm1` … `terminale`, `cap`, `autre`.",
           required=True),
    Column("college_entry_year", ("college_entry_year",), cells.integer,
           "Year the school year of entry into 6e starts, e.g. `2026`.", required=True),
    Column("commune", ("location", "commune"), cells.text, "Commune.", required=True),
    Column("postcode", ("location", "postcode"), cells.postcode, "Postcode, e.g. `53000`.",
           required=True),
    Column("latitude", ("location", "latitude"), cells.decimal, "`48.0707` or `48,0707`.",
           required=True),
    Column("longitude", ("location", "longitude"), cells.decimal, "`-0.7734` or `-0,7734`.",
           required=True),
    Column("goals", ("goals",), cells.goals, "Goal codes, `orientation, rome-A` (`,` or `|`)."),
    Column("availability", ("availability",), cells.availability,
           "`mercredi 14:00-17:00; samedi 10:00-12:00` (French or English days)."),
    Column("mentor_gender_preference", ("mentor_gender_preference",), cells.gender,
           "`female` / `male` (or `femme` / `homme`); empty: no preference."),
    Column("languages", ("languages",), cells.languages, "Language codes, `fr, ar`."),
    Column("remote_ok", ("remote_ok",), cells.boolean, "`oui` / `non` (yes/no, true/false, 1/0)."),
    Column("referent_educator", ("referent_educator",), cells.text, "Referent educator's name."),
    Column("came_into_care_on", ("came_into_care_on",), cells.day,
           "Date the child came into care; empty: today (a new child)."),
    Column("left_care_on", ("left_care_on",), cells.day,
           "Date the child left (or leaves) care; empty: in care."),
    Column("legal_situation", ("legal_situation",), cells.code,
           "`parental_authority` (empty), `delegated_to_ase`, `pupille` or `young_adult`."),
    Column("mentoring_requested_on", ("mentoring_requested_on",), cells.day,
           "Date a young adult asked for mentoring; empty: not asked."),
)  # fmt: skip


def _to_columns(model: BaseModel, *, today: date | None = None) -> dict[str, Any]:
    if not isinstance(model, ChildCreate):
        raise TypeError(f"expected a ChildCreate, got {type(model).__name__}")
    # The slots are already validated: packed as they are rather than dumped and re-read.
    columns = profile_to_columns(model.model_dump(exclude={"departement_code", "availability"}))
    columns["availability"] = availability_to_bytes(model.availability)
    columns["came_into_care_on"] = model.came_into_care_on or today or today_in(None)
    return columns


IMPORT_SPEC = ImportSpec(
    entity="child",
    schema=ChildCreate,
    columns=COLUMNS,
    table=Child.__table__,  # type: ignore[arg-type]
    scope_column="departement_code",
    to_columns=_to_columns,
)


async def import_children(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    *,
    departement_code: str | None,
    data: bytes,
    content_type: str | None,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert the file's children into one département, in the caller's transaction."""
    code = departement_code or principal.departement_code
    if code is None:
        raise InvalidInput("departement is required.", field=("query", "departement"))
    if not principal.is_admin and code != principal.departement_code:
        raise NotFound(f"No département {code} in your scope.")
    if await session.get(Departement, code) is None:
        raise InvalidInput(f"Unknown département {code}.", field=("query", "departement"))
    return await import_sheet(
        session,
        replace(IMPORT_SPEC, to_columns=partial(_to_columns, today=today_in(code))),
        principal,
        scope_value=code,
        departement_code=code,
        data=data,
        content_type=content_type,
        dry_run=dry_run,
        max_bytes=settings.import_max_bytes,
        max_rows=settings.import_max_rows,
        progress=progress,
    )


EXPORT_HEADER: tuple[str, ...] = ("id", *(column.name for column in COLUMNS))


def export_cells(child: Child) -> list[str]:
    """One child as the import reads it back."""
    return [
        str(child.id),
        child.reference,
        child.first_name,
        cells.format_date(child.birth_date),
        child.school_level,
        str(child.college_entry_year),
        child.commune,
        child.postcode,
        cells.format_number(child.latitude),
        cells.format_number(child.longitude),
        cells.format_list(child.goals),
        cells.format_packed_availability(child.availability),
        child.mentor_gender_preference or "",
        cells.format_list(child.languages),
        cells.format_boolean(child.remote_ok),
        child.referent_educator or "",
        cells.format_date(child.came_into_care_on),
        cells.format_date(child.left_care_on),
        child.legal_situation,
        cells.format_date(child.mentoring_requested_on),
    ]
