"""Does a weekly group fit a patient's week? (pure; no Django)

A group meets on some weekdays at a local time for some minutes; a patient keeps weekly windows
for work, school or childcare. The group fits when no meeting overlaps any window. Travel time is
a buffer on both sides of each window (default 0; a program may set 30 minutes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time
    label: str = ""


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def conflicts(
    weekdays: Iterable[int],
    start: dt.time,
    duration_minutes: int,
    windows: Iterable[Window],
    buffer_minutes: int = 0,
) -> list[Window]:
    """The windows a weekly meeting collides with (empty list = it fits). A meeting that runs past
    midnight is checked against the next day's windows too."""
    days = set(weekdays)
    lo = _minutes(start)
    hi = lo + duration_minutes
    hits: list[Window] = []
    for window in windows:
        w_lo = _minutes(window.start) - buffer_minutes
        w_hi = _minutes(window.end) + buffer_minutes
        for day in days:
            same_day = window.weekday == day and lo < w_hi and w_lo < hi
            next_day = window.weekday == (day + 1) % 7 and hi > 1440 and w_lo < hi - 1440
            if same_day or next_day:
                hits.append(window)
                break
    return hits
