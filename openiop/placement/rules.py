"""Level-of-care recommendation from a six-dimension assessment (pure; stdlib only).

This is **decision support**: a local, documented heuristic written from public material
(``reference/domain.md`` §1). It is *not* the ASAM Criteria software (ASAM CONTINUUM), whose
decision logic is proprietary, and it never replaces the clinician's judgment: the clinician
chooses the level, and a choice that differs from the recommendation is a *variance* that needs a
recorded reason. ``docs/placement.md`` explains every rule for clinicians and program directors;
keep the two in step.

Dimensions use 3rd-edition numbering (1 withdrawal, 2 biomedical, 3 emotional / behavioral /
cognitive, 4 readiness to change, 5 relapse / continued use, 6 recovery / living environment),
each rated 0-4. A 4th-edition assessment (``criteria_edition="4"``) is mapped first
(:data:`CROSSWALK_4TH_TO_3RD`): 4th D1→d1, D2→d2, D3→d3, D4 (substance use-related risks)→d5,
D5 (recovery environment interactions)→d6, D6 (person-centered considerations, which now holds the
need for motivational enhancement)→d4. Reasons name the dimension as it was entered.

The rules (every one that fires is reported, the most intensive first; the most intensive wins):

====================================================  =========================================
Trigger                                               Result
====================================================  =========================================
needs detox now, or d1 >= 3                           withdrawal management first (a -WM level)
d2 >= 3, or medically unstable                        4.0 inpatient (medically managed)
d3 = 4 (local addition: needs 24-h psychiatric care)  4.0 inpatient
needs 24-hour supervision                             3.5 residential (4.0 if the above apply)
toxic home, harmful environment, or d6 >= 3           3.5 residential
d4 or d5 >= 3 with d6 >= 2                            3.5 residential
d4 or d5 >= 3 (d6 0-1)                                2.5 PHP
serious co-occurring illness, or d3 >= 3              2.5 PHP (or higher)
any dimension at 2                                    2.1 IOP
all dimensions 0-1 and none of the above              1.0 outpatient
====================================================  =========================================

The level follows the highest-need dimensions, never an average. Withdrawal management: the level
is first computed without the withdrawal trigger (the *setting* the other needs call for), then

* d1 = 4, or the setting is inpatient              → ``4-WM``  (medically managed inpatient WM)
* d1 = 3                                            → ``3.7-WM`` (medically monitored inpatient WM)
* the setting is residential (d1 0-2)               → ``3.2-WM`` (clinically managed residential WM)
* needs detox now, d1 0-1, setting outpatient       → ``1-WM``  (ambulatory, no extended monitoring)
* otherwise (needs detox now, setting IOP or PHP)   → ``2-WM``  (ambulatory, extended monitoring)

One total intensity order compares all codes (:data:`LEVELS`, :func:`intensity_rank`)::

    1.0 < 1-WM < 2.1 < 2.5 < 2-WM < 3.5 < 3.2-WM < 3.7-WM < 4.0 < 4-WM

A withdrawal-management level ranks just above the non-WM level whose setting it shares, because
the withdrawal need is added on top of that setting. With that order the rules are monotone
(tested with hypothesis): raising any one dimension, or turning any risk fact from false to true,
never lowers the recommendation.

Other outputs: population (14-17 adolescent, adolescent programs only, at least 6 h/week, guardian
required; 18+ adult; under 14 "child": no OpenIOP program matches); a MAT (medication) evaluation
for any opioid or alcohol use; and ``variance_allowed`` when a *residential* recommendation may be
met by IOP as a documented variance (someone with work, school or family responsibilities whose
home is neither toxic nor harmful and who does not need 24-hour supervision). IOP is never the
recommendation in that case, only a variance option.

Input validation is strict so that a typo never passes silently: every field is required except
``criteria_edition`` (default "3"); unknown fields, wrong types (``true`` is not a rating, ``"2"``
is not a number), out-of-range values and unknown responsibilities raise :class:`AssessmentError`
naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, TypeGuard

DISCLAIMER: Final = (
    "Decision support only: a local, documented heuristic. It is not the ASAM Criteria software "
    "(ASAM CONTINUUM) and does not replace the clinician's judgment."
)

# The total intensity order, least to most intensive (see the module docstring).
LEVELS: Final[tuple[str, ...]] = (
    "1.0", "1-WM", "2.1", "2.5", "2-WM", "3.5", "3.2-WM", "3.7-WM", "4.0", "4-WM",
)  # fmt: skip

LEVEL_CATEGORY: Final[Mapping[str, str]] = {
    "1.0": "outpatient",
    "2.1": "iop",
    "2.5": "php",
    "3.5": "residential",
    "4.0": "inpatient",
    "1-WM": "withdrawal_management",
    "2-WM": "withdrawal_management",
    "3.2-WM": "withdrawal_management",
    "3.7-WM": "withdrawal_management",
    "4-WM": "withdrawal_management",
}

LEVEL_NAMES: Final[Mapping[str, str]] = {
    "1.0": "Outpatient services",
    "2.1": "Intensive outpatient (IOP)",
    "2.5": "Partial hospitalization (PHP)",
    "3.5": "Clinically managed high-intensity residential",
    "4.0": "Medically managed intensive inpatient",
    "1-WM": "Ambulatory withdrawal management without extended on-site monitoring",
    "2-WM": "Ambulatory withdrawal management with extended on-site monitoring",
    "3.2-WM": "Clinically managed residential withdrawal management",
    "3.7-WM": "Medically monitored inpatient withdrawal management",
    "4-WM": "Medically managed intensive inpatient withdrawal management",
}

CATEGORIES: Final[tuple[str, ...]] = (
    "withdrawal_management", "outpatient", "iop", "php", "residential", "inpatient",
)  # fmt: skip

OUTPATIENT, IOP, PHP, RESIDENTIAL, INPATIENT = "1.0", "2.1", "2.5", "3.5", "4.0"

# Population and weekly-hour defaults (domain.md §1.3). Programs carry their own hours; these
# are the defaults a recommendation states.
ADOLESCENT_MIN_AGE: Final = 14
ADULT_MIN_AGE: Final = 18
MIN_AGE, MAX_AGE = 0, 120
IOP_MIN_WEEKLY_HOURS: Final[Mapping[str, int]] = {"adult": 9, "adolescent": 6}
PHP_MIN_WEEKLY_HOURS: Final = 20

RESPONSIBILITIES: Final[frozenset[str]] = frozenset(
    {"work", "school", "childcare", "family", "caregiving"}
)

OPIOID_WORDS: Final[frozenset[str]] = frozenset(
    {"opioid", "opioids", "opiate", "opiates", "heroin", "fentanyl", "oxycodone", "hydrocodone",
     "hydromorphone", "oxymorphone", "morphine", "codeine", "tramadol", "methadone",
     "buprenorphine", "other_opiates", "prescription_opioids", "oxycontin", "percocet",
     "vicodin", "norco", "dilaudid", "suboxone", "opium"}
)  # fmt: skip
ALCOHOL_WORDS: Final[frozenset[str]] = frozenset({"alcohol", "etoh", "ethanol"})
# Sedative-hypnotics whose withdrawal can cause seizures (benzodiazepines by class, generic and
# common brand names; barbiturates; z-drugs; GHB). Used by the phone screen's withdrawal check.
SEDATIVE_WORDS: Final[frozenset[str]] = frozenset(
    {"benzo", "benzos", "benzodiazepine", "benzodiazepines", "sedative", "sedatives",
     "alprazolam", "xanax", "diazepam", "valium", "lorazepam", "ativan", "clonazepam", "klonopin",
     "chlordiazepoxide", "librium", "temazepam", "restoril", "triazolam", "oxazepam",
     "barbiturate", "barbiturates", "phenobarbital", "butalbital", "zolpidem", "ambien",
     "eszopiclone", "carisoprodol", "soma", "ghb", "gbl"}
)  # fmt: skip

Edition = Literal["3", "4"]
EDITIONS: Final[tuple[str, ...]] = ("3", "4")

# 4th-edition dimension (as entered) -> 3rd-edition dimension it is read as.
CROSSWALK_4TH_TO_3RD: Final[Mapping[int, int]] = {1: 1, 2: 2, 3: 3, 4: 5, 5: 6, 6: 4}

DIMENSION_NAMES: Final[Mapping[str, Mapping[int, str]]] = {
    "3": {
        1: "withdrawal",
        2: "biomedical",
        3: "emotional/behavioral/cognitive",
        4: "readiness to change",
        5: "relapse/continued use",
        6: "recovery/living environment",
    },
    "4": {
        1: "intoxication, withdrawal and addiction medications",
        2: "biomedical",
        3: "psychiatric and cognitive",
        4: "substance use-related risks",
        5: "recovery environment",
        6: "person-centered considerations",
    },
}

RISK_FACTS: Final[tuple[str, ...]] = (
    "needs_detox_now",
    "needs_24h_supervision",
    "toxic_home",
    "harmful_environment",
    "serious_co_occurring",
    "medically_unstable",
)
DIMENSIONS: Final[tuple[str, ...]] = ("d1", "d2", "d3", "d4", "d5", "d6")
REQUIRED_FIELDS: Final[tuple[str, ...]] = (
    "age", *DIMENSIONS, *RISK_FACTS, "responsibilities", "substances",
)  # fmt: skip
OPTIONAL_FIELDS: Final[tuple[str, ...]] = ("criteria_edition",)


class AssessmentError(ValueError):
    """A bad or incomplete assessment. ``field`` names the first bad field; ``errors`` holds every
    problem found as ``(field, message)`` pairs, so a form or the API can show them all."""

    def __init__(self, field: str, message: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        self.field = field
        self.message = message
        self.errors: tuple[tuple[str, str], ...] = tuple(errors) or ((field, message),)
        super().__init__(f"{field}: {message}")


def intensity_rank(level: str) -> int:
    """Position of a level code in the total intensity order (0 = least intensive)."""
    try:
        return LEVELS.index(normalize_level(level))
    except ValueError:
        raise ValueError(f"unknown level of care {level!r}") from None


def normalize_level(level: str) -> str:
    """ "1" → "1.0", "4" → "4.0", "4.0-WM" → "4-WM"; other codes unchanged (stripped, upper WM)."""
    code = level.strip().upper().replace("-D", "-WM")
    if code.endswith("-WM"):
        head = code[:-3]
        if head in ("1.0", "2.0", "4.0"):
            head = head[0]
        return f"{head}-WM"
    return {"1": "1.0", "2": "2.0", "3": "3.0", "4": "4.0"}.get(code, code)


def normalize_words(items: Iterable[str]) -> frozenset[str]:
    """Lower-case, trimmed, spaces and hyphens as underscores; blanks dropped."""
    return frozenset(
        s.strip().lower().replace(" ", "_").replace("-", "_") for s in items if s and s.strip()
    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Assessment:
    """One assessment as entered. ``d1``..``d6`` are in the numbering of ``criteria_edition``;
    :meth:`ratings` gives them in 3rd-edition numbering."""

    age: int
    d1: int
    d2: int
    d3: int
    d4: int
    d5: int
    d6: int
    needs_detox_now: bool = False
    needs_24h_supervision: bool = False
    toxic_home: bool = False
    harmful_environment: bool = False
    serious_co_occurring: bool = False
    medically_unstable: bool = False
    responsibilities: frozenset[str] = frozenset()
    substances: frozenset[str] = frozenset()
    criteria_edition: Edition = "3"

    def __post_init__(self) -> None:
        # Direct construction (e.g. from a saved model row) gets the same checks as parsing.
        object.__setattr__(self, "responsibilities", normalize_words(self.responsibilities))
        object.__setattr__(self, "substances", normalize_words(self.substances))
        errors = _check_values(
            {f: getattr(self, f) for f in (*REQUIRED_FIELDS, "criteria_edition")}
        )
        if errors:
            raise AssessmentError(*errors[0], errors=errors)

    def rating(self, dimension: int) -> int:
        """The rating of a 3rd-edition dimension (1-6), whatever the edition entered."""
        return self.ratings()[dimension - 1]

    def ratings(self) -> tuple[int, int, int, int, int, int]:
        """(d1..d6) in 3rd-edition numbering."""
        entered = (self.d1, self.d2, self.d3, self.d4, self.d5, self.d6)
        if self.criteria_edition == "3":
            return entered
        third = [0] * 6
        for fourth, three in CROSSWALK_4TH_TO_3RD.items():
            third[three - 1] = entered[fourth - 1]
        return (third[0], third[1], third[2], third[3], third[4], third[5])

    def entered_field(self, dimension: int) -> str:
        """The input field ("d1".."d6") that holds a 3rd-edition dimension."""
        if self.criteria_edition == "3":
            return f"d{dimension}"
        for fourth, three in CROSSWALK_4TH_TO_3RD.items():
            if three == dimension:
                return f"d{fourth}"
        raise ValueError(dimension)  # pragma: no cover - the crosswalk is a permutation

    def describe(self, dimension: int) -> str:
        """'Dimension 4 (readiness to change)' or, for a 4th-edition assessment, the dimension as
        entered: 'Dimension 5 (4th ed., recovery environment)'."""
        if self.criteria_edition == "3":
            return f"Dimension {dimension} ({DIMENSION_NAMES['3'][dimension]})"
        n = int(self.entered_field(dimension)[1])
        return f"Dimension {n} (4th ed., {DIMENSION_NAMES['4'][n]})"

    @property
    def population(self) -> str:
        return population_for_age(self.age)


def population_for_age(age: int) -> str:
    if age >= ADULT_MIN_AGE:
        return "adult"
    if age >= ADOLESCENT_MIN_AGE:
        return "adolescent"
    return "child"


def _show(value: object) -> str:
    """A value as the JSON author wrote it (true, "2", 2.5), for error messages."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _check_values(data: Mapping[str, object]) -> list[tuple[str, str]]:
    """Type and range checks for the fields present in ``data`` (in a fixed order)."""
    errors: list[tuple[str, str]] = []
    if "age" in data:
        age = data["age"]
        if not _is_int(age):
            errors.append(("age", f"must be a whole number of years, got {_show(age)}"))
        elif not MIN_AGE <= age <= MAX_AGE:
            errors.append(("age", f"must be between {MIN_AGE} and {MAX_AGE}, got {age}"))
    for name in DIMENSIONS:
        if name in data:
            value = data[name]
            if not _is_int(value):
                errors.append((name, f"must be a whole-number rating 0-4, got {_show(value)}"))
            elif not 0 <= value <= 4:
                errors.append((name, f"must be a rating from 0 to 4, got {value}"))
    for name in RISK_FACTS:
        if name in data and not isinstance(data[name], bool):
            errors.append((name, f"must be true or false, got {_show(data[name])}"))
    for name in ("responsibilities", "substances"):
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            errors.append((name, f"must be a list of strings, got {_show(value)}"))
            continue
        bad = [item for item in value if not isinstance(item, str)]
        if bad:
            errors.append((name, f"must be a list of strings, got {_show(bad[0])} in it"))
            continue
        if name == "responsibilities":
            unknown = sorted(normalize_words(value) - RESPONSIBILITIES)
            if unknown:
                errors.append(
                    (
                        name,
                        f"unknown {', '.join(_show(u) for u in unknown)}; use any of "
                        f"{', '.join(sorted(RESPONSIBILITIES))}",
                    )
                )
    if "criteria_edition" in data and data["criteria_edition"] not in EDITIONS:
        errors.append(
            ("criteria_edition", f'must be "3" or "4", got {_show(data["criteria_edition"])}')
        )
    return errors


def parse_assessment(data: object) -> Assessment:
    """Validate a JSON-like mapping (the CLI file, the API body) into an :class:`Assessment`.

    Raises :class:`AssessmentError` naming the field for a missing, unknown, mistyped or
    out-of-range field (all problems are in ``.errors``)."""
    if not isinstance(data, Mapping):
        raise AssessmentError("assessment", f"must be a JSON object, got {type(data).__name__}")
    errors: list[tuple[str, str]] = []
    for name in REQUIRED_FIELDS:
        if name not in data:
            errors.append((name, "is required"))
    errors.extend(_check_values(data))
    known = set(REQUIRED_FIELDS) | set(OPTIONAL_FIELDS)
    for name in sorted(str(k) for k in data if k not in known):
        errors.append((name, "unknown field (check the spelling; d1-d6 are the dimensions)"))
    order = {name: i for i, name in enumerate((*REQUIRED_FIELDS, *OPTIONAL_FIELDS))}
    errors.sort(key=lambda e: order.get(e[0], len(order)))  # stable; unknown fields last
    if errors:
        raise AssessmentError(*errors[0], errors=errors)
    edition = str(data.get("criteria_edition", "3"))
    return Assessment(
        age=_int(data["age"]),
        d1=_int(data["d1"]),
        d2=_int(data["d2"]),
        d3=_int(data["d3"]),
        d4=_int(data["d4"]),
        d5=_int(data["d5"]),
        d6=_int(data["d6"]),
        needs_detox_now=data["needs_detox_now"] is True,
        needs_24h_supervision=data["needs_24h_supervision"] is True,
        toxic_home=data["toxic_home"] is True,
        harmful_environment=data["harmful_environment"] is True,
        serious_co_occurring=data["serious_co_occurring"] is True,
        medically_unstable=data["medically_unstable"] is True,
        responsibilities=_strings(data["responsibilities"]),
        substances=_strings(data["substances"]),
        criteria_edition="4" if edition == "4" else "3",
    )


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _strings(value: object) -> frozenset[str]:
    assert isinstance(value, (list, tuple, set, frozenset))
    return normalize_words(str(v) for v in value)


def to_input_json(a: Assessment) -> dict[str, object]:
    """The assessment as the input JSON (``parse_assessment(to_input_json(a)) == a``)."""
    return {
        "age": a.age,
        "d1": a.d1,
        "d2": a.d2,
        "d3": a.d3,
        "d4": a.d4,
        "d5": a.d5,
        "d6": a.d6,
        **{name: bool(getattr(a, name)) for name in RISK_FACTS},
        "responsibilities": sorted(a.responsibilities),
        "substances": sorted(a.substances),
        "criteria_edition": a.criteria_edition,
    }


@dataclass(frozen=True)
class Reason:
    """Why part of the recommendation came out as it did. ``driver`` is the input that drove it:
    a field name ("d1".."d6" as entered, "needs_detox_now", "toxic_home", "age", "substances",
    "responsibilities") or "all_dimensions" for the outpatient rule."""

    driver: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"driver": self.driver, "text": self.text}


@dataclass(frozen=True)
class ProgramInfo:
    """What matching needs to know about a program (the Django side builds these from rows)."""

    key: str
    name: str
    population: str  # "adult" | "adolescent"
    min_age: int
    max_age: int | None
    modality: str  # "in_person" | "virtual" | "hybrid"
    cohort: str  # "day" | "evening" | "after_school"
    level_of_care: str = IOP
    is_full: bool = False


@dataclass(frozen=True)
class ProgramMatch:
    program: ProgramInfo
    fit: tuple[str, ...]  # why it suits this person's responsibilities, best first
    score: int

    def to_json(self) -> dict[str, object]:
        p = self.program
        return {
            "key": p.key,
            "name": p.name,
            "level_of_care": normalize_level(p.level_of_care),
            "population": p.population,
            "modality": p.modality,
            "cohort": p.cohort,
            "is_full": p.is_full,
            "fit": list(self.fit),
        }


@dataclass(frozen=True)
class Recommendation:
    level: str
    level_category: str
    population: str
    reasons: tuple[Reason, ...]
    variance_allowed: bool
    mat_evaluation: bool
    guardian_required: bool
    min_weekly_hours: int | None
    criteria_edition: str
    ratings: tuple[int, int, int, int, int, int]  # 3rd-edition numbering
    matching_programs: tuple[ProgramMatch, ...] = ()
    variance_options: tuple[ProgramMatch, ...] = ()
    disclaimer: str = field(default=DISCLAIMER)

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    @property
    def intensity_rank(self) -> int:
        return intensity_rank(self.level)

    def to_json(self) -> dict[str, object]:
        """The issue's fields first (level, level_category, population, reasons,
        variance_allowed, mat_evaluation), then the extras."""
        return {
            "level": self.level,
            "level_category": self.level_category,
            "population": self.population,
            "reasons": [r.to_json() for r in self.reasons],
            "variance_allowed": self.variance_allowed,
            "mat_evaluation": self.mat_evaluation,
            "level_name": self.level_name,
            "intensity_rank": self.intensity_rank,
            "guardian_required": self.guardian_required,
            "min_weekly_hours": self.min_weekly_hours,
            "criteria_edition": self.criteria_edition,
            "ratings_3rd_edition": {f"d{i}": r for i, r in enumerate(self.ratings, start=1)},
            "programs": [m.to_json() for m in self.matching_programs],
            "variance_options": [m.to_json() for m in self.variance_options],
            "disclaimer": self.disclaimer,
        }


# --- the rules ------------------------------------------------------------------------------


def _setting_rules(a: Assessment) -> tuple[str, list[tuple[str, Reason]]]:
    """The setting the non-withdrawal needs call for, and every such rule that fired as
    (level, reason), in rule order."""
    d = a.ratings()
    fired: list[tuple[str, Reason]] = []

    def fact(name: str, level: str, text: str) -> None:
        if getattr(a, name):
            fired.append((level, Reason(name, text)))

    def dim(n: int, level: str, text: str) -> None:
        fired.append(
            (level, Reason(a.entered_field(n), f"{a.describe(n)} rated {d[n - 1]}: {text}"))
        )

    if d[1] >= 3:
        dim(2, INPATIENT, "inpatient (medically managed) level; not IOP")
    fact(
        "medically_unstable",
        INPATIENT,
        "Medically unstable: inpatient (medically managed) level; not IOP",
    )
    if d[2] >= 4:
        dim(3, INPATIENT, "severe risk needing 24-hour psychiatric care: inpatient level; not IOP")
    fact(
        "needs_24h_supervision",
        RESIDENTIAL,
        "Needs 24-hour supervision: residential level (inpatient when medically unstable); not IOP",
    )
    fact("toxic_home", RESIDENTIAL, "Lives in a toxic home: residential level recommended")
    fact(
        "harmful_environment",
        RESIDENTIAL,
        "Harmful living environment: residential level recommended",
    )
    if d[5] >= 3:
        dim(6, RESIDENTIAL, "residential level recommended (separation from the environment)")
    env = a.describe(6).lower()
    for n in (4, 5):
        if d[n - 1] >= 3 and d[5] >= 2:
            dim(n, RESIDENTIAL, f"with {env} at {d[5]} (2 or more): residential level")
        elif d[n - 1] >= 3:
            dim(n, PHP, f"partial hospitalization (PHP); residential if {env} were at 2 or more")
    fact("serious_co_occurring", PHP, "Serious co-occurring illness: PHP or higher; not IOP")
    if d[2] == 3:
        dim(3, PHP, "PHP or higher; not IOP")
    for n in sorted(range(1, 7), key=a.entered_field):  # in the order entered
        if d[n - 1] == 2:
            dim(n, IOP, "IOP structure (some dimensions at 2)")
    if fired:
        return max((level for level, _ in fired), key=intensity_rank), fired
    if max(d) >= 2:
        # Only d1 at 3-4 gets here: it counts as "a dimension at 2 or more" for the setting; its
        # own reason is the withdrawal-management one.
        return IOP, fired
    if not a.needs_detox_now:
        fired.append(
            (
                OUTPATIENT,
                Reason(
                    "all_dimensions",
                    "All six dimensions rated 0-1 and no risk facts: outpatient (1.0)",
                ),
            )
        )
    return OUTPATIENT, fired


def _withdrawal_level(d1: int, setting: str, needs_detox_now: bool) -> str | None:
    if not (needs_detox_now or d1 >= 3):
        return None
    if d1 >= 4 or setting == INPATIENT:
        return "4-WM"
    if d1 == 3:
        return "3.7-WM"
    if setting == RESIDENTIAL:
        return "3.2-WM"
    if d1 <= 1 and setting == OUTPATIENT:
        return "1-WM"
    return "2-WM"


_WM_SETTING_WORDS: Final[Mapping[str, str]] = {
    "1-WM": "ambulatory, without extended on-site monitoring",
    "2-WM": "ambulatory, with extended on-site monitoring",
    "3.2-WM": "clinically managed residential",
    "3.7-WM": "medically monitored inpatient",
    "4-WM": "medically managed intensive inpatient",
}


def is_opioid(word: str) -> bool:
    """A normalized substance word (see :func:`normalize_words`) naming an opioid."""
    return word in OPIOID_WORDS or "opioid" in word or "opiate" in word


def is_alcohol(word: str) -> bool:
    """A normalized substance word naming alcohol."""
    return word in ALCOHOL_WORDS or word.startswith("alcohol")


def is_sedative(word: str) -> bool:
    """A normalized substance word naming a benzodiazepine or other sedative-hypnotic."""
    return (
        word in SEDATIVE_WORDS or word.startswith("benzo") or "barbitur" in word
        or word.startswith("sedative")
    )  # fmt: skip


def _mat_substances(substances: frozenset[str]) -> list[str]:
    return sorted(s for s in substances if is_opioid(s) or is_alcohol(s))


def evaluate(a: Assessment, programs: Sequence[ProgramInfo] = ()) -> Recommendation:
    """Recommend a level of care, the programs that fit and the reasons (winner first)."""
    d = a.ratings()
    setting, fired = _setting_rules(a)
    level = _withdrawal_level(d[0], setting, a.needs_detox_now) or setting

    ranked: list[tuple[int, Reason]] = []
    if LEVEL_CATEGORY[level] == "withdrawal_management":
        where = f"{_WM_SETTING_WORDS[level]} ({level})"
        if (level == "4-WM" and d[0] < 4) or level == "3.2-WM":
            where += f", as the other needs call for a {LEVEL_CATEGORY[setting]} setting"
        rank = intensity_rank(level)
        if d[0] >= 3:
            text = f"{a.describe(1)} rated {d[0]}: withdrawal management first, {where}"
            ranked.append((rank, Reason(a.entered_field(1), text + "; not IOP now")))
        if a.needs_detox_now:
            text = f"Needs withdrawal management (detox) now: withdrawal management first, {where}"
            ranked.append((rank, Reason("needs_detox_now", text + "; not IOP now")))
    ranked.extend((intensity_rank(lvl), r) for lvl, r in fired)
    ranked.sort(key=lambda item: -item[0])  # stable: rule order breaks ties
    reasons = [r for _, r in ranked]

    category = LEVEL_CATEGORY[level]
    population = a.population
    blockers = [
        (f, text)
        for f, text in (
            ("toxic_home", "lives in a toxic home"),
            ("harmful_environment", "the living environment is harmful"),
            ("needs_24h_supervision", "needs 24-hour supervision"),
        )
        if getattr(a, f)
    ]
    variance_allowed = category == "residential" and bool(a.responsibilities) and not blockers
    duties = ", ".join(sorted(a.responsibilities))
    if variance_allowed:
        reasons.append(
            Reason(
                "responsibilities",
                f"Has {duties} responsibilities, a home that is neither toxic nor harmful, and "
                "no need for 24-hour supervision: the residential level may be met by IOP as a "
                "documented variance (the same intensity while living at home; the clinician "
                "records the reason); IOP is not the recommendation",
            )
        )
    elif category == "residential" and a.responsibilities:
        f, text = blockers[0]
        reasons.append(Reason(f, f"No IOP variance despite {duties} responsibilities: {text}"))

    if population == "adult":
        reasons.append(Reason("age", f"Age {a.age}: adult programs"))
    elif population == "adolescent":
        reasons.append(
            Reason(
                "age",
                f"Age {a.age}: adolescent programs only (at least "
                f"{IOP_MIN_WEEKLY_HOURS['adolescent']} h/week); a guardian is required",
            )
        )
    else:
        reasons.append(
            Reason(
                "age",
                f"Age {a.age}: below the adolescent programs' range "
                f"({ADOLESCENT_MIN_AGE}-{ADULT_MIN_AGE - 1}); no OpenIOP program "
                "matches: refer to a child and family service; a guardian is required",
            )
        )

    mat = _mat_substances(a.substances)
    if mat:
        reasons.append(
            Reason(
                "substances",
                f"Uses {', '.join(mat)}: recommend a medication (MAT) evaluation "
                "(opioid or alcohol use)",
            )
        )

    if category == "iop":
        min_hours: int | None = IOP_MIN_WEEKLY_HOURS.get(population)
    elif category == "php":
        min_hours = PHP_MIN_WEEKLY_HOURS
    else:
        min_hours = None

    return Recommendation(
        level=level,
        level_category=category,
        population=population,
        reasons=tuple(reasons),
        variance_allowed=variance_allowed,
        mat_evaluation=bool(mat),
        guardian_required=a.age < ADULT_MIN_AGE,
        min_weekly_hours=min_hours,
        criteria_edition=a.criteria_edition,
        ratings=d,
        matching_programs=match_programs(a, level, programs),
        variance_options=match_programs(a, IOP, programs) if variance_allowed else (),
    )


def evaluate_json(data: object, programs: Sequence[ProgramInfo] = ()) -> dict[str, object]:
    """Parse, evaluate and serialize in one call (what the CLI and the API do)."""
    return evaluate(parse_assessment(data), programs).to_json()


# --- program matching ----------------------------------------------------------------------


def program_fits_person(program: ProgramInfo, a: Assessment) -> bool:
    """Same population as the person and an age range that includes them."""
    population = a.population
    if population == "child" or program.population != population:
        return False
    return program.min_age <= a.age and (program.max_age is None or a.age <= program.max_age)


def _fit(program: ProgramInfo, a: Assessment) -> tuple[int, tuple[str, ...]]:
    duties = a.responsibilities
    notes: list[tuple[int, str]] = []
    if a.population == "adolescent" and "school" in duties:
        if program.cohort == "after_school":
            notes.append((3, "after-school cohort fits the school day"))
        elif program.cohort == "evening":
            notes.append((2, "evening cohort fits the school day"))
    elif duties & {"work", "school"} and program.cohort == "evening":
        notes.append(
            (3, f"evening cohort fits {' and '.join(sorted(duties & {'work', 'school'}))}")
        )
    if duties & {"work", "school"}:
        if program.modality == "virtual":
            notes.append((2, "virtual: no travel around work or school"))
        elif program.modality == "hybrid":
            notes.append((1, "hybrid: some sessions from home"))
    if duties & {"childcare", "family", "caregiving"}:
        if program.modality == "virtual":
            notes.append((2, "virtual: can attend from home (childcare, family, caregiving)"))
        elif program.modality == "hybrid":
            notes.append((1, "hybrid: some sessions from home (childcare, family, caregiving)"))
    if program.is_full:
        notes.append((0, "full: waitlist"))
    notes.sort(key=lambda n: -n[0])
    return sum(n[0] for n in notes), tuple(text for _, text in notes)


def match_programs(
    a: Assessment, level: str, programs: Sequence[ProgramInfo]
) -> tuple[ProgramMatch, ...]:
    """Programs at ``level`` that fit the person's population and age, best fit first: open
    programs before full ones, then by how well cohort and modality suit their responsibilities
    (evening / virtual for work or school; after-school for adolescents in school), then name."""
    wanted = normalize_level(level)
    matches = []
    for p in programs:
        if normalize_level(p.level_of_care) != wanted or not program_fits_person(p, a):
            continue
        score, fit = _fit(p, a)
        matches.append(ProgramMatch(program=p, fit=fit, score=score))
    matches.sort(key=lambda m: (m.program.is_full, -m.score, m.program.name, m.program.key))
    return tuple(matches)
