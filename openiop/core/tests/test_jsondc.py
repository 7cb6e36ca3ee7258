"""Frozen dataclass trees to JSON-safe data and back (openiop.core.jsondc)."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from openiop.core.jsondc import from_json, schema_fingerprint, to_json
from openiop.reports import outcomes


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass(frozen=True)
class Leaf:
    name: str
    score: float | None
    when: dt.date


@dataclass(frozen=True)
class Tree:
    leaves: tuple[Leaf, ...]
    pairs: tuple[tuple[int, int], ...]
    span: tuple[dt.date, dt.datetime] | None
    colour: Colour
    level: Level
    tags: list[str]
    counts: dict[str, int]
    time: float | int
    amount: Decimal
    ident: uuid.UUID
    flag: bool
    note: str | None = None
    extra: tuple[float, ...] = ()


@dataclass(frozen=True)
class Bare:
    items: tuple  # type: ignore[type-arg]


@dataclass(frozen=True)
class Loose:
    anything: Any


@dataclass(frozen=True)
class WithSet:
    ids: frozenset[int]


@dataclass(frozen=True)
class Ambiguous:
    value: float | str


@dataclass(frozen=True)
class Nested:
    inner: WithSet


def a_tree(**changes: Any) -> Tree:
    values: dict[str, Any] = {
        "leaves": (
            Leaf("a", 1.5, dt.date(2027, 1, 4)),
            Leaf("b", None, dt.date(2027, 2, 28)),
        ),
        "pairs": ((15, 8), (20, 10)),
        "span": (dt.date(2027, 1, 1), dt.datetime(2027, 3, 31, 17, 5, tzinfo=dt.UTC)),
        "colour": Colour.BLUE,
        "level": Level.HIGH,
        "tags": ["x", "y"],
        "counts": {"one": 1, "two": 2},
        "time": 30,
        "amount": Decimal("19.50"),
        "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "flag": True,
    }
    values.update(changes)
    return Tree(**values)


def through_json(value: Any) -> Any:
    """What a JSONField gives back: strict JSON text (no NaN) parsed again."""
    return json.loads(json.dumps(to_json(value), allow_nan=False))


def test_a_tree_round_trips_through_strict_json():
    tree = a_tree(note="hi", extra=(0.25, 2.0))
    data = through_json(tree)
    assert data["colour"] == "blue" and data["level"] == 2
    assert data["leaves"][1] == {"name": "b", "score": None, "when": "2027-02-28"}
    assert data["span"] == ["2027-01-01", "2027-03-31T17:05:00+00:00"]
    assert data["amount"] == "19.50" and data["pairs"] == [[15, 8], [20, 10]]
    back = from_json(Tree, data)
    assert back == tree
    assert type(back.pairs[0]) is tuple and type(back.leaves) is tuple
    assert back.colour is Colour.BLUE and back.level is Level.HIGH
    assert type(back.time) is int and back.amount == Decimal("19.50")


def test_none_and_optional_fields():
    tree = a_tree(span=None, note=None)
    data = through_json(tree)
    assert data["span"] is None and data["note"] is None
    assert from_json(Tree, data) == tree
    assert to_json(None) is None and from_json(type(None), None) is None
    assert from_json(int | None, None) is None and from_json(int | None, 3) == 3


def test_a_missing_field_with_a_default_takes_the_default():
    data = through_json(a_tree())
    del data["note"], data["extra"]
    assert from_json(Tree, data) == a_tree()


def test_int_or_float_keeps_which_it_was():
    assert type(from_json(Tree, through_json(a_tree(time=30))).time) is int
    assert type(from_json(Tree, through_json(a_tree(time=30.0))).time) is float
    # A float field holding an int is written as a float; a database may drop a ".0".
    assert to_json(Leaf("a", 2, dt.date(2027, 1, 1)))["score"] == 2.0
    assert from_json(tuple[float, ...], [1, 2.5]) == (1.0, 2.5)


def test_nan_and_infinity_are_written_as_strings():
    tree = a_tree(extra=(math.nan, math.inf, -math.inf, 1.0))
    data = through_json(tree)  # json.dumps(allow_nan=False) would raise on a bare NaN
    assert data["extra"] == ["NaN", "Infinity", "-Infinity", 1.0]
    back = from_json(Tree, data)
    assert math.isnan(back.extra[0]) and back.extra[1:] == (math.inf, -math.inf, 1.0)
    leaf = from_json(Leaf, through_json(Leaf("n", math.nan, dt.date(2027, 1, 1))))
    assert leaf.score is not None and math.isnan(leaf.score)


def test_plain_values_at_the_root():
    assert to_json((1, (2, 3), [dt.date(2027, 1, 2)])) == [1, [2, 3], ["2027-01-02"]]
    assert from_json(tuple[int, tuple[int, int], list[dt.date]], [1, [2, 3], ["2027-01-02"]]) == (
        1,
        (2, 3),
        [dt.date(2027, 1, 2)],
    )
    assert to_json({"a": Colour.RED}) == {"a": "red"}
    assert from_json(dict[str, Colour], {"a": "red"}) == {"a": Colour.RED}
    assert from_json(tuple[()], []) == ()


def test_unsupported_types_raise_type_error():
    with pytest.raises(TypeError, match=r"unsupported type frozenset"):
        to_json(frozenset({1, 2}))
    with pytest.raises(TypeError, match=r"WithSet\.ids: jsondc: unsupported type frozenset"):
        to_json(WithSet(frozenset({1})))
    with pytest.raises(TypeError, match=r"unsupported type frozenset"):
        from_json(Nested, {"inner": {"ids": [1]}})
    with pytest.raises(TypeError, match=r"Loose\.anything: .*concrete type"):
        to_json(Loose(object()))
    with pytest.raises(TypeError, match=r"Bare\.items: .*unsupported type tuple"):
        from_json(Bare, {"items": []})
    with pytest.raises(TypeError, match=r"float \| str is ambiguous"):
        to_json(Ambiguous(1.0))
    with pytest.raises(TypeError, match=r"dict keys must be str"):
        from_json(dict[int, int], {"1": 1})
    with pytest.raises(TypeError, match=r"unsupported type object"):
        to_json(object())


def test_values_that_do_not_fit_their_type_name_the_path():
    with pytest.raises(TypeError, match=r"^\$\.leaves\[1\]\.when: expected date, got datetime"):
        to_json(a_tree(leaves=(Leaf("a", 1.0, dt.date(2027, 1, 1)),
                               Leaf("b", 1.0, dt.datetime(2027, 1, 1)))))  # fmt: skip
    with pytest.raises(TypeError, match=r"^\$\.pairs: expected tuple, got list"):
        to_json(a_tree(pairs=[(1, 2)]))
    with pytest.raises(TypeError, match=r"^\$\.flag: expected bool, got int"):
        to_json(a_tree(flag=1))
    data = through_json(a_tree())
    with pytest.raises(TypeError, match=r"^\$\.pairs\[1\]\[0\]: expected an integer, got string"):
        from_json(Tree, {**data, "pairs": [[1, 2], ["3", 4]]})
    with pytest.raises(ValueError, match=r"^\$\.leaves\[0\]\.when: not a valid date"):
        from_json(Tree, {**data, "leaves": [{"name": "a", "score": 1, "when": "2027-13-01"}]})
    with pytest.raises(ValueError, match=r"^\$\.colour: 'green' is not a Colour"):
        from_json(Tree, {**data, "colour": "green"})
    with pytest.raises(TypeError, match=r"missing field 'flag'"):
        from_json(Tree, {k: v for k, v in data.items() if k != "flag"})
    with pytest.raises(TypeError, match=r"unknown field\(s\) 'surprise'"):
        from_json(Tree, {**data, "surprise": 1})
    with pytest.raises(TypeError, match=r"expected a boolean, got number"):
        from_json(Tree, {**data, "flag": 1})


def test_schema_fingerprint_follows_the_shape():
    assert schema_fingerprint(Tree) == schema_fingerprint(Tree)
    assert schema_fingerprint(Tree) != schema_fingerprint(Leaf)
    assert len(schema_fingerprint(outcomes.OutcomeReport)) == 16


# --------------------------------------------------------------------------------------------
# The real outcome report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wrapper:  # the report inside another tree, as a snapshot might keep it
    reports: tuple[outcomes.OutcomeReport, ...] = field(default=())


@pytest.mark.django_db
def test_an_outcome_report_round_trips_exactly(org, site, program, other_org):
    from openiop.reports.tests.test_outcomes import build_cohort, report_for

    cohort = build_cohort(org, site, program, other_org)
    report = report_for(cohort)
    assert report.admissions == 10 and report.retention.steps  # a report with real numbers
    data = through_json(report)
    back = from_json(outcomes.OutcomeReport, data)
    assert back == report
    assert outcomes.csv_text(back) == outcomes.csv_text(report)
    assert back.retention_90 == report.retention_90 and back.los[0].median == report.los[0].median
    # All programs (aftercare groups named) and an empty period round trip too.
    everyone = outcomes.outcome_report(
        organization=org, start=dt.date(2027, 1, 1), end=dt.date(2027, 3, 31),
        as_of=dt.date(2027, 12, 31),
    )  # fmt: skip
    assert everyone.excluded_programs
    empty = outcomes.outcome_report(
        organization=org, start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 2),
        as_of=dt.date(2027, 12, 31),
    )  # fmt: skip
    assert empty.admissions == 0 and empty.retention.median_days is None
    wrapped = _Wrapper((everyone, empty))
    assert from_json(_Wrapper, through_json(wrapped)) == wrapped
