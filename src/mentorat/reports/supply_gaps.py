"""GET /v1/reports/supply-gaps: where a département's waiting children lack mentors, and the
mentors to recruit. Loads with the matching's loaders, computes off the event loop with
`supply_gaps_analysis` (the method is described there), shapes the report."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat import vocabulary
from mentorat.audit.service import record
from mentorat.auth.principal import Principal, Role
from mentorat.kit.clock import today_in
from mentorat.matching.loading import (
    child_is_eligible,
    load_children,
    load_exclusions,
    load_mentors,
    mentors_serving,
)
from mentorat.models import Child, Mentor
from mentorat.profile import availability_from_bytes
from mentorat.reports.rendering import CsvRows
from mentorat.reports.scope import departement_in_scope
from mentorat.reports.supply_gaps_analysis import (
    Analysis,
    Parameters,
    Profile,
    analyse,
    typical_mentor,
    usable_mentors,
)
from mentorat.reports.supply_gaps_schemas import (
    CommuneCount,
    GapGroup,
    MentorProfile,
    SupplyGapReport,
)
from mentorat.reports.supply_gaps_schemas import TypicalMentor as TypicalMentorOut

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_CAPACITY = 1  # a new mentor's default capacity in the API


def waiting_children(departement_code: str, day: date) -> Select[Any]:
    """Children waiting for a mentor on `day` (situation waiting_for_mentor): in care, latest
    offer accepted, no live mentorship and no pending proposal."""
    return select(Child).where(Child.departement_code == departement_code, child_is_eligible(day))


async def _typical_capacity(session: AsyncSession, mentors: Select[Any], day: date) -> int:
    median = await session.scalar(
        mentors.with_only_columns(func.percentile_disc(0.5).within_group(Mentor.capacity)).where(
            Mentor.active,
            Mentor.honorability_checked_on <= day,
            Mentor.honorability_valid_until >= day,
        )
    )
    return int(median) if median is not None else DEFAULT_CAPACITY


async def _places(
    session: AsyncSession, statement: Select[Any], ids: Sequence[uuid.UUID]
) -> tuple[list[str], list[str]]:
    """Commune and postcode of each child, in the order of `ids`."""
    rows = {
        row.id: (row.commune, row.postcode)
        for row in await session.execute(
            statement.with_only_columns(Child.id, Child.commune, Child.postcode)
        )
    }
    places = [rows[child_id] for child_id in ids]
    return [commune for commune, _ in places], [postcode for _, postcode in places]


async def supply_gaps(
    session: AsyncSession,
    principal: Principal,
    departement_code: str,
    *,
    limit: int,
    cluster_km: float,
) -> SupplyGapReport:
    await departement_in_scope(session, principal, departement_code)
    day = today_in(departement_code)
    child_statement = waiting_children(departement_code, day)
    mentor_statement = mentors_serving(departement_code)
    children = await load_children(session, child_statement, day)
    mentors = await load_mentors(session, mentor_statement, day, departement_code)
    exclusions = await load_exclusions(
        session, children, mentors, child_statement, mentor_statement
    )
    capacity = await _typical_capacity(session, mentor_statement, day)
    communes, postcodes = await _places(session, child_statement, children.ids)
    typical = typical_mentor(mentors.arrays, capacity)
    parameters = Parameters(cluster_km=cluster_km, limit=limit)
    analysis = await anyio.to_thread.run_sync(
        lambda: analyse(children.arrays, mentors.arrays, exclusions, typical, parameters)
    )
    await record(
        session, principal, "read", "report", [f"supply-gaps:{departement_code}"],
        departement_code=departement_code, details={"waiting": len(children)},
    )  # fmt: skip
    usable = usable_mentors(mentors.arrays) & (mentors.arrays.capacity_left > 0)
    return _report(
        departement_code=departement_code,
        day=day,
        analysis=analysis,
        parameters=parameters,
        lat=children.arrays.lat,
        lon=children.arrays.lon,
        communes=communes,
        postcodes=postcodes,
        typical=TypicalMentorOut(
            travel_radius_km=typical.radius_km,
            capacity=typical.capacity,
            weekly_hours=typical.slots / 2,
            goals=typical.goals,
            languages=typical.languages,
        ),
        mentors_with_places=int(usable.sum()),
        show_communes=principal.role is not Role.coordinator,
    )


def _counts(flags: dict[str, np.ndarray[Any, Any]], rows: np.ndarray[Any, Any]) -> dict[str, int]:
    counts = {code: int(values[rows].sum()) for code, values in flags.items()}
    return {code: count for code, count in counts.items() if count}


def _report(
    *,
    departement_code: str,
    day: date,
    analysis: Analysis,
    parameters: Parameters,
    lat: np.ndarray[Any, Any],
    lon: np.ndarray[Any, Any],
    communes: list[str],
    postcodes: list[str],
    typical: TypicalMentorOut,
    mentors_with_places: int,
    show_communes: bool,
) -> SupplyGapReport:
    matched = analysis.matched
    everyone = np.arange(len(matched))
    # Most unmatched first, then most waiting, then order of creation.
    order = sorted(
        range(len(analysis.groups)),
        key=lambda k: (
            -int((~matched[analysis.groups[k].members]).sum()),
            -len(analysis.groups[k].members),
            k,
        ),
    )
    number = {k: rank + 1 for rank, k in enumerate(order)}
    groups = []
    for k in order:
        group = analysis.groups[k]
        members = group.members
        by_commune = Counter((communes[i], postcodes[i]) for i in members)
        groups.append(
            GapGroup(
                group=number[k],
                commune=communes[group.medoid],
                postcode=postcodes[group.medoid],
                latitude=float(lat[group.medoid]),
                longitude=float(lon[group.medoid]),
                waiting=len(members),
                matchable_now=int(matched[members].sum()),
                unmatched=int((~matched[members]).sum()),
                constraints=_counts(analysis.constraints, members),
                communes=[
                    CommuneCount(commune=commune, postcode=postcode, waiting=count)
                    for (commune, postcode), count in sorted(
                        by_commune.items(), key=lambda item: (-item[1], item[0])
                    )
                ]
                if show_communes
                else None,
            )
        )
    profiles = [
        _profile_out(rank, choice.profile, number, lat, lon, communes, postcodes).model_copy(
            update={"gain": choice.gain, "matched_after": choice.matched_after}
        )
        for rank, choice in enumerate(analysis.choices, start=1)
    ]
    return SupplyGapReport(
        departement_code=departement_code,
        as_of=day,
        cluster_km=parameters.cluster_km,
        waiting=len(matched),
        matchable_now=analysis.baseline_matched,
        unmatched=len(matched) - analysis.baseline_matched,
        mentors_with_places=mentors_with_places,
        constraints=_counts(analysis.constraints, everyone),
        typical_mentor=typical,
        groups=groups,
        profiles=profiles,
    )


def _codes(mask: int, codes: Sequence[str]) -> list[str]:
    return [code for index, code in enumerate(codes) if mask >> index & 1]


def _profile_out(
    rank: int,
    profile: Profile,
    number: dict[int, int],
    lat: np.ndarray[Any, Any],
    lon: np.ndarray[Any, Any],
    communes: list[str],
    postcodes: list[str],
) -> MentorProfile:
    anchor = profile.anchor
    return MentorProfile(
        rank=rank,
        group=number[profile.group],
        commune=communes[anchor],
        postcode=postcodes[anchor],
        latitude=float(lat[anchor]),
        longitude=float(lon[anchor]),
        travel_radius_km=profile.radius_km,
        capacity=profile.capacity,
        availability=availability_from_bytes(profile.availability.tobytes()),
        goals=_codes(profile.goals, vocabulary.GOAL_CODES),
        languages=_codes(profile.languages, vocabulary.LANGUAGES),
        gender=vocabulary.GENDERS[profile.gender - 1] if profile.gender else None,
        gain=0,
        matched_after=0,
    )


# --------------------------------------------------------------------------- renderings

CSV_HEADER = (
    "section", "group", "rank", "commune", "postcode", "latitude", "longitude", "waiting",
    "matchable_now", "unmatched", "constraint", "children", "travel_radius_km", "capacity",
    "availability", "goals", "languages", "gender", "gain", "matched_after",
)  # fmt: skip


def csv_rows(report: SupplyGapReport) -> CsvRows:
    """One row per group, one per (group, constraint), one per profile: `section` says which."""

    def rows() -> Iterator[list[Any]]:
        empty = [None] * len(CSV_HEADER)
        for group in report.groups:
            place = [group.commune, group.postcode, group.latitude, group.longitude]
            yield ["group", group.group, None, *place, group.waiting, group.matchable_now,
                   group.unmatched, *empty[10:]]  # fmt: skip
            for code, count in group.constraints.items():
                yield ["constraint", group.group, None, *place, None, None, None, code, count,
                       *empty[12:]]  # fmt: skip
        for profile in report.profiles:
            slots = " ".join(f"{s.day.value} {s.start}-{s.end}" for s in profile.availability)
            yield [
                "profile", profile.group, profile.rank, profile.commune, profile.postcode,
                profile.latitude, profile.longitude, None, None, None, None, None,
                profile.travel_radius_km, profile.capacity, slots, " ".join(profile.goals),
                " ".join(profile.languages), profile.gender, profile.gain, profile.matched_after,
            ]  # fmt: skip

    return CSV_HEADER, rows()


def draw_chart(report: SupplyGapReport, figure: Figure) -> None:
    """Bars per group (most unmatched first): matchable now, then unmatched split by what the
    best-ranked profile would gain there; a second panel, the constraints counted."""
    groups = report.groups[:15]
    gained = Counter[int]()
    for profile in report.profiles:
        gained[profile.group] += profile.gain
    labels = [f"{g.group}. {g.commune}" for g in groups]
    positions = np.arange(len(groups))
    now = np.array([g.matchable_now for g in groups])
    recruit = np.array([min(gained[g.group], g.unmatched) for g in groups])
    rest = np.array([g.unmatched for g in groups]) - recruit
    bars, reasons = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    bars.barh(positions, now, color="#4c9f70", label="matchable now")
    bars.barh(positions, recruit, left=now, color="#f0a202", label="matched by the profiles")
    bars.barh(positions, rest, left=now + recruit, color="#c0392b", label="still unmatched")
    bars.set_yticks(positions, labels)
    bars.invert_yaxis()
    bars.set_xlabel("children waiting for a mentor")
    bars.set_title(f"Supply gaps, département {report.departement_code}, {report.as_of}")
    bars.legend(loc="lower right", fontsize="small")
    codes = sorted(report.constraints, key=lambda code: -report.constraints[code])
    reasons.barh(np.arange(len(codes)), [report.constraints[c] for c in codes], color="#7f8c8d")
    reasons.set_yticks(np.arange(len(codes)), codes)
    reasons.invert_yaxis()
    reasons.set_xlabel("unmatched children")
    reasons.set_title("What keeps them unmatched")


__all__ = ["csv_rows", "draw_chart", "supply_gaps", "waiting_children"]
