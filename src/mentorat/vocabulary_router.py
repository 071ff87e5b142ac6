"""GET /v1/vocabulary/...: the fixed codes clients must use."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from mentorat.auth.dependencies import AnyRole
from mentorat.kit.problems import problems
from mentorat.kit.schemas import ReadSchema
from mentorat.vocabulary import GOALS, GOALS_VERSION, LANGUAGES

router = APIRouter(prefix="/v1/vocabulary", tags=["vocabulary"], responses=problems(401))


GoalKind = Literal["support", "domain"]


class GoalEntry(ReadSchema):
    """A goal a child may have and a mentor may help with."""

    code: str = Field(description="The code to use in goals and objective categories.")
    kind: GoalKind = Field(
        description="support: a kind of help (orientation, schooling...); domain: a trade "
        "family of the ROME (rome-A to rome-N)."
    )
    label: str = Field(description="French label, for people.")


class GoalVocabulary(ReadSchema):
    """The goal codes, in the order they are stored and returned."""

    version: str = Field(description="Version of the vocabulary; codes are only ever added.")
    goals: list[GoalEntry] = Field(description="Every goal, in vocabulary order.")


class LanguageVocabulary(ReadSchema):
    """The language codes, in the order they are stored and returned."""

    languages: list[str] = Field(
        description="Language codes: ISO 639-1 where one exists (ber, rcf, gcf, sgn otherwise)."
    )


@router.get("/goals", response_model=GoalVocabulary)
async def goals(principal: AnyRole) -> GoalVocabulary:
    """The goal codes children's goals, mentors' goals and objectives' categories take. Any
    role."""
    return GoalVocabulary(
        version=GOALS_VERSION,
        goals=[GoalEntry(code=goal.code, kind=goal.kind, label=goal.label) for goal in GOALS],  # type: ignore[arg-type]
    )


@router.get("/languages", response_model=LanguageVocabulary)
async def languages(principal: AnyRole) -> LanguageVocabulary:
    """The language codes children's and mentors' languages take. Any role."""
    return LanguageVocabulary(languages=list(LANGUAGES))
