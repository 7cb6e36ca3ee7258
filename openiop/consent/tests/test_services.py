"""Consent, disclosure and break-glass services (security.md T8)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from openiop.clinical.selectors.ur import REDISCLOSURE_NOTICE as UR_NOTICE
from openiop.consent import rules, selectors, services
from openiop.consent.models import BreakGlassAccess, Consent, Disclosure
from openiop.consent.tests.factories import PROBATION, SIGNED, make_consent, make_named
from openiop.core.models import AuditEvent

NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
REASON = "Patient collapsed in the lobby; ER physician asks about current medications."


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def release(actor, patient, **kw):
    args = dict(
        actor=actor, patient=patient, recipient=PROBATION["recipient_name"],
        recipient_organization=PROBATION["recipient_organization"], purpose="criminal_justice",
        categories=["attendance"], channel="print",
    )  # fmt: skip
    args.update(kw)
    return services.disclosure_make(**args)


def denied_rows():
    return AuditEvent.objects.filter(
        action="openiop.consent.disclosure.make", outcome=AuditEvent.Outcome.DENIED
    )


# --- consents -----------------------------------------------------------------------------------


def test_consent_record_stores_every_element_and_audits(patient, site, intake):
    consent = make_named(patient, intake)
    assert consent.recipient_label == "Officer Dana Reyes, County Probation"
    assert consent.status_on(dt.date(2026, 11, 16)) == Consent.Status.ACTIVE
    assert AuditEvent.objects.filter(
        action="openiop.consent.consent.record", patient_id=str(patient.public_id)
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expiry_event": "", "expires_on": None}, "expires_on"),
        ({"kind": "named", "purpose": "employment"}, "recipient_name"),
        ({"categories": ["attendance", rules.SUD_COUNSELING_NOTES]}, "categories"),
        ({"categories": []}, "categories"),
        ({"signed_by_name": "  "}, "signed_by_name"),
        ({"signed_at": NOW + dt.timedelta(hours=1)}, "signed_at"),
        ({"disclosing_party": ""}, "disclosing_party"),
        ({"kind": "named", "recipient_name": "X", "purpose": "other"}, "purpose_detail"),
        ({"expires_on": dt.date(2026, 10, 1), "expiry_event": ""}, "expires_on"),
        (
            {
                "kind": "named",
                "recipient_name": "X",
                "purpose": "employment",
                "expiry_event": "None",
            },
            "expiry_event",
        ),
    ],
)
def test_consent_missing_a_required_element_is_refused(patient, site, changes, field):
    with pytest.raises(ValidationError) as err:
        make_consent(patient, **changes)
    assert field in err.value.message_dict
    assert not Consent.objects.exists()


def test_database_refuses_a_consent_without_expiry(patient, site):
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            organization=patient.organization, patient=patient, kind="tpo",
            disclosing_party="IOP", purpose="treatment", categories=["attendance"],
            signed_by_name="Dana", signed_at=SIGNED,
        )  # fmt: skip


def test_minor_in_a_self_consent_state_signs_alone(patient, site, settings):
    settings.OPENIOP_CONSENT_MINOR_SELF_CONSENT_AGE = {"PA": 14}
    patient.date_of_birth = dt.date(2011, 1, 1)  # 15
    patient.save()
    assert make_consent(patient, state="PA").signer_role == "patient"
    with pytest.raises(ValidationError) as err:
        make_consent(patient, state="PA", signer_role="guardian")
    assert "minor signs" in str(err.value)


def test_minor_elsewhere_needs_a_guardian_signature_too(patient, site, settings):
    settings.OPENIOP_CONSENT_MINOR_SELF_CONSENT_AGE = {"PA": 14}
    patient.date_of_birth = dt.date(2011, 1, 1)
    patient.save()
    with pytest.raises(ValidationError) as err:
        make_consent(patient, state="NJ")
    assert "guardian_signed_by_name" in err.value.message_dict
    assert make_consent(patient, state="NJ", guardian_signed_by_name="Pat Whitfield").pk


def test_revocation_needs_a_note_and_happens_once(patient, site, intake):
    consent = make_named(patient)
    with pytest.raises(ValidationError):
        services.consent_revoke(actor=intake, consent=consent, note=" ")
    services.consent_revoke(actor=intake, consent=consent, note="Letter dated Nov 15")
    consent.refresh_from_db()
    assert consent.status_on(dt.date(2026, 11, 16)) == Consent.Status.REVOKED
    with pytest.raises(ValidationError):
        services.consent_revoke(actor=intake, consent=consent, note="again")


# --- disclosures (T8) ---------------------------------------------------------------------------


def test_disclosure_without_consent_is_refused_and_logged(patient, site, supervisor):
    with pytest.raises(services.DisclosureRefused) as err:
        release(supervisor, patient)
    assert "no Part 2 consent" in str(err.value)
    refused = Disclosure.objects.get()
    assert refused.status == Disclosure.Status.REFUSED and refused.consent is None
    row = denied_rows().get()
    assert row.patient_id == str(patient.public_id) and row.detail["reasons"] == ["no_consent"]
    assert not Disclosure.objects.made().exists()


def test_disclosure_with_a_valid_consent_carries_notice_and_consent_copy(patient, site, supervisor):
    consent = make_named(patient)
    disclosure = release(supervisor, patient, categories=["attendance", "drug_screens"])
    assert disclosure.status == Disclosure.Status.MADE and disclosure.consent == consent
    assert disclosure.redisclosure_notice == rules.REDISCLOSURE_NOTICE
    assert disclosure.consent_snapshot["consent_id"] == str(consent.public_id)
    assert disclosure.consent_snapshot["recipient"] == "Officer Dana Reyes, County Probation"
    assert AuditEvent.objects.filter(
        action="openiop.consent.disclosure.make", outcome="success",
        detail__consent=str(consent.public_id),
    ).exists()  # fmt: skip


def test_redisclosure_notice_matches_the_ur_packet():
    assert rules.REDISCLOSURE_NOTICE == UR_NOTICE


def test_expired_consent_is_refused(patient, site, supervisor):
    make_named(patient, expires_on=dt.date(2026, 11, 15))
    with pytest.raises(services.DisclosureRefused) as err:
        release(supervisor, patient)
    assert err.value.decision.reasons == (rules.Reason.EXPIRED,)
    assert denied_rows().count() == 1


def test_open_ended_tpo_consent_has_no_event_to_record(patient, site, supervisor):
    consent = make_consent(patient, expiry_event=rules.NO_EXPIRY_EVENT)
    assert not consent.awaits_expiry_event
    with pytest.raises(ValidationError):
        services.consent_expiry_event_record(
            actor=supervisor, consent=consent, happened_on=dt.date(2026, 11, 16)
        )


def test_consent_ended_by_its_event_is_refused(patient, site, supervisor):
    consent = make_named(patient, expires_on=None, expiry_event="End of probation")
    services.consent_expiry_event_record(
        actor=supervisor, consent=consent, happened_on=dt.date(2026, 11, 16)
    )
    with pytest.raises(services.DisclosureRefused):
        release(supervisor, patient)


def test_revoked_consent_is_refused_at_once_and_earlier_disclosures_stay(patient, site, supervisor):
    consent = make_named(patient)
    before = release(supervisor, patient)
    services.consent_revoke(actor=supervisor, consent=consent, note="Patient's letter")
    with pytest.raises(services.DisclosureRefused) as err:
        release(supervisor, patient)
    assert err.value.decision.reasons == (rules.Reason.REVOKED,)
    accounting = selectors.disclosure_accounting(user=supervisor, patient=patient)
    assert accounting == [before]


def test_other_recipient_or_purpose_is_refused(patient, site, supervisor):
    make_named(patient)
    with pytest.raises(services.DisclosureRefused):
        release(supervisor, patient, recipient="Officer Sam Cole")
    with pytest.raises(services.DisclosureRefused):
        release(supervisor, patient, purpose="employment")
    assert denied_rows().count() == 2 and not Disclosure.objects.made().exists()


def test_category_outside_the_consent_is_refused(patient, site, supervisor):
    make_named(patient)
    with pytest.raises(services.DisclosureRefused) as err:
        release(supervisor, patient, categories=["attendance", "diagnoses"])
    assert "Not covered: Diagnoses." in err.value.messages


def test_sud_counseling_notes_are_never_disclosable(patient, site, supervisor):
    make_consent(patient, categories=[k for k, _ in rules.CATEGORIES])
    with pytest.raises(services.DisclosureRefused) as err:
        release(
            supervisor, patient, recipient="Dr. Lee", recipient_organization="Mercy Hospital",
            purpose="treatment", categories=[rules.SUD_COUNSELING_NOTES],
        )  # fmt: skip
    assert err.value.decision.reasons == (rules.Reason.SUD_COUNSELING_NOTES,)


def test_tpo_consent_covers_a_treating_provider(patient, site, billing):
    make_consent(patient)
    disclosure = release(
        billing, patient, recipient="", recipient_organization="Blue River Health Plan",
        purpose="payment", categories=["attendance", "diagnoses"], channel="export",
    )  # fmt: skip
    assert disclosure.consent_snapshot["kind"] == "tpo"


def test_bad_input_changes_nothing(patient, site, supervisor):
    make_named(patient)
    bad_inputs = [
        {"channel": "fax"},
        {"purpose": "gossip"},
        {"categories": []},
        {"categories": ["everything"]},
        {"recipient": "", "recipient_organization": ""},
    ]
    for bad in bad_inputs:
        with pytest.raises(ValidationError):
            release(supervisor, patient, **bad)
    assert not Disclosure.objects.exists()


def test_accounting_lists_exactly_the_disclosures_in_the_window(patient, site, supervisor):
    consent = make_named(patient)
    start = NOW - dt.timedelta(days=7 * 365)
    made = []
    for i in range(50):  # 50 disclosures spread over 7 years
        when = start + dt.timedelta(days=i * 7 * 365 // 50 + 1)
        made.append(Disclosure.objects.create(
            organization=patient.organization, patient=patient, consent=consent,
            status="made", recipient_name="Officer Dana Reyes", purpose="criminal_justice",
            categories=["attendance"], channel="print", disclosed_at=when,
            disclosed_by=supervisor, redisclosure_notice=rules.REDISCLOSURE_NOTICE,
            consent_snapshot=consent.snapshot(),
        ))  # fmt: skip
    for years in (3, 6):
        since = NOW.replace(year=NOW.year - years)
        expected = sorted((d for d in made if d.disclosed_at >= since),
                          key=lambda d: d.disclosed_at, reverse=True)  # fmt: skip
        rows = selectors.disclosure_accounting(user=supervisor, patient=patient, years=years)
        assert rows == expected and 0 < len(rows) < 50
        assert all(r.recipient_name and r.purpose and r.categories and r.disclosed_by for r in rows)


# --- break-glass --------------------------------------------------------------------------------


def test_break_glass_requires_a_reason(patient, site, counselor):
    with pytest.raises(ValidationError) as err:
        services.break_glass_start(actor=counselor, patient=patient, reason="emergency")
    assert "reason" in err.value.message_dict
    assert not BreakGlassAccess.objects.exists()


def test_break_glass_is_time_limited(patient, site, counselor):
    access = services.break_glass_start(actor=counselor, patient=patient, reason=REASON)
    assert access.expires_at - access.started_at == dt.timedelta(minutes=60)
    assert selectors.break_glass_active(counselor, patient)
    with time_machine.travel(NOW + dt.timedelta(minutes=59), tick=False):
        assert selectors.break_glass_active(counselor, patient)
    with time_machine.travel(NOW + dt.timedelta(minutes=60), tick=False):
        assert not selectors.break_glass_active(counselor, patient)


def test_break_glass_window_is_configurable(patient, site, counselor, settings):
    settings.OPENIOP_BREAK_GLASS_MINUTES = 15
    access = services.break_glass_start(actor=counselor, patient=patient, reason=REASON)
    assert access.expires_at == NOW + dt.timedelta(minutes=15)


def test_break_glass_is_audited_and_queued_for_review(patient, site, counselor, supervisor):
    access = services.break_glass_start(actor=counselor, patient=patient, reason=REASON)
    row = AuditEvent.objects.get(action="openiop.consent.break_glass.start")
    assert row.detail["break_glass"] is True and row.detail["reason"] == REASON
    assert selectors.break_glass_unreviewed(supervisor) == [access]
    assert selectors.break_glass_unreviewed(counselor) == []


def test_break_glass_review_is_recorded_once_and_not_by_the_user(
    patient, site, counselor, supervisor
):
    access = services.break_glass_start(actor=supervisor, patient=patient, reason=REASON)
    with pytest.raises(ValidationError):
        services.break_glass_review(actor=supervisor, access=access, note="Fine")
    other = services.break_glass_start(actor=counselor, patient=patient, reason=REASON)
    services.break_glass_review(actor=supervisor, access=other, note="Justified: ER call.")
    other.refresh_from_db()
    assert other.reviewed_by == supervisor and other.review_note == "Justified: ER call."
    assert selectors.break_glass_unreviewed(supervisor) == [access]
    with pytest.raises(ValidationError):
        services.break_glass_review(actor=supervisor, access=other, note="again")


def test_role_without_break_glass_is_refused_and_logged(patient, site, front_desk):
    with pytest.raises(PermissionDenied):
        services.break_glass_start(actor=front_desk, patient=patient, reason=REASON)
    assert (
        AuditEvent.objects.filter(
            action="openiop.consent.break_glass.start", outcome="denied"
        ).count()
        == 1
    )
    assert not BreakGlassAccess.objects.exists()


def test_break_glass_for_another_users_access_is_not_active(patient, site, counselor, prescriber):
    services.break_glass_start(actor=counselor, patient=patient, reason=REASON)
    assert not selectors.break_glass_active(prescriber, patient)
