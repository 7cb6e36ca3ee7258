"""Drug-screen vocabulary and interpretation (pure; no Django).

A screen result alone says "detected" or "not detected". What a clinician needs is what it
*means* for this patient on the day the specimen was collected:

* ``positive``: detected and not prescribed. Clinically significant; talk about it.
* ``expected``: detected, and the patient is prescribed something that shows up as this panel
  substance (buprenorphine MAT, methadone dosed by an outside opioid treatment program, a
  prescribed benzodiazepine...). Calling that "positive" would punish a patient for taking their
  medication, which is exactly the stigma MAT programs fight.
* ``expected_not_detected``: the patient is on MAT that the panel tests for, and it is absent.
  Possible non-adherence or diversion: the prescriber needs to know. Only MAT is flagged; an
  as-needed prescription that is not detected is simply "negative".
* ``negative``: not detected, nothing expected.
* ``invalid``: the specimen cannot be trusted (validity checks failed), see ``interpret``.

Presumptive (point-of-care cup or dipstick, immunoassay) results can be wrong (cross-reactivity);
a confirmatory (definitive, lab LC-MS/MS) result on the same specimen supersedes the presumptive
one substance by substance (``supersede``).

Billing: one presumptive test per patient per date of service (CPT 80305-80307, domain.md §3.3);
``one_presumptive_per_day`` decides which presumptive screens are billable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

# --- vocabulary ---------------------------------------------------------------------------------

# The panel, in the order clinicians read a result sheet. Codes are stable storage keys.
PANEL: tuple[tuple[str, str], ...] = (
    ("amphetamines", "Amphetamines"),
    ("barbiturates", "Barbiturates"),
    ("benzodiazepines", "Benzodiazepines"),
    ("buprenorphine", "Buprenorphine"),
    ("cocaine", "Cocaine"),
    ("fentanyl", "Fentanyl"),
    ("methadone", "Methadone"),
    ("methamphetamine", "Methamphetamine"),
    ("opiates", "Opiates (morphine, codeine, heroin)"),
    ("oxycodone", "Oxycodone"),
    ("thc", "THC (cannabis)"),
    ("etg", "Alcohol (EtG)"),
    ("mdma", "MDMA (ecstasy)"),
    ("pcp", "PCP"),
)
SUBSTANCES: frozenset[str] = frozenset(code for code, _ in PANEL)
SUBSTANCE_LABELS: dict[str, str] = dict(PANEL)

NEGATIVE = "negative"
POSITIVE = "positive"
EXPECTED = "expected"
EXPECTED_NOT_DETECTED = "expected_not_detected"
INVALID = "invalid"
INTERPRETATIONS: tuple[tuple[str, str], ...] = (
    (NEGATIVE, "Negative"),
    (POSITIVE, "Positive"),
    (EXPECTED, "Expected (prescribed)"),
    (EXPECTED_NOT_DETECTED, "Expected, not detected"),
    (INVALID, "Invalid"),
)
INTERPRETATION_LABELS: dict[str, str] = dict(INTERPRETATIONS)

VALID = "valid"
DILUTE = "dilute"
ADULTERATED = "adulterated"
SUBSTITUTED = "substituted"
VALIDITIES = (VALID, DILUTE, ADULTERATED, SUBSTITUTED)

PRESUMPTIVE = "presumptive"
CONFIRMATORY = "confirmatory"

# MAT kinds and the panel substance each one shows up as (None: not on a drug-screen panel).
MAT_PANEL: dict[str, str | None] = {
    "buprenorphine": "buprenorphine",
    "methadone": "methadone",
    "naltrexone": None,
    "acamprosate": None,
    "disulfiram": None,
    "other": None,
}

# Drug names (generic and common brand) -> panel substance, to suggest the mapping when a
# medication is started. The prescriber can always override it.
_NAME_TO_PANEL: dict[str, str] = {
    "buprenorphine": "buprenorphine",
    "suboxone": "buprenorphine",
    "subutex": "buprenorphine",
    "zubsolv": "buprenorphine",
    "sublocade": "buprenorphine",
    "brixadi": "buprenorphine",
    "methadone": "methadone",
    "methadose": "methadone",
    "dolophine": "methadone",
    "oxycodone": "oxycodone",
    "oxycontin": "oxycodone",
    "percocet": "oxycodone",
    "morphine": "opiates",
    "codeine": "opiates",
    "hydrocodone": "opiates",
    "hydromorphone": "opiates",
    "fentanyl": "fentanyl",
    "alprazolam": "benzodiazepines",
    "xanax": "benzodiazepines",
    "clonazepam": "benzodiazepines",
    "klonopin": "benzodiazepines",
    "lorazepam": "benzodiazepines",
    "ativan": "benzodiazepines",
    "diazepam": "benzodiazepines",
    "valium": "benzodiazepines",
    "chlordiazepoxide": "benzodiazepines",
    "librium": "benzodiazepines",
    "temazepam": "benzodiazepines",
    "amphetamine": "amphetamines",
    "dextroamphetamine": "amphetamines",
    "adderall": "amphetamines",
    "lisdexamfetamine": "amphetamines",
    "vyvanse": "amphetamines",
    "phenobarbital": "barbiturates",
    "butalbital": "barbiturates",
    "dronabinol": "thc",
    "marinol": "thc",
}

# After a medication is stopped it can still be detected for a while (methadone and
# buprenorphine for about a week in urine); a detection within this window is still "expected".
WASHOUT_DAYS = 7


def suggest_panel_substance(name: str, mat_kind: str = "") -> str | None:
    """The panel substance a drug shows up as, from its MAT kind or its name, else None."""
    if mat_kind and MAT_PANEL.get(mat_kind):
        return MAT_PANEL[mat_kind]
    for word in name.lower().replace("/", " ").replace("-", " ").replace(",", " ").split():
        if word in _NAME_TO_PANEL:
            return _NAME_TO_PANEL[word]
    return None


# --- what is expected on a collection day -------------------------------------------------------


@dataclass(frozen=True)
class MedWindow:
    """A prescription as the rule needs it. ``stop_on`` is the day it was stopped: the
    medication is taken on ``start_on <= day < stop_on``."""

    panel_substance: str | None
    is_mat: bool
    start_on: dt.date
    stop_on: dt.date | None = None


@dataclass(frozen=True)
class Expectation:
    expected: frozenset[str]  # detection is explained by a prescription
    required: frozenset[str]  # MAT the patient should be taking: absence is flagged


def expectation_on(meds: Iterable[MedWindow], day: dt.date) -> Expectation:
    """What a specimen collected on ``day`` should contain.

    Expected: started on or before the day, and not stopped more than ``WASHOUT_DAYS`` before it.
    Required (MAT only): started *before* the day (a screen on the induction day is usually the
    baseline taken before the first dose) and not yet stopped on the day.
    """
    expected: set[str] = set()
    required: set[str] = set()
    for m in meds:
        if not m.panel_substance or m.start_on > day:
            continue
        if m.stop_on is None or m.stop_on > day - dt.timedelta(days=WASHOUT_DAYS):
            expected.add(m.panel_substance)
        if m.is_mat and m.start_on < day and (m.stop_on is None or m.stop_on > day):
            required.add(m.panel_substance)
    return Expectation(frozenset(expected), frozenset(required))


# --- interpretation -----------------------------------------------------------------------------


def interpret_one(detected: bool, substance: str, expectation: Expectation, validity: str) -> str:
    """One substance's interpretation (see ``interpret``)."""
    if validity in (ADULTERATED, SUBSTITUTED):
        return INVALID
    if detected:
        return EXPECTED if substance in expectation.expected else POSITIVE
    if validity == DILUTE:
        return INVALID
    return EXPECTED_NOT_DETECTED if substance in expectation.required else NEGATIVE


def interpret(
    results: Mapping[str, bool], expectation: Expectation, validity: str = VALID
) -> dict[str, str]:
    """Interpret every tested substance of one specimen.

    Validity: an adulterated or substituted specimen says nothing about the patient, so every
    result on it is ``invalid``. A dilute specimen (low creatinine / specific gravity) can hide a
    drug but cannot invent one: what was detected still counts (positive or expected), what was
    not detected is ``invalid`` (a "negative-dilute" is unreadable; recollect).
    """
    if validity not in VALIDITIES:
        raise ValueError(f"unknown specimen validity {validity!r}")
    unknown = sorted(set(results) - SUBSTANCES)
    if unknown:
        raise ValueError(f"not a panel substance: {', '.join(unknown)}")
    return {s: interpret_one(d, s, expectation, validity) for s, d in results.items()}


def untested_required(results: Mapping[str, bool], expectation: Expectation) -> frozenset[str]:
    """MAT the patient should be taking that this panel did not test for at all."""
    return expectation.required - set(results)


# --- presumptive vs confirmatory ----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    substance: str
    detected: bool
    interpretation: str
    method: str  # PRESUMPTIVE or CONFIRMATORY: where the final word came from


def supersede(
    presumptive: Mapping[str, Finding], confirmatory: Mapping[str, Finding] | None
) -> dict[str, Finding]:
    """The specimen's final findings: the lab's answer wherever the lab tested the substance,
    the point-of-care answer elsewhere. Panel order."""
    merged = {**presumptive, **(confirmatory or {})}
    return {code: merged[code] for code, _ in PANEL if code in merged}


@dataclass
class Tally:
    """Counts over specimens (a presumptive screen and its confirmation are one specimen)."""

    specimens: int = 0
    with_positive: int = 0
    with_expected_not_detected: int = 0
    invalid: int = 0
    all_negative_or_expected: int = 0
    positives_by_substance: dict[str, int] = field(default_factory=dict)


def tally(specimens: Iterable[Mapping[str, Finding]]) -> Tally:
    t = Tally()
    for findings in specimens:
        t.specimens += 1
        kinds = {f.interpretation for f in findings.values()}
        if POSITIVE in kinds:
            t.with_positive += 1
        if EXPECTED_NOT_DETECTED in kinds:
            t.with_expected_not_detected += 1
        if kinds and kinds <= {INVALID}:
            t.invalid += 1
        if kinds and kinds <= {NEGATIVE, EXPECTED}:
            t.all_negative_or_expected += 1
        for f in findings.values():
            if f.interpretation == POSITIVE:
                t.positives_by_substance[f.substance] = (
                    t.positives_by_substance.get(f.substance, 0) + 1
                )
    counts = t.positives_by_substance
    t.positives_by_substance = {code: counts[code] for code, _ in PANEL if code in counts}
    return t


# --- billing: one presumptive test per date of service ------------------------------------------


@dataclass(frozen=True)
class BillableScreen:
    key: Hashable  # the caller's id for the screen
    patient: Hashable
    service_date: dt.date  # the collection date in the site's local time
    method: str
    collected_at: dt.datetime | None = None  # orders screens on the same day


def one_presumptive_per_day(
    screens: Iterable[BillableScreen],
) -> tuple[list[Hashable], list[Hashable]]:
    """Split screens into (billable, not billable) under "one presumptive test per date of
    service" (CPT 80305-80307 are reported once per patient per day whatever the number of
    cups or drug classes; domain.md §3.3).

    Per patient and service date the earliest presumptive screen is billable, every later one is
    not. Confirmatory (definitive) screens are not limited by this rule and are always returned
    as billable here; their own rules (codes by drug-class count) live in billing. Invalid
    specimens still count: the test was performed.
    """
    billable: list[Hashable] = []
    not_billable: list[Hashable] = []
    seen: set[tuple[Hashable, dt.date]] = set()

    def order(s: BillableScreen) -> tuple[str, dt.date, float, str]:
        at = s.collected_at.timestamp() if s.collected_at is not None else 0.0
        return (str(s.patient), s.service_date, at, str(s.key))

    for s in sorted(screens, key=order):
        if s.method != PRESUMPTIVE:
            billable.append(s.key)
            continue
        day = (s.patient, s.service_date)
        if day in seen:
            not_billable.append(s.key)
        else:
            seen.add(day)
            billable.append(s.key)
    return billable, not_billable
