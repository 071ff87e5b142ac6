"""The examples openapi.json publishes are valid for their schemas, so that the docs, generated
clients and fuzzers built from them send bodies the API accepts."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter

from mentorat.openapi import openapi_document

DOCUMENT = openapi_document()
SCHEMAS: dict[str, dict[str, Any]] = DOCUMENT["components"]["schemas"]
# The main request and response bodies: each must carry at least one example.
MAIN_SCHEMAS = {
    "ChildCreate", "Child", "MentorCreate", "Mentor", "AssociationCreate", "OfferCreate",
    "ProposalCreate", "RunCreate", "Run", "Candidate", "CandidateList", "Mentorship",
    "ObjectiveCreate", "MeetingCreate", "WeeklySlot", "Location",
}  # fmt: skip


def _mentorat_models() -> dict[str, list[type[BaseModel]]]:
    found: dict[str, list[type[BaseModel]]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("mentorat.") and "[" not in cls.__name__:
            found.setdefault(cls.__name__, []).append(cls)
    return found


MODELS = _mentorat_models()


def _model(name: str) -> type[BaseModel]:
    classes = MODELS.get(name, [])
    assert len(classes) == 1, f"component {name} should be one pydantic model, found {classes}"
    return classes[0]


def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    field = model.model_fields[name]
    return TypeAdapter(Annotated[field.annotation, *field.metadata])  # type: ignore[misc]


MODEL_EXAMPLES = [
    (name, index, example)
    for name, schema in sorted(SCHEMAS.items())
    for index, example in enumerate(schema.get("examples", []))
]
PROPERTY_EXAMPLES = [
    (name, prop, example)
    for name, schema in sorted(SCHEMAS.items())
    for prop, prop_schema in schema.get("properties", {}).items()
    for example in prop_schema.get("examples", [])
]
WITH_PROPERTY_EXAMPLES = sorted({name for name, _, _ in PROPERTY_EXAMPLES})


def test_the_main_schemas_carry_examples() -> None:
    assert {name for name in MAIN_SCHEMAS if not SCHEMAS[name].get("examples")} == set()


@pytest.mark.parametrize(
    ("name", "index", "example"),
    MODEL_EXAMPLES,
    ids=[f"{name}-{index}" for name, index, _ in MODEL_EXAMPLES],
)
def test_every_schema_example_is_valid(name: str, index: int, example: Any) -> None:
    _model(name).model_validate(example)


@pytest.mark.parametrize(
    ("name", "prop", "example"),
    PROPERTY_EXAMPLES,
    ids=[f"{name}.{prop}-{example}" for name, prop, example in PROPERTY_EXAMPLES],
)
def test_every_property_example_is_valid(name: str, prop: str, example: Any) -> None:
    _field_adapter(_model(name), prop).validate_python(example)


@pytest.mark.parametrize("name", WITH_PROPERTY_EXAMPLES)
def test_property_examples_together_make_a_valid_object(name: str) -> None:
    """Tools (schemathesis among them) build a body from the properties' first examples: put
    together over the schema's own example, they must still make a valid object."""
    schema = SCHEMAS[name]
    assert schema.get("examples"), f"{name} has property examples but no example to fill in"
    body = {
        **schema["examples"][0],
        **{
            prop: prop_schema["examples"][0]
            for prop, prop_schema in schema["properties"].items()
            if "examples" in prop_schema
        },
    }
    _model(name).model_validate(body)


def test_a_slot_ending_when_it_starts_is_refused() -> None:
    """The check the property examples must satisfy together is real."""
    with pytest.raises(ValueError, match="end must be after start"):
        _model("WeeklySlot").model_validate({"day": "monday", "start": "18:30", "end": "18:30"})
