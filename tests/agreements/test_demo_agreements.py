"""The demo's associations work under agreements: one expired and renewed, all in force."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mentorat.demo import ASSOCIATIONS, load_demo
from mentorat.models import Association, AssociationAgreement

TODAY = date(2026, 11, 25)


async def test_every_demo_association_is_under_an_agreement_in_force(
    session: AsyncSession,
) -> None:
    assert await load_demo(session, children=10, mentors=6, today=TODAY)
    names = [name for name, _, _ in ASSOCIATIONS]
    rows = (
        await session.execute(
            select(Association.name, AssociationAgreement)
            .join(AssociationAgreement, AssociationAgreement.association_id == Association.id)
            .where(Association.name.in_(names))
            .order_by(AssociationAgreement.valid_from)
        )
    ).all()
    periods = {
        name: [(a.valid_from, a.valid_until) for n, a in rows if n == name] for name in names
    }
    assert periods == {
        names[0]: [
            (date(2023, 9, 1), date(2025, 8, 31)),
            (date(2025, 9, 1), date(2028, 8, 31)),
        ],
        names[1]: [(date(2024, 9, 1), None)],
        names[2]: [(date(2026, 9, 1), date(2029, 8, 31))],
    }
    assert all(a.departement_code == "53" and a.signed_on < a.valid_from for _, a in rows)
