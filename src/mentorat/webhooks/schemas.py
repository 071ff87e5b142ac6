from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from mentorat.kit.schemas import DepartementCode, Flag, ReadSchema, Schema, UpdateSchema
from mentorat.models import EVENT_TYPES

EventType = StrEnum(  # type: ignore[misc]
    "EventType", {name.replace(".", "_"): name for name in EVENT_TYPES}
)
EventType.__doc__ = "What an event says happened (`webhook.test`: the test action's event)."


class AttemptOutcome(StrEnum):
    """What an attempt led to: done, another attempt later, or given up."""

    succeeded = "succeeded"
    retrying = "retrying"
    failed = "failed"


TEST_EVENT = "webhook.test"
URL_MAX = 2000
WebhookUrl = Annotated[str, StringConstraints(min_length=8, max_length=URL_MAX)]
Description = Annotated[str, StringConstraints(min_length=1, max_length=500)]

URL = (
    "Where events are POSTed: an https URL (plain http only for a loopback host, or where the "
    "server allows it), at most 2000 characters, without user or password. Redirects are not "
    "followed."
)
EVENT_TYPES_WANTED = (
    "The event types to send (at least one, each once; `webhook.test` is sent by the test "
    "action whatever this holds)."
)
DESCRIPTION = "What the endpoint is for (1 to 500 characters); null: none."
ACTIVE = "Whether events are sent to it; an inactive endpoint gets no new events."
EXAMPLE_URL = "https://ase.lamayenne.fr/hooks/mentorat"
EXAMPLE_TYPES = ["proposal.accepted", "mentorship.started", "mentorship.ended"]


WEBHOOK_EXAMPLE = {
    "id": "0b9d5c1e-7a3f-4c2d-8e6b-5f4a3b2c1d0e",
    "departement_code": "53",
    "url": EXAMPLE_URL,
    "event_types": EXAMPLE_TYPES,
    "description": "Tableau de bord du service ASE",
    "active": True,
    "disabled_reason": None,
    "failing_since": None,
    "last_success_at": "2026-11-25T14:02:11Z",
    "version": 1,
    "created_at": "2026-11-20T09:30:00Z",
    "updated_at": "2026-11-20T09:30:00Z",
}


def _each_once(values: list[EventType] | None) -> list[EventType] | None:
    if values is None:
        return None
    if len(set(values)) != len(values):
        raise ValueError("each event type may be listed once")
    if TEST_EVENT in values:
        raise ValueError("webhook.test is sent by the test action, not subscribed to")
    return values


class WebhookCreate(Schema):
    """An endpoint to register. The answer carries its signing secret, shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": EXAMPLE_URL,
                    "event_types": EXAMPLE_TYPES,
                    "description": "Tableau de bord du service ASE",
                    "departement_code": "53",
                }
            ]
        }
    )

    url: WebhookUrl = Field(description=URL)
    event_types: list[EventType] = Field(min_length=1, description=EVENT_TYPES_WANTED)
    description: Description | None = Field(default=None, description=DESCRIPTION)
    departement_code: DepartementCode | None = Field(
        default=None,
        description="Whose events it gets. A département manager: their own (the default). "
        "An administrator: that département's, or null (the default) for every département's.",
    )
    active: Flag = Field(default=True, description=ACTIVE)

    _types = field_validator("event_types")(_each_once)


class WebhookUpdate(UpdateSchema):
    """The fields to change; those left out stay as they are. Setting `active` to true again
    turns on an endpoint the service disabled because it kept failing."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    nullable_fields = frozenset({"description"})

    url: WebhookUrl | None = Field(default=None, description=URL)
    event_types: list[EventType] | None = Field(
        default=None, min_length=1, description=EVENT_TYPES_WANTED
    )
    description: Description | None = Field(default=None, description=DESCRIPTION)
    active: Flag | None = Field(default=None, description=ACTIVE)

    _types = field_validator("event_types")(_each_once)


class Webhook(ReadSchema):
    """A registered endpoint, without its secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [WEBHOOK_EXAMPLE]})

    id: uuid.UUID = Field(description="The endpoint's id.")
    departement_code: str | None = Field(
        description="The département whose events it gets; null: every département's."
    )
    url: str = Field(description=URL)
    event_types: list[EventType] = Field(description=EVENT_TYPES_WANTED)
    description: str | None = Field(description=DESCRIPTION)
    active: bool = Field(description=ACTIVE)
    disabled_reason: str | None = Field(
        description="Why the service turned it off (`failing`: every attempt failed for 5 "
        "days); null when it is active or was turned off by someone."
    )
    failing_since: datetime | None = Field(
        description="Since when every attempt failed (UTC); null after a success."
    )
    last_success_at: datetime | None = Field(description="The last delivery it accepted (UTC).")
    version: int = Field(
        description="Incremented on every change; the ETag to send back in If-Match."
    )
    created_at: datetime = Field(description="When it was registered (UTC).")
    updated_at: datetime = Field(description="When it last changed (UTC).")


class WebhookWithSecret(Webhook):
    """An endpoint with its signing secret: the answer to its creation or a rotation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                WEBHOOK_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw8A7Y1kx4tqA="}
            ]
        }
    )

    secret: str | None = Field(
        description="The signing secret (`whsec_` and base64), shown in this answer only. A "
        "replay of the same Idempotency-Key answers null: rotate it if the first answer was "
        "lost."
    )


class WebhookTest(ReadSchema):
    """The test event made for one endpoint, sent by the next delivery pass."""

    event_id: uuid.UUID = Field(description="The `webhook.test` event (the `webhook-id` sent).")
    delivery_id: uuid.UUID = Field(description="Its delivery, in the endpoint's delivery log.")


class DeliveryAttempt(ReadSchema):
    """One attempt to deliver an event to the endpoint."""

    id: int = Field(description="The attempt's number in the log (increasing).")
    delivery_id: uuid.UUID = Field(description="The delivery (one event to this endpoint).")
    event_id: uuid.UUID = Field(description="The event sent (its `webhook-id` header).")
    event_type: EventType = Field(description="The event's type.")
    attempt: int = Field(description="1 for the first attempt of this delivery, then 2, ...")
    attempted_at: datetime = Field(description="When the attempt was made (UTC).")
    status_code: int | None = Field(
        description="The HTTP status answered; null when none came (timeout, refused, ...)."
    )
    duration_ms: int = Field(description="How long the attempt took, in milliseconds.")
    error: str | None = Field(
        description="What went wrong, when the answer was not a 2xx (no body is kept)."
    )
    outcome: AttemptOutcome = Field(description="Delivered, to be retried, or given up.")
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due (UTC), for an outcome `retrying`."
    )
