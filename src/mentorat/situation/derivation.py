"""A child's situation, next action and its due date, derived by PostgreSQL.

`with_situation` joins the derivation onto any statement that selects from `child`: a few
LATERAL subqueries per child row (latest assessment, offer since it, mentorships), so a page
of children and their situations is one statement. The rules, on a day D (the as-of date):

1. `left_care`: not in care on D (came later, left on or before D, or 21 or more).
2. `in_mentorship`: a live mentorship (accepted, active, paused).
3. `proposed`: a pending proposal.
4. `mentorship_ended`: the latest mentorship ended and no offer was made after it ended.
5. `not_yet_due`: no assessment yet and the first one due more than 60 days after D, or a
   young adult who has not asked for mentoring.
6. `assessment_overdue` / 7. `assessment_due`: no current assessment (one of the last year),
   the due date past / within 60 days.
8. `not_recommended`: the current assessment does not recommend mentoring.
9. `to_inform`: recommended, and no offer since, or a pending one on which a required party
   has not been informed yet.
10. `awaiting_agreements` / 11. `refused` / 12. `waiting_for_mentor`: that offer is pending
    with everyone informed / refused / accepted.

The first assessment is due on the day a child of 11 or more comes into care (or comes into
care on or after collège entry), else on the first school day of the year of collège entry
(the département's setting); for a young adult, on the day they asked. Then yearly.
An offer is decided on the date its last required answer was given (not when it was typed in);
an offer made on the day a mentorship ended counts as made after it.

Next action and its due date: `assess` / `renew_assessment` on the assessment's due date
(also the yearly renewal of a child proposed or in a mentorship), `inform_and_offer` 30 days
after the assessment, `collect_agreements` 30 days after the offer, `propose_mentor` 30 days
after the decision, `renew_assessment` a year after an assessment that did not recommend
mentoring or whose offer was refused; `none` when the child left care or is a young adult who
has not asked.

Assessments, offers and consent facts count when dated on or before D; proposals and
mentorships as they stand now (their history is not replayed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    and_,
    any_,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

from mentorat.kit.clock import METROPOLE, OVERSEAS_TIME_ZONES
from mentorat.models import (
    Assessment,
    Child,
    Departement,
    Mentorship,
    Offer,
    OfferConsent,
    Proposal,
)
from mentorat.models.mentorship import LIVE_MENTORSHIP_STATES

ADULT_LIMIT_YEARS = 21
ASSESSMENT_AGE_YEARS = 11
DUE_WINDOW_DAYS = 60  # an assessment due within this many days is `assessment_due`
ACTION_DAYS = 30  # to inform after an assessment, to collect agreements, to propose a mentor


@dataclass(frozen=True, slots=True)
class SituationColumns:
    """The derived columns, to select, filter and order on."""

    situation: ColumnElement[str]
    next_action: ColumnElement[str]
    next_action_due_on: ColumnElement[date]
    as_of: ColumnElement[date]


def local_today(departement_code: ColumnElement[str]) -> ColumnElement[date]:
    """Today in the département's time zone, computed by PostgreSQL for each row."""
    return cast(func.timezone(_zone(departement_code), func.now()), Date)


def _years_after(day: ColumnElement[date], years: int) -> ColumnElement[date]:
    return cast(day + func.make_interval(years), Date)


def in_care_on(day: date | ColumnElement[date]) -> ColumnElement[bool]:
    """In the ASE's care on `day`: came into care by then, not left, under 21."""
    return and_(
        Child.came_into_care_on <= day,
        or_(Child.left_care_on.is_(None), Child.left_care_on > day),
        _years_after(Child.birth_date, ADULT_LIMIT_YEARS) > day,
    )


def with_situation(
    statement: Select[Any], as_of: date | None = None
) -> tuple[Select[Any], SituationColumns]:
    """`statement` (selecting from `child`) joined to each child's derived situation on
    `as_of` (default: each child's local today), and the columns to add, filter or order by.
    """
    day_value: ColumnElement[date] = (
        local_today(Child.departement_code) if as_of is None else literal(as_of, Date)
    )
    # Each LATERAL without LIMIT is fenced with OFFSET 0: pulled up, its expressions would be
    # copied into every expression that reads them (the situation into each branch of the
    # next action), and a page of the due list took seconds instead of milliseconds.
    day = select(day_value.label("on")).correlate(Child).offset(0).lateral("situation_day")

    school = Departement.__table__.alias("situation_departement")
    college_entry = func.make_date(
        Child.college_entry_year, school.c.school_start_month, school.c.school_start_day
    )
    first_due_on = case(
        (Child.legal_situation == "young_adult", Child.mentoring_requested_on),
        (
            or_(
                Child.came_into_care_on >= _years_after(Child.birth_date, ASSESSMENT_AGE_YEARS),
                Child.came_into_care_on >= college_entry,
            ),
            Child.came_into_care_on,
        ),
        else_=college_entry,
    )
    in_care = in_care_on(day.c.on)
    basis = (
        select(
            in_care.label("in_care"),
            first_due_on.label("first_due_on"),
            and_(
                Child.legal_situation == "young_adult", Child.mentoring_requested_on.is_(None)
            ).label("not_asked"),
        )
        .correlate(Child, school, day)
        .offset(0)
        .lateral("situation_basis")
    )

    assessment = (
        select(Assessment.assessed_on, Assessment.outcome)
        .where(Assessment.child_id == Child.id, Assessment.assessed_on <= day.c.on)
        .order_by(Assessment.assessed_on.desc(), Assessment.created_at.desc())
        .limit(1)
        .lateral("situation_assessment")
    )
    renewal_on = _years_after(assessment.c.assessed_on, 1)

    required = func.offer_required_parties(Offer.legal_situation, type_=ARRAY(Text))
    decided_on = (
        select(func.max(OfferConsent.given_on))
        .where(
            OfferConsent.offer_id == Offer.id,
            OfferConsent.kind != "informed",
            OfferConsent.party == any_(required),
        )
        .scalar_subquery()
    )
    informed = (
        select(func.count(OfferConsent.party.distinct()))
        .where(
            OfferConsent.offer_id == Offer.id,
            OfferConsent.kind == "informed",
            OfferConsent.given_on <= day.c.on,
            OfferConsent.party == any_(required),
        )
        .correlate(Offer, day)
        .scalar_subquery()
    )
    offer = (
        select(
            Offer.offered_on,
            Offer.outcome,
            decided_on.label("decided_on"),
            (informed == func.cardinality(required)).label("all_informed"),
        )
        .where(
            Offer.child_id == Child.id,
            Offer.offered_on >= assessment.c.assessed_on,
            Offer.offered_on <= day.c.on,
        )
        .order_by(Offer.offered_on.desc(), Offer.created_at.desc())
        .limit(1)
        .lateral("situation_offer")
    )
    # An answer given after the as-of date leaves the offer pending on that date.
    offer_outcome = case(
        (and_(offer.c.outcome != "pending", offer.c.decided_on <= day.c.on), offer.c.outcome),
        else_=literal("pending"),
    )

    ended_on = (
        select(
            func.max(cast(func.timezone(_zone(Child.departement_code), Mentorship.ended_at), Date))
        )
        .where(Mentorship.child_id == Child.id, Mentorship.state == "ended")
        .correlate(Child)
        .scalar_subquery()
    )
    mentorships = (
        select(
            select(Mentorship.id)
            .where(Mentorship.child_id == Child.id, Mentorship.state.in_(LIVE_MENTORSHIP_STATES))
            .correlate(Child)
            .exists()
            .label("live"),
            select(Proposal.id)
            .where(Proposal.child_id == Child.id, Proposal.status == "pending")
            .correlate(Child)
            .exists()
            .label("proposed"),
            ended_on.label("ended_on"),
        )
        .correlate(Child)
        .offset(0)
        .lateral("situation_mentorships")
    )
    offered_after_end = (
        select(Offer.id)
        .where(
            Offer.child_id == Child.id,
            Offer.offered_on >= mentorships.c.ended_on,  # the same day counts: days, not times
            Offer.offered_on <= day.c.on,
        )
        .correlate(Child, day, mentorships)
        .exists()
    )

    current = renewal_on > day.c.on  # null (not true) without an assessment
    assessment_due_on = func.coalesce(renewal_on, basis.c.first_due_on)
    situation = case(
        (not_(basis.c.in_care), "left_care"),
        (mentorships.c.live, "in_mentorship"),
        (mentorships.c.proposed, "proposed"),
        (and_(mentorships.c.ended_on.is_not(None), not_(offered_after_end)), "mentorship_ended"),
        (
            or_(
                basis.c.not_asked,
                and_(
                    assessment.c.assessed_on.is_(None),
                    basis.c.first_due_on > day.c.on + DUE_WINDOW_DAYS,
                ),
            ),
            "not_yet_due",
        ),
        (
            and_(not_(func.coalesce(current, False)), assessment_due_on < day.c.on),
            "assessment_overdue",
        ),
        (not_(func.coalesce(current, False)), "assessment_due"),
        (assessment.c.outcome != "mentoring_recommended", "not_recommended"),
        (
            or_(
                offer.c.offered_on.is_(None),
                and_(offer_outcome == "pending", not_(offer.c.all_informed)),
            ),
            "to_inform",
        ),
        (offer_outcome == "pending", "awaiting_agreements"),
        (offer_outcome == "refused", "refused"),
        else_="waiting_for_mentor",
    )
    earlier = (Child, school, day, basis, assessment, offer, mentorships)
    derived = (
        select(situation.label("situation"))
        .correlate(*earlier)
        .offset(0)
        .lateral("situation_derived")
    )

    assess_or_renew = case((assessment.c.assessed_on.is_(None), "assess"), else_="renew_assessment")
    renewal_action = case((assessment.c.assessed_on.is_(None), "none"), else_="renew_assessment")
    by_situation = derived.c.situation
    next_action = case(
        (by_situation == "left_care", "none"),
        (by_situation.in_(("in_mentorship", "proposed")), renewal_action),
        (and_(by_situation == "not_yet_due", basis.c.first_due_on.is_(None)), "none"),
        (
            by_situation.in_(
                ("mentorship_ended", "not_yet_due", "assessment_overdue", "assessment_due")
            ),
            assess_or_renew,
        ),
        (by_situation.in_(("not_recommended", "refused")), "renew_assessment"),
        (by_situation == "to_inform", "inform_and_offer"),
        (by_situation == "awaiting_agreements", "collect_agreements"),
        else_="propose_mentor",
    )
    next_action_due_on = case(
        (by_situation == "left_care", None),
        (by_situation.in_(("in_mentorship", "proposed")), renewal_on),
        (
            by_situation.in_(
                ("mentorship_ended", "not_yet_due", "assessment_overdue", "assessment_due")
            ),
            assessment_due_on,
        ),
        (by_situation.in_(("not_recommended", "refused")), renewal_on),
        (by_situation == "to_inform", assessment.c.assessed_on + ACTION_DAYS),
        (by_situation == "awaiting_agreements", offer.c.offered_on + ACTION_DAYS),
        else_=offer.c.decided_on + ACTION_DAYS,
    )
    action = (
        select(
            next_action.label("next_action"),
            cast(next_action_due_on, Date).label("next_action_due_on"),
        )
        .correlate(*earlier, derived)
        .offset(0)
        .lateral("situation_action")
    )

    child = Child.__table__
    derivation = (
        child.join(school, school.c.code == Child.departement_code)
        .join(day, true())
        .join(basis, true())
        .outerjoin(assessment, true())
        .outerjoin(offer, true())
        .join(mentorships, true())
        .join(derived, true())
        .join(action, true())
    )
    joined = statement.select_from(derivation)
    columns = SituationColumns(
        situation=derived.c.situation,
        next_action=action.c.next_action,
        next_action_due_on=action.c.next_action_due_on,
        as_of=day.c.on,
    )
    return joined, columns


def _zone(departement_code: ColumnElement[str]) -> ColumnElement[str]:
    return case(OVERSEAS_TIME_ZONES, value=departement_code, else_=METROPOLE)
