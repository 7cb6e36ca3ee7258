"""Medication and drug-screen writes. Each runs in one transaction with its audit row.

Screens are interpreted when they are recorded, against the medications the patient had on the
collection day (``screening.expectation_on``), and the interpretation is stored: a later change
to the medication list does not rewrite what the clinician saw and acted on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.actors import user_or_none
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.medications import screening
from openiop.medications.models import DrugScreen, DrugScreenResult, Medication
from openiop.organizations.models import Site
from openiop.patients.models import Patient

CAT = AuditEvent.Category.CLINICAL
AUTO = "auto"  # panel_substance: suggest it from the MAT kind or the drug name
# A collection time a little in the future is clock skew between devices; more is a typo.
CLOCK_SKEW = dt.timedelta(minutes=10)

# (substance, detected) or (substance, detected, cutoff ng/mL)
ResultInput = tuple[str, bool] | tuple[str, bool, int | None]


def _check_actor(actor: Any, organization_id: int, perm: Perm) -> None:
    """Services are called by views that already checked; this is the second lock on the door.
    ``actor=None`` (demo, commands) is trusted."""
    if actor is None:
        return
    if getattr(actor, "organization_id", None) != organization_id:
        raise PermissionDenied("the patient belongs to another organization")
    if not user_has_perm(actor, perm):
        raise PermissionDenied(f"your role does not allow {perm.value}")


def site_tz(patient: Patient, episode: Episode | None = None) -> Any:
    """The wall clock for this patient's dates: the episode's site, else the first site."""
    if episode is not None:
        return episode.program.site.tz
    site = Site.objects.for_org(patient.organization_id).order_by("id").only("timezone").first()
    return site.tz if site is not None else dt.UTC


def _check_episode(patient: Patient, episode: Episode | None) -> None:
    if episode is not None and episode.patient_id != patient.pk:
        raise ValidationError({"episode": "The episode is not this patient's."})


def _clean_medication(
    *,
    name: str,
    dose: str,
    route: str,
    frequency: str,
    prescriber: Any,
    outside_prescriber: str,
    mat_kind: str,
    panel_substance: str | None,
    organization_id: int,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name, dose, frequency = name.strip(), dose.strip(), frequency.strip()
    outside_prescriber = outside_prescriber.strip()
    if not name:
        errors["name"] = "Enter the medication name."
    if not dose:
        errors["dose"] = "Enter the dose, e.g. 8 mg."
    if not frequency:
        errors["frequency"] = "Enter how often, e.g. once daily."
    if route not in Medication.Route.values:
        errors["route"] = f"Unknown route {route!r}."
    if mat_kind and mat_kind not in Medication.MatKind.values:
        errors["mat_kind"] = f"Unknown MAT kind {mat_kind!r}."
    if prescriber is not None and prescriber.organization_id != organization_id:
        errors["prescriber"] = "The prescriber is not on this organization's staff."
    if prescriber is None and not outside_prescriber:
        errors["outside_prescriber"] = (
            "Choose the prescriber, or name the outside prescriber or program (e.g. the OTP)."
        )
    if panel_substance == AUTO:
        panel_substance = screening.suggest_panel_substance(name, mat_kind)
    if panel_substance and panel_substance not in screening.SUBSTANCES:
        errors["panel_substance"] = f"{panel_substance!r} is not a drug-screen panel substance."
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "dose": dose,
        "route": route,
        "frequency": frequency,
        "prescriber": prescriber,
        "outside_prescriber": "" if prescriber is not None else outside_prescriber,
        "is_mat": bool(mat_kind),
        "mat_kind": mat_kind,
        "panel_substance": panel_substance or "",
    }


@transaction.atomic
def medication_start(
    *,
    actor: Any,
    patient: Patient,
    name: str,
    dose: str,
    frequency: str,
    start_on: dt.date,
    route: str = Medication.Route.ORAL,
    episode: Episode | None = None,
    prescriber: Any = None,
    outside_prescriber: str = "",
    mat_kind: str = "",
    panel_substance: str | None = AUTO,
    adherence_notes: str = "",
    request: HttpRequest | None = None,
    _replaces: Medication | None = None,
) -> Medication:
    """Start a medication. ``mat_kind`` makes it MAT; ``panel_substance`` defaults to the one
    suggested by the MAT kind or the drug name (pass None or "" for "shows up as nothing")."""
    _check_actor(actor, patient.organization_id, Perm.MEDICATION_MANAGE)
    _check_episode(patient, episode)
    fields = _clean_medication(
        name=name, dose=dose, route=route, frequency=frequency, prescriber=prescriber,
        outside_prescriber=outside_prescriber, mat_kind=mat_kind,
        panel_substance=panel_substance, organization_id=patient.organization_id,
    )  # fmt: skip
    med = Medication.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        start_on=start_on,
        adherence_notes=adherence_notes.strip(),
        replaces=_replaces,
        created_by=user_or_none(actor),
        updated_by=user_or_none(actor),
        **fields,
    )
    audit_log(
        actor=actor,
        action="openiop.medications.medication.start" if _replaces is None
        else "openiop.medications.medication.change",
        category=CAT, obj=med, patient=patient, request=request,
        detail={"mat": med.is_mat, **({"replaces": str(_replaces.public_id)} if _replaces else {})},
    )  # fmt: skip
    return med


def _d(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _lock_active(medication: Medication) -> Medication:
    med = (
        Medication.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=medication.pk)
    )
    if med.stop_on is not None:
        raise ValidationError(
            {"stop_on": f"This medication was already stopped on {_d(med.stop_on)}."}
        )
    return med


def _check_stop_date(med: Medication, stop_on: dt.date, now: dt.datetime | None) -> None:
    if stop_on < med.start_on:
        raise ValidationError(
            {"stop_on": f"The stop date cannot be before the start date ({_d(med.start_on)})."}
        )
    today = (now or timezone.now()).astimezone(site_tz(med.patient, med.episode)).date()
    if stop_on > today:
        raise ValidationError({"stop_on": "The stop date cannot be in the future."})


@transaction.atomic
def medication_stop(
    *,
    actor: Any,
    medication: Medication,
    stop_on: dt.date,
    reason: str,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Medication:
    """Stop a medication on ``stop_on`` (the first day it is no longer taken)."""
    _check_actor(actor, medication.organization_id, Perm.MEDICATION_MANAGE)
    med = _lock_active(medication)
    _check_stop_date(med, stop_on, now)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the medication was stopped."})
    med.stop_on = stop_on
    med.stop_reason = reason.strip()[:300]
    med.updated_by = user_or_none(actor)
    med.save(update_fields=["stop_on", "stop_reason", "updated_by", "updated_at"])
    audit_log(
        actor=actor, action="openiop.medications.medication.stop", category=CAT, obj=med,
        patient=med.patient, request=request,
    )  # fmt: skip
    return med


@transaction.atomic
def medication_change(
    *,
    actor: Any,
    medication: Medication,
    changed_on: dt.date,
    reason: str,
    dose: str | None = None,
    frequency: str | None = None,
    route: str | None = None,
    name: str | None = None,
    prescriber: Any = None,
    outside_prescriber: str | None = None,
    adherence_notes: str | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Medication:
    """Change a medication from ``changed_on``: the old row is stopped that day (reason kept)
    and a new row starts it, so the history shows both. Fields left None carry over."""
    _check_actor(actor, medication.organization_id, Perm.MEDICATION_MANAGE)
    old = _lock_active(medication)
    errors: dict[str, str] = {}
    try:
        _check_stop_date(old, changed_on, now)
    except ValidationError as exc:
        errors["changed_on"] = exc.message_dict["stop_on"][0].replace("stop date", "change date")
    if not reason.strip():
        errors["reason"] = "Say why the medication was changed."
    new = {
        "name": old.name if name is None else name,
        "dose": old.dose if dose is None else dose,
        "frequency": old.frequency if frequency is None else frequency,
        "route": old.route if route is None else route,
    }
    if (
        all(new[k] == getattr(old, k) for k in new)
        and prescriber is None
        and (outside_prescriber is None)
    ):
        errors["dose"] = "Nothing changed: enter the new dose, frequency, route or name."
    if errors:
        raise ValidationError(errors)
    if prescriber is None and outside_prescriber is None:
        prescriber, outside_prescriber = old.prescriber, old.outside_prescriber
    old.stop_on = changed_on
    old.stop_reason = f"Changed: {reason.strip()}"[:300]
    old.updated_by = user_or_none(actor)
    old.save(update_fields=["stop_on", "stop_reason", "updated_by", "updated_at"])
    panel = old.panel_substance if name is None else AUTO
    return medication_start(
        actor=actor, patient=old.patient, episode=old.episode, start_on=changed_on,
        prescriber=prescriber, outside_prescriber=outside_prescriber or "",
        mat_kind=old.mat_kind, panel_substance=panel,
        adherence_notes=old.adherence_notes if adherence_notes is None else adherence_notes,
        request=request, _replaces=old, **new,
    )  # fmt: skip


# --- drug screens -------------------------------------------------------------------------------


def _clean_results(results: Sequence[Any]) -> list[tuple[str, bool, int | None]]:
    if not results:
        raise ValidationError({"results": "Record at least one substance result."})
    cleaned: list[tuple[str, bool, int | None]] = []
    seen: set[str] = set()
    for item in results:
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValidationError({"results": "Each result is (substance, detected[, cutoff])."})
        substance, detected, cutoff = item if len(item) == 3 else (*item, None)
        if substance not in screening.SUBSTANCES:
            raise ValidationError({"results": f"{substance!r} is not a panel substance."})
        if substance in seen:
            label = screening.SUBSTANCE_LABELS[substance]
            raise ValidationError({"results": f"{label} is listed twice."})
        if cutoff is not None and (not isinstance(cutoff, int) or cutoff <= 0):
            raise ValidationError({"results": "A cutoff must be a positive number of ng/mL."})
        seen.add(substance)
        cleaned.append((substance, bool(detected), cutoff))
    return cleaned


def expectation_for(patient: Patient, day: dt.date) -> screening.Expectation:
    """What the patient's medication list says a specimen collected on ``day`` should contain."""
    since = day - dt.timedelta(days=screening.WASHOUT_DAYS)
    meds = (
        Medication.objects.for_org(patient.organization_id)
        .filter(patient=patient, start_on__lte=day)
        .exclude(stop_on__lte=since)
        .values_list("panel_substance", "is_mat", "start_on", "stop_on")
    )
    return screening.expectation_on(
        [screening.MedWindow(p or None, mat, start, stop) for p, mat, start, stop in meds], day
    )


@transaction.atomic
def drug_screen_record(
    *,
    actor: Any,
    patient: Patient,
    episode: Episode,
    method: str,
    results: Sequence[ResultInput],
    collected_at: dt.datetime | None = None,
    specimen: str = DrugScreen.Specimen.URINE,
    observed: bool = False,
    specimen_validity: str = DrugScreen.Validity.VALID,
    lab_name: str = "",
    accession_number: str = "",
    confirms: DrugScreen | None = None,
    notes: str = "",
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> DrugScreen:
    """Record one screen and its interpreted results.

    A confirmatory screen that ``confirms`` a presumptive one tests the same specimen: its
    collection time and specimen are the presumptive screen's (give them or leave them out).
    ``now`` replaces the clock for "not in the future" (the demo and back-filled imports).
    """
    _check_actor(actor, patient.organization_id, Perm.DRUG_SCREEN_RECORD)
    _check_episode(patient, episode)
    errors: dict[str, str] = {}
    if method not in DrugScreen.Method.values:
        errors["method"] = f"Unknown method {method!r}."
    if specimen not in DrugScreen.Specimen.values:
        errors["specimen"] = f"Unknown specimen {specimen!r}."
    if specimen_validity not in DrugScreen.Validity.values:
        errors["specimen_validity"] = f"Unknown specimen validity {specimen_validity!r}."
    if method == DrugScreen.Method.CONFIRMATORY and not lab_name.strip():
        errors["lab_name"] = "Name the lab that ran the confirmatory test."
    if confirms is not None:
        if method != DrugScreen.Method.CONFIRMATORY:
            errors["confirms"] = "Only a confirmatory (lab) result can confirm a screen."
        elif confirms.patient_id != patient.pk or confirms.method != DrugScreen.Method.PRESUMPTIVE:
            errors["confirms"] = "Choose one of this patient's point-of-care screens."
        elif DrugScreen.objects.filter(confirms=confirms).exists():
            errors["confirms"] = "That screen already has a lab confirmation."
        else:
            if collected_at is not None and collected_at != confirms.collected_at:
                errors["collected_at"] = (
                    "A confirmation tests the same specimen: its collection time is the "
                    "point-of-care screen's."
                )
            collected_at = confirms.collected_at
            specimen = confirms.specimen
            episode = confirms.episode
    accession_number, lab_name = accession_number.strip(), lab_name.strip()
    if (
        accession_number
        and DrugScreen.objects.for_org(patient.organization_id)
        .filter(lab_name=lab_name, accession_number=accession_number)
        .exists()
    ):
        errors["accession_number"] = "A result with this lab accession number is already recorded."
    if collected_at is None:
        if "confirms" not in errors:
            errors.setdefault("collected_at", "Enter when the specimen was collected.")
    elif timezone.is_naive(collected_at):
        errors["collected_at"] = "The collection time must include a time zone."
    elif collected_at > (now or timezone.now()) + CLOCK_SKEW:
        errors["collected_at"] = "The collection time cannot be in the future."
    try:
        cleaned = _clean_results(results)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    assert collected_at is not None
    collected_on = collected_at.astimezone(site_tz(patient, episode)).date()
    expectation = expectation_for(patient, collected_on)
    interpretations = screening.interpret(
        {s: d for s, d, _ in cleaned}, expectation, specimen_validity
    )
    screen = DrugScreen.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        collected_at=collected_at,
        collected_on=collected_on,
        specimen=specimen,
        method=method,
        observed=observed,
        specimen_validity=specimen_validity,
        lab_name=lab_name,
        accession_number=accession_number,
        recorded_by=user_or_none(actor),
        confirms=confirms,
        notes=notes.strip(),
        created_by=user_or_none(actor),
        updated_by=user_or_none(actor),
    )
    DrugScreenResult.objects.bulk_create(
        [
            DrugScreenResult(
                organization_id=patient.organization_id,
                screen=screen,
                substance=s,
                detected=d,
                cutoff_ng_ml=c,
                interpretation=interpretations[s],
                created_by=user_or_none(actor),
                updated_by=user_or_none(actor),
            )
            for s, d, c in cleaned
        ]
    )
    counts: dict[str, int] = {}
    for value in interpretations.values():
        counts[value] = counts.get(value, 0) + 1
    audit_log(
        actor=actor, action="openiop.medications.drug_screen.record", category=CAT, obj=screen,
        patient=patient, request=request,
        detail={"method": method, "validity": specimen_validity, "interpretations": counts,
                **({"confirms": str(confirms.public_id)} if confirms is not None else {})},
    )  # fmt: skip
    return screen
