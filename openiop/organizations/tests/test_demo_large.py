"""The large demo generator at a tiny size (200 patients, one year): what it writes is what the
app itself would have written, and the audit chain it builds verifies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db.models import F

from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import Claim, ClaimLine
from openiop.clinical.models import GroupNote, Note
from openiop.consent.models import Consent
from openiop.core.audit import audit_verify
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.organizations import demo_large
from openiop.patients.models import Patient
from openiop.questionnaires.models import QuestionnaireResponse
from openiop.scheduling.models import Session

TODAY = dt.date(2026, 11, 18)  # a Wednesday
NOW = dt.datetime(2026, 11, 18, 17, 30, tzinfo=dt.UTC)
PATIENTS = 200


@pytest.fixture
def built(db):
    return demo_large.build_large(seed=7, patients=PATIENTS, years=1, today=TODAY, now=NOW)


def test_the_plan_is_the_same_for_the_same_seed():
    a = demo_large.plan_large(seed=3, patients=50, years=1, today=TODAY, now=NOW)
    b = demo_large.plan_large(seed=3, patients=50, years=1, today=TODAY, now=NOW)
    c = demo_large.plan_large(seed=4, patients=50, years=1, today=TODAY, now=NOW)
    assert a.episodes == b.episodes and a.patients == b.patients
    assert a.episodes != c.episodes


def test_counts_are_proportional_to_the_patients(built):
    org = built.organization
    c = built.counts
    assert c["sites"] == 10 and c["programs"] == 40
    assert Patient.objects.for_org(org).count() == PATIENTS == c["patients"]
    episodes = Episode.objects.for_org(org).count()
    assert PATIENTS <= episodes <= 1.4 * PATIENTS
    attendance = AttendanceRecord.objects.for_org(org).count()
    assert attendance == c["attendance"]
    # About four groups a week for 10-30 weeks, cut short by the one-year window.
    assert 30 * PATIENTS <= attendance <= 130 * PATIENTS
    notes = Note.objects.for_org(org).count()
    assert notes == c["notes"]
    individual = Note.objects.for_org(org).filter(kind=Note.Kind.INDIVIDUAL).count()
    assert 0.1 * attendance <= individual <= 0.35 * attendance
    assert QuestionnaireResponse.objects.for_org(org).count() == c["questionnaires"] > PATIENTS
    assert 0.5 * PATIENTS <= Consent.objects.for_org(org).count() <= 0.9 * PATIENTS
    assert Claim.objects.for_org(org).count() == c["claims"] > 0
    assert ClaimLine.objects.for_org(org).count() == c["claim_lines"] > c["claims"]
    assert AuditEvent.objects.filter(organization_id=org.pk).count() == c["audit_events"]
    # One audit row per recorded attendance, signed note (a group note's parts are signed
    # together) and questionnaire at least.
    recorded = AttendanceRecord.objects.for_org(org).exclude(status="expected").count()
    signed = individual + GroupNote.objects.for_org(org).count()
    assert c["audit_events"] >= recorded + signed + c["questionnaires"]


def test_attendance_is_only_for_booked_patients_within_the_session(built):
    org = built.organization
    sessions = {
        s["id"]: s
        for s in Session.objects.for_org(org).values(
            "id", "program_id", "starts_at", "ends_at", "status", "capacity",
            "program__site__timezone",
        )
    }  # fmt: skip
    per_session: Counter[int] = Counter()
    rows = AttendanceRecord.objects.for_org(org).values(
        "session_id", "patient_id", "status", "minutes_attended", "episode__patient_id",
        "episode__program_id", "episode__admitted_on", "episode__discharged_on",
    )  # fmt: skip
    import zoneinfo

    for r in rows:
        s = sessions[r["session_id"]]
        per_session[r["session_id"]] += 1
        assert s["status"] != Session.Status.CANCELLED
        assert r["episode__patient_id"] == r["patient_id"]
        assert r["episode__program_id"] == s["program_id"]
        day = s["starts_at"].astimezone(zoneinfo.ZoneInfo(s["program__site__timezone"])).date()
        assert r["episode__admitted_on"] <= day
        assert r["episode__discharged_on"] is None or day <= r["episode__discharged_on"]
        length = (s["ends_at"] - s["starts_at"]).total_seconds() / 60
        if s["ends_at"] <= NOW:
            assert s["status"] == Session.Status.HELD and r["status"] != "expected"
            assert 0 <= r["minutes_attended"] <= length
            if r["status"] in ("absent", "excused"):
                assert r["minutes_attended"] == 0
        else:
            assert r["status"] == "expected" and r["minutes_attended"] is None
    assert per_session and all(n <= sessions[s]["capacity"] for s, n in per_session.items())


def test_notes_are_signed_and_cannot_be_changed(built):
    notes = Note.objects.for_org(built.organization)
    assert notes.exists()
    assert not notes.exclude(status=Note.Status.SIGNED).exists()
    assert not notes.filter(signed_at__isnull=True).exists()
    assert not notes.filter(signed_at__gt=NOW).exists()
    assert not notes.filter(ended_at__lte=F("started_at")).exists()
    note = notes.first()
    note.sections = {"data": "changed"}
    with pytest.raises(Exception, match="signed"):
        note.save()


def test_discharged_episodes_have_a_reason_and_open_ones_are_one_per_patient(built):
    episodes = Episode.objects.for_org(built.organization)
    assert not episodes.filter(status=Episode.Status.DISCHARGED, discharge_reason=None).exists()
    assert not episodes.filter(discharged_on__gte=TODAY).exists()
    open_ = episodes.exclude(status=Episode.Status.DISCHARGED).values_list("patient_id", flat=True)
    assert open_ and len(open_) == len(set(open_))


def test_the_audit_chain_verifies(built):
    report = audit_verify()
    assert report.ok, report.problem
    assert report.checked == AuditEvent.objects.count()


def test_last_month_is_billable_end_to_end(built):
    """The month nobody billed yet goes through the real path a biller takes: charge capture
    from attendance and the signed group notes, draft claims, ready, and an 837P that pyx12
    accepts; the months already billed are not billed twice."""
    from openiop.accounts.models import User
    from openiop.billing.models import ClaimStatus
    from openiop.billing.services_claims import claim_mark_ready, claims_build, claims_export
    from openiop.billing.x12.pyx12_check import pyx12_errors

    org = built.organization
    biller = User.objects.get(username=demo_large.USER_PREFIX + "billing")
    october = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert not Claim.objects.for_org(org).filter(period_start__gte=october[0]).exists()
    parts = Note.objects.for_org(org).filter(kind=Note.Kind.GROUP_INDIVIDUALIZED)
    assert parts.filter(session__starts_at__date__gte=october[0]).exists()
    assert not parts.filter(session__starts_at__date__lt=october[0] - dt.timedelta(days=1)).exists()

    built_claims = claims_build(
        actor=biller, organization=org, start=october[0], end=october[1], today=TODAY
    ).created
    assert built_claims, "no clean lines in the unbilled month"
    days = sum(c.lines.count() for c in built_claims)
    attended_days = (
        AttendanceRecord.objects.for_org(org)
        .filter(
            status__in=AttendanceRecord.ATTENDED,
            session__starts_at__date__range=october,
        )
        .values("patient_id", "session__starts_at__date")
        .distinct()
        .count()
    )
    # Per diem: at most one line per attended day; short days (late, left early) are held back.
    assert 0.5 * attended_days <= days <= attended_days
    for claim in built_claims:
        claim_mark_ready(actor=biller, claim=claim)
    result = claims_export(
        actor=biller, organization=org, fmt="837p", start=october[0], end=october[1]
    )
    assert result.problems == []
    assert result.batch is not None and result.batch.claim_count == len(built_claims) - len(
        result.refused
    )
    assert pyx12_errors(result.batch.content) == []
    assert Claim.objects.for_org(org).filter(status=ClaimStatus.SUBMITTED).count() >= (
        result.batch.claim_count
    )
    # September was billed by the generator: building it again finds nothing new.
    again = claims_build(
        actor=biller, organization=org, start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30),
        today=TODAY,
    ).created  # fmt: skip
    assert again == []


def test_every_patient_can_be_found_by_name(built):
    assert not Patient.objects.filter(search_terms__isnull=True).exists()
    someone = Patient.objects.order_by("pk").last()
    found = Patient.objects.for_org(someone.organization).search(
        f"{someone.first_name[:2]} {someone.last_name[:3]}"
    )
    assert someone in found
