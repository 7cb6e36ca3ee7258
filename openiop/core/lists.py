"""A list of the rows a panel shows that still knows how many rows there are in all."""

from __future__ import annotations

import datetime as dt
from typing import Any


class Counted(list):  # type: ignore[type-arg]
    """The first rows of a longer list: ``total`` is the whole count, ``computed_at`` when the
    rows were computed if they came from a snapshot (ADR 0016)."""

    def __init__(self, rows: list[Any], total: int, computed_at: dt.datetime | None = None) -> None:
        super().__init__(rows)
        self.total = total
        self.computed_at = computed_at

    @property
    def truncated(self) -> bool:
        return self.total > len(self)
