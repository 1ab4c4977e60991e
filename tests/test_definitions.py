"""The saved-definition helper on its own: body validation and the shapes it builds (the storage
side is exercised through its first user, tests/admin/test_webhooks.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import strawberry
from pydantic import BaseModel, field_validator

from pulse import errors
from pulse.definitions import BodyModel, Definitions, connection, given, listing, validated
from pulse.graphql.paging import Window


class Step(BaseModel):
    path: str
    match: str = "exact"  # a default that must not be added to what was sent


class FunnelIn(BodyModel):
    name: str
    steps: list[Step]
    starts_at: datetime | None = None
    window_days: int = 30

    @field_validator("steps")
    @classmethod
    def _two_steps(cls, value: list[Step]) -> list[Step]:
        if len(value) < 2:
            raise ValueError("must have at least 2 steps")
        return value


def refused(body: dict, **options) -> str:
    with pytest.raises(errors.BadRequest) as failure:
        validated(FunnelIn, body, **options)
    return failure.value.message


def test_a_missing_required_field_is_reported_before_any_other_rule():
    assert refused({"steps": [], "extra": 1, "window_days": "x"}) == \
        "Invalid request body: missing required field 'name'."
    assert refused({"name": "n"}) == "Invalid request body: missing required field 'steps'."


def test_rules_read_as_their_own_message():
    assert refused({"name": "n", "steps": [{"path": "/"}]}) == \
        "Invalid request body: field 'steps': must have at least 2 steps."
    assert refused({"name": "n", "steps": [], "color": "red"}).startswith("Invalid request body: field 'steps'")
    assert refused({"name": "n", "steps": [{"path": "/"}, {"path": "/b"}], "color": "red"}) == \
        "Invalid request body: field 'color': Extra inputs are not permitted."


def test_definitions_are_stored_exactly_as_sent():
    steps = [{"path": "/"}, {"path": "/pricing", "match": "prefix"}]
    values = validated(FunnelIn, {"name": "Signup", "steps": steps, "starts_at": "2026-03-01T00:00:00Z"})
    assert values == {"name": "Signup", "steps": steps, "starts_at": datetime(2026, 3, 1, tzinfo=UTC),
                      "window_days": 30}
    assert values["steps"][0] == {"path": "/"}  # no "match" added inside


def test_a_partial_body_gives_only_its_fields_and_still_checks_them():
    assert validated(FunnelIn, {"window_days": 7}, partial=True) == {"window_days": 7}
    assert validated(FunnelIn, {}, partial=True) == {}
    assert refused({"steps": [{"path": "/"}]}, partial=True) == \
        "Invalid request body: field 'steps': must have at least 2 steps."
    assert refused({"name": None}, partial=True) == \
        "Invalid request body: field 'name': Input should be a valid string."


def test_ids_and_not_found_messages():
    class Row:
        pass

    funnels = Definitions(Row, noun="Funnel", prefix="fn-")
    assert funnels.not_found("fn-x").message == "Funnel 'fn-x' not found."
    uuid = "d4e5f6a7-8901-2345-bcde-f01234567890"
    assert str(funnels._uuid(f"fn-{uuid}")) == uuid == str(funnels._uuid(uuid))
    assert funnels._uuid("fn-nope") is None


def test_graphql_inputs_give_their_set_fields():
    @strawberry.input
    class StepInput:
        path: str
        match: str | None = strawberry.UNSET

    @strawberry.input
    class FunnelInput:
        name: str | None = strawberry.UNSET
        steps: list[StepInput] | None = strawberry.UNSET

    assert given(FunnelInput(steps=[StepInput(path="/")])) == {"steps": [{"path": "/"}]}
    assert given(FunnelInput()) == {}


def test_list_shapes():
    rows = [{"n": 1}, {"n": 2}]
    assert listing(rows, 5, lambda r: {"id": r["n"]}) == {"data": [{"id": 1}, {"id": 2}], "total": 5}
    page = connection(Window(2, 0), rows, 5, lambda r: r["n"])
    assert (page.data, page.total, page.page_info.has_next_page) == ([1, 2], 5, True)
