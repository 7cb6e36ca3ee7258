"""When is a questionnaire due? Pure: rules and dates in, due items out (no Django imports).

* ``at_admission``: due from the admission date until one is recorded (a response up to
  ``WINDOW_DAYS`` before admission, e.g. at intake, counts).
* ``every_n_days``: due ``n`` days after the latest response (or after admission if none yet).
  While the admission administration is still outstanding only that one is listed.
* ``at_discharge``: once a discharge date is recorded, due unless a response falls within
  ``WINDOW_DAYS`` before it. After discharge only discharge administrations are listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

WINDOW_DAYS = 7


@dataclass(frozen=True)
class Rule:
    instrument: str
    at_admission: bool = True
    every_n_days: int | None = None
    at_discharge: bool = False


@dataclass(frozen=True)
class Due:
    instrument: str
    reason: str  # "admission" | "periodic" | "discharge"
    due_on: dt.date
    days_overdue: int


def due_items(
    rules: Iterable[Rule],
    *,
    admitted_on: dt.date | None,
    today: dt.date,
    given: Mapping[str, Sequence[dt.date]],
    discharged_on: dt.date | None = None,
) -> list[Due]:
    if admitted_on is None or today < admitted_on:
        return []
    window = dt.timedelta(days=WINDOW_DAYS)
    out: list[Due] = []
    for rule in rules:
        dates = sorted(d for d in given.get(rule.instrument, ()) if d >= admitted_on - window)
        if discharged_on is not None:
            if rule.at_discharge and not any(d >= discharged_on - window for d in dates):
                out.append(Due(rule.instrument, "discharge", discharged_on, 0))
            continue
        if rule.at_admission and not dates:
            out.append(Due(rule.instrument, "admission", admitted_on, (today - admitted_on).days))
            continue
        if rule.every_n_days:
            last = dates[-1] if dates else admitted_on
            next_on = last + dt.timedelta(days=rule.every_n_days)
            if today >= next_on:
                out.append(Due(rule.instrument, "periodic", next_on, (today - next_on).days))
    return sorted(out, key=lambda d: (d.due_on, d.instrument))
