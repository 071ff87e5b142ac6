"""Reads what scoring needs from PostgreSQL, straight into numpy arrays.

Only plain columns are read: goal and language bitmasks are generated columns, genders come
back as codes, capacity left and eligibility are computed by the query.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, reduce
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    LargeBinary,
    Select,
    SmallInteger,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.agreements.repository import associations_under_agreement
from mentorat.associations.repository import serving
from mentorat.matching.declines import remembered_declines
from mentorat.matching.scoring import ChildArrays, MentorArrays
from mentorat.models import Child, Mentor, Mentorship, Offer, PairExclusion, Proposal
from mentorat.models.mentor import MENTOR_RECORD_FIELDS
from mentorat.models.mentorship import LIVE_MENTORSHIP_STATES
from mentorat.situation.derivation import in_care_on
from mentorat.vocabulary import AVAILABILITY_BYTES, GENDERS

# A uuid's 16 bytes as two big-endian integers: sorting on them is PostgreSQL's uuid order.
ID_KEY = np.dtype([("hi", ">u8"), ("lo", ">u8")])


@dataclass(frozen=True)
class _Loaded:
    id_keys: npt.NDArray[np.void]  # sorted, dtype ID_KEY

    def __len__(self) -> int:
        return int(self.id_keys.shape[0])

    def id_at(self, index: int) -> uuid.UUID:
        return uuid.UUID(bytes=self.id_keys[index].tobytes())

    @cached_property
    def ids(self) -> list[uuid.UUID]:
        raw = self.id_keys.tobytes()
        return [uuid.UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)]

    def index_of(self, ids: Sequence[uuid.UUID]) -> npt.NDArray[np.int64]:
        """Positions of `ids` among the loaded ones, -1 for those not loaded."""
        return _index_of(self.id_keys, ids)


def _index_of(id_keys: npt.NDArray[np.void], ids: Sequence[uuid.UUID]) -> npt.NDArray[np.int64]:
    wanted = np.frombuffer(b"".join(i.bytes for i in ids), dtype=ID_KEY)
    if not len(id_keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    found = np.searchsorted(id_keys, wanted).astype(np.int64)
    found[found >= len(id_keys)] = 0
    return np.where(id_keys[found] == wanted, found, -1)


@dataclass(frozen=True)
class LoadedChildren(_Loaded):
    arrays: ChildArrays


@dataclass(frozen=True)
class LoadedMentors(_Loaded):
    arrays: MentorArrays


def _gender_code(column: Any) -> Any:
    return case(*[(column == gender, index + 1) for index, gender in enumerate(GENDERS)], else_=0)


def child_is_eligible(day: date) -> Any:
    """Read from the data: the child is in care on `day`, the child's latest offer was
    accepted, and no pending proposal or live mentorship holds the child already."""
    latest_offer_outcome = (
        select(Offer.outcome)
        .where(Offer.child_id == Child.id)
        .order_by(Offer.offered_on.desc(), Offer.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return and_(
        Child.deleted_at.is_(None),
        in_care_on(day),
        func.coalesce(latest_offer_outcome == "accepted", False),
        ~exists().where(Proposal.child_id == Child.id, Proposal.status == "pending"),
        ~exists().where(
            Mentorship.child_id == Child.id, Mentorship.state.in_(LIVE_MENTORSHIP_STATES)
        ),
    )


# How each kind of value travels: PostgreSQL's binary send function and numpy's dtype.
_WIRE: dict[str, tuple[Any, Any, str]] = {
    "f4": (func.float4send, REAL, ">f4"),
    "i8": (func.int8send, BigInteger, ">i8"),
    "i2": (func.int2send, SmallInteger, ">i2"),
    "bool": (func.boolsend, Boolean, "?"),
}


async def _fetch_columns(
    session: AsyncSession,
    statement: Select[Any],
    id_column: Any,
    columns: Sequence[tuple[Any, str | int]],
    extra: Sequence[Any] = (),
) -> tuple[npt.NDArray[np.void], list[npt.NDArray[Any]], tuple[Any, ...]]:
    """The ids (sorted) and each column of `statement`'s rows as a numpy array in id order.

    Each row is packed by PostgreSQL into one fixed-width binary record (the values' binary
    send forms, or the raw bytes of a bytea of the given width) and all records into a single
    bytea, which numpy reads as a structured array: no per-row or per-value work in Python.
    `columns` pairs an expression (never NULL) with "f4", "i8", "i2", "bool" or a byte width.
    """
    parts: list[Any] = [func.uuid_send(id_column)]
    fields: list[tuple[str, Any]] = [("id", "V16")]
    for index, (expression, kind) in enumerate(columns):
        if isinstance(kind, int):
            parts.append(type_coerce(expression, LargeBinary))
            fields.append((f"c{index}", (np.uint8, (kind,))))
        else:
            send, sql_type, dtype = _WIRE[kind]
            parts.append(send(cast(expression, sql_type)))
            fields.append((f"c{index}", dtype))
    record = type_coerce(reduce(lambda left, right: left.op("||")(right), parts), LargeBinary)
    inner = statement.with_only_columns(record.label("record")).subquery()
    blob, count, *extra_values = (
        await session.execute(
            select(
                func.string_agg(inner.c.record, literal_column("''::bytea")),
                func.count(),
                *extra,
            )
        )
    ).one()
    records = np.frombuffer(blob or b"", dtype=np.dtype(fields))
    if len(records) != count:
        raise RuntimeError("a NULL value reached the matching loader")  # a bug of ours
    id_keys = records["id"].copy().view(ID_KEY)
    order = np.lexsort((id_keys["lo"], id_keys["hi"]))  # far faster than sorting records
    arrays = [np.ascontiguousarray(records[f"c{i}"][order]) for i in range(len(columns))]
    return id_keys[order], arrays, tuple(extra_values)


async def load_children(
    session: AsyncSession, statement: Select[Any], run_date: date
) -> LoadedChildren:
    """`statement` selects Child rows (filters only); the columns are chosen here."""
    children, _ = await load_children_with(session, statement, run_date, ())
    return children


async def load_children_with(
    session: AsyncSession, statement: Select[Any], run_date: date, extra: Sequence[Any]
) -> tuple[LoadedChildren, tuple[Any, ...]]:
    """`load_children`, and the values of `extra` (scalar subqueries) read by the same
    statement."""
    id_keys, columns, extra_values = await _fetch_columns(
        session,
        statement,
        Child.id,
        [
            (Child.latitude, "f4"),
            (Child.longitude, "f4"),
            (Child.goals_mask, "i8"),
            (Child.availability, AVAILABILITY_BYTES),
            (Child.remote_ok, "bool"),
            (_gender_code(Child.mentor_gender_preference), "i2"),
            (Child.languages_mask, "i8"),
            (child_is_eligible(run_date), "bool"),
        ],
        extra,
    )
    lat, lon, goals, availability, remote, gender, languages, eligible = columns
    arrays = ChildArrays(
        lat=lat,
        lon=lon,
        goals=goals,
        availability=availability,
        remote_ok=remote,
        mentor_gender_preference=gender,
        languages=languages,
        eligible=eligible,
    )
    return LoadedChildren(id_keys, arrays), extra_values


MENTOR_RECORD = np.dtype([(name, dtype) for name, _, dtype in MENTOR_RECORD_FIELDS])
# The stored record, then whether the mentor's association has an agreement in force.
LOADED_MENTOR_RECORD = np.dtype([*MENTOR_RECORD.descr, ("agreement", "?")])
_DAY_ZERO = date(2000, 1, 1)  # PostgreSQL's dates count days from here


@overload
async def load_mentors(
    session: AsyncSession, statement: Select[Any], run_date: date, departement_code: str
) -> LoadedMentors: ...


@overload
async def load_mentors(
    session: AsyncSession,
    statement: Select[Any],
    run_date: date,
    departement_code: str,
    *,
    extra: Sequence[Any],
) -> tuple[LoadedMentors, tuple[Any, ...]]: ...


async def load_mentors(
    session: AsyncSession,
    statement: Select[Any],
    run_date: date,
    departement_code: str,
    *,
    extra: Sequence[Any] | None = None,
) -> LoadedMentors | tuple[LoadedMentors, tuple[Any, ...]]:
    """`statement` selects Mentor rows (filters only). Each mentor's matching record is a
    stored column, followed by one byte saying whether the mentor's association has an
    agreement with `departement_code` in force on `run_date` (an uncorrelated subquery,
    hashed once): one concatenation in PostgreSQL and one frombuffer here.

    `extra`: more expressions (aggregates or scalar subqueries) read by the same statement,
    whose values are returned with the mentors.
    """
    under_agreement = Mentor.association_id.in_(
        associations_under_agreement(departement_code, run_date)
    )
    record = type_coerce(
        Mentor.matching_record.op("||")(func.boolsend(under_agreement)), LargeBinary
    )
    blob, count, *extra_values = (
        await session.execute(
            statement.with_only_columns(
                func.string_agg(record, literal_column("''::bytea")),
                func.count(),
                *(extra or ()),
            )
        )
    ).one()
    records = np.frombuffer(blob or b"", dtype=LOADED_MENTOR_RECORD)
    if len(records) != count:
        raise RuntimeError("a mentor has no matching record")  # a bug of ours
    id_keys = records["id"].copy().view(ID_KEY)
    records = records[np.lexsort((id_keys["lo"], id_keys["hi"]))]
    run_day = (run_date - _DAY_ZERO).days
    arrays = MentorArrays(
        lat=records["lat"],
        lon=records["lon"],
        radius_km=records["radius_km"],
        goals=records["goals"],
        availability=np.ascontiguousarray(records["availability"]),
        remote_ok=records["remote_ok"],
        gender=records["gender"],
        languages=records["languages"],
        active=records["usable"],
        agreement_ok=records["agreement"],
        honorability_ok=(records["checked_on"] <= run_day) & (records["valid_until"] >= run_day),
        capacity_left=records["places_left"],
    )
    loaded = LoadedMentors(records["id"].copy().view(ID_KEY), arrays)
    return loaded if extra is None else (loaded, tuple(extra_values))


def mentors_serving(departement_code: str) -> Select[Any]:
    return select(Mentor).where(
        Mentor.deleted_at.is_(None), Mentor.association_id.in_(serving(departement_code))
    )


def _no_pairs() -> npt.NDArray[np.int32]:
    return np.empty((0, 2), dtype=np.int32)


def _index_pairs(
    children: LoadedChildren, mentors: LoadedMentors, rows: Sequence[Any]
) -> npt.NDArray[np.int32]:
    """(child_id, mentor_id, ...) rows as (child_index, mentor_index) among the loaded ones."""
    if not rows:
        return _no_pairs()
    pairs = np.stack(
        [children.index_of([row[0] for row in rows]), mentors.index_of([row[1] for row in rows])],
        axis=1,
    )
    return pairs[(pairs >= 0).all(axis=1)].astype(np.int32)


def _exclusions_among(child_statement: Select[Any], mentor_statement: Select[Any]) -> Select[Any]:
    return select(PairExclusion.child_id, PairExclusion.mentor_id).where(
        PairExclusion.child_id.in_(child_statement.with_only_columns(Child.id)),
        PairExclusion.mentor_id.in_(mentor_statement.with_only_columns(Mentor.id)),
    )


async def load_exclusions(
    session: AsyncSession,
    children: LoadedChildren,
    mentors: LoadedMentors,
    child_statement: Select[Any],
    mentor_statement: Select[Any],
) -> npt.NDArray[np.int32]:
    """Excluded (child_index, mentor_index) pairs among the loaded ones."""
    if not len(children) or not len(mentors):
        return _no_pairs()
    rows = (await session.execute(_exclusions_among(child_statement, mentor_statement))).all()
    return _index_pairs(children, mentors, rows)


@dataclass(frozen=True)
class RuledOutPairs:
    """(child_index, mentor_index) pairs an educator excluded, and pairs declined recently."""

    exclusions: npt.NDArray[np.int32]
    declines: npt.NDArray[np.int32]


async def load_ruled_out_pairs(
    session: AsyncSession,
    children: LoadedChildren,
    mentors: LoadedMentors,
    child_statement: Select[Any],
    mentor_statement: Select[Any],
    departement_code: str,
    run_date: date,
) -> RuledOutPairs:
    """`load_exclusions`, and the pairs whose decline `departement_code` still remembers on
    `run_date` (matching/declines.py), in one statement. The département's remembered
    declines are read whole; those of children or mentors not loaded are dropped here."""
    if not len(children) or not len(mentors):
        return RuledOutPairs(_no_pairs(), _no_pairs())
    excluded = _exclusions_among(child_statement, mentor_statement).add_columns(
        literal(False).label("declined")
    )
    declined = remembered_declines(departement_code, run_date).with_only_columns(
        Proposal.child_id, Proposal.mentor_id, literal(True).label("declined")
    )
    rows = (await session.execute(union_all(excluded, declined))).all()
    return RuledOutPairs(
        exclusions=_index_pairs(children, mentors, [row for row in rows if not row[2]]),
        declines=_index_pairs(children, mentors, [row for row in rows if row[2]]),
    )


@dataclass(frozen=True)
class MatchingInputs:
    """What scoring needs of some children and mentors on a day."""

    children: LoadedChildren
    mentors: LoadedMentors
    ruled_out: RuledOutPairs


async def load_matching_inputs(
    session: AsyncSession,
    child_statement: Select[Any],
    mentor_statement: Select[Any],
    departement_code: str,
    day: date,
) -> MatchingInputs:
    """The children and mentors of these statements as arrays, as of `day` in
    `departement_code`, and the pairs among them ruled out (exclusions, remembered declines)."""
    children = await load_children(session, child_statement, day)
    mentors = await load_mentors(session, mentor_statement, day, departement_code)
    ruled_out = await load_ruled_out_pairs(
        session, children, mentors, child_statement, mentor_statement, departement_code, day
    )
    return MatchingInputs(children, mentors, ruled_out)


def id_in(column: Any, ids: Sequence[uuid.UUID]) -> Any:
    """column = ANY(:ids) with one array parameter, however many ids."""
    return column == any_(bindparam(None, list(ids), type_=ARRAY(UUID(as_uuid=True))))
