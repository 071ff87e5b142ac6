"""Kaplan-Meier survival of mentorships against a hand computation: 8 mentorships with two
ends on one day, a censoring on the same day, and ends that are not events."""

from __future__ import annotations

import math
from datetime import date

import httpx
import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.kit.clock import today_in
from mentorat.reports.kaplan_meier import kaplan_meier
from tests.api.support import assert_problem
from tests.factories import Actors, create_association, create_mentor
from tests.reports.support import child_in_care, mentorship

URL = "/v1/reports/survival"
D = date
Z = 1.959963984540054

# (start, end, reason): days from start 31, 31, 31, 91, 182, 261, 580, live (censored).
SPANS = [
    (D(2024, 1, 1), D(2024, 2, 1), "child_choice"),
    (D(2024, 1, 1), D(2024, 2, 1), "mentor_unavailable"),
    (D(2024, 1, 1), D(2024, 2, 1), "completed"),  # censored on the day of two ends
    (D(2024, 1, 1), D(2024, 4, 1), "placement_change"),  # day 91 (2024 is a leap year)
    (D(2024, 1, 1), D(2024, 7, 1), "age_limit"),  # censored on day 182
    (D(2024, 1, 1), D(2024, 9, 18), "other"),  # day 261
    (D(2023, 6, 1), D(2025, 1, 1), "safeguarding"),  # day 580
    (D(2023, 6, 1), None, None),  # live
]


def log_log(survival: float, greenwood: float) -> tuple[float, float]:
    sigma = math.sqrt(greenwood) / abs(math.log(survival))
    return survival ** math.exp(Z * sigma), survival ** math.exp(-Z * sigma)


# By hand: day 31: 8 at risk, 2 ends: S = 6/8; day 91: 5 at risk, 1 end: S = 0.75 * 4/5;
# day 182: a censoring; day 261: 3 at risk: S = 0.6 * 2/3; day 580: 2 at risk: S = 0.4 / 2.
GREENWOOD_31 = 2 / (8 * 6)
GREENWOOD_91 = GREENWOOD_31 + 1 / (5 * 4)
GREENWOOD_261 = GREENWOOD_91 + 1 / (3 * 2)
GREENWOOD_580 = GREENWOOD_261 + 1 / (2 * 1)


class TestKaplanMeier:
    def test_hand_computation(self) -> None:
        durations = np.array([31, 31, 31, 91, 182, 261, 580, 900])
        ended_early = np.array([True, True, False, True, False, True, True, False])
        curve = kaplan_meier(durations, ended_early)
        assert curve.days.tolist() == [31, 91, 182, 261, 580, 900]
        assert curve.at_risk.tolist() == [8, 5, 4, 3, 2, 1]
        assert curve.events.tolist() == [2, 1, 0, 1, 1, 0]
        assert curve.censored.tolist() == [1, 0, 1, 0, 0, 1]
        assert curve.survival.tolist() == pytest.approx([0.75, 0.6, 0.6, 0.4, 0.2, 0.2])
        assert (curve.lower[0], curve.upper[0]) == pytest.approx(log_log(0.75, GREENWOOD_31))
        # 0.6 with Greenwood 0.0917: (0.1955, 0.8523)
        assert (curve.lower[1], curve.upper[1]) == pytest.approx(log_log(0.6, GREENWOOD_91))
        assert (curve.lower[1], curve.upper[1]) == pytest.approx((0.1955, 0.8523), abs=1e-4)
        assert (curve.lower[3], curve.upper[3]) == pytest.approx(log_log(0.4, GREENWOOD_261))
        assert (curve.lower[4], curve.upper[4]) == pytest.approx(log_log(0.2, GREENWOOD_580))
        assert curve.at(30) == (1.0, None, None, 8)
        assert curve.at(91)[0] == pytest.approx(0.6)
        assert curve.at(91)[3] == 5
        assert curve.at(901) == (None, None, None, 0)

    def test_everyone_ending_early_drops_to_zero_without_interval(self) -> None:
        curve = kaplan_meier(np.array([10, 20]), np.array([True, True]))
        assert curve.survival.tolist() == [0.5, 0.0]
        assert np.isnan(curve.lower[1])
        assert curve.at(25) == (0.0, None, None, 0)

    def test_no_mentorship(self) -> None:
        curve = kaplan_meier(np.array([], dtype=np.int64), np.array([], dtype=bool))
        assert len(curve.days) == 0
        assert curve.at(91) == (None, None, None, 0)


@pytest.fixture
async def spans(session: AsyncSession, actors: Actors) -> None:
    other = await create_association(session, departements=("53",))
    mentor = await create_mentor(session, association=actors.association_a, capacity=9)
    elsewhere = await create_mentor(session, association=other)
    for start, end, reason in SPANS:
        child = await child_in_care(
            session, born=D(2010, 1, 1), entry=2021, care_from=D(2015, 1, 1)
        )
        await mentorship(
            session, child, mentor, accepted=start, started=start,
            ended=None if end is None else (end, reason),
        )  # fmt: skip
    # Never started: left out. Another association's: left out of association A's report.
    child = await child_in_care(session, born=D(2010, 1, 1), entry=2021, care_from=D(2015, 1, 1))
    await mentorship(session, child, mentor, accepted=D(2024, 1, 1), started=None,
                     ended=(D(2024, 1, 5), "child_choice"))  # fmt: skip
    child = await child_in_care(session, born=D(2010, 1, 1), entry=2021, care_from=D(2015, 1, 1))
    await mentorship(session, child, elsewhere, accepted=D(2024, 1, 1), started=D(2024, 1, 1),
                     ended=(D(2024, 1, 11), "other"))  # fmt: skip
    await session.commit()


class TestSurvivalReport:
    @pytest.mark.usefixtures("spans")
    async def test_figures_of_association_a(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        params = {"departement": "53", "association": str(actors.association_a.id)}
        response = await client.get(URL, params=params, headers=actors.manager_53)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["mentorships"], report["events"], report["censored"]) == (8, 5, 3)
        live_days = (today_in("53") - D(2023, 6, 1)).days
        assert [step["day"] for step in report["curve"]] == [31, 91, 182, 261, 580, live_days]
        assert [step["at_risk"] for step in report["curve"]] == [8, 5, 4, 3, 2, 1]
        assert [step["survival"] for step in report["curve"]] == [0.75, 0.6, 0.6, 0.4, 0.2, 0.2]
        lower, upper = log_log(0.6, GREENWOOD_91)
        assert report["horizons"][0] == {
            "months": 3, "day": 91, "survival": 0.6, "lower": round(lower, 4),
            "upper": round(upper, 4), "at_risk": 5,
        }  # fmt: skip
        assert [h["survival"] for h in report["horizons"]] == [0.6, 0.6, 0.4]
        assert [h["at_risk"] for h in report["horizons"]] == [5, 4, 2]
        lower, upper = log_log(0.4, GREENWOOD_261)
        assert (report["horizons"][2]["lower"], report["horizons"][2]["upper"]) == (
            round(lower, 4), round(upper, 4),
        )  # fmt: skip
        assert report["endings"] == [
            {"quarter": "2024-Q1", "end_reason": "child_choice", "count": 1},
            {"quarter": "2024-Q1", "end_reason": "completed", "count": 1},
            {"quarter": "2024-Q1", "end_reason": "mentor_unavailable", "count": 1},
            {"quarter": "2024-Q2", "end_reason": "placement_change", "count": 1},
            {"quarter": "2024-Q3", "end_reason": "age_limit", "count": 1},
            {"quarter": "2024-Q3", "end_reason": "other", "count": 1},
            {"quarter": "2025-Q1", "end_reason": "safeguarding", "count": 1},
        ]

    @pytest.mark.usefixtures("spans")
    async def test_the_departement_counts_every_association(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        report = (await client.get(URL, params={"departement": "53"}, headers=actors.admin)).json()
        # The other association's mentorship ended early on day 10.
        assert (report["mentorships"], report["events"]) == (9, 6)
        assert report["curve"][0] == {
            "day": 10, "at_risk": 9, "events": 1, "censored": 0,
            "survival": round(8 / 9, 4), "lower": report["curve"][0]["lower"],
            "upper": report["curve"][0]["upper"],
        }  # fmt: skip

    @pytest.mark.usefixtures("spans")
    async def test_a_coordinator_gets_their_association(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        params = {"departement": "53"}
        report = (await client.get(URL, params=params, headers=actors.coordinator_a)).json()
        assert report["association_id"] == str(actors.association_a.id)
        assert report["mentorships"] == 8
        other = {**params, "association": str(actors.association_b.id)}
        assert_problem(await client.get(URL, params=other, headers=actors.coordinator_a), 404)

    async def test_coordinator_of_an_association_elsewhere_is_a_404(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(URL, params={"departement": "53"}, headers=actors.coordinator_b)
        assert_problem(response, 404)

    async def test_association_not_serving_the_departement_is_a_404(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        params = {"departement": "53", "association": str(actors.association_b.id)}
        assert_problem(await client.get(URL, params=params, headers=actors.admin), 404)

    async def test_educators_are_not_readers(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        params = {"departement": "53"}
        assert_problem(await client.get(URL, params=params, headers=actors.educator_53), 403)

    @pytest.mark.usefixtures("spans")
    async def test_csv_and_svg(self, client: httpx.AsyncClient, actors: Actors) -> None:
        params = {"departement": "53", "association": str(actors.association_a.id)}
        as_csv = await client.get(
            URL, params=params, headers={**actors.manager_53, "Accept": "text/csv"}
        )
        lines = as_csv.content.decode("utf-8-sig").splitlines()
        assert lines[0] == (
            "section;day;months;at_risk;events;censored;survival;lower;upper;quarter;"
            "end_reason;count"
        )
        assert lines[1].startswith("curve;31;;8;2;1;0.75;")
        assert "horizon;365;12;2;;;0.4;" in "\n".join(lines)
        assert "ending;;;;;;;;;2025-Q1;safeguarding;1" in lines
        as_svg = await client.get(
            URL, params=params, headers={**actors.manager_53, "Accept": "image/svg+xml"}
        )
        assert as_svg.headers["content-type"] == "image/svg+xml"
        assert b"Mentorship survival" in as_svg.content
        assert b"5 at risk" in as_svg.content
