"""Medication and drug-screen reads, permission-checked and audited (one audit row per read).

``drug_screen_summary`` is the table the UR packet and the discharge summary print; its return
type (``ScreenSummary``) is the contract with those callers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.access import require_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.medications import screening
from openiop.medications.models import DrugScreen, DrugScreenResult, Medication
from openiop.patients.models import Patient

CAT = AuditEvent.Category.CLINICAL
CHART_SCREENS = 3
BADGE_CLASSES = {
    screening.POSITIVE: "below",  # red
    screening.EXPECTED_NOT_DETECTED: "at_risk",  # amber
    screening.INVALID: "exempt",  # grey
    screening.EXPECTED: "on_track",  # blue
    screening.NEGATIVE: "met",  # green
}


def _medications(organization_id: int, patient: Patient, active_on: dt.date | None) -> list[Any]:
    qs = (
        Medication.objects.for_org(organization_id)
        .filter(patient=patient)
        .select_related("prescriber", "episode", "replaces")
        .order_by("-start_on", "-id")
    )
    if active_on is not None:
        qs = qs.active_on(active_on)
    return list(qs)


def medication_list_for_patient(
    *,
    user: Any,
    patient: Patient,
    active_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> list[Medication]:
    """The patient's medications, newest start first; only those taken on ``active_on`` if
    given. Two queries."""
    require_perm(user, Perm.NOTE_VIEW)
    meds = _medications(user.organization_id, patient, active_on)
    audit_log(
        actor=user, action="openiop.medications.medication.list", category=CAT, obj=patient,
        patient=patient, request=request,
        detail={"medications": len(meds),
                **({"active_on": active_on.isoformat()} if active_on else {})},
    )  # fmt: skip
    return meds


# --- screens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultCell:
    """One substance's final word on one specimen."""

    substance: str  # panel code, e.g. "buprenorphine"
    substance_label: str  # "Buprenorphine"
    detected: bool
    interpretation: str  # negative | positive | expected | expected_not_detected | invalid
    interpretation_label: str  # "Positive", "Expected (prescribed)", ...
    method: str  # "presumptive" or "confirmatory": which test gave this final word
    cutoff_ng_ml: int | None = None

    @property
    def badge_class(self) -> str:
        """The colour (an existing ``.badge`` class in app.css); the text label always goes with
        it, so the meaning never depends on colour alone."""
        return BADGE_CLASSES[self.interpretation]


@dataclass(frozen=True)
class ScreenRow:
    """One specimen: a point-of-care screen merged with its lab confirmation, if any, or a
    stand-alone lab result."""

    public_id: str  # the specimen's first screen (the presumptive one when there is one)
    collected_at: dt.datetime  # aware, UTC
    collected_on: dt.date  # the site's local date (the date of service)
    specimen: str  # display label, e.g. "Urine"
    method: str  # display label of the first screen's method
    observed: bool
    validity: str  # display label: "Valid", "Dilute", ...
    confirmed: bool  # a lab confirmation exists for this specimen
    lab_name: str
    results: tuple[ResultCell, ...]  # panel order

    @property
    def flags(self) -> tuple[ResultCell, ...]:
        """The results worth a clinician's attention: positive, expected-not-detected, invalid."""
        return tuple(
            r
            for r in self.results
            if r.interpretation
            in (screening.POSITIVE, screening.EXPECTED_NOT_DETECTED, screening.INVALID)
        )


@dataclass(frozen=True)
class ScreenSummary:
    """Drug screens of one episode collected between ``start`` and ``end`` (local dates, both
    included), for the UR packet and the discharge summary.

    ``rows`` oldest first; counts are per specimen (a point-of-care screen and its lab
    confirmation count once, with the lab's answer winning substance by substance).
    """

    start: dt.date
    end: dt.date
    specimens: int
    with_positive: int  # specimens with at least one positive result
    with_expected_not_detected: int  # specimens where prescribed MAT was absent
    invalid: int  # specimens where every result is invalid
    all_negative_or_expected: int  # "clean" specimens
    positives_by_substance: dict[str, int] = field(default_factory=dict)  # label -> specimens
    rows: tuple[ScreenRow, ...] = ()


def _findings(screen: DrugScreen) -> dict[str, screening.Finding]:
    return {
        r.substance: screening.Finding(r.substance, r.detected, r.interpretation, screen.method)
        for r in screen.results.all()
    }


def _rows(screens: list[DrugScreen]) -> list[tuple[ScreenRow, dict[str, screening.Finding]]]:
    """Merge each presumptive screen with its confirmation (screens must have ``results`` and
    ``confirmations__results`` prefetched)."""
    by_pk = {s.pk: s for s in screens}
    out = []
    for s in screens:
        if s.confirms_id is not None and s.confirms_id in by_pk:
            continue  # shown merged into the screen it confirms
        lab = next(iter(s.confirmations.all()), None)
        final = screening.supersede(_findings(s), _findings(lab) if lab is not None else None)
        cutoffs = {r.substance: r.cutoff_ng_ml for r in s.results.all()}
        if lab is not None:
            cutoffs.update({r.substance: r.cutoff_ng_ml for r in lab.results.all()})
        cells = tuple(
            ResultCell(
                substance=f.substance,
                substance_label=screening.SUBSTANCE_LABELS[f.substance],
                detected=f.detected,
                interpretation=f.interpretation,
                interpretation_label=screening.INTERPRETATION_LABELS[f.interpretation],
                method=f.method,
                cutoff_ng_ml=cutoffs.get(f.substance),
            )
            for f in final.values()
        )
        row = ScreenRow(
            public_id=str(s.public_id),
            collected_at=s.collected_at,
            collected_on=s.collected_on,
            specimen=s.get_specimen_display(),
            method=s.get_method_display(),
            observed=s.observed,
            validity=s.get_specimen_validity_display(),
            confirmed=lab is not None,
            lab_name=(lab.lab_name if lab is not None else s.lab_name),
            results=cells,
        )
        out.append((row, final))
    return out


def _screens_qs(organization_id: int) -> Any:
    ordered = DrugScreenResult.objects.all()
    return (
        DrugScreen.objects.for_org(organization_id)
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch("results", queryset=ordered),
            Prefetch(
                "confirmations",
                queryset=DrugScreen.objects.prefetch_related(
                    Prefetch("results", queryset=ordered)
                ).select_related("recorded_by"),
            ),
        )
    )


@dataclass(frozen=True)
class ScreenListItem:
    screen: DrugScreen  # the presumptive screen, or a stand-alone lab screen
    row: ScreenRow  # final results after any lab confirmation
    confirmation: DrugScreen | None


def _screen_items(organization_id: int, patient: Patient, limit: int | None) -> list[Any]:
    qs = _screens_qs(organization_id).filter(patient=patient).order_by("-collected_at", "-id")
    # A confirmation is listed under the screen it confirms, never on its own.
    qs = qs.filter(confirms__isnull=True)
    screens = list(qs[:limit] if limit is not None else qs)
    return [
        ScreenListItem(s, row, next(iter(s.confirmations.all()), None))
        for (row, _), s in zip(_rows(screens), screens, strict=True)
    ]


def drug_screen_list_for_patient(
    *,
    user: Any,
    patient: Patient,
    limit: int | None = None,
    request: HttpRequest | None = None,
) -> list[ScreenListItem]:
    """The patient's specimens, newest first, each with its lab confirmation merged in.
    Four queries whatever the number of screens."""
    require_perm(user, Perm.NOTE_VIEW)
    items = _screen_items(user.organization_id, patient, limit)
    audit_log(
        actor=user, action="openiop.medications.drug_screen.list", category=CAT, obj=patient,
        patient=patient, request=request, detail={"screens": len(items)},
    )  # fmt: skip
    return items


def drug_screen_summary(
    *,
    user: Any,
    episode: Episode,
    start: dt.date,
    end: dt.date,
    request: HttpRequest | None = None,
) -> ScreenSummary:
    """Counts and a per-specimen result table for ``episode`` between ``start`` and ``end``
    (site-local collection dates, both included). Requires ``Perm.NOTE_VIEW``; audited.

    Returns a ``ScreenSummary`` (frozen dataclass):

    * ``specimens``, ``with_positive``, ``with_expected_not_detected``, ``invalid``,
      ``all_negative_or_expected``: ints, per specimen;
    * ``positives_by_substance``: ``{"Cocaine": 2, ...}`` (display labels, panel order);
    * ``rows``: ``tuple[ScreenRow, ...]`` oldest first; each row has ``collected_on`` (date),
      ``specimen``, ``method``, ``validity`` (labels), ``observed``, ``confirmed``, ``lab_name``
      and ``results``: ``tuple[ResultCell, ...]`` with ``substance_label``,
      ``interpretation`` (code) and ``interpretation_label`` ("Positive", "Expected
      (prescribed)", "Expected, not detected", "Negative", "Invalid"), ``detected``, ``method``;
      ``row.flags`` keeps only the results that need attention.

    Four queries.
    """
    require_perm(user, Perm.NOTE_VIEW)
    if episode.organization_id != user.organization_id:
        raise PermissionDenied("the episode belongs to another organization")
    screens = list(
        _screens_qs(user.organization_id)
        .filter(episode=episode, confirms__isnull=True, collected_on__range=(start, end))
        .order_by("collected_at", "id")
    )
    merged = _rows(screens)
    t = screening.tally(final for _, final in merged)
    audit_log(
        actor=user, action="openiop.medications.drug_screen.summary", category=CAT, obj=episode,
        patient=episode.patient, request=request,
        detail={"start": start.isoformat(), "end": end.isoformat(), "specimens": t.specimens},
    )  # fmt: skip
    return ScreenSummary(
        start=start,
        end=end,
        specimens=t.specimens,
        with_positive=t.with_positive,
        with_expected_not_detected=t.with_expected_not_detected,
        invalid=t.invalid,
        all_negative_or_expected=t.all_negative_or_expected,
        positives_by_substance={
            screening.SUBSTANCE_LABELS[k]: v for k, v in t.positives_by_substance.items()
        },
        rows=tuple(row for row, _ in merged),
    )


def medication_chart_panel(
    *, user: Any, patient: Patient, today: dt.date, request: HttpRequest | None = None
) -> dict[str, Any]:
    """Context for ``medications/_chart_panel.html``: active medications and the last three
    specimens. Staff without ``NOTE_VIEW`` (front desk, billing) get ``{"med_panel": None}``:
    the chart shows them nothing of it, and nothing is read or audited. Otherwise five reads
    (medications, screens with confirmations and results) and one audit row."""
    if not user_has_perm(user, Perm.NOTE_VIEW):
        return {"med_panel": None}
    meds = _medications(user.organization_id, patient, today)
    screens = _screen_items(user.organization_id, patient, CHART_SCREENS)
    audit_log(
        actor=user, action="openiop.medications.chart_panel.view", category=CAT, obj=patient,
        patient=patient, request=request,
        detail={"medications": len(meds), "screens": len(screens)},
    )  # fmt: skip
    return {
        "med_panel": {
            "patient": patient,
            "medications": meds,
            "screens": screens,
            "on_mat": any(m.is_mat for m in meds),
        }
    }
