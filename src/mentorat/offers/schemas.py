from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from mentorat.kit.schemas import IsoDate, ReadSchema, Schema, UpdateSchema
from mentorat.models.legal import CONSENT_KINDS, CONSENT_PARTIES, LEGAL_SITUATIONS
from mentorat.models.mentorship import OFFER_OUTCOMES

OfferOutcome = Literal[OFFER_OUTCOMES]  # type: ignore[valid-type]
LegalSituation = Literal[LEGAL_SITUATIONS]  # type: ignore[valid-type]
ConsentParty = Literal[CONSENT_PARTIES]  # type: ignore[valid-type]
ConsentKind = Literal[CONSENT_KINDS]  # type: ignore[valid-type]
Note = Annotated[str, Field(max_length=2000)]
Opinion = Annotated[str, Field(max_length=2000)]
PARTIES_SPEAKING_FOR_THEMSELVES = frozenset({"child", "young_adult"})
MAX_CONSENTS_WITH_AN_OFFER = 20

NOTE = "Free note on the offer (2,000 characters at most); null: none."
PARTY = (
    "Who: child (the child's opinion and agreement), parents (the holders of parental "
    "authority), tutor and family_council (a pupille de l'État's), ase (the ASE under a "
    "delegation of parental authority), young_adult (their own agreement). Only the parties "
    "the offer's legal situation requires are accepted (see required_parties)."
)
KIND = (
    "informed (the information on the scheme was given), agreed or refused (the party's "
    "answer; one answer per party, final)."
)
GIVEN_ON = (
    "Date the information or answer was given (ISO date): not before the assessment the offer "
    "rests on, not in the future."
)
OPINION = (
    "The child's (or young adult's) opinion, in their words or the educator's summary "
    "(2,000 characters at most); only with party child or young_adult; null: none."
)
LEGAL_SITUATION = (
    "The child's legal situation when the offer was made, which decides whose agreement it "
    "needs: parental_authority (child and parents), delegated_to_ase (child and ase), pupille "
    "(child, tutor and family_council), young_adult (the young adult alone)."
)


class ConsentCreate(Schema):
    """One fact of an offer (CASF D221-35): a party informed, agreeing or refusing. Facts are
    never changed or removed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "party": "child",
                    "kind": "agreed",
                    "given_on": "2026-09-16",
                    "opinion": "Wants help to find a stage in 3e.",
                },
                {"party": "parents", "kind": "informed", "given_on": "2026-09-14"},
            ]
        }
    )

    party: ConsentParty = Field(description=PARTY)
    kind: ConsentKind = Field(description=KIND)
    given_on: IsoDate = Field(description=GIVEN_ON)
    opinion: Opinion | None = Field(default=None, description=OPINION)

    @field_validator("opinion")
    @classmethod
    def _opinion_of_the_child(cls, value: str | None, info: ValidationInfo) -> str | None:
        party = info.data.get("party")
        if value and party is not None and party not in PARTIES_SPEAKING_FOR_THEMSELVES:
            raise ValueError("an opinion is the child's or the young adult's only")
        return value or None


class OfferCreate(Schema):
    """The legal offer of a mentor to a child, with the facts already known."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "offered_on": "2026-09-14",
                    "note": "Offered at the review meeting in Laval, with the mother present.",
                    "consents": [
                        {"party": "child", "kind": "informed", "given_on": "2026-09-14"},
                        {"party": "parents", "kind": "informed", "given_on": "2026-09-14"},
                    ],
                },
                {"offered_on": "2026-09-14"},
            ]
        }
    )

    offered_on: IsoDate | None = Field(
        default=None,
        description="Date the offer was made (ISO date); defaults to today. It needs an "
        "assessment recommending mentoring, dated on or before it and less than a year old.",
    )
    note: Note | None = Field(default=None, description=NOTE)
    consents: list[ConsentCreate] = Field(
        default_factory=list,
        max_length=MAX_CONSENTS_WITH_AN_OFFER,
        description="Facts recorded with the offer, in the order given (same rules as "
        "POST /v1/offers/{offer_id}/consents); left out: none yet.",
    )


class OfferUpdate(UpdateSchema):
    """The note is all that changes on an offer; facts are added as consents."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "To see again in 5e."}]})

    nullable_fields = frozenset({"note"})

    note: Note | None = Field(default=None, description=NOTE)


class Consent(ReadSchema):
    """One recorded fact of an offer."""

    id: int = Field(description="The fact's id (in recording order).")
    party: ConsentParty = Field(description=PARTY)
    kind: ConsentKind = Field(description=KIND)
    given_on: date = Field(description="Date the information or answer was given.")
    opinion: str | None = Field(description=OPINION)
    recorded_at: datetime = Field(description="When the fact was recorded (UTC).")
    recorded_by_name: str = Field(description="Name of whoever recorded it.")


class Offer(ReadSchema):
    """An offer of a mentor made to a child: whose agreement it needs, the facts recorded and
    its outcome."""

    id: uuid.UUID = Field(description="The offer's id.")
    child_id: uuid.UUID = Field(description="The child.")
    departement_code: str = Field(description="The child's département.")
    offered_on: date = Field(description="Date the offer was made.")
    offered_by_name: str = Field(description="Name of whoever recorded the offer.")
    legal_situation: LegalSituation = Field(description=LEGAL_SITUATION)
    assessment_id: uuid.UUID | None = Field(
        description="The recommending assessment the offer rests on; null only for offers "
        "recorded before assessments were."
    )
    required_parties: list[ConsentParty] = Field(
        description="The parties whose agreement the offer needs, from its legal situation."
    )
    consents: list[Consent] = Field(description="Every fact recorded, the oldest first.")
    awaiting: list[ConsentParty] = Field(description="Required parties that have not answered yet.")
    not_informed: list[ConsentParty] = Field(
        description="Required parties (the child or young adult, and the holders of parental "
        "authority of the legal situation) with no `informed` fact yet."
    )
    outcome: OfferOutcome = Field(
        description="Derived by the database from the facts: refused as soon as a required "
        "party refuses, accepted once every required party agreed, otherwise pending. Only a "
        "child whose latest offer is accepted is matched."
    )
    note: str | None = Field(description=NOTE)
    decided_at: datetime | None = Field(
        description="When the outcome stopped being pending (UTC); null until then."
    )
    version: int = Field(
        description="Incremented on every change (each fact included); the ETag to send back "
        "in If-Match."
    )
    created_at: datetime = Field(description="When the offer was recorded (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")
