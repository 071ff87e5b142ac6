"""GET /v1/vocabulary/...: the fixed codes clients must use."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from mentorat.auth.dependencies import AnyRole
from mentorat.kit.problems import problems
from mentorat.kit.schemas import ReadSchema
from mentorat.vocabulary import GOALS, GOALS_VERSION, LANGUAGES

router = APIRouter(prefix="/v1/vocabulary", tags=["vocabulary"], responses=problems(401))


GoalKind = Literal["support", "domain"]


class GoalEntry(ReadSchema):
    code: str
    kind: GoalKind
    label: str


class GoalVocabulary(ReadSchema):
    version: str
    goals: list[GoalEntry]


class LanguageVocabulary(ReadSchema):
    languages: list[str]


@router.get("/goals", response_model=GoalVocabulary)
async def goals(principal: AnyRole) -> GoalVocabulary:
    return GoalVocabulary(
        version=GOALS_VERSION,
        goals=[GoalEntry(code=goal.code, kind=goal.kind, label=goal.label) for goal in GOALS],  # type: ignore[arg-type]
    )


@router.get("/languages", response_model=LanguageVocabulary)
async def languages(principal: AnyRole) -> LanguageVocabulary:
    return LanguageVocabulary(languages=list(LANGUAGES))
