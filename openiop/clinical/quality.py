"""The note-quality check for group notes (issue #5): pure, no Django.

Payers deny notes that read the same for every patient, and an empty individualized part is a
service with no documentation. Before a counselor signs a group note, ``check_parts`` looks at
every attendee's individualized part and warns about:

- an empty part (every section blank), or a part whose required sections (participation,
  response) are blank;
- a section copied word for word from another patient's part in the same session (compared
  case- and whitespace-insensitively), when the section has some substance (a few words);
- a whole part that is nearly identical to another patient's part (difflib similarity of at
  least ``SIMILARITY_THRESHOLD``).

Warnings never block by themselves: the counselor may acknowledge them (a group where two
people genuinely said the same short thing happens). The risk section is left out of the
section-by-section copy check on purpose: standard screening language ("Denies SI/HI; no safety
concerns observed") is expected to repeat across patients, and a wholesale copy is still caught
by the whole-part comparison, which includes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

SECTIONS: tuple[str, ...] = ("participation", "response", "progress", "risk")
REQUIRED: tuple[str, ...] = ("participation", "response")
# Sections compared one by one for word-for-word copies (see the module docstring for risk).
COPY_CHECKED: tuple[str, ...] = ("participation", "response", "progress")
SECTION_LABELS: dict[str, str] = {
    "participation": "Participation",
    "response": "Response",
    "progress": "Progress",
    "risk": "Risk",
}
# A section shorter than this many words ("Attended.", "Quiet today") is too short to call a copy.
MIN_COPY_WORDS = 5
SIMILARITY_THRESHOLD = 0.9

EMPTY = "empty"
MISSING_REQUIRED = "missing_required"
COPIED_SECTION = "copied_section"
COPIED_PART = "copied_part"

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QualityWarning:
    """One warning about one patient's part. ``patient`` is the key the part was given under;
    ``other`` the other patient's key for copy warnings, else ""; ``section`` the section
    concerned, else ""."""

    code: str
    patient: str
    message: str
    other: str = ""
    section: str = ""
    similarity: float = 0.0


def normalize(text: str | None) -> str:
    """Lower case, runs of whitespace collapsed to one space, trimmed."""
    return _SPACE.sub(" ", (text or "").strip().lower())


def _whole(part: Mapping[str, str]) -> str:
    return " | ".join(normalize(part.get(name)) for name in SECTIONS)


def _words(text: str) -> int:
    return len(text.split()) if text else 0


def close_ratio(a: str, b: str) -> float:
    """difflib's ratio of two normalized texts when it reaches ``SIMILARITY_THRESHOLD``, else
    0.0 (difflib's cheap upper bounds rule most pairs out without the full comparison)."""
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if (
        matcher.real_quick_ratio() < SIMILARITY_THRESHOLD
        or matcher.quick_ratio() < SIMILARITY_THRESHOLD
    ):
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= SIMILARITY_THRESHOLD else 0.0


def check_parts(
    parts: Mapping[str, Mapping[str, str]], names: Mapping[str, str] | None = None
) -> list[QualityWarning]:
    """Warnings for the individualized parts of one session, keyed by patient.

    ``names`` maps the same keys to the patients' names for the messages (the key is used when
    a name is missing). Each copy warning is reported on both patients' parts, so a screen can
    show it beside either one. A part is never compared with itself.
    """
    names = names or {}

    def name(key: str) -> str:
        return names.get(key) or key

    warnings: list[QualityWarning] = []
    keys = list(parts)
    normalized = {key: {s: normalize(parts[key].get(s)) for s in SECTIONS} for key in keys}
    for key in keys:
        sections = normalized[key]
        if not any(sections.values()):
            warnings.append(
                QualityWarning(EMPTY, key, f"{name(key)}'s part is empty: write what they did.")
            )
            continue
        blank = [s for s in REQUIRED if not sections[s]]
        if blank:
            labels = " and ".join(SECTION_LABELS[s].lower() for s in blank)
            warnings.append(
                QualityWarning(
                    MISSING_REQUIRED,
                    key,
                    f"{name(key)}'s part has no {labels}.",
                    section=blank[0],
                )
            )
    for a, b in combinations(keys, 2):
        sa, sb = normalized[a], normalized[b]
        whole_a, whole_b = _whole(sa), _whole(sb)
        substantial = (
            _words(whole_a.replace("|", "")) >= MIN_COPY_WORDS
            and _words(whole_b.replace("|", "")) >= MIN_COPY_WORDS
        )
        ratio = close_ratio(whole_a, whole_b) if substantial else 0.0
        if ratio >= SIMILARITY_THRESHOLD:
            pct = int(ratio * 100)
            for this, other in ((a, b), (b, a)):
                how = "identical to" if ratio == 1.0 else f"{pct}% the same as"
                warnings.append(
                    QualityWarning(
                        COPIED_PART,
                        this,
                        f"{name(this)}'s part is {how} {name(other)}'s: "
                        "individualize it for this patient.",
                        other=other,
                        similarity=ratio,
                    )
                )
            continue
        for section in COPY_CHECKED:
            text = sa[section]
            if text and text == sb[section] and _words(text) >= MIN_COPY_WORDS:
                label = SECTION_LABELS[section]
                for this, other in ((a, b), (b, a)):
                    warnings.append(
                        QualityWarning(
                            COPIED_SECTION,
                            this,
                            f"{label} for {name(this)} is word for word the same as for "
                            f"{name(other)}.",
                            other=other,
                            section=section,
                            similarity=1.0,
                        )
                    )
    return warnings


def warnings_by_patient(warnings: list[QualityWarning]) -> dict[str, list[QualityWarning]]:
    grouped: dict[str, list[QualityWarning]] = {}
    for warning in warnings:
        grouped.setdefault(warning.patient, []).append(warning)
    return grouped
