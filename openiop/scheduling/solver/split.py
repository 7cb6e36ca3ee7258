"""Split one block's attendees of one program into its groups.

The model decides how many attend and which clinicians and rooms are used; here the attendees
become groups of valid sizes:

- sizes lie in ``group_min .. min(room capacity, group_max)`` and are as even as the rooms allow;
- patients with the same weekly pattern are kept next to each other, so the same people share a
  group in every block they have in common (stable cohorts);
- in repair mode a patient whose current group id is ``<block>/<program>/<n>`` stays in group
  ``n`` when that group still exists and has room.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def split_sizes(
    total: int, caps: Sequence[int], group_min: int, wanted: Sequence[int]
) -> list[int]:
    """Group sizes summing to ``total`` with ``group_min <= size[i] <= caps[i]``.

    ``wanted[i]`` is how many patients would like to stay in group ``i`` (repair); sizes start
    there and are then evened out. Requires ``len(caps) * group_min <= total <= sum(caps)`` and
    every cap ``>= group_min``.
    """
    n = len(caps)
    if not (n * group_min <= total <= sum(caps)):
        raise ValueError(f"{total} attendees cannot form {n} groups with capacities {list(caps)}")
    sizes = [max(group_min, min(w, c)) for w, c in zip(wanted, caps, strict=True)]
    while sum(sizes) > total:  # shrink: first the sizes nobody asked for, then the largest
        i = max(
            (i for i in range(n) if sizes[i] > group_min),
            key=lambda i: (sizes[i] > wanted[i], sizes[i]),
        )
        sizes[i] -= 1
    while sum(sizes) < total:  # grow the smallest group that still has room
        i = min((i for i in range(n) if sizes[i] < caps[i]), key=lambda i: (sizes[i], -caps[i]))
        sizes[i] += 1
    return sizes


def split_block(
    attendees: Sequence[str],
    caps: Sequence[int],
    group_min: int,
    previous: Mapping[str, int],
) -> list[list[str]]:
    """Members of group 1..n (``attendees`` already in cohort order; ``previous``: patient -> n).

    ``caps`` are listed per group slot; the caller pairs slot ``i`` with its room and clinician.
    """
    n = len(caps)
    wanted = [[p for p in attendees if previous.get(p) == i + 1] for i in range(n)]
    sizes = split_sizes(len(attendees), caps, group_min, [len(w) for w in wanted])
    groups: list[list[str]] = [w[: sizes[i]] for i, w in enumerate(wanted)]
    placed = {p for g in groups for p in g}
    slot = 0
    for p in attendees:
        if p in placed:
            continue
        while len(groups[slot]) >= sizes[slot]:
            slot += 1
        groups[slot].append(p)
    return groups
