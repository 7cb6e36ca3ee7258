"""Administrative FHIR mappers: Patient, Organization, Location, Practitioner,
HealthcareService, EpisodeOfCare, Encounter, Appointment, Group, Coverage, Consent, AuditEvent.

Every output validates with both validators, carries the facts a client reads, and is built
without a database query from rows loaded the way each module documents."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db.models import Prefetch

from conftest import make_user
from openiop.accounts.models import User
from openiop.accounts.permissions import Role
from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import Coverage, Payer
from openiop.consent.models import Consent
from openiop.consent.services import consent_record, consent_revoke
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode, TedsDischargeReason
from openiop.enrollment.services import episode_discharge
from openiop.fhir.mappers import (
    appointment,
    audit_event,
    consent,
    coverage,
    encounter,
    episode_of_care,
    group,
    healthcare_service,
    location,
    organization,
    practitioner,
)
from openiop.fhir.mappers import (
    patient as patient_mapper,
)
from openiop.fhir.mappers.common import OPENIOP_ID_SYSTEM, PART2_LABELS, MapContext, mrn_system
from openiop.fhir.validate import validate
from openiop.organizations.models import Organization, Program, Site
from openiop.patients.models import Patient
from openiop.scheduling.models import Session

CTX = MapContext()
UTC = dt.UTC
NY = zoneinfo.ZoneInfo("America/New_York")


def _labels(resource):
    return {(c["system"], c["code"]) for c in resource["meta"]["security"]}


PART2 = {(c["system"], c["code"]) for c in PART2_LABELS}


def _id_identifier(resource):
    return {"system": OPENIOP_ID_SYSTEM, "value": f"urn:uuid:{resource['id']}"}


# --- fixtures for these mappers (named admin_* so they do not clash with other FHIR tests) ------


@pytest.fixture
def admin_session(program, room, counselor):
    session = Session.objects.create(
        organization=program.organization,
        program=program,
        kind="group",
        title="Opioid relapse prevention",
        starts_at=dt.datetime(2026, 11, 4, 23, 0, tzinfo=UTC),
        ends_at=dt.datetime(2026, 11, 5, 2, 0, tzinfo=UTC),
        room=room,
        status=Session.Status.HELD,
    )
    session.facilitators.add(counselor)
    return session


@pytest.fixture
def admin_record(admin_session, patient, episode, counselor):
    return AttendanceRecord.objects.create(
        organization=patient.organization,
        session=admin_session,
        patient=patient,
        episode=episode,
        status=AttendanceRecord.Status.LATE,
        minutes_attended=165,
        checked_in_at=dt.datetime(2026, 11, 4, 23, 15, tzinfo=UTC),
        checked_out_at=dt.datetime(2026, 11, 5, 2, 0, tzinfo=UTC),
        recorded_at=dt.datetime(2026, 11, 5, 2, 5, tzinfo=UTC),
        recorded_by=counselor,
    )


@pytest.fixture
def admin_payer(org):
    return Payer.objects.create(
        organization=org, name="Blue Valley Health", kind="commercial", payer_id="BVH01"
    )


@pytest.fixture
def admin_coverage(admin_payer, patient):
    return Coverage.objects.create(
        organization=patient.organization,
        patient=patient,
        payer=admin_payer,
        member_id="XJP123456",
        group_number="GRP-77",
        subscriber_relationship="self",
        effective_on=dt.date(2026, 1, 1),
        terminates_on=dt.date(2026, 12, 31),
    )


def _consent(patient, **kw):
    args = {
        "actor": None,
        "patient": patient,
        "kind": "named",
        "disclosing_party": "Riverbend Recovery IOP",
        "purpose": "treatment",
        "categories": ["attendance", "diagnoses"],
        "signed_by_name": "Dana Whitfield",
        "signed_at": dt.datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
        "recipient_name": "Dr. Lee",
        "recipient_organization": "Hillside Primary Care",
        "expires_on": dt.date(2027, 11, 3),
    }
    args.update(kw)
    return consent_record(**args)


# --- Patient ----------------------------------------------------------------------------------


def test_patient(patient, django_assert_num_queries):
    Patient.objects.filter(pk=patient.pk).update(
        preferred_name="Dee",
        email="dana@example.org",
        address="12 Elm St, Springfield, NY 10001",
        emergency_contact_name="Sam Whitfield",
        emergency_contact_phone="555-0199",
        emergency_contact_relationship="Brother",
        preferred_language="Spanish",
    )
    row = Patient.objects.select_related("organization").get(pk=patient.pk)
    with django_assert_num_queries(0):
        res = patient_mapper.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["id"] == str(patient.public_id)
    assert _id_identifier(res) in res["identifier"]
    mrn = next(i for i in res["identifier"] if i.get("type"))
    assert mrn["system"] == mrn_system(patient.organization.public_id)
    assert mrn["value"] == patient.mrn and mrn["type"]["coding"][0]["code"] == "MR"
    official = res["name"][0]
    assert (official["use"], official["family"], official["given"]) == (
        "official",
        "Whitfield",
        ["Dana"],
    )
    assert res["name"][1]["use"] == "usual" and res["name"][1]["given"] == ["Dee"]
    assert res["gender"] == "female"
    assert res["birthDate"] == "1988-04-12"
    assert {"system": "phone", "value": "555-0100"} in res["telecom"]
    assert {"system": "email", "value": "dana@example.org"} in res["telecom"]
    assert res["address"] == [{"text": "12 Elm St, Springfield, NY 10001"}]
    assert res["communication"][0]["language"]["coding"][0]["code"] == "es"
    assert res["contact"][0]["name"]["text"] == "Sam Whitfield"
    assert (
        res["managingOrganization"]["reference"] == f"Organization/{patient.organization.public_id}"
    )
    assert _labels(res) == PART2
    assert "extension" not in res  # no race/ethnicity/birth sex stored


@pytest.mark.parametrize("sex", Patient.Sex.values)
def test_patient_gender(patient, sex):
    patient.sex = sex
    res = patient_mapper.to_fhir(patient, ctx=CTX)
    validate(res)
    assert res["gender"] == sex


def test_patient_minimal_has_no_empty_elements(org):
    row = Patient.objects.create(
        organization=org,
        mrn="M-2",
        first_name="Al",
        last_name="Reyes",
        date_of_birth=dt.date(1970, 1, 2),
        preferred_language="",
    )
    res = patient_mapper.to_fhir(row, ctx=CTX)
    validate(res)
    for key in ("telecom", "address", "contact", "communication"):
        assert key not in res
    assert res["gender"] == "unknown"


# --- Organization, Location, Practitioner, HealthcareService ----------------------------------


def test_organization(org, django_assert_num_queries):
    row = Organization.objects.get(pk=org.pk)
    with django_assert_num_queries(0):
        res = organization.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["id"] == str(org.public_id)
    assert res["name"] == "Riverbend Recovery"
    assert res["active"] is True
    assert _id_identifier(res) in res["identifier"]


@pytest.mark.parametrize("kind", Site.Kind.values)
def test_location(site, kind, django_assert_num_queries):
    Site.objects.filter(pk=site.pk).update(kind=kind, address="100 Main St, Albany, NY")
    row = Site.objects.select_related("organization").get(pk=site.pk)
    with django_assert_num_queries(0):
        res = location.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["id"] == str(site.public_id)
    assert res["name"] == "Downtown"
    assert res["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "America/New_York"}
    ]
    assert res["address"] == {"text": "100 Main St, Albany, NY"}
    assert res["physicalType"]["coding"][0]["code"] == ("vi" if kind == "virtual" else "bu")
    assert res["managingOrganization"]["reference"] == f"Organization/{site.organization.public_id}"


def test_practitioner(org, django_assert_num_queries):
    user = make_user("lcsw", org, Role.COUNSELOR)
    User.objects.filter(pk=user.pk).update(credential="LCSW", npi="1234567893")
    row = User.objects.get(pk=user.pk)
    with django_assert_num_queries(0):
        res = practitioner.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["id"] == str(user.public_id)
    assert res["name"][0]["family"] == "Tester" and res["name"][0]["given"] == ["Lcsw"]
    assert res["qualification"][0]["code"]["text"] == "Licensed clinical social worker"
    assert res["qualification"][0]["code"]["coding"][0]["code"] == "LCSW"
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"} in res["identifier"]
    assert res["active"] is True


def test_practitioner_without_credential(counselor):
    res = practitioner.to_fhir(counselor, ctx=CTX)
    validate(res)
    assert "qualification" not in res
    assert res["name"][0]["text"] == "Counselor Tester"


def test_practitioner_refuses_portal_login(org):
    user = make_user("portal-dana", org)
    user.is_portal = True
    with pytest.raises(ValueError):
        practitioner.to_fhir(user, ctx=CTX)


def test_healthcare_service(program, django_assert_num_queries):
    row = Program.objects.select_related("organization", "site").get(pk=program.pk)
    with django_assert_num_queries(0):
        res = healthcare_service.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["id"] == str(program.public_id)
    assert res["name"] == "Adult Evening IOP"
    assert res["type"][0]["coding"][0] == {
        "system": "urn:openiop:level-of-care",
        "code": "2.1",
        "display": "ASAM Level 2.1 intensive outpatient",
    }
    codes = {c["coding"][0]["system"]: c["coding"][0]["code"] for c in res["characteristic"]}
    assert codes["urn:openiop:modality"] == "in_person"
    assert codes["urn:openiop:population"] == "adult"
    assert codes["urn:openiop:cohort"] == "evening"
    assert res["eligibility"][0]["comment"] == "Ages 18 and older"
    assert res["providedBy"]["reference"] == f"Organization/{program.organization.public_id}"
    assert res["location"][0]["reference"] == f"Location/{program.site.public_id}"


def test_healthcare_service_adolescent_age_range(site):
    row = Program.objects.create(
        organization=site.organization,
        site=site,
        name="Teen IOP",
        population="adolescent",
        min_age=14,
        max_age=17,
        modality="virtual",
    )
    res = healthcare_service.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["eligibility"][0]["comment"] == "Ages 14 to 17"


# --- EpisodeOfCare ----------------------------------------------------------------------------


def _load_episode(episode):
    return (
        Episode.objects.select_related("organization", "patient", "program", "primary_counselor")
        .prefetch_related("status_changes")
        .get(pk=episode.pk)
    )


def test_episode_of_care_open(episode, counselor, django_assert_num_queries):
    row = _load_episode(episode)
    changes = list(row.status_changes.all())
    with django_assert_num_queries(0):
        res = episode_of_care.to_fhir(row, ctx=CTX, status_changes=changes)
    validate(res)
    assert res["id"] == str(episode.public_id)
    assert res["status"] == "active"
    assert res["period"] == {"start": "2026-11-02"}
    assert res["patient"]["reference"] == f"Patient/{episode.patient.public_id}"
    assert (
        res["managingOrganization"]["reference"] == f"Organization/{episode.organization.public_id}"
    )
    assert res["type"][0]["coding"][0]["code"] == str(episode.program.public_id)
    assert res["type"][0]["text"] == "Adult Evening IOP"
    assert res["careManager"]["reference"] == f"Practitioner/{counselor.public_id}"
    assert [h["status"] for h in res["statusHistory"]] == [
        episode_of_care.fhir_status(c.to_status, admitted_on=row.admitted_on) for c in changes
    ]
    assert res["statusHistory"][-1]["status"] == "active"
    assert "extension" not in res


def test_episode_of_care_discharged(episode, django_assert_num_queries):
    episode_discharge(
        actor=None,
        episode=episode,
        discharged_on=dt.date(2026, 11, 20),
        reason=TedsDischargeReason.COMPLETED,
    )
    row = _load_episode(episode)
    changes = list(row.status_changes.all())
    with django_assert_num_queries(0):
        res = episode_of_care.to_fhir(row, ctx=CTX, status_changes=changes)
    validate(res)
    assert res["status"] == "finished"
    assert res["period"] == {"start": "2026-11-02", "end": "2026-11-20"}
    assert res["extension"] == [
        {
            "url": "urn:openiop:fhir:StructureDefinition/discharge-reason",
            "valueCoding": {
                "system": "urn:openiop:CodeSystem/teds-d-reason",
                "code": "1",
                "display": "Treatment completed",
            },
        }
    ]
    history = res["statusHistory"]
    assert history[-1] == {"status": "finished", "period": {"start": "2026-11-20"}}
    assert history[-2]["period"]["end"] == "2026-11-20"


@pytest.mark.parametrize(
    ("status", "admitted", "expected"),
    [
        (Episode.Status.WAITLISTED, False, "waitlist"),
        (Episode.Status.ADMITTED, True, "active"),
        (Episode.Status.ACTIVE, True, "active"),
        (Episode.Status.ON_HOLD, True, "onhold"),
        (Episode.Status.DISCHARGED, True, "finished"),
        (Episode.Status.DISCHARGED, False, "cancelled"),
    ],
)
def test_episode_status_mapping(episode, status, admitted, expected):
    row = _load_episode(episode)
    row.status = status
    row.admitted_on = dt.date(2026, 11, 2) if admitted else None
    if status == Episode.Status.DISCHARGED:
        row.discharge_reason = TedsDischargeReason.DROPPED_OUT
        row.discharged_on = dt.date(2026, 11, 20) if admitted else None
    res = episode_of_care.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["status"] == expected


def test_episode_status_mapping_covers_every_choice():
    assert set(episode_of_care.STATUS) == set(Episode.Status.values)


def test_episode_admitted_in_future_is_planned(episode):
    row = _load_episode(episode)
    res = episode_of_care.to_fhir(row, ctx=CTX, today=dt.date(2026, 10, 30))
    validate(res)
    assert res["status"] == "planned"


# --- Encounter --------------------------------------------------------------------------------


def _load_record(record):
    return (
        AttendanceRecord.objects.select_related(
            "organization", "patient", "episode", "session__program__site", "session__room"
        )
        .prefetch_related("session__facilitators")
        .get(pk=record.pk)
    )


def test_encounter(admin_record, counselor, django_assert_num_queries):
    row = _load_record(admin_record)
    with django_assert_num_queries(0):
        res = encounter.to_fhir(row, ctx=CTX)
    validate(res)
    session = admin_record.session
    assert res["id"] == str(admin_record.public_id)
    assert res["status"] == "finished"
    assert res["class"]["code"] == "AMB"
    assert res["period"] == {"start": "2026-11-04T23:15:00Z", "end": "2026-11-05T02:00:00Z"}
    assert res["length"]["value"] == 165 and res["length"]["code"] == "min"
    assert res["subject"]["reference"] == f"Patient/{admin_record.patient.public_id}"
    assert res["episodeOfCare"][0]["reference"] == f"EpisodeOfCare/{admin_record.episode.public_id}"
    assert res["appointment"][0]["reference"] == f"Appointment/{session.public_id}"
    assert res["participant"][0]["individual"]["reference"] == f"Practitioner/{counselor.public_id}"
    loc = res["location"][0]["location"]
    assert loc["reference"] == f"Location/{session.program.site.public_id}"
    assert loc["display"] == "Downtown · Group A"
    assert _labels(res) == PART2
    assert "relapse" not in str(res).lower()  # the session title is not disclosed


def test_encounter_virtual_session_uses_session_times(admin_record):
    session = admin_record.session
    Session.objects.filter(pk=session.pk).update(is_virtual=True, room=None)
    AttendanceRecord.objects.filter(pk=admin_record.pk).update(
        status="present", checked_in_at=None, checked_out_at=None, minutes_attended=180
    )
    res = encounter.to_fhir(_load_record(admin_record), ctx=CTX)
    validate(res)
    assert res["class"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "code": "VR",
        "display": "virtual",
    }
    assert res["period"] == {"start": "2026-11-04T23:00:00Z", "end": "2026-11-05T02:00:00Z"}
    assert res["location"][0]["location"]["display"] == "Downtown (virtual)"


@pytest.mark.parametrize("status", AttendanceRecord.Status.values)
def test_encounter_status_per_attendance(admin_record, status):
    minutes = {"expected": None, "absent": 0, "excused": 0}.get(status, 120)
    AttendanceRecord.objects.filter(pk=admin_record.pk).update(
        status=status, minutes_attended=minutes
    )
    res = encounter.to_fhir(_load_record(admin_record), ctx=CTX)
    validate(res)
    expected = {
        "expected": "planned",
        "present": "finished",
        "late": "finished",
        "left_early": "finished",
        "absent": "cancelled",
        "excused": "cancelled",
    }[status]
    assert res["status"] == expected
    assert ("length" in res) == (expected == "finished")


def test_encounter_cancelled_session(admin_record):
    Session.objects.filter(pk=admin_record.session_id).update(status=Session.Status.CANCELLED)
    AttendanceRecord.objects.filter(pk=admin_record.pk).update(
        status="expected", minutes_attended=None
    )
    res = encounter.to_fhir(_load_record(admin_record), ctx=CTX)
    validate(res)
    assert res["status"] == "cancelled"


# --- Appointment ------------------------------------------------------------------------------


def _load_session(session):
    return (
        Session.objects.select_related("program__site")
        .prefetch_related(
            "facilitators",
            Prefetch("attendance", AttendanceRecord.objects.select_related("patient")),
        )
        .get(pk=session.pk)
    )


def test_appointment(admin_record, counselor, django_assert_num_queries):
    row = _load_session(admin_record.session)
    bookings = list(row.attendance.all())
    with django_assert_num_queries(0):
        res = appointment.to_fhir(row, ctx=CTX, bookings=bookings)
    validate(res)
    assert res["id"] == str(row.public_id)
    assert res["status"] == "fulfilled"
    assert res["start"] == "2026-11-04T23:00:00Z" and res["end"] == "2026-11-05T02:00:00Z"
    assert res["minutesDuration"] == 180
    assert res["description"] == "Group therapy"
    actors = [p["actor"]["reference"] for p in res["participant"]]
    assert f"Patient/{admin_record.patient.public_id}" in actors
    assert f"Practitioner/{counselor.public_id}" in actors
    assert f"Location/{row.program.site.public_id}" in actors
    assert "relapse" not in str(res).lower()


@pytest.mark.parametrize("status", Session.Status.values)
def test_appointment_status(admin_record, status):
    Session.objects.filter(pk=admin_record.session_id).update(status=status)
    row = _load_session(admin_record.session)
    res = appointment.to_fhir(row, ctx=CTX, bookings=list(row.attendance.all()))
    validate(res)
    assert (
        res["status"]
        == {"scheduled": "booked", "held": "fulfilled", "cancelled": "cancelled"}[status]
    )


def test_appointment_noshow_when_nobody_came(admin_record):
    AttendanceRecord.objects.filter(pk=admin_record.pk).update(
        status="absent", minutes_attended=0, checked_in_at=None, checked_out_at=None
    )
    row = _load_session(admin_record.session)
    res = appointment.to_fhir(row, ctx=CTX, bookings=list(row.attendance.all()))
    validate(res)
    assert res["status"] == "noshow"
    patient_part = next(p for p in res["participant"] if "Patient/" in p["actor"]["reference"])
    assert patient_part["status"] == "declined"


def test_appointment_without_bookings_or_facilitators(program):
    session = Session.objects.create(
        organization=program.organization,
        program=program,
        kind="individual",
        title="Check-in",
        starts_at=dt.datetime(2026, 11, 10, 15, 0, tzinfo=UTC),
        ends_at=dt.datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
    )
    res = appointment.to_fhir(_load_session(session), ctx=CTX)
    validate(res)
    assert res["status"] == "booked"
    assert res["minutesDuration"] == 60
    assert len(res["participant"]) == 1  # the location


# --- Group ------------------------------------------------------------------------------------


def test_group(program, episode, django_assert_num_queries):
    row = Program.objects.select_related("organization").get(pk=program.pk)
    members = list(Patient.objects.filter(episodes__program=program))
    with django_assert_num_queries(0):
        res = group.to_fhir(row, members=members, ctx=CTX)
    validate(res)
    assert res["id"] == str(program.public_id)
    assert (res["type"], res["actual"], res["quantity"]) == ("person", True, 1)
    assert res["member"] == [{"entity": {"reference": f"Patient/{episode.patient.public_id}"}}]
    assert res["managingEntity"]["reference"] == f"Organization/{program.organization.public_id}"


def test_group_empty(program):
    res = group.to_fhir(program, members=[], ctx=CTX)
    validate(res)
    assert res["quantity"] == 0 and "member" not in res


# --- Coverage ---------------------------------------------------------------------------------


def test_coverage(admin_coverage, patient, django_assert_num_queries):
    row = Coverage.objects.select_related("patient", "payer").get(pk=admin_coverage.pk)
    with django_assert_num_queries(0):
        res = coverage.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["id"] == str(admin_coverage.public_id)
    assert res["status"] == "active"
    assert res["subscriberId"] == "XJP123456"
    assert res["beneficiary"]["reference"] == f"Patient/{patient.public_id}"
    assert res["payor"] == [
        {
            "display": "Blue Valley Health",
            "identifier": {"system": "urn:openiop:clearinghouse-payer-id", "value": "BVH01"},
        }
    ]
    assert res["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert res["relationship"]["coding"][0]["code"] == "self"
    assert res["class"][0]["value"] == "GRP-77"
    assert res["type"]["coding"][0]["code"] == "5"
    assert res["order"] == 1


@pytest.mark.parametrize("active", [True, False])
def test_coverage_status(admin_coverage, active):
    admin_coverage.active = active
    res = coverage.to_fhir(admin_coverage, ctx=CTX)
    validate(res)
    assert res["status"] == ("active" if active else "cancelled")


@pytest.mark.parametrize("relationship", Coverage.Relationship.values)
def test_coverage_relationship(admin_coverage, relationship):
    admin_coverage.subscriber_relationship = relationship
    res = coverage.to_fhir(admin_coverage, ctx=CTX)
    validate(res)
    assert res["relationship"]["coding"][0]["code"] == relationship
    assert ("subscriber" in res) == (relationship == "self")


def test_coverage_self_pay(org, patient):
    payer = Payer.objects.create(organization=org, name="Self-pay", kind="self_pay")
    row = Coverage.objects.create(organization=org, patient=patient, payer=payer)
    res = coverage.to_fhir(row, ctx=CTX)
    validate(res)
    assert res["payor"] == [{"reference": f"Patient/{patient.public_id}"}]
    assert res["type"]["coding"][0]["code"] == "pay"
    assert "subscriberId" not in res and "period" not in res


# --- Consent ----------------------------------------------------------------------------------


def test_consent_named(patient, django_assert_num_queries):
    row = _consent(patient)
    row = Consent.objects.select_related("organization", "patient").get(pk=row.pk)
    with django_assert_num_queries(0):
        res = consent.to_fhir(row, ctx=CTX, today=dt.date(2026, 11, 27), tz=NY)
    validate(res)
    assert res["id"] == str(row.public_id)
    assert res["status"] == "active"
    assert res["scope"]["coding"][0]["code"] == "patient-privacy"
    assert {c["coding"][0]["code"] for c in res["category"]} == {"59284-6", "64292-6"}
    assert res["patient"]["reference"] == f"Patient/{patient.public_id}"
    assert res["dateTime"] == "2026-11-03T15:00:00Z"
    assert res["organization"][0]["reference"] == f"Organization/{patient.organization.public_id}"
    assert res["organization"][0]["display"] == "Riverbend Recovery IOP"
    assert res["performer"][0]["reference"] == f"Patient/{patient.public_id}"
    assert res["provision"]["period"] == {"start": "2026-11-03", "end": "2027-11-03"}
    permit = res["provision"]["provision"][0]
    assert permit["type"] == "permit"
    assert permit["actor"][0]["role"]["coding"][0]["code"] == "IRCP"
    assert permit["actor"][0]["reference"]["display"] == "Dr. Lee, Hillside Primary Care"
    assert [p["code"] for p in permit["purpose"]] == ["TREAT"]
    assert [c["code"] for c in permit["code"][0]["coding"]] == ["attendance", "diagnoses"]
    assert _labels(res) == PART2


def test_consent_tpo_has_three_purposes(patient):
    row = _consent(
        patient,
        kind="tpo",
        recipient_name="",
        recipient_organization="",
        expires_on=None,
        expiry_event="None (until revoked in writing)",
    )
    res = consent.to_fhir(row, ctx=CTX, today=dt.date(2026, 11, 27))
    validate(res)
    permit = res["provision"]["provision"][0]
    assert [p["code"] for p in permit["purpose"]] == ["TREAT", "HPAYMT", "HOPERAT"]
    assert [c["coding"][0]["code"] for c in res["category"]] == ["59284-6"]
    assert "end" not in res["provision"]["period"]
    assert res["status"] == "active"


def test_consent_other_purpose_uses_local_code(patient):
    row = _consent(patient, purpose="criminal_justice")
    res = consent.to_fhir(row, ctx=CTX, today=dt.date(2026, 11, 27))
    validate(res)
    purpose = res["provision"]["provision"][0]["purpose"][0]
    assert (purpose["system"], purpose["code"]) == (
        "urn:openiop:consent-purpose",
        "criminal_justice",
    )


def test_consent_revoked_is_inactive(patient, supervisor):
    row = _consent(patient)
    consent_revoke(actor=supervisor, consent=row, note="Patient asked in writing")
    row = Consent.objects.select_related("organization", "patient").get(pk=row.pk)
    res = consent.to_fhir(row, ctx=CTX, today=dt.date(2026, 11, 27))
    validate(res)
    assert res["status"] == "inactive"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 27), "active"),
        (dt.date(2027, 11, 4), "inactive"),  # expired
        (dt.date(2026, 11, 1), "proposed"),  # before signing
    ],
)
def test_consent_status_by_day(patient, today, expected):
    row = _consent(patient)
    res = consent.to_fhir(row, ctx=CTX, today=today)
    validate(res)
    assert res["status"] == expected
    assert row.status_on(today) in consent.STATUS


def test_consent_status_mapping_covers_every_choice():
    assert set(consent.STATUS) == set(Consent.Status.values)


# --- AuditEvent -------------------------------------------------------------------------------


def _load_audit(event):
    return AuditEvent.objects.select_related("actor").get(pk=event.pk)


def test_audit_event_patient_read(patient, counselor, org, django_assert_num_queries):
    row = audit_log(
        actor=counselor,
        action="openiop.patients.patient.view",
        category=AuditEvent.Category.DEMOGRAPHICS,
        obj=patient,
        patient=patient,
        detail={"note": "free text that must not leak"},
    )
    row = _load_audit(row)
    with django_assert_num_queries(0):
        res = audit_event.to_fhir(row, ctx=CTX, organization=org)
    validate(res)
    assert res["id"] == row.hash
    assert res["action"] == "R"
    assert res["outcome"] == "0"
    assert res["type"]["code"] == "rest" and res["subtype"][0]["code"] == "read"
    assert res["recorded"] == row.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    agent = res["agent"][0]
    assert agent["who"] == {
        "reference": f"Practitioner/{counselor.public_id}",
        "display": "counselor",
    }
    assert agent["requestor"] is True
    assert res["entity"] == [
        {
            "what": {"reference": f"Patient/{patient.public_id}"},
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "code": "1",
                "display": "Person",
            },
            "role": {
                "system": "http://terminology.hl7.org/CodeSystem/object-role",
                "code": "1",
                "display": "Patient",
            },
        }
    ]
    assert res["source"]["observer"]["reference"] == f"Organization/{org.public_id}"
    assert "free text" not in str(res)
    assert _labels(res) == PART2


def test_audit_event_object_and_patient(episode, counselor):
    row = audit_log(
        actor=counselor,
        action="openiop.enrollment.episode.discharge",
        category=AuditEvent.Category.EPISODE,
        obj=episode,
        patient=episode.patient,
    )
    res = audit_event.to_fhir(_load_audit(row), ctx=CTX)
    validate(res)
    assert res["action"] == "U"
    what = [e["what"].get("reference") for e in res["entity"]]
    assert what == [f"Patient/{episode.patient.public_id}", f"EpisodeOfCare/{episode.public_id}"]
    assert res["entity"][1]["name"] == "Episode"
    assert res["source"]["observer"] == {"display": "OpenIOP"}


def test_audit_event_anonymous_denied_without_patient(org):
    row = audit_log(
        actor=None,
        action="openiop.fhir.token.deny",
        category=AuditEvent.Category.ADMINISTRATIVE,
        organization=org,
        outcome=AuditEvent.Outcome.DENIED,
    )
    res = audit_event.to_fhir(_load_audit(row), ctx=CTX)
    validate(res)
    assert res["outcome"] == "4"
    assert res["action"] == "E"
    assert res["agent"][0]["who"] == {"display": "system"}
    assert "entity" not in res
    assert "security" not in res["meta"]


@pytest.mark.parametrize(
    ("verb", "expected"),
    [
        ("view", "R"),
        ("list", "R"),
        ("create", "C"),
        ("sign", "C"),
        ("update", "U"),
        ("revoke", "U"),
        ("delete", "D"),
        ("export", "E"),
    ],
)
def test_audit_event_action_from_verb(verb, expected):
    assert audit_event.fhir_action(f"openiop.app.thing.{verb}") == expected


@pytest.mark.parametrize("outcome", AuditEvent.Outcome.values)
def test_audit_event_outcome(org, counselor, outcome):
    row = audit_log(
        actor=counselor,
        action="openiop.core.user.login",
        category=AuditEvent.Category.ADMINISTRATIVE,
        outcome=outcome,
    )
    res = audit_event.to_fhir(_load_audit(row), ctx=CTX, organization=org)
    validate(res)
    assert res["outcome"] == {"success": "0", "denied": "4", "failed": "8"}[outcome]
    assert res["type"]["code"] == "110114"
