"""Pulse's one condition language: segments, feature-flag targeting and survey targeting share it.

A definition is `{"match": "all" | "any", "conditions": [...]}`; each item of `conditions` is a
condition or, when it has `match` and `conditions` itself, a nested group. docs/conditions.md is the
user's reference: every source, field, operator, limit and error message.

    definition = parse(body["definition"])                       # a segment: sources named
    rules = parse(body["targeting_rules"], what="targeting rules", sourceless=True)   # a flag
    matches(definition, VisitorFacts(profile=..., sessions=[...], events=[...]))

The design, in three parts:

- `parse` is the only way in. It checks a JSON value once, completely, and returns frozen
  dataclasses (`Definition`, `Group`, `Condition`), so nothing downstream re-validates. Every
  error is a `pulse.errors.BadRequest` naming the offending item by its path,
  `Invalid segment definition: conditions[1].op: unknown operator 'gtt' (expected ...).`
- `matches` evaluates a parsed definition for one visitor, in memory, over `VisitorFacts` (what
  is known of the visitor over a date range). Its semantics are the specification the SQL
  compiler reproduces: profile and flag conditions test one value; session, pageview and event
  conditions are existential (some row satisfies the test); metric conditions compare a total.
  Values compare as PostgreSQL's jsonb and numeric do: numbers numerically and exactly (as
  decimals), strings exactly, a number never equal to a string or a boolean, a JSON null the
  same as no value.
- `walk`, `sources`, `fields`, `event_names` and `describe` are what a compiler or a UI needs to
  know of a parsed definition without re-reading its JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from pulse import errors

MATCHES: Final = ("all", "any")
SOURCES: Final = ("profile", "session", "pageview", "event", "metric")
OPERATORS: Final = ("exists", "not_exists", "eq", "neq", "contains", "starts_with", "ends_with",
                    "gt", "gte", "lt", "lte", "in")
PRESENCE_OPERATORS: Final = ("exists", "not_exists")  # take no value
EQUALITY_OPERATORS: Final = ("eq", "neq")  # a string, a number or a boolean
TEXT_OPERATORS: Final = ("contains", "starts_with", "ends_with")  # a non-empty string, any case
ORDER_OPERATORS: Final = ("gt", "gte", "lt", "lte")  # a number
METRIC_OPERATORS: Final = ("eq", "neq", "gt", "gte", "lt", "lte")  # a number

PROFILE_FIELDS: Final = ("visitor_id", "user_id")  # and traits.<name>
SESSION_FIELDS: Final = ("country", "region", "city", "browser", "os", "device", "source", "channel", "referrer",
                         "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "entry_path",
                         "exit_path", "hostname")
PAGEVIEW_FIELDS: Final = ("path", "hostname", "title")
EVENT_FIELDS: Final = ("revenue_amount", "revenue_currency")  # and event_data.<key>
METRIC_FIELDS: Final = ("pageviews", "sessions", "events", "revenue", "duration")
SOURCELESS_FIELDS: Final = ("visitor_id", "user_id")  # and traits.<name>, context.<name>

#: The fields each source names as they are; None is a sourceless (flag targeting) condition.
_PLAIN_FIELDS: Final[Mapping[str | None, tuple[str, ...]]] = {
    "profile": PROFILE_FIELDS, "session": SESSION_FIELDS, "pageview": PAGEVIEW_FIELDS, "event": EVENT_FIELDS,
    "metric": METRIC_FIELDS, None: SOURCELESS_FIELDS}
#: The prefixes whose fields name a key (`traits.plan`, `event_data.cart.total`), per source.
PREFIXES: Final[Mapping[str | None, tuple[str, ...]]] = {
    "profile": ("traits",), "event": ("event_data",), None: ("traits", "context")}
#: The fields each source accepts, as the error messages list them.
_FIELD_HINTS: Final[Mapping[str | None, str]] = {
    "profile": "visitor_id, user_id or traits.<name>",
    "session": "one of " + ", ".join(SESSION_FIELDS),
    "pageview": "one of " + ", ".join(PAGEVIEW_FIELDS),
    "event": "event_data.<key>, revenue_amount or revenue_currency",
    "metric": "one of " + ", ".join(METRIC_FIELDS),
    None: "visitor_id, user_id, traits.<name> or context.<name>",
}

MAX_CONDITIONS: Final = 20  # items in one `conditions` list
MAX_TOTAL_CONDITIONS: Final = 100  # items in the whole definition, groups and their items included
MAX_DEPTH: Final = 3  # groups inside groups: conditions[0].conditions[0].conditions[0] is the deepest
MAX_IN_VALUES: Final = 100
MAX_STRING: Final = 500  # characters of a string value
MAX_EVENT_NAME: Final = 200
MAX_KEY: Final = 100  # characters of a trait, context or event data key (dots included)
KEY: Final = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")

Scalar = str | int | float | bool
Value = Scalar | tuple[str | int | float, ...] | None


@dataclass(frozen=True, slots=True)
class Condition:
    """One test. `source` is None in a sourceless (flag targeting) definition; `field` is None only
    in an event condition that asks whether the event happened; `value` is None for exists and
    not_exists, a tuple for `in`; `event` names the event of an event condition (and optionally
    of an `events` metric)."""

    source: str | None
    field: str | None
    op: str
    value: Value = None
    event: str | None = None

    @property
    def path(self) -> tuple[str, ...]:
        """The field split at its dots: `("traits", "plan")`, `("event_data", "cart", "total")`,
        `("country",)`; `()` without a field."""
        return tuple(self.field.split(".")) if self.field else ()


@dataclass(frozen=True, slots=True)
class Group:
    """A nested `{"match", "conditions"}` inside a definition's conditions."""

    match: str
    conditions: tuple[Condition | Group, ...]


@dataclass(frozen=True, slots=True)
class Definition:
    match: str
    conditions: tuple[Condition | Group, ...]


@dataclass(frozen=True)
class VisitorFacts:
    """What is known of one visitor over a range, as `matches` reads it.

    - `profile`: `{"visitor_id", "user_id", "traits": {...}}` (what identify calls stored);
    - `sessions`: one dict per session, keyed by SESSION_FIELDS, plus `duration` (seconds);
    - `pageviews`: one dict per pageview, keyed by PAGEVIEW_FIELDS;
    - `events`: one dict per event: `name`, `data` (a dict), `revenue_amount`, `revenue_currency`;
    - `context`: for sourceless definitions, `{"visitor_id", "user_id", "traits": {...},
      "context": {...}}` (a flag evaluation's body).
    A key that is absent and a key whose value is None mean the same: not set.
    """

    profile: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sessions: Sequence[Mapping[str, Any]] = ()
    pageviews: Sequence[Mapping[str, Any]] = ()
    events: Sequence[Mapping[str, Any]] = ()
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# -- parsing ---------------------------------------------------------------------------------------

def parse(definition: Any, *, what: str = "segment definition", sourceless: bool = False) -> Definition:
    """Validate a JSON value into a Definition, or raise BadRequest naming the first bad item.

    `what` names the definition in messages (`Invalid targeting rules: ...`); `sourceless=True`
    reads flag targeting rules: conditions name a field only, no source."""
    parser = _Parser(what, sourceless)
    match, conditions = parser.group(definition, "", depth=0)
    return Definition(match, conditions)


@dataclass
class _Parser:
    what: str
    sourceless: bool
    count: int = 0  # items seen so far, for MAX_TOTAL_CONDITIONS

    def fail(self, path: str, message: str) -> errors.BadRequest:
        return errors.BadRequest(f"Invalid {self.what}: {path}: {message}." if path
                                 else f"Invalid {self.what}: {message}.")

    def group(self, raw: Any, path: str, depth: int) -> tuple[str, tuple[Condition | Group, ...]]:
        if not isinstance(raw, Mapping):
            raise self.fail(path, f"expected an object with match and conditions, got {_kind(raw)}")
        for key in raw:
            if key not in ("match", "conditions"):
                raise self.fail(path, f"unknown key {_shown(key)} (expected match, conditions)")
        if "match" not in raw:
            raise self.fail(path, "missing 'match' (all or any)")
        match = raw["match"]
        if not isinstance(match, str) or match not in MATCHES:
            raise self.fail(_at(path, "match"), f"expected all or any, got {_shown(match)}")
        if "conditions" not in raw:
            raise self.fail(path, f"missing 'conditions' (a list of at most {MAX_CONDITIONS})")
        items = raw["conditions"]
        where = _at(path, "conditions")
        if not isinstance(items, list | tuple):
            raise self.fail(where, f"expected a list, got {_kind(items)}")
        if len(items) > MAX_CONDITIONS:
            raise self.fail(where, f"at most {MAX_CONDITIONS} conditions, got {len(items)}")
        return match, tuple(self.item(item, f"{where}[{i}]", depth) for i, item in enumerate(items))

    def item(self, raw: Any, path: str, depth: int) -> Condition | Group:
        self.count += 1
        if self.count > MAX_TOTAL_CONDITIONS:
            raise self.fail(path, f"at most {MAX_TOTAL_CONDITIONS} conditions in the whole definition "
                                  "(groups and their conditions included)")
        if not isinstance(raw, Mapping):
            raise self.fail(path, f"expected a condition (an object), got {_kind(raw)}")
        if "match" in raw or "conditions" in raw:
            if depth == MAX_DEPTH:
                raise self.fail(path, f"groups nest at most {MAX_DEPTH} deep")
            return Group(*self.group(raw, path, depth + 1))
        return self.condition(raw, path)

    def condition(self, raw: Mapping[str, Any], path: str) -> Condition:
        source = self.source(raw, path)
        allowed = ("field", "op", "value") if source is None else (
            ("source", "event", "field", "op", "value") if source in ("event", "metric")
            else ("source", "field", "op", "value"))
        for key in raw:
            if key not in allowed:
                raise self.fail(path, f"unknown key {_shown(key)} (expected {', '.join(allowed)})")
        event = self.event(raw, path, source)
        field = self.field(raw, path, source)
        if source == "metric" and event is not None and field != "events":
            raise self.fail(_at(path, "event"), "only the 'events' metric takes an event name")
        op = self.op(raw, path, source, field)
        value = self.value(raw, path, source, field, op)
        return Condition(source, field, op, value, event)

    def source(self, raw: Mapping[str, Any], path: str) -> str | None:
        if self.sourceless:
            if "source" in raw:
                raise self.fail(_at(path, "source"), f"these conditions take no source, only a field "
                                                     f"({_FIELD_HINTS[None]})")
            return None
        return self.choice(raw, path, "source", SOURCES)

    def choice(self, raw: Mapping[str, Any], path: str, key: str, choices: Sequence[str]) -> str:
        """A required key naming one of `choices` (`source`, `op`)."""
        expected = f"expected one of {', '.join(choices)}"
        if key not in raw:
            raise self.fail(path, f"missing '{key}' ({expected})")
        chosen = raw[key]
        if not isinstance(chosen, str):
            raise self.fail(_at(path, key), f"{expected}, got {_shown(chosen)}")
        if chosen not in choices:
            noun = "operator" if key == "op" else key
            raise self.fail(_at(path, key), f"unknown {noun} {_shown(chosen)} ({expected})")
        return chosen

    def event(self, raw: Mapping[str, Any], path: str, source: str | None) -> str | None:
        name = raw.get("event")
        if name is None:
            if source == "event":
                raise self.fail(path, f"missing 'event' (the event name, 1 to {MAX_EVENT_NAME} characters)")
            return None
        if not isinstance(name, str):
            raise self.fail(_at(path, "event"), f"expected a string, got {_kind(name)}")
        if not 1 <= len(name) <= MAX_EVENT_NAME:
            raise self.fail(_at(path, "event"), f"the event name must have 1 to {MAX_EVENT_NAME} characters, "
                                                f"got {len(name)}")
        return name

    def field(self, raw: Mapping[str, Any], path: str, source: str | None) -> str | None:
        field = raw.get("field")
        hint = _FIELD_HINTS[source]
        if field is None:
            if source == "event":
                return None
            raise self.fail(path, f"missing 'field' (expected {hint})")
        where = _at(path, "field")
        if not isinstance(field, str):
            raise self.fail(where, f"expected a string, got {_kind(field)}")
        if field in _PLAIN_FIELDS[source]:
            return field
        for prefix in PREFIXES.get(source, ()):
            if field.startswith(prefix + "."):
                key = field[len(prefix) + 1:]
                if len(key) > MAX_KEY or not KEY.fullmatch(key):
                    raise self.fail(where, f"invalid key in {_shown(field)}: after '{prefix}.' come 1 to {MAX_KEY} "
                                           "characters of letters, digits, '_', '-' and '.', with no empty part "
                                           "between dots")
                return field
        raise self.fail(where, f"unknown {source + ' ' if source else ''}field {_shown(field)} (expected {hint})")

    def op(self, raw: Mapping[str, Any], path: str, source: str | None, field: str | None) -> str:
        op = self.choice(raw, path, "op", OPERATORS)
        if source == "metric" and op not in METRIC_OPERATORS:
            raise self.fail(_at(path, "op"), f"metric conditions take {_either(METRIC_OPERATORS)}, not '{op}'")
        if source == "event" and field is None and op not in PRESENCE_OPERATORS:
            raise self.fail(path, f"'{op}' needs a field: an event condition without one takes only exists "
                                  "or not_exists")
        return op

    def value(self, raw: Mapping[str, Any], path: str, source: str | None, field: str | None, op: str) -> Value:
        value = raw.get("value")  # a JSON null is no value
        where = _at(path, "value")
        if op in PRESENCE_OPERATORS:
            if value is not None:
                raise self.fail(path, f"'{op}' takes no value")
            return None
        if value is None:
            raise self.fail(path, f"field '{field}' needs a value for '{op}'")
        if source == "metric" or op in ORDER_OPERATORS:
            on = " on a metric" if source == "metric" else ""
            if not _numeric(value):
                raise self.fail(where, f"'{op}'{on} needs a number, got {_kind(value)}")
        elif op in EQUALITY_OPERATORS:
            if not isinstance(value, str | bool) and not _numeric(value):
                raise self.fail(where, f"'{op}' needs a string, number or boolean, got {_kind(value)}")
        elif op in TEXT_OPERATORS:
            if not isinstance(value, str) or not value:
                got = "an empty string" if value == "" else _kind(value)
                raise self.fail(where, f"'{op}' needs a non-empty string, got {got}")
        else:  # in
            if not isinstance(value, list | tuple) or not value:
                got = "an empty list" if isinstance(value, list | tuple) else _kind(value)
                raise self.fail(where, f"'in' needs a non-empty list of strings and numbers, got {got}")
            if len(value) > MAX_IN_VALUES:
                raise self.fail(where, f"'in' takes at most {MAX_IN_VALUES} values, got {len(value)}")
            for i, item in enumerate(value):
                if not isinstance(item, str) and not _numeric(item):
                    raise self.fail(f"{where}[{i}]", f"'in' takes strings and numbers, got {_kind(item)}")
                self.scalar(item, f"{where}[{i}]")
            return tuple(value)
        self.scalar(value, where)
        return value

    def scalar(self, value: Any, where: str) -> None:
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL's text cannot hold it
            raise self.fail(where, "strings may not contain NUL characters")
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise self.fail(where, f"strings may have at most {MAX_STRING} characters, got {len(value)}")
        if isinstance(value, float | Decimal) and not _finite(value):
            raise self.fail(where, "numbers must be finite")


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    """A value's JSON type, as messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _numeric(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _shown(value: Any) -> str:
    """A value quoted for a message, cut to 60 characters (a field may be long)."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value) if _numeric(value) else _kind(value)


def _either(names: Sequence[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


# -- evaluation ------------------------------------------------------------------------------------

class _NotSet:
    """An absent key, a None value, or a path through something that is not an object."""

    def __repr__(self) -> str:
        return "NOT_SET"


_NOT_SET: Final = _NotSet()


def matches(definition: Definition | Group, visitor: VisitorFacts) -> bool:
    """Whether the visitor satisfies the definition (docs/conditions.md, "Evaluation")."""
    results = (_holds(item, visitor) for item in definition.conditions)
    return all(results) if definition.match == "all" else any(results)


def _holds(item: Condition | Group, visitor: VisitorFacts) -> bool:
    if isinstance(item, Group):
        return matches(item, visitor)
    source, path = item.source, item.path
    if source is None:
        return _test(item, _lookup(visitor.context, path))
    if source == "profile":
        return _test(item, _lookup(visitor.profile, path))
    if source == "session":
        return _some(item, visitor.sessions, lambda row: _lookup(row, path))
    if source == "pageview":
        return _some(item, visitor.pageviews, lambda row: _lookup(row, path))
    if source == "event":
        done = [event for event in visitor.events if event.get("name") == item.event]
        if item.field is None:
            return bool(done) == (item.op == "exists")
        return _some(item, done, lambda event: _event_value(event, path))
    return _test(item, _metric(item, visitor))


def _some(condition: Condition, rows: Sequence[Mapping[str, Any]], value: Callable[[Mapping[str, Any]], Any]) -> bool:
    """Existential: some row passes the test; for not_exists, no row has the field set."""
    if condition.op == "not_exists":
        return all(_test(condition, value(row)) for row in rows)
    return any(_test(condition, value(row)) for row in rows)


def _lookup(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return _NOT_SET
        data = data[key]
    return _NOT_SET if data is None else data


def _event_value(event: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    if path[0] == "event_data":
        return _lookup(event.get("data"), path[1:])
    return _lookup(event, path)


def _metric(condition: Condition, visitor: VisitorFacts) -> int | Decimal:
    name = condition.field
    if name == "pageviews":
        return len(visitor.pageviews)
    if name == "sessions":
        return len(visitor.sessions)
    if name == "events":
        return sum(1 for event in visitor.events if condition.event in (None, event.get("name")))
    if name == "revenue":
        amounts = (event.get("revenue_amount") for event in visitor.events)
        return sum((_decimal(amount) for amount in amounts if _is_number(amount)), Decimal(0))
    durations = (session.get("duration") for session in visitor.sessions)
    return sum((_decimal(seconds) for seconds in durations if _is_number(seconds)), Decimal(0))


_ORDER: Final[Mapping[str, Callable[[Decimal, Decimal], bool]]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_TEXT: Final[Mapping[str, Callable[[str, str], bool]]] = {
    "contains": lambda actual, wanted: wanted in actual,
    "starts_with": str.startswith,
    "ends_with": str.endswith,
}


def test(condition: Condition, actual: Any) -> bool:
    """One value against the condition's operator and value (NOT_SET, or None: not set); what a
    compiler uses for values it reads itself (a rollup's dimension values)."""
    return _test(condition, _NOT_SET if actual is None else actual)


def _test(condition: Condition, actual: Any) -> bool:
    """One value against the condition's operator and value (_NOT_SET: not set)."""
    op, wanted = condition.op, condition.value
    if op == "exists":
        return actual is not _NOT_SET
    if op == "not_exists":
        return actual is _NOT_SET
    if actual is _NOT_SET:
        return False
    if op == "eq":
        return _equal(actual, wanted)
    if op == "neq":
        return not _equal(actual, wanted)
    if op == "in":
        return any(_equal(actual, item) for item in wanted)
    if op in _TEXT:
        return isinstance(actual, str) and _TEXT[op](actual.lower(), wanted.lower())
    return _is_number(actual) and _ORDER[op](_decimal(actual), _decimal(wanted))


def _equal(a: Any, b: Any) -> bool:
    """jsonb equality: booleans equal booleans, numbers equal numbers by value, strings exactly."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return _decimal(a) == _decimal(b)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _numeric(value: Any) -> bool:
    """An int, float or Decimal; a boolean is not a number."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A number a comparison can use: numeric and finite."""
    return _numeric(value) and _finite(value)


def _finite(value: int | float | Decimal) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) or math.isfinite(value)


def _decimal(value: int | float | Decimal) -> Decimal:
    """Exact, as PostgreSQL's numeric: a float by its shortest text, so 0.1 is 0.1."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# -- what a compiler or a UI needs -----------------------------------------------------------------

def walk(definition: Definition | Group) -> Iterator[Condition]:
    """Every condition, depth first, in order; groups are entered, not yielded."""
    for item in definition.conditions:
        if isinstance(item, Group):
            yield from walk(item)
        else:
            yield item


def sources(definition: Definition | Group) -> frozenset[str]:
    """The sources the definition reads (empty for a sourceless definition)."""
    return frozenset(c.source for c in walk(definition) if c.source is not None)


def fields(definition: Definition | Group) -> frozenset[tuple[str | None, str]]:
    """The (source, field) pairs tested; an event condition without a field adds none."""
    return frozenset((c.source, c.field) for c in walk(definition) if c.field is not None)


def event_names(definition: Definition | Group) -> frozenset[str]:
    """The event names event conditions and `events` metrics name."""
    return frozenset(c.event for c in walk(definition) if c.event is not None)


_LABELS: Final = {"exists": "is set", "not_exists": "is not set", "eq": "=", "neq": "!=", "gt": ">", "gte": ">=",
                  "lt": "<", "lte": "<=", "contains": "contains", "starts_with": "starts with",
                  "ends_with": "ends with", "in": "in"}


def describe(item: Condition | Group | Definition) -> str:
    """A readable label: `traits.plan = "pro"`, `a session with country in ["US", "CA"]`,
    `did "purchase"`, `"purchase" events >= 3`, `all of (...; ...)`."""
    if not isinstance(item, Condition):
        return f"{item.match} of ({'; '.join(describe(c) for c in item.conditions)})"
    test = f"{item.field} {_LABELS[item.op]}"
    if item.op not in PRESENCE_OPERATORS:
        test += " " + json.dumps(list(item.value) if isinstance(item.value, tuple) else item.value)
    event = json.dumps(item.event)
    if item.source in ("session", "pageview", "event"):
        rows = {"session": "session", "pageview": "pageview", "event": f"{event} event"}[item.source]
        if item.field is None:
            return f"did {event}" if item.op == "exists" else f"never did {event}"
        if item.op == "not_exists":
            return f"no {rows} with {item.field} set"
        return f"a {rows} with {test}"
    if item.source == "metric" and item.event is not None:
        return f"{event} {test}"
    return test
