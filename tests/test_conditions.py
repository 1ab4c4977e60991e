"""The condition language on its own (pulse.conditions): every parsing rule and its exact message,
evaluation of every operator on every source for one visitor, groups, and the compiler's helpers."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from pulse import errors
from pulse.conditions import (
    METRIC_FIELDS,
    METRIC_OPERATORS,
    OPERATORS,
    PAGEVIEW_FIELDS,
    SESSION_FIELDS,
    SOURCES,
    Condition,
    Definition,
    Group,
    VisitorFacts,
    describe,
    event_names,
    fields,
    matches,
    parse,
    sources,
    walk,
)

OPS = ", ".join(OPERATORS)
SRCS = ", ".join(SOURCES)
SESSION_HINT = "one of " + ", ".join(SESSION_FIELDS)
PAGEVIEW_HINT = "one of " + ", ".join(PAGEVIEW_FIELDS)
METRIC_HINT = "one of " + ", ".join(METRIC_FIELDS)
FLAG_HINT = "visitor_id, user_id, traits.<name> or context.<name>"
KEY_RULE = ("come 1 to 100 characters of letters, digits, '_', '-' and '.', with no empty part between dots")


def defn(*conditions: Any, match: str = "all") -> dict:
    return {"match": match, "conditions": list(conditions)}


def one(condition: dict, **options: Any) -> Condition:
    (parsed,) = parse(defn(condition), **options).conditions
    return parsed


def refused(definition: Any, **options: Any) -> str:
    with pytest.raises(errors.BadRequest) as failure:
        parse(definition, **options)
    return failure.value.message


def profile(field: str, op: str, value: Any = None) -> dict:
    return {"source": "profile", "field": field, "op": op, **({} if value is None else {"value": value})}


def nested(depth: int) -> dict:
    """A definition whose first condition is `depth` groups deep."""
    inner: dict = profile("user_id", "exists")
    for _ in range(depth):
        inner = defn(inner)
    return defn(inner)


# -- parsing: what is accepted -----------------------------------------------------------------------

def test_the_reference_example_parses_into_frozen_dataclasses():
    parsed = parse({"match": "all", "conditions": [
        {"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"},
        {"source": "event", "event": "purchase", "field": "event_data.amount", "op": "gte", "value": 100},
    ]})
    assert parsed == Definition("all", (
        Condition("profile", "traits.plan", "eq", "pro"),
        Condition("event", "event_data.amount", "gte", 100, event="purchase"),
    ))
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.conditions[0].op = "neq"  # type: ignore[misc]


def test_the_flag_example_parses_sourceless():
    parsed = parse({"match": "all", "conditions": [
        {"field": "traits.plan", "op": "in", "value": ["pro", "business"]},
        {"field": "context.country", "op": "eq", "value": "US"},
    ]}, what="targeting rules", sourceless=True)
    assert parsed == Definition("all", (
        Condition(None, "traits.plan", "in", ("pro", "business")),
        Condition(None, "context.country", "eq", "US"),
    ))


@pytest.mark.parametrize(("condition", "expected"), [
    (profile("visitor_id", "exists"), Condition("profile", "visitor_id", "exists")),
    (profile("user_id", "not_exists"), Condition("profile", "user_id", "not_exists")),
    ({**profile("traits.plan", "exists"), "value": None}, Condition("profile", "traits.plan", "exists")),  # null: none
    (profile("traits.company.size-band_2", "gt", 1.5), Condition("profile", "traits.company.size-band_2", "gt", 1.5)),
    (profile("traits." + "k" * 100, "eq", ""), Condition("profile", "traits." + "k" * 100, "eq", "")),
    (profile("traits.beta", "eq", False), Condition("profile", "traits.beta", "eq", False)),
    (profile("traits.seats", "in", [1, 2.5, "3"]), Condition("profile", "traits.seats", "in", (1, 2.5, "3"))),
    (profile("traits.code", "in", list(range(100))), Condition("profile", "traits.code", "in", tuple(range(100)))),
    (profile("traits.name", "contains", "x" * 500), Condition("profile", "traits.name", "contains", "x" * 500)),
    ({"source": "event", "event": "e" * 200, "op": "exists"}, Condition("event", None, "exists", event="e" * 200)),
    ({"source": "event", "event": "buy", "field": "revenue_amount", "op": "lt", "value": 9},
     Condition("event", "revenue_amount", "lt", 9, event="buy")),
    ({"source": "event", "event": "buy", "field": "revenue_currency", "op": "eq", "value": "EUR"},
     Condition("event", "revenue_currency", "eq", "EUR", event="buy")),
    ({"source": "metric", "field": "events", "event": "buy", "op": "gte", "value": 2},
     Condition("metric", "events", "gte", 2, event="buy")),
    ({"source": "metric", "field": "events", "event": None, "op": "gte", "value": 2},
     Condition("metric", "events", "gte", 2)),
    ({"source": "metric", "field": "revenue", "op": "neq", "value": Decimal("9.99")},
     Condition("metric", "revenue", "neq", Decimal("9.99"))),
])
def test_accepted_conditions(condition, expected):
    assert one(condition) == expected


@pytest.mark.parametrize(("source", "field"), [
    *(("session", f) for f in SESSION_FIELDS),
    *(("pageview", f) for f in PAGEVIEW_FIELDS),
    *(("metric", f) for f in METRIC_FIELDS),
])
def test_every_documented_field_is_accepted(source, field):
    op = "gt" if source == "metric" else "exists"
    value = 1 if source == "metric" else None
    assert one({"source": source, "field": field, "op": op, "value": value}) == Condition(source, field, op, value)


@pytest.mark.parametrize("field", ["visitor_id", "user_id", "traits.plan", "context.country", "context.a.b"])
def test_sourceless_fields(field):
    assert one({"field": field, "op": "exists"}, sourceless=True) == Condition(None, field, "exists")


def test_groups_parse_into_groups_three_deep():
    parsed = parse(nested(3))
    inner = Condition("profile", "user_id", "exists")
    assert parsed == Definition("all", (Group("all", (Group("all", (Group("all", (inner,)),)),)),))


def test_empty_and_full_lists():
    assert parse(defn()) == Definition("all", ())
    assert parse(defn(match="any")) == Definition("any", ())
    assert len(parse(defn(*[profile("user_id", "exists")] * 20)).conditions) == 20
    # 100 items in all: four groups of 20 (84 items) and 16 conditions.
    group = defn(*[profile("user_id", "exists")] * 20)
    assert len(list(walk(parse(defn(*[group] * 4, *[profile("user_id", "exists")] * 16))))) == 96


# -- parsing: every refusal, by its exact message ----------------------------------------------------

P = "Invalid segment definition: "
C0 = P + "conditions[0]"
TOO_DEEP = defn(nested(3))  # four groups


@pytest.mark.parametrize(("definition", "message"), [
    # the definition itself
    ([], P + "expected an object with match and conditions, got list."),
    (None, P + "expected an object with match and conditions, got null."),
    ({**defn(), "name": "x"}, P + "unknown key 'name' (expected match, conditions)."),
    ({"conditions": []}, P + "missing 'match' (all or any)."),
    ({"match": "every", "conditions": []}, P + "match: expected all or any, got 'every'."),
    ({"match": None, "conditions": []}, P + "match: expected all or any, got null."),
    ({"match": ["all"], "conditions": []}, P + "match: expected all or any, got list."),
    ({"match": "all"}, P + "missing 'conditions' (a list of at most 20)."),
    ({"match": "all", "conditions": {}}, P + "conditions: expected a list, got object."),
    ({"match": "all", "conditions": None}, P + "conditions: expected a list, got null."),
    (defn(*[profile("user_id", "exists")] * 21), P + "conditions: at most 20 conditions, got 21."),
    # items
    (defn("traits.plan"), C0 + ": expected a condition (an object), got string."),
    (defn(profile("user_id", "exists"), 3), P + "conditions[1]: expected a condition (an object), got number."),
    # source
    (defn({"field": "user_id", "op": "exists"}), C0 + f": missing 'source' (expected one of {SRCS})."),
    (defn({"source": "user", "field": "id", "op": "exists"}), C0 + f".source: unknown source 'user' "
                                                                  f"(expected one of {SRCS})."),
    (defn({"source": 1, "field": "id", "op": "exists"}), C0 + f".source: expected one of {SRCS}, got 1."),
    # keys
    (defn({**profile("user_id", "exists"), "fld": 1}),
     C0 + ": unknown key 'fld' (expected source, field, op, value)."),
    (defn({"source": "session", "event": "buy", "field": "country", "op": "exists"}),
     C0 + ": unknown key 'event' (expected source, field, op, value)."),
    (defn({"source": "event", "event": "buy", "op": "exists", "name": "buy"}),
     C0 + ": unknown key 'name' (expected source, event, field, op, value)."),
    # fields
    (defn({"source": "profile", "op": "exists"}),
     C0 + ": missing 'field' (expected visitor_id, user_id or traits.<name>)."),
    (defn({"source": "session", "field": None, "op": "exists"}), C0 + f": missing 'field' (expected {SESSION_HINT})."),
    (defn({"source": "metric", "op": "gt", "value": 1}), C0 + f": missing 'field' (expected {METRIC_HINT})."),
    (defn(profile("plan", "exists")),
     C0 + ".field: unknown profile field 'plan' (expected visitor_id, user_id or traits.<name>)."),
    (defn(profile("context.country", "exists")),
     C0 + ".field: unknown profile field 'context.country' (expected visitor_id, user_id or traits.<name>)."),
    (defn(profile("traits", "exists")),
     C0 + ".field: unknown profile field 'traits' (expected visitor_id, user_id or traits.<name>)."),
    (defn({"source": "session", "field": "path", "op": "exists"}),
     C0 + f".field: unknown session field 'path' (expected {SESSION_HINT})."),
    (defn({"source": "session", "field": "traits.plan", "op": "exists"}),
     C0 + f".field: unknown session field 'traits.plan' (expected {SESSION_HINT})."),
    (defn({"source": "session", "field": "x" * 100, "op": "exists"}),
     C0 + f".field: unknown session field '{'x' * 57}...' (expected {SESSION_HINT})."),
    (defn({"source": "pageview", "field": "country", "op": "exists"}),
     C0 + f".field: unknown pageview field 'country' (expected {PAGEVIEW_HINT})."),
    (defn({"source": "event", "event": "buy", "field": "amount", "op": "exists"}),
     C0 + ".field: unknown event field 'amount' (expected event_data.<key>, revenue_amount or revenue_currency)."),
    (defn({"source": "metric", "field": "visitors", "op": "gt", "value": 1}),
     C0 + f".field: unknown metric field 'visitors' (expected {METRIC_HINT})."),
    (defn(profile(["traits.plan"], "exists")), C0 + ".field: expected a string, got list."),
    (defn(profile("traits.", "exists")), C0 + f".field: invalid key in 'traits.': after 'traits.' {KEY_RULE}."),
    (defn(profile("traits.a..b", "exists")), C0 + f".field: invalid key in 'traits.a..b': after 'traits.' {KEY_RULE}."),
    (defn(profile("traits.a.", "exists")), C0 + f".field: invalid key in 'traits.a.': after 'traits.' {KEY_RULE}."),
    (defn(profile("traits.plan name", "exists")),
     C0 + f".field: invalid key in 'traits.plan name': after 'traits.' {KEY_RULE}."),
    (defn(profile("traits." + "k" * 101, "exists")),
     C0 + f".field: invalid key in '{('traits.' + 'k' * 101)[:57]}...': after 'traits.' {KEY_RULE}."),
    (defn({"source": "event", "event": "buy", "field": "event_data.$amount", "op": "exists"}),
     C0 + f".field: invalid key in 'event_data.$amount': after 'event_data.' {KEY_RULE}."),
    # events
    (defn({"source": "event", "op": "exists"}), C0 + ": missing 'event' (the event name, 1 to 200 characters)."),
    (defn({"source": "event", "event": None, "op": "exists"}),
     C0 + ": missing 'event' (the event name, 1 to 200 characters)."),
    (defn({"source": "event", "event": "", "op": "exists"}),
     C0 + ".event: the event name must have 1 to 200 characters, got 0."),
    (defn({"source": "event", "event": "e" * 201, "op": "exists"}),
     C0 + ".event: the event name must have 1 to 200 characters, got 201."),
    (defn({"source": "event", "event": 5, "op": "exists"}), C0 + ".event: expected a string, got number."),
    (defn({"source": "metric", "field": "pageviews", "event": "buy", "op": "gt", "value": 1}),
     C0 + ".event: only the 'events' metric takes an event name."),
    (defn({"source": "metric", "field": "events", "event": "", "op": "gt", "value": 1}),
     C0 + ".event: the event name must have 1 to 200 characters, got 0."),
    # operators
    (defn({"source": "profile", "field": "user_id"}), C0 + f": missing 'op' (expected one of {OPS})."),
    (defn(profile("user_id", "exists"), profile("traits.plan", "gtt", 1)),
     P + f"conditions[1].op: unknown operator 'gtt' (expected one of {OPS})."),
    (defn({"source": "profile", "field": "user_id", "op": None}), C0 + f".op: expected one of {OPS}, got null."),
    (defn({"source": "profile", "field": "user_id", "op": True}), C0 + f".op: expected one of {OPS}, got true."),
    (defn({"source": "metric", "field": "sessions", "op": "contains", "value": "1"}),
     C0 + ".op: metric conditions take eq, neq, gt, gte, lt or lte, not 'contains'."),
    (defn({"source": "metric", "field": "sessions", "op": "exists"}),
     C0 + ".op: metric conditions take eq, neq, gt, gte, lt or lte, not 'exists'."),
    (defn({"source": "metric", "field": "sessions", "op": "in", "value": [1]}),
     C0 + ".op: metric conditions take eq, neq, gt, gte, lt or lte, not 'in'."),
    (defn({"source": "event", "event": "buy", "op": "eq", "value": 1}),
     C0 + ": 'eq' needs a field: an event condition without one takes only exists or not_exists."),
    # values
    (defn(profile("user_id", "exists", "u1")), C0 + ": 'exists' takes no value."),
    (defn({"source": "event", "event": "buy", "op": "not_exists", "value": False}),
     C0 + ": 'not_exists' takes no value."),
    (defn(profile("traits.plan", "eq")), C0 + ": field 'traits.plan' needs a value for 'eq'."),
    (defn({**profile("traits.plan", "in"), "value": None}), C0 + ": field 'traits.plan' needs a value for 'in'."),
    (defn({"source": "metric", "field": "revenue", "op": "lt"}), C0 + ": field 'revenue' needs a value for 'lt'."),
    (defn(profile("traits.plan", "eq", ["pro"])), C0 + ".value: 'eq' needs a string, number or boolean, got list."),
    (defn(profile("traits.plan", "neq", {"a": 1})),
     C0 + ".value: 'neq' needs a string, number or boolean, got object."),
    (defn(profile("traits.plan", "contains", "")),
     C0 + ".value: 'contains' needs a non-empty string, got an empty string."),
    (defn(profile("traits.plan", "starts_with", 5)),
     C0 + ".value: 'starts_with' needs a non-empty string, got number."),
    (defn(profile("traits.plan", "ends_with", True)),
     C0 + ".value: 'ends_with' needs a non-empty string, got boolean."),
    (defn(profile("traits.seats", "gt", "5")), C0 + ".value: 'gt' needs a number, got string."),
    (defn(profile("traits.seats", "gte", True)), C0 + ".value: 'gte' needs a number, got boolean."),
    (defn(profile("traits.seats", "lte", [1])), C0 + ".value: 'lte' needs a number, got list."),
    (defn(profile("traits.seats", "lt", float("inf"))), C0 + ".value: numbers must be finite."),
    (defn(profile("traits.seats", "eq", float("nan"))), C0 + ".value: numbers must be finite."),
    (defn(profile("traits.plan", "in", "pro")),
     C0 + ".value: 'in' needs a non-empty list of strings and numbers, got string."),
    (defn(profile("traits.plan", "in", [])),
     C0 + ".value: 'in' needs a non-empty list of strings and numbers, got an empty list."),
    (defn(profile("traits.plan", "in", list(range(101)))), C0 + ".value: 'in' takes at most 100 values, got 101."),
    (defn(profile("traits.plan", "in", ["pro", True])), C0 + ".value[1]: 'in' takes strings and numbers, got boolean."),
    (defn(profile("traits.plan", "in", ["pro", None])), C0 + ".value[1]: 'in' takes strings and numbers, got null."),
    (defn(profile("traits.plan", "in", [["pro"]])), C0 + ".value[0]: 'in' takes strings and numbers, got list."),
    (defn(profile("traits.plan", "in", [1, float("nan")])), C0 + ".value[1]: numbers must be finite."),
    (defn(profile("traits.plan", "in", ["x" * 501])),
     C0 + ".value[0]: strings may have at most 500 characters, got 501."),
    (defn(profile("traits.plan", "eq", "x" * 501)), C0 + ".value: strings may have at most 500 characters, got 501."),
    (defn(profile("traits.plan", "eq", "pro\x00")), C0 + ".value: strings may not contain NUL characters."),
    (defn(profile("traits.plan", "in", ["a", "b\x00"])), C0 + ".value[1]: strings may not contain NUL characters."),
    (defn(profile("traits.plan", "contains", "x" * 501)),
     C0 + ".value: strings may have at most 500 characters, got 501."),
    (defn({"source": "metric", "field": "pageviews", "op": "gt", "value": "5"}),
     C0 + ".value: 'gt' on a metric needs a number, got string."),
    (defn({"source": "metric", "field": "pageviews", "op": "eq", "value": True}),
     C0 + ".value: 'eq' on a metric needs a number, got boolean."),
    # groups
    (defn(defn(profile("user_id", "exists"), profile("user_id", "gtt", 1))),
     P + f"conditions[0].conditions[1].op: unknown operator 'gtt' (expected one of {OPS})."),
    (defn({"conditions": []}), C0 + ": missing 'match' (all or any)."),
    (defn({"match": "any"}), C0 + ": missing 'conditions' (a list of at most 20)."),
    (defn({**defn(), "source": "profile"}), C0 + ": unknown key 'source' (expected match, conditions)."),
    (defn({"match": "none", "conditions": []}), C0 + ".match: expected all or any, got 'none'."),
    (defn(defn(*[profile("user_id", "exists")] * 21)), C0 + ".conditions: at most 20 conditions, got 21."),
    (defn(defn(defn(defn(profile("user_id", "x"))))),
     P + f"conditions[0].conditions[0].conditions[0].conditions[0].op: unknown operator 'x' (expected one of {OPS})."),
    (TOO_DEEP, P + "conditions[0].conditions[0].conditions[0].conditions[0]: groups nest at most 3 deep."),
    (defn(*[defn(*[profile("user_id", "exists")] * 20)] * 5),
     P + "conditions[4].conditions[15]: at most 100 conditions in the whole definition "
         "(groups and their conditions included)."),
])
def test_refused(definition, message):
    assert refused(definition) == message


@pytest.mark.parametrize(("condition", "message"), [
    ({"source": "profile", "field": "traits.plan", "op": "exists"},
     f"conditions[0].source: these conditions take no source, only a field ({FLAG_HINT})."),
    ({"source": None, "field": "traits.plan", "op": "exists"},
     f"conditions[0].source: these conditions take no source, only a field ({FLAG_HINT})."),
    ({"field": "country", "op": "exists"}, f"conditions[0].field: unknown field 'country' (expected {FLAG_HINT})."),
    ({"field": "context", "op": "exists"}, f"conditions[0].field: unknown field 'context' (expected {FLAG_HINT})."),
    ({"field": "context.", "op": "exists"},
     f"conditions[0].field: invalid key in 'context.': after 'context.' {KEY_RULE}."),
    ({"field": "event_data.amount", "op": "exists"},
     f"conditions[0].field: unknown field 'event_data.amount' (expected {FLAG_HINT})."),
    ({"op": "exists"}, f"conditions[0]: missing 'field' (expected {FLAG_HINT})."),
    ({"field": "user_id", "event": "buy", "op": "exists"},
     "conditions[0]: unknown key 'event' (expected field, op, value)."),
    ({"field": "user_id", "op": "eq"}, "conditions[0]: field 'user_id' needs a value for 'eq'."),
])
def test_refused_sourceless(condition, message):
    assert refused(defn(condition), what="targeting rules", sourceless=True) == "Invalid targeting rules: " + message


def test_what_names_the_definition():
    assert refused({"match": "all"}, what="survey targeting") == (
        "Invalid survey targeting: missing 'conditions' (a list of at most 20).")


def test_every_error_is_a_bad_request():
    with pytest.raises(errors.BadRequest) as failure:
        parse(defn(profile("traits.plan", "gtt")))
    assert failure.value.status == 400


# -- evaluation ----------------------------------------------------------------------------------------

VISITOR = VisitorFacts(
    profile={"visitor_id": "v1", "user_id": None, "traits": {
        "plan": "Pro", "seats": 5, "beta": True, "ratio": 0.1, "code": "5", "company": {"size": 50},
        "tags": ["a"], "nothing": None}},
    sessions=[
        {"country": "US", "browser": "Firefox", "referrer": "https://news.ycombinator.com/item", "utm_source": None,
         "duration": 30},
        {"country": "DE", "browser": "Chrome", "duration": 90},
    ],
    pageviews=[
        {"path": "/docs/start", "hostname": "example.com", "title": "Getting Started"},
        {"path": "/pricing", "hostname": "example.com", "title": None},
    ],
    events=[
        {"name": "purchase", "data": {"amount": 150, "cart": {"items": 3}, "coupon": "SPRING"},
         "revenue_amount": Decimal("150.5"), "revenue_currency": "USD"},
        {"name": "purchase", "data": {"amount": 20}, "revenue_amount": 20, "revenue_currency": "EUR"},
        {"name": "signup", "data": None, "revenue_amount": None},
    ],
)
NOBODY = VisitorFacts()
ONE_SESSION = VisitorFacts(sessions=[{"country": "US"}], pageviews=[{"path": "/", "title": None}])
TIPS = VisitorFacts(events=[{"name": "tip", "revenue_amount": 0.1}, {"name": "tip", "revenue_amount": 0.2}])
FEE = VisitorFacts(events=[{"name": "fee", "revenue_amount": Decimal("0.1"), "data": {"rate": 0.1}}])


def session(field: str, op: str, value: Any = None) -> dict:
    return {"source": "session", "field": field, "op": op, "value": value}


def pageview(field: str, op: str, value: Any = None) -> dict:
    return {"source": "pageview", "field": field, "op": op, "value": value}


def event(name: str, field: str | None, op: str, value: Any = None) -> dict:
    return {"source": "event", "event": name, "field": field, "op": op, "value": value}


def metric(field: str, op: str, value: Any, name: str | None = None) -> dict:
    return {"source": "metric", "field": field, "op": op, "value": value, "event": name}


EVALUATIONS = [
    # profile: the profile's one value; a missing or null trait is not set
    (profile("visitor_id", "exists"), VISITOR, True),
    (profile("user_id", "exists"), VISITOR, False),  # null
    (profile("traits.plan", "exists"), VISITOR, True),
    (profile("traits.missing", "exists"), VISITOR, False),
    (profile("traits.nothing", "exists"), VISITOR, False),
    (profile("traits.plan", "exists"), NOBODY, False),
    (profile("traits.missing", "not_exists"), VISITOR, True),
    (profile("traits.nothing", "not_exists"), VISITOR, True),
    (profile("traits.plan", "not_exists"), VISITOR, False),
    (profile("traits.plan.tier", "not_exists"), VISITOR, True),  # a path through a string
    (profile("visitor_id", "eq", "v1"), VISITOR, True),
    (profile("traits.plan", "eq", "Pro"), VISITOR, True),
    (profile("traits.plan", "eq", "pro"), VISITOR, False),  # eq is exact
    (profile("traits.seats", "eq", 5), VISITOR, True),
    (profile("traits.seats", "eq", 5.0), VISITOR, True),  # numerically
    (profile("traits.seats", "eq", "5"), VISITOR, False),  # a number never equals a string
    (profile("traits.code", "eq", "5"), VISITOR, True),
    (profile("traits.code", "eq", 5), VISITOR, False),
    (profile("traits.beta", "eq", True), VISITOR, True),
    (profile("traits.beta", "eq", 1), VISITOR, False),  # nor a boolean
    (profile("traits.seats", "eq", True), VISITOR, False),
    (profile("traits.ratio", "eq", 0.1), VISITOR, True),
    (profile("traits.company.size", "eq", 50), VISITOR, True),  # dotted: nested
    (profile("traits.tags", "eq", "a"), VISITOR, False),
    (profile("traits.missing", "eq", "x"), VISITOR, False),
    (profile("traits.plan", "neq", "Free"), VISITOR, True),
    (profile("traits.plan", "neq", "Pro"), VISITOR, False),
    (profile("traits.seats", "neq", "5"), VISITOR, True),
    (profile("traits.missing", "neq", "x"), VISITOR, False),  # not set: false, neq too
    (profile("traits.nothing", "neq", "x"), VISITOR, False),
    (profile("traits.plan", "contains", "RO"), VISITOR, True),  # any case
    (profile("traits.plan", "contains", "x"), VISITOR, False),
    (profile("traits.seats", "contains", "5"), VISITOR, False),  # strings only
    (profile("traits.missing", "contains", "x"), VISITOR, False),
    (profile("traits.plan", "starts_with", "pr"), VISITOR, True),
    (profile("traits.plan", "starts_with", "ro"), VISITOR, False),
    (profile("traits.plan", "ends_with", "RO"), VISITOR, True),
    (profile("traits.plan", "ends_with", "P"), VISITOR, False),
    (profile("traits.seats", "gt", 4), VISITOR, True),
    (profile("traits.seats", "gt", 5), VISITOR, False),
    (profile("traits.seats", "gte", 5), VISITOR, True),
    (profile("traits.seats", "gte", 5.5), VISITOR, False),
    (profile("traits.seats", "lt", 5.5), VISITOR, True),
    (profile("traits.seats", "lt", 5), VISITOR, False),
    (profile("traits.seats", "lte", 5), VISITOR, True),
    (profile("traits.seats", "lte", 4.99), VISITOR, False),
    (profile("traits.ratio", "lte", 0.1), VISITOR, True),  # exactly, as decimals
    (profile("traits.ratio", "gt", 0.09), VISITOR, True),
    (profile("traits.code", "gt", 1), VISITOR, False),  # a numeric string is not a number
    (profile("traits.beta", "gt", 0), VISITOR, False),  # nor a boolean
    (profile("traits.missing", "lt", 10), VISITOR, False),
    (profile("traits.plan", "in", ["Free", "Pro"]), VISITOR, True),
    (profile("traits.plan", "in", ["pro"]), VISITOR, False),
    (profile("traits.seats", "in", [1, 5.0]), VISITOR, True),
    (profile("traits.seats", "in", ["5"]), VISITOR, False),
    (profile("traits.missing", "in", ["x"]), VISITOR, False),
    # session: some session passes; not_exists: none has the field set
    (session("country", "exists"), VISITOR, True),
    (session("utm_source", "exists"), VISITOR, False),  # null in one, absent in the other
    (session("country", "exists"), NOBODY, False),
    (session("utm_source", "not_exists"), VISITOR, True),
    (session("browser", "not_exists"), VISITOR, False),
    (session("country", "not_exists"), NOBODY, True),
    (session("country", "eq", "DE"), VISITOR, True),  # the second session
    (session("country", "eq", "de"), VISITOR, False),
    (session("country", "eq", "FR"), VISITOR, False),
    (session("country", "neq", "US"), VISITOR, True),  # some session is not from the US
    (session("country", "neq", "US"), ONE_SESSION, False),
    (session("country", "neq", "US"), NOBODY, False),
    (session("referrer", "contains", "YCombinator"), VISITOR, True),
    (session("browser", "contains", "safari"), VISITOR, False),
    (session("browser", "starts_with", "fire"), VISITOR, True),
    (session("browser", "starts_with", "chromium"), VISITOR, False),
    (session("browser", "ends_with", "ROME"), VISITOR, True),
    (session("browser", "ends_with", "fox!"), VISITOR, False),
    (session("country", "gt", 1), VISITOR, False),  # session fields are strings
    (session("country", "gte", 0), VISITOR, False),
    (session("country", "lt", 1), VISITOR, False),
    (session("country", "lte", 1), VISITOR, False),
    (session("country", "in", ["FR", "DE"]), VISITOR, True),
    (session("country", "in", ["FR"]), VISITOR, False),
    # pageview: the same, over pageviews
    (pageview("title", "exists"), VISITOR, True),
    (pageview("title", "exists"), ONE_SESSION, False),
    (pageview("title", "not_exists"), VISITOR, False),  # one has a title
    (pageview("title", "not_exists"), ONE_SESSION, True),
    (pageview("path", "eq", "/pricing"), VISITOR, True),
    (pageview("path", "eq", "/Pricing"), VISITOR, False),
    (pageview("path", "neq", "/pricing"), VISITOR, True),
    (pageview("path", "neq", "/"), ONE_SESSION, False),
    (pageview("title", "contains", "started"), VISITOR, True),
    (pageview("title", "contains", "pricing"), VISITOR, False),  # the pricing page has no title
    (pageview("path", "starts_with", "/DOCS"), VISITOR, True),
    (pageview("path", "starts_with", "/blog"), VISITOR, False),
    (pageview("path", "ends_with", "/start"), VISITOR, True),
    (pageview("path", "ends_with", "/end"), VISITOR, False),
    (pageview("path", "gt", 0), VISITOR, False),
    (pageview("path", "gte", 0), VISITOR, False),
    (pageview("path", "lt", 0), VISITOR, False),
    (pageview("path", "lte", 0), VISITOR, False),
    (pageview("hostname", "in", ["example.com", "example.org"]), VISITOR, True),
    (pageview("hostname", "in", ["example.org"]), VISITOR, False),
    # event without a field: did it at least once / never did it
    (event("purchase", None, "exists"), VISITOR, True),
    (event("Purchase", None, "exists"), VISITOR, False),  # event names are exact
    (event("refund", None, "exists"), VISITOR, False),
    (event("refund", None, "not_exists"), VISITOR, True),
    (event("purchase", None, "not_exists"), VISITOR, False),
    # event with a field: some event of that name passes
    (event("purchase", "event_data.amount", "exists"), VISITOR, True),
    (event("signup", "event_data.amount", "exists"), VISITOR, False),  # signup has no data
    (event("refund", "event_data.amount", "exists"), VISITOR, False),
    (event("purchase", "event_data.coupon", "not_exists"), VISITOR, False),  # the first purchase has one
    (event("signup", "event_data.amount", "not_exists"), VISITOR, True),
    (event("refund", "event_data.amount", "not_exists"), VISITOR, True),  # never did it
    (event("purchase", "event_data.amount", "eq", 20), VISITOR, True),
    (event("purchase", "event_data.amount", "eq", "20"), VISITOR, False),
    (event("signup", "event_data.amount", "eq", 20), VISITOR, False),  # another event's data
    (event("purchase", "event_data.cart.items", "eq", 3.0), VISITOR, True),
    (event("purchase", "revenue_amount", "eq", 150.5), VISITOR, True),
    (event("purchase", "event_data.amount", "neq", 150), VISITOR, True),  # the second purchase
    (event("purchase", "revenue_currency", "neq", "USD"), VISITOR, True),
    (event("purchase", "event_data.coupon", "neq", "SPRING"), VISITOR, False),  # the other has no coupon
    (event("purchase", "event_data.coupon", "contains", "rin"), VISITOR, True),
    (event("purchase", "event_data.amount", "contains", "15"), VISITOR, False),
    (event("purchase", "event_data.coupon", "starts_with", "spr"), VISITOR, True),
    (event("purchase", "event_data.coupon", "starts_with", "sum"), VISITOR, False),
    (event("purchase", "event_data.coupon", "ends_with", "ING"), VISITOR, True),
    (event("purchase", "event_data.coupon", "ends_with", "spr"), VISITOR, False),
    (event("purchase", "event_data.amount", "gte", 100), VISITOR, True),
    (event("purchase", "event_data.amount", "gte", 151), VISITOR, False),
    (event("purchase", "revenue_amount", "gt", 150), VISITOR, True),  # a Decimal
    (event("purchase", "revenue_amount", "gt", 150.5), VISITOR, False),
    (event("purchase", "event_data.amount", "lt", 21), VISITOR, True),
    (event("purchase", "event_data.amount", "lt", 20), VISITOR, False),
    (event("purchase", "event_data.amount", "lte", 20), VISITOR, True),
    (event("purchase", "event_data.amount", "lte", 19.99), VISITOR, False),
    (event("purchase", "revenue_currency", "gt", 0), VISITOR, False),  # a string
    (event("purchase", "revenue_currency", "in", ["EUR", "GBP"]), VISITOR, True),
    (event("purchase", "revenue_currency", "in", ["GBP"]), VISITOR, False),
    # metric: the visitor's total over the range, 0 when none
    (metric("pageviews", "eq", 2), VISITOR, True),
    (metric("pageviews", "eq", 0), NOBODY, True),
    (metric("pageviews", "gt", 2), VISITOR, False),
    (metric("sessions", "gte", 2), VISITOR, True),
    (metric("sessions", "gte", 2.5), VISITOR, False),
    (metric("events", "eq", 3), VISITOR, True),
    (metric("events", "eq", 2, "purchase"), VISITOR, True),  # only that event
    (metric("events", "eq", 0, "refund"), VISITOR, True),
    (metric("events", "neq", 0, "signup"), VISITOR, True),
    (metric("events", "neq", 0), NOBODY, False),
    (metric("revenue", "eq", 170.5), VISITOR, True),
    (metric("revenue", "lt", 170.5), VISITOR, False),
    (metric("revenue", "lte", 0), NOBODY, True),
    (metric("revenue", "eq", 0.3), TIPS, True),  # summed as decimals, as numeric does: not 0.30000000000000004
    (event("fee", "revenue_amount", "eq", 0.1), FEE, True),  # Decimal('0.1') is the JSON number 0.1
    (event("fee", "event_data.rate", "gte", Decimal("0.1")), FEE, True),
    (event("fee", "event_data.rate", "gt", Decimal("0.1")), FEE, False),
    (metric("duration", "eq", 120), VISITOR, True),
    (metric("duration", "lt", 120), VISITOR, False),
    (metric("duration", "gt", 0), NOBODY, False),
]


@pytest.mark.parametrize(("condition", "visitor", "expected"), EVALUATIONS)
def test_evaluation(condition, visitor, expected):
    assert matches(parse(defn(condition)), visitor) is expected


def test_every_operator_is_evaluated_on_every_source():
    covered = {(c["source"], c["op"]) for c, _, _ in EVALUATIONS} | {(None, c["op"]) for c, _ in FLAG_EVALUATIONS}
    expected = {(s, op) for s in ("profile", "session", "pageview", "event", None) for op in OPERATORS}
    assert expected | {("metric", op) for op in METRIC_OPERATORS} <= covered


FLAG_VISITOR = VisitorFacts(context={"visitor_id": "v_7fz9k2", "user_id": "user_123", "traits": {"plan": "pro"},
                                     "context": {"country": "US", "device": "desktop", "screen": {"width": 1280}}})
FLAG_EVALUATIONS = [
    ({"field": "visitor_id", "op": "exists"}, True),
    ({"field": "context.locale", "op": "exists"}, False),
    ({"field": "user_id", "op": "not_exists"}, False),
    ({"field": "traits.company", "op": "not_exists"}, True),
    ({"field": "context.country", "op": "eq", "value": "US"}, True),
    ({"field": "context.country", "op": "eq", "value": "us"}, False),
    ({"field": "context.device", "op": "neq", "value": "desktop"}, False),
    ({"field": "context.device", "op": "neq", "value": "mobile"}, True),
    ({"field": "user_id", "op": "contains", "value": "_12"}, True),
    ({"field": "visitor_id", "op": "starts_with", "value": "V_"}, True),
    ({"field": "visitor_id", "op": "ends_with", "value": "k3"}, False),
    ({"field": "context.screen.width", "op": "gt", "value": 1024}, True),
    ({"field": "context.screen.width", "op": "gte", "value": 1281}, False),
    ({"field": "context.screen.width", "op": "lt", "value": 1280}, False),
    ({"field": "context.screen.width", "op": "lte", "value": 1280}, True),
    ({"field": "traits.plan", "op": "in", "value": ["pro", "business"]}, True),
    ({"field": "traits.plan", "op": "in", "value": ["business"]}, False),
]


@pytest.mark.parametrize(("condition", "expected"), FLAG_EVALUATIONS)
def test_sourceless_evaluation(condition, expected):
    assert matches(parse(defn(condition), sourceless=True), FLAG_VISITOR) is expected


YES = profile("visitor_id", "exists")
NO = profile("user_id", "exists")


@pytest.mark.parametrize(("definition", "expected"), [
    (defn(), True),  # all of nothing: every visitor
    (defn(match="any"), False),  # any of nothing: none
    (defn(YES, YES), True),
    (defn(YES, NO), False),
    (defn(NO, YES, match="any"), True),
    (defn(NO, NO, match="any"), False),
    (defn(YES, defn(NO, YES, match="any")), True),
    (defn(YES, defn(NO, NO, match="any")), False),
    (defn(NO, defn(), match="any"), True),  # an empty all-group is true
    (defn(YES, defn(match="any")), False),  # an empty any-group is false
    (defn(defn(defn(defn(NO, YES, match="any")))), True),
    (defn(defn(defn(defn(NO)))), False),
])
def test_all_any_and_groups(definition, expected):
    assert matches(parse(definition), VISITOR) is expected


def test_the_reference_examples_match_as_documented():
    segment = parse({"match": "all", "conditions": [
        {"source": "profile", "field": "traits.plan", "op": "eq", "value": "pro"},
        {"source": "event", "event": "purchase", "field": "event_data.amount", "op": "gte", "value": 100}]})
    buyer = VisitorFacts(profile={"traits": {"plan": "pro"}}, events=[{"name": "purchase", "data": {"amount": 120}}])
    small = VisitorFacts(profile={"traits": {"plan": "pro"}}, events=[{"name": "purchase", "data": {"amount": 80}}])
    assert (matches(segment, buyer), matches(segment, small), matches(segment, NOBODY)) == (True, False, False)
    flag = parse({"match": "all", "conditions": [
        {"field": "traits.plan", "op": "in", "value": ["pro", "business"]},
        {"field": "context.country", "op": "eq", "value": "US"}]}, sourceless=True)
    elsewhere = VisitorFacts(context={**FLAG_VISITOR.context, "context": {"country": "FR"}})
    assert (matches(flag, FLAG_VISITOR), matches(flag, elsewhere)) == (True, False)


# -- helpers ------------------------------------------------------------------------------------------

MIXED = parse(defn(
    profile("traits.plan", "eq", "pro"),
    defn(session("country", "in", ["US", "CA"]), event("purchase", None, "exists"), match="any"),
    defn(defn(metric("events", "gte", 3, "signup"), pageview("path", "starts_with", "/docs"))),
    event("purchase", "revenue_amount", "gt", 10),
))


def test_walk_yields_every_condition_in_order():
    assert [(c.source, c.field) for c in walk(MIXED)] == [
        ("profile", "traits.plan"), ("session", "country"), ("event", None), ("metric", "events"),
        ("pageview", "path"), ("event", "revenue_amount")]


def test_sources_fields_and_event_names():
    assert sources(MIXED) == {"profile", "session", "event", "metric", "pageview"}
    assert sources(parse(defn(profile("user_id", "exists")))) == {"profile"}
    assert sources(parse(defn({"field": "user_id", "op": "exists"}), sourceless=True)) == frozenset()
    assert fields(MIXED) == {("profile", "traits.plan"), ("session", "country"), ("metric", "events"),
                             ("pageview", "path"), ("event", "revenue_amount")}
    assert event_names(MIXED) == {"purchase", "signup"}


@pytest.mark.parametrize(("field", "path"), [
    ("traits.plan", ("traits", "plan")), ("event_data.cart.total", ("event_data", "cart", "total")),
    ("country", ("country",)), (None, ()),
])
def test_condition_path(field, path):
    assert Condition("profile", field, "exists").path == path


@pytest.mark.parametrize(("condition", "label"), [
    (profile("traits.plan", "eq", "pro"), 'traits.plan = "pro"'),
    (profile("user_id", "not_exists"), "user_id is not set"),
    (profile("traits.seats", "lte", 5), "traits.seats <= 5"),
    (profile("traits.beta", "neq", True), "traits.beta != true"),
    (session("country", "in", ["US", "CA"]), 'a session with country in ["US", "CA"]'),
    (session("utm_source", "not_exists"), "no session with utm_source set"),
    (pageview("path", "starts_with", "/docs"), 'a pageview with path starts with "/docs"'),
    (event("purchase", None, "exists"), 'did "purchase"'),
    (event("purchase", None, "not_exists"), 'never did "purchase"'),
    (event("purchase", "event_data.amount", "gte", 100), 'a "purchase" event with event_data.amount >= 100'),
    (event("purchase", "event_data.coupon", "not_exists"), 'no "purchase" event with event_data.coupon set'),
    (metric("pageviews", "gt", 10), "pageviews > 10"),
    (metric("events", "gte", 3, "signup"), '"signup" events >= 3'),
])
def test_describe(condition, label):
    assert describe(one(condition)) == label


def test_describe_groups():
    assert describe(parse(defn(YES, defn(NO, match="any"), defn()))) == (
        "all of (visitor_id is set; any of (user_id is set); all of ())")
    assert describe(one({"field": "context.country", "op": "eq", "value": "US"}, sourceless=True)) == (
        'context.country = "US"')
