"""The supply-gaps report as the API shows it: counts per place, no child named or located
more precisely than to 0.01 degree (about 1 km)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import ConfigDict, Field

from mentorat.kit.schemas import Hours, Kilometres, ReadSchema, rounded
from mentorat.mentors.schemas import Gender
from mentorat.profile import GoalCode, LanguageCode, WeeklySlot

PLACE_DECIMALS = 2  # degrees: about 1 km, the place of a group, never a child's address
RoundedDegrees = Annotated[float, rounded(PLACE_DECIMALS)]

CONSTRAINTS_DESCRIPTION = (
    "Unmatched children per constraint that keeps them unmatched (a child may count under "
    "several): a hard constraint's code (too_far, no_common_availability, "
    "language_preference_not_met, gender_preference_not_met, no_capacity_left, pair_excluded, "
    "mentor_inactive, no_valid_honorability_check, and no_agreement where the matching has it) "
    "counts the children that lifting this constraint alone would give a feasible mentor; "
    "taken_by_others: feasible mentors exist but an optimal run gives them to other children; "
    "below_min_score: every feasible mentor scores under the run's minimum; "
    "several_constraints: no single constraint lifted would be enough; goals_not_covered "
    "(soft, never blocks a pair): mentors are within reach but none helps with the child's goals."
)


class CommuneCount(ReadSchema):
    """Waiting children of one commune within a group."""

    commune: str = Field(description="Name of the commune.")
    postcode: str = Field(description="Postcode of the commune.")
    waiting: int = Field(description="Children of this commune waiting for a mentor.")


class GapGroup(ReadSchema):
    """Waiting children who live within the clustering distance of the group's leader."""

    group: int = Field(description="Group number, 1 for the group with the most unmatched.")
    commune: str = Field(description="Commune of the group's central child (medoid).")
    postcode: str = Field(description="Postcode of that commune.")
    latitude: RoundedDegrees = Field(
        description="Latitude of the group's centre (medoid), rounded to 0.01 degree."
    )
    longitude: RoundedDegrees = Field(
        description="Longitude of the group's centre (medoid), rounded to 0.01 degree."
    )
    waiting: int = Field(description="Children of the group waiting for a mentor.")
    matchable_now: int = Field(
        description="Of them, children an optimal run with today's mentors would match."
    )
    unmatched: int = Field(description="Of them, children that run would leave unmatched.")
    constraints: dict[str, int] = Field(description=CONSTRAINTS_DESCRIPTION)
    communes: list[CommuneCount] | None = Field(
        description="Waiting children per commune, most first; null for coordinators, who "
        "see the group's centre only."
    )


class MentorProfile(ReadSchema):
    """A mentor to recruit, and how many more children an optimal run would then match."""

    rank: int = Field(description="1 for the profile chosen first (greedy, highest gain).")
    group: int = Field(description="The group whose unmatched children the profile is built on.")
    commune: str = Field(description="Commune where the mentor would live (the children's medoid).")
    postcode: str = Field(description="Postcode of that commune.")
    latitude: RoundedDegrees = Field(description="Latitude of the place, to 0.01 degree.")
    longitude: RoundedDegrees = Field(description="Longitude of the place, to 0.01 degree.")
    travel_radius_km: Kilometres = Field(
        description="Travel radius: the median of the département's usable mentors."
    )
    capacity: int = Field(description="Children at once: the median of the département's mentors.")
    availability: list[WeeklySlot] = Field(
        description="Weekly slots: the half hours most common among the group's unmatched "
        "children, as many as a median mentor offers."
    )
    goals: list[GoalCode] = Field(description="The goals the group's unmatched children need most.")
    languages: list[LanguageCode] = Field(
        description="Languages: those the children ask for most, then those mentors speak most."
    )
    gender: Gender | None = Field(
        description="The gender the children prefer most; with no preference, the most common "
        "among mentors."
    )
    gain: int = Field(
        description="Children an optimal run matches with this mentor added to the profiles "
        "ranked before it, minus without it."
    )
    matched_after: int = Field(
        description="Children an optimal run matches once this profile and those before it "
        "are added."
    )


class TypicalMentor(ReadSchema):
    """What a usual mentor of the département offers: medians over its usable mentors."""

    travel_radius_km: Kilometres = Field(description="Median travel radius.")
    capacity: int = Field(description="Median capacity (children at once).")
    weekly_hours: Hours = Field(description="Median weekly hours offered.")
    goals: int = Field(description="Median number of goals a mentor helps with.")
    languages: int = Field(description="Median number of languages a mentor speaks.")


class SupplyGapReport(ReadSchema):
    """Where mentors are missing in a département, and whom to recruit."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "departement_code": "53",
                    "as_of": "2026-11-25",
                    "cluster_km": 15.0,
                    "waiting": 7,
                    "matchable_now": 0,
                    "unmatched": 7,
                    "mentors_with_places": 3,
                    "constraints": {"too_far": 5, "no_common_availability": 2},
                    "typical_mentor": {
                        "travel_radius_km": 20.0,
                        "capacity": 2,
                        "weekly_hours": 4.0,
                        "goals": 3,
                        "languages": 1,
                    },
                    "groups": [
                        {
                            "group": 1,
                            "commune": "Mayenne",
                            "postcode": "53100",
                            "latitude": 48.3,
                            "longitude": -0.61,
                            "waiting": 5,
                            "matchable_now": 0,
                            "unmatched": 5,
                            "constraints": {"too_far": 5},
                            "communes": [{"commune": "Mayenne", "postcode": "53100", "waiting": 5}],
                        }
                    ],
                    "profiles": [
                        {
                            "rank": 1,
                            "group": 1,
                            "commune": "Mayenne",
                            "postcode": "53100",
                            "latitude": 48.3,
                            "longitude": -0.61,
                            "travel_radius_km": 20.0,
                            "capacity": 2,
                            "availability": [
                                {"day": "wednesday", "start": "14:00", "end": "18:00"}
                            ],
                            "goals": ["orientation", "confiance"],
                            "languages": ["fr"],
                            "gender": "female",
                            "gain": 2,
                            "matched_after": 2,
                        }
                    ],
                }
            ]
        }
    )

    departement_code: str = Field(description="The département reported on.")
    as_of: date = Field(description="The département's day the report was computed for.")
    cluster_km: Kilometres = Field(
        description="Children within this distance of a group's leader form its group."
    )
    waiting: int = Field(
        description="Children in care whose latest offer was accepted, with no live mentorship "
        "and no pending proposal (situation waiting_for_mentor)."
    )
    matchable_now: int = Field(
        description="Of them, children an optimal run with today's mentors would match."
    )
    unmatched: int = Field(description="Of them, children that run would leave unmatched.")
    mentors_with_places: int = Field(
        description="Mentors serving the département, active, checked and with a place left."
    )
    constraints: dict[str, int] = Field(description=CONSTRAINTS_DESCRIPTION)
    typical_mentor: TypicalMentor = Field(
        description="The usual mentor the profiles are modelled on."
    )
    groups: list[GapGroup] = Field(
        description="Groups of waiting children by place, the most unmatched first."
    )
    profiles: list[MentorProfile] = Field(
        description="Mentors to recruit, best first (greedy: each measured with those before "
        "it added); profiles that would gain no child are left out."
    )
