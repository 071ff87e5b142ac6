"""The duty report on a hand-built Mayenne: every figure below is counted by hand from the
dates written here (school year 2025-2026: 2025-09-01 to 2026-08-31; report as of
2026-11-20, so what the cast's factories record today is not seen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.models import Association, Child
from tests.api.support import assert_problem
from tests.factories import Actors, create_association, create_mentor
from tests.reports.support import (
    assess,
    child_in_care,
    consent,
    delays,
    funnel,
    line_of,
    mentorship,
    offer,
    propose,
    stage,
)

URL = "/v1/reports/compliance"
YEAR = {"departement": "53", "school_year": "2025-2026", "as_of": "2026-11-20"}
D = date


@dataclass
class Mayenne:
    association_a: Association
    association_b: Association
    c1: Child
    c5: Child


async def build(session: AsyncSession, actors: Actors) -> Mayenne:
    a = actors.association_a
    b = await create_association(session, departements=("53",), name="Les Ombres 53")
    mentor_a = await create_mentor(session, association=a, capacity=5)
    mentor_b = await create_mentor(session, association=b, capacity=5)

    # C1: enters collège 2025 (F = 2025-09-01), assessed 10 days early, the whole chain with
    # association A, still live.
    c1 = await child_in_care(session, born=D(2014, 3, 10), entry=2025, care_from=D(2020, 1, 1))
    a1 = await assess(session, c1, D(2025, 8, 22))
    await offer(session, c1, a1, D(2025, 9, 1),
                answers={"child": ("agreed", D(2025, 9, 5)),
                         "parents": ("agreed", D(2025, 9, 11))})  # fmt: skip
    p1 = await propose(session, c1, mentor_a, D(2025, 9, 21))
    await mentorship(session, c1, mentor_a, proposal=p1, accepted=D(2025, 9, 25),
                     started=D(2025, 10, 1), meetings=(D(2025, 10, 8), D(2025, 11, 8)))  # fmt: skip

    # C2: delegated to the ASE, assessed 10 days late, association B, ended after 4 months.
    c2 = await child_in_care(session, born=D(2014, 5, 1), entry=2025, care_from=D(2019, 6, 1),
                             situation="delegated_to_ase")  # fmt: skip
    a2 = await assess(session, c2, D(2025, 9, 11))
    await offer(session, c2, a2, D(2025, 9, 21),
                answers={"child": ("agreed", D(2025, 9, 25)),
                         "ase": ("agreed", D(2025, 10, 11))})  # fmt: skip
    p2 = await propose(session, c2, mentor_b, D(2025, 10, 16))
    await mentorship(session, c2, mentor_b, proposal=p2, accepted=D(2025, 10, 20),
                     started=D(2025, 11, 1), ended=(D(2026, 3, 1), "child_choice"),
                     meetings=(D(2025, 11, 4),))  # fmt: skip

    # C3: pupille, assessed on the day, the tutor refuses.
    c3 = await child_in_care(session, born=D(2014, 1, 15), entry=2025, care_from=D(2018, 1, 1),
                             situation="pupille")  # fmt: skip
    a3 = await assess(session, c3, D(2025, 9, 1))
    await offer(session, c3, a3, D(2025, 9, 30),
                answers={"child": ("agreed", D(2025, 10, 5)),
                         "tutor": ("refused", D(2025, 10, 10))})  # fmt: skip

    # C4: assessed a month early, not recommended.
    c4 = await child_in_care(session, born=D(2014, 7, 1), entry=2025, care_from=D(2021, 1, 1))
    await assess(session, c4, D(2025, 8, 1), recommended=False)

    # C5: never assessed (one is recorded after the report day: not seen).
    c5 = await child_in_care(session, born=D(2014, 2, 1), entry=2025, care_from=D(2022, 1, 1))
    await assess(session, c5, D(2026, 11, 21))

    # C6: comes into care at 12 during the year (F = that day), assessed 10 days late, the
    # parents not informed yet.
    c6 = await child_in_care(session, born=D(2013, 4, 10), entry=2024, care_from=D(2025, 11, 15))
    a6 = await assess(session, c6, D(2025, 11, 25))
    await offer(session, c6, a6, D(2025, 12, 5), informed=("child",))

    # C7: renewals; the year's duty is 2026-08-05 (a year after 2025-08-05), renewed on time
    # on 2026-07-30; agreed, no mentor yet.
    c7 = await child_in_care(session, born=D(2012, 10, 1), entry=2023, care_from=D(2015, 1, 1))
    await assess(session, c7, D(2023, 8, 20))
    await assess(session, c7, D(2024, 8, 10), recommended=False)
    await assess(session, c7, D(2025, 8, 5), recommended=False)
    a7 = await assess(session, c7, D(2026, 7, 30))
    await offer(session, c7, a7, D(2026, 8, 10),
                answers={"child": ("agreed", D(2026, 8, 12)),
                         "parents": ("agreed", D(2026, 8, 20))})  # fmt: skip

    # C8: a young adult who asked on 2025-10-01; a first proposal declined, the second one
    # started; completed after 5 months, no meeting recorded.
    c8 = await child_in_care(session, born=D(2006, 1, 10), entry=2017, care_from=D(2016, 1, 1),
                             situation="young_adult", requested=D(2025, 10, 1))  # fmt: skip
    a8 = await assess(session, c8, D(2025, 10, 11))
    await offer(session, c8, a8, D(2025, 10, 21),
                answers={"young_adult": ("agreed", D(2025, 10, 31))})  # fmt: skip
    await propose(session, c8, mentor_a, D(2025, 11, 10), status="declined")
    p8 = await propose(session, c8, mentor_a, D(2025, 11, 20))
    await mentorship(session, c8, mentor_a, proposal=p8, accepted=D(2025, 11, 25),
                     started=D(2025, 12, 10), ended=(D(2026, 5, 10), "completed"))  # fmt: skip

    # Not in scope: a young adult who did not ask, a child of 10 entering collège in 2027, a
    # child who left care before the year, a child of another département.
    await child_in_care(session, born=D(2006, 5, 5), entry=2017, care_from=D(2016, 1, 1),
                        situation="young_adult")  # fmt: skip
    await child_in_care(session, born=D(2016, 6, 1), entry=2027, care_from=D(2020, 1, 1))
    await child_in_care(session, born=D(2013, 1, 1), entry=2024, care_from=D(2015, 1, 1),
                        left=D(2025, 8, 15))  # fmt: skip
    c14 = await child_in_care(session, born=D(2014, 1, 1), entry=2025, care_from=D(2020, 1, 1),
                              departement="75")  # fmt: skip
    await assess(session, c14, D(2025, 8, 1))

    # C11: 11 on 2026-03-01, enters collège in 2026: eligible, due next year (assessed early,
    # still not due this year).
    c11 = await child_in_care(session, born=D(2015, 3, 1), entry=2026, care_from=D(2020, 1, 1))
    await assess(session, c11, D(2026, 6, 15))

    # C13: leaves care on 2025-10-01, never assessed.
    await child_in_care(session, born=D(2014, 9, 1), entry=2025, care_from=D(2020, 1, 1),
                        left=D(2025, 10, 1))  # fmt: skip

    # C16: pupille entering collège in 2024, assessed 2024-08-25; the renewal due 2025-08-25
    # is late (2025-09-05); association B, live.
    c16 = await child_in_care(session, born=D(2013, 2, 1), entry=2024, care_from=D(2014, 1, 1),
                              situation="pupille")  # fmt: skip
    await assess(session, c16, D(2024, 8, 25))
    a16 = await assess(session, c16, D(2025, 9, 5))
    await offer(session, c16, a16, D(2025, 9, 15),
                answers={"child": ("agreed", D(2025, 9, 20)), "tutor": ("agreed", D(2025, 9, 25)),
                         "family_council": ("agreed", D(2025, 9, 30))})  # fmt: skip
    p16 = await propose(session, c16, mentor_b, D(2025, 10, 10))
    await mentorship(session, c16, mentor_b, proposal=p16, accepted=D(2025, 10, 15),
                     started=D(2025, 10, 20), meetings=(D(2025, 10, 25),))  # fmt: skip
    await session.commit()
    return Mayenne(association_a=a, association_b=b, c1=c1, c5=c5)


@pytest.fixture
async def mayenne(session: AsyncSession, actors: Actors) -> Mayenne:
    return await build(session, actors)


EXPECTED_FUNNEL = {
    "eligible": 11,  # C1 to C8, C11, C13, C16
    "assessment_due": 10,  # all but C11 (due 2026-09-01)
    "assessed": 8,  # not C5, C13
    "recommended": 7,  # not C4
    "informed": 6,  # not C6
    "agreed": 5,  # C1, C2, C7, C8, C16
    "waiting": 1,  # C7
    "proposed": 4,  # C1, C2, C8, C16
    "started": 4,
    "active_3_months": 4,
    "active_6_months": 2,  # C2 ended 2026-03-01, C8 on 2026-05-10
    "active_12_months": 2,  # C1, C16 (C8's 12 months not yet passed)
}
EXPECTED_DELAYS = {
    # [-31, -10, 0, 10, 10, 10]: median (0 + 10) / 2; p90 at rank 4.5 between 10 and 10
    "entry_to_assessment": (6, 5.0, 10.0),
    # [10, 10, 10, 10, 10, 11, 29]: p90 at rank 5.4: 11 + 0.4 * 18
    "assessment_to_offer": (7, 10.0, 18.2),
    # [10, 10, 10, 15, 20]: p90 at rank 3.6: 15 + 0.6 * 5
    "offer_to_agreements": (5, 10.0, 18.0),
    # [5, 10, 10, 10]
    "agreements_to_proposal": (4, 10.0, 10.0),
    # [10, 10, 16, 20]: median 13; p90 at rank 2.7: 16 + 0.7 * 4
    "proposal_to_start": (4, 13.0, 18.8),
    # [3, 5, 7]: p90 at rank 1.8: 5 + 0.8 * 2
    "start_to_first_meeting": (3, 5.0, 6.6),
}


class TestHandBuiltDepartement:
    async def test_overall_chain_and_delays(
        self, client: httpx.AsyncClient, actors: Actors, mayenne: Mayenne
    ) -> None:
        response = await client.get(URL, params=YEAR, headers=actors.manager_53)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["year_starts_on"] == "2025-09-01"
        assert report["year_ends_on"] == "2026-08-31"
        assert report["report_date"] == "2026-11-20"
        assert report["scope"] == "departement"
        overall = report["overall"]
        assert funnel(overall) == EXPECTED_FUNNEL
        # On time: C1, C3, C4 (first assessments), C7 (renewal); late: C2, C6, C8, C16.
        assert stage(overall, "assessed")["on_time"] == 4
        assert stage(overall, "recommended")["in_mentorship"] == 0
        assert stage(overall, "active_3_months")["observable"] == 4
        assert stage(overall, "active_6_months")["observable"] == 4
        assert stage(overall, "active_12_months")["observable"] == 3
        assert delays(overall) == EXPECTED_DELAYS

    async def test_breakdowns(
        self, client: httpx.AsyncClient, actors: Actors, mayenne: Mayenne
    ) -> None:
        report = (await client.get(URL, params=YEAR, headers=actors.admin)).json()
        cohorts = {line["key"]: funnel(line)["eligible"] for line in report["by_cohort"]}
        assert cohorts == {"2017": 1, "2023": 1, "2024": 2, "2025": 6, "2026": 1}
        cohort_2025 = line_of(report["by_cohort"], "2025")
        assert funnel(cohort_2025) == {
            "eligible": 6, "assessment_due": 6, "assessed": 4, "recommended": 3,
            "informed": 3, "agreed": 2, "waiting": 0, "proposed": 2, "started": 2,
            "active_3_months": 2, "active_6_months": 1, "active_12_months": 1,
        }  # fmt: skip
        assert stage(cohort_2025, "assessed")["on_time"] == 3
        assert funnel(line_of(report["by_cohort"], "2026"))["assessment_due"] == 0

        situations = {
            line["key"]: funnel(line)["eligible"] for line in report["by_legal_situation"]
        }
        assert situations == {
            "parental_authority": 7, "delegated_to_ase": 1, "pupille": 2, "young_adult": 1,
        }  # fmt: skip
        parental = line_of(report["by_legal_situation"], "parental_authority")
        assert funnel(parental) == {
            "eligible": 7, "assessment_due": 6, "assessed": 4, "recommended": 3,
            "informed": 2, "agreed": 2, "waiting": 1, "proposed": 1, "started": 1,
            "active_3_months": 1, "active_6_months": 1, "active_12_months": 1,
        }  # fmt: skip

        a, b = str(mayenne.association_a.id), str(mayenne.association_b.id)
        names = {a: mayenne.association_a.name, b: "Les Ombres 53"}
        ordered = sorted([a, b], key=lambda key: names[key])
        assert [line["key"] for line in report["by_association"]] == [*ordered, None]
        line_a = line_of(report["by_association"], a)
        assert funnel(line_a) == {
            "eligible": 2, "assessment_due": 2, "assessed": 2, "recommended": 2,
            "informed": 2, "agreed": 2, "waiting": 0, "proposed": 2, "started": 2,
            "active_3_months": 2, "active_6_months": 1, "active_12_months": 1,
        }  # fmt: skip
        assert stage(line_a, "active_12_months")["observable"] == 1
        # C1 -10 and C8 +10: p90 at rank 0.9: -10 + 0.9 * 20
        assert delays(line_a)["entry_to_assessment"] == (2, 0.0, 8.0)
        assert line_of(report["by_association"], b)["label"] == "Les Ombres 53"
        assert funnel(line_of(report["by_association"], None))["eligible"] == 7

    async def test_a_coordinator_sees_only_their_association(
        self, client: httpx.AsyncClient, actors: Actors, mayenne: Mayenne
    ) -> None:
        report = (await client.get(URL, params=YEAR, headers=actors.coordinator_a)).json()
        assert report["scope"] == "association"
        assert [line["key"] for line in report["by_association"]] == [str(mayenne.association_a.id)]
        assert funnel(report["overall"])["eligible"] == 2
        assert funnel(report["overall"]) == funnel(report["by_association"][0])
        assert sum(funnel(line)["eligible"] for line in report["by_cohort"]) == 2


class TestRenewalDuringAMentorship:
    async def test_needs_no_new_offer_and_is_counted_apart(
        self, client: httpx.AsyncClient, actors: Actors, session: AsyncSession
    ) -> None:
        mentor = await create_mentor(session, association=actors.association_b, capacity=2)
        child = await child_in_care(
            session, born=D(2013, 3, 1), entry=2024, care_from=D(2020, 1, 1), departement="75"
        )
        first = await assess(session, child, D(2024, 8, 20))
        await offer(session, child, first, D(2024, 9, 1),
                    answers={"child": ("agreed", D(2024, 9, 5)),
                             "parents": ("agreed", D(2024, 9, 10))})  # fmt: skip
        proposal = await propose(session, child, mentor, D(2024, 9, 15))
        await mentorship(session, child, mentor, proposal=proposal, accepted=D(2024, 9, 20),
                         started=D(2024, 10, 1))  # fmt: skip
        # The renewal due 2025-08-20 is done late, on 2025-09-10, during the mentorship.
        await assess(session, child, D(2025, 9, 10))
        await session.commit()
        params = {**YEAR, "departement": "75"}
        report = (await client.get(URL, params=params, headers=actors.admin)).json()
        overall = report["overall"]
        assert funnel(overall)["recommended"] == 1
        assert stage(overall, "recommended")["in_mentorship"] == 1
        assert funnel(overall)["informed"] == 0
        assert stage(overall, "assessed")["on_time"] == 0
        # Last year's report follows that mentorship from its offer.
        last_year = {**params, "school_year": "2024-2025"}
        previous = (await client.get(URL, params=last_year, headers=actors.admin)).json()
        assert funnel(previous["overall"])["started"] == 1
        assert stage(previous["overall"], "recommended")["in_mentorship"] == 0


class TestAsOf:
    async def test_last_years_figures_stay_after_this_years_changes(
        self, client: httpx.AsyncClient, actors: Actors, session: AsyncSession, mayenne: Mayenne
    ) -> None:
        before = (await client.get(URL, params=YEAR, headers=actors.manager_53)).json()
        # This year's changes, recorded now: C5 assessed and offered, C1 leaves care, its
        # mentorship ends, C6's parents are informed.
        assessment = await assess(session, mayenne.c5, D(2025, 9, 3), recorded=D(2026, 11, 24))
        made = await offer(
            session, mayenne.c5, assessment, D(2025, 9, 10), informed=(), recorded=D(2026, 11, 24)
        )
        await consent(session, made, "child", "informed", D(2025, 9, 10), D(2026, 11, 24))
        await consent(session, made, "parents", "informed", D(2025, 9, 10), D(2026, 11, 24))
        mayenne.c1.left_care_on = D(2025, 9, 2)
        await session.commit()
        after = (await client.get(URL, params=YEAR, headers=actors.manager_53)).json()
        assert after == before
        later = {**YEAR, "as_of": "2026-11-24"}
        now = (await client.get(URL, params=later, headers=actors.manager_53)).json()
        # As of 2026-11-24: C5 assessed (late) and informed; C1 still in care on 2025-09-01
        # (leaving 2025-09-02 keeps it eligible) but its care facts changed today, not then.
        assert funnel(now["overall"])["assessed"] == 9
        assert funnel(now["overall"])["informed"] == 7

    async def test_a_day_inside_the_year_counts_only_what_fell_due(
        self, client: httpx.AsyncClient, actors: Actors, mayenne: Mayenne
    ) -> None:
        params = {**YEAR, "as_of": "2025-10-15"}
        report = (await client.get(URL, params=params, headers=actors.manager_53)).json()
        overall = report["overall"]
        # Known by 2025-10-15: C1-C5, C7, C8 (asked 2025-10-01), C11, C13, C16; not C6 (came
        # into care 2025-11-15, recorded then).
        assert funnel(overall)["eligible"] == 10
        # C7's duty (2026-08-05) is not due yet; C11's is next year.
        assert funnel(overall)["assessment_due"] == 8
        # C1, C2, C3, C4, C8 (2025-10-11), C16; C5 and C13 not.
        assert funnel(overall)["assessed"] == 6
        # C2: ase agreed 2025-10-11; C8 on 2025-10-31 (not yet); C16 2025-09-30; C1.
        assert funnel(overall)["agreed"] == 3
        # C1 (2025-10-01) and C16 (2025-10-20: not yet); C2 proposed 2025-10-16 only.
        assert funnel(overall)["started"] == 1
        # C2, agreed on 2025-10-11, gets its proposal on 2025-10-16.
        assert funnel(overall)["waiting"] == 1
        assert stage(overall, "active_3_months")["observable"] == 0


class TestAccess:
    async def test_educators_are_not_readers(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(URL, params=YEAR, headers=actors.educator_53)
        assert_problem(response, 403)

    @pytest.mark.parametrize("who", ["coordinator_b", "manager_53"])
    async def test_another_departement_is_a_404(
        self, client: httpx.AsyncClient, actors: Actors, who: str
    ) -> None:
        params = {**YEAR, "departement": "75" if who == "manager_53" else "53"}
        response = await client.get(URL, params=params, headers=getattr(actors, who))
        assert_problem(response, 404)

    async def test_no_token_is_a_401(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get(URL, params=YEAR), 401)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"school_year": "2025"}, "school_year"),
            ({"school_year": "2025-2027"}, "school_year"),
            ({"as_of": "2999-01-01"}, "as_of"),
            ({"as_of": "yesterday"}, "as_of"),
            ({"departement": "00"}, "departement"),
        ],
    )
    async def test_bad_parameters_are_a_422(
        self, client: httpx.AsyncClient, actors: Actors, params: dict[str, str], field: str
    ) -> None:
        response = await client.get(URL, params={**YEAR, **params}, headers=actors.admin)
        assert_problem(response, 422, field)

    async def test_an_unknown_departement_is_a_404(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        params = {**YEAR, "departement": "12M"}
        response = await client.get(URL, params=params, headers=actors.admin)
        assert_problem(response, 404)


class TestFormats:
    async def test_csv_has_a_row_per_figure(
        self, client: httpx.AsyncClient, actors: Actors, mayenne: Mayenne
    ) -> None:
        response = await client.get(
            URL, params=YEAR, headers={**actors.manager_53, "Accept": "text/csv"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        lines = response.content.decode("utf-8-sig").splitlines()
        assert lines[0] == (
            "breakdown;key;label;measure;count;on_time;observable;median_days;p90_days;"
            "in_mentorship"
        )
        assert "all;;All children;eligible;11;;;;;" in lines
        assert "all;;All children;assessed;8;4;;;;" in lines
        assert "all;;All children;active_12_months;2;;3;;;" in lines
        assert "all;;All children;assessment_to_offer;7;;;10.0;18.2;" in lines
        assert "cohort;2025;Collège entry 2025;eligible;6;;;;;" in lines

    async def test_svg_is_the_funnel(
        self, client: httpx.AsyncClient, actors: Actors, mayenne: Mayenne
    ) -> None:
        response = await client.get(
            URL, params=YEAR, headers={**actors.manager_53, "Accept": "image/svg+xml"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        assert b"<svg" in response.content
        assert b"Mentoring duty 2025-2026" in response.content
        assert b"Active at 12 months" in response.content

    async def test_an_unservable_accept_is_a_406(
        self, client: httpx.AsyncClient, actors: Actors
    ) -> None:
        response = await client.get(
            URL, params=YEAR, headers={**actors.manager_53, "Accept": "text/html"}
        )
        assert_problem(response, 406)
