"""HTML input parsing for the treatment plan pages. Forms only parse; the services validate
(ICD-10-CM shape, target dates, signatures, ratings) and their errors land on these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.clinical.models import ObjectiveProgress, PlanIntervention, TreatmentPlan
from openiop.core.forms import ServiceErrorsMixin
from openiop.enrollment.forms import StaffChoiceField
from openiop.patients.forms import DATE

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class PlanDraftForm(ServiceErrorsMixin, forms.Form):
    strengths = forms.CharField(
        required=False, widget=TEXTAREA,
        help_text="What the patient brings: supports, skills, motivation.",
    )  # fmt: skip
    barriers = forms.CharField(
        required=False, widget=TEXTAREA,
        help_text="What may get in the way: transport, housing, work hours, cravings.",
    )  # fmt: skip
    review_interval = forms.IntegerField(
        label="Review every", min_value=1,
        help_text="The program's cadence is copied in; e.g. 2 months for a Medicare patient.",
    )  # fmt: skip
    review_unit = forms.ChoiceField(label="Unit", choices=TreatmentPlan.Unit.choices)


class ProblemForm(ServiceErrorsMixin, forms.Form):
    description = forms.CharField(
        label="Problem", widget=TEXTAREA,
        help_text="The problem as the team sees it, e.g. daily drinking, lost job.",
    )  # fmt: skip
    icd10_code = forms.CharField(
        label="ICD-10-CM code", required=False, max_length=10,
        help_text="e.g. F10.20, F11.20, F32.1",
    )  # fmt: skip
    icd10_text = forms.CharField(label="Diagnosis", required=False, max_length=200)


class GoalForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(label="Goal", widget=TEXTAREA, help_text="In the patient's own words.")


class ObjectiveForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label="Objective", widget=TEXTAREA,
        help_text="Measurable: what, how much, by when (e.g. 3 negative screens in a row).",
    )  # fmt: skip
    target_on = forms.DateField(label="Target date", required=False, widget=DATE)


class InterventionForm(ServiceErrorsMixin, forms.Form):
    modality = forms.ChoiceField(choices=PlanIntervention.Modality.choices)
    frequency = forms.CharField(max_length=100, help_text="e.g. 3 groups a week")
    description = forms.CharField(required=False, widget=TEXTAREA)
    responsible = StaffChoiceField(
        queryset=User.objects.none(), required=False, label="Responsible staff"
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clinical = [Role.COUNSELOR, Role.PRESCRIBER, Role.PROGRAM_DIRECTOR, Role.INTAKE]
        self.fields["responsible"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(
                organization_id=organization_id, is_active=True, groups__name__in=clinical
            )
            .distinct()
            .order_by("last_name", "first_name")
        )


class ClinicianSignForm(ServiceErrorsMixin, forms.Form):
    attest = forms.BooleanField(
        label="I developed this plan with the patient and sign it as the responsible clinician."
    )


class PatientSignForm(ServiceErrorsMixin, forms.Form):
    patient_signature = forms.CharField(
        label="Patient's typed signature", max_length=200,
        help_text="The patient types their full name.",
    )  # fmt: skip
    guardian_signature = forms.CharField(
        label="Parent or guardian's typed signature", max_length=200, required=False,
        help_text="Required when the patient is under 18.",
    )  # fmt: skip
    guardian_relationship = forms.CharField(
        label="Relationship to the patient", max_length=60, required=False
    )


RATING_CHOICES = [("", "—"), *ObjectiveProgress.Rating.choices]


class ReviewForm(ServiceErrorsMixin, forms.Form):
    """The review date and summary, plus a rating and a comment per objective of the plan
    (fields ``rating_<public id>`` and ``comment_<public id>``)."""

    reviewed_on = forms.DateField(label="Reviewed on", widget=DATE)
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Progress since the last review, with the patient; changes to the plan.",
    )  # fmt: skip

    def __init__(self, *args: Any, objectives: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.objectives = objectives
        for o in objectives:
            self.fields[f"rating_{o.public_id}"] = forms.ChoiceField(
                label="Progress", choices=RATING_CHOICES, required=False
            )
            self.fields[f"comment_{o.public_id}"] = forms.CharField(
                label="Comment", required=False, widget=forms.TextInput()
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for o in self.objectives:
            if not data.get(f"rating_{o.public_id}"):
                self.add_error(f"rating_{o.public_id}", "Rate the progress on this objective.")
        return data

    def rows(self) -> list[dict[str, Any]]:
        """One row per objective with its two bound fields, for the template."""
        return [
            {
                "objective": o,
                "rating": self[f"rating_{o.public_id}"],
                "comment": self[f"comment_{o.public_id}"],
            }
            for o in self.objectives
        ]

    def progress(self) -> dict[str, tuple[str, str]]:
        data = self.cleaned_data
        return {
            str(o.public_id): (
                data.get(f"rating_{o.public_id}") or "",
                data.get(f"comment_{o.public_id}") or "",
            )
            for o in self.objectives
        }
