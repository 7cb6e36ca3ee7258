"""Part 2 consents, disclosures and break-glass for the demo clinic (called by ``openiop demo``
after episodes exist).

Most patients signed the single TPO consent at admission; a few also signed named-recipient
consents (a probation officer, an employer's assistance program). One named consent has been
revoked and one has expired, so the consent pages show every status; a handful of disclosures
fill the accounting (one made before its consent was revoked, which stays listed), one attempt
was refused, and one emergency (break-glass) access is waiting for the program director's
review. Written directly (no audit rows): generating fictitious data is not a read or write of
anyone's record. Deterministic for a given ``rng`` state.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from typing import Any

from openiop.accounts.models import User
from openiop.accounts.permissions import Role, roles_of
from openiop.consent import rules
from openiop.consent.models import BreakGlassAccess, Consent, Disclosure
from openiop.enrollment.models import Episode
from openiop.patients.models import Guardian

TPO_CATEGORIES = [
    "demographics", "attendance", "diagnoses", "treatment_plan", "notes_summary",
    "questionnaire_scores", "drug_screens", "medications", "discharge_summary",
]  # fmt: skip
PROBATION = (
    ("Officer Marcus Bell", "Franklin County Adult Probation"),
    ("Officer Alicia Grant", "State Parole, District 4"),
)
EAP = ("", "Northline Logistics Employee Assistance Program")
PAYERS = ("Blue River Health Plan", "Keystone Medicaid", "Summit Commercial")


def _at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _by_role(staff: Mapping[str, User] | Iterable[User], role: Role) -> list[User]:
    users = staff.values() if isinstance(staff, Mapping) else staff
    return [u for u in users if role in roles_of(u)]


def seed_consents(
    *,
    organization: Any,
    episodes: Iterable[Episode],
    staff: Mapping[str, User] | Iterable[User],
    rng: random.Random,
    today: dt.date,
) -> dict[str, int]:
    """Write the demo's consents, disclosures and break-glass rows; returns counts."""
    firsts: dict[int, Episode] = {}
    for e in sorted(episodes, key=lambda e: (e.referral_date or today, e.pk)):
        if e.organization_id == organization.pk and e.admitted_on and e.admitted_on <= today:
            firsts.setdefault(e.patient_id, e)
    chosen = list(firsts.values())
    if not chosen:
        return {"consents": 0, "disclosures": 0, "break_glass": 0}
    guardians = {
        g.patient_id: g.name
        for g in Guardian.objects.for_org(organization.pk).filter(patient_id__in=list(firsts))
    }
    directors = _by_role(staff, Role.PROGRAM_DIRECTOR)
    releaser = directors[0] if directors else None
    billers = _by_role(staff, Role.BILLING) or directors
    counselors = _by_role(staff, Role.COUNSELOR)

    def consent(episode: Episode, signed: dt.date, **kw: Any) -> Consent:
        patient = episode.patient
        minor = patient.age_on(signed) < rules.ADULT_AGE
        fields: dict[str, Any] = dict(
            organization=organization, patient=patient, kind=Consent.Kind.TPO,
            disclosing_party=organization.name, purpose=Consent.Purpose.TREATMENT,
            recipient_description=rules.TPO_RECIPIENT_CLASS, categories=TPO_CATEGORIES,
            expiry_event=rules.NO_EXPIRY_EVENT, signed_by_name=f"{patient.first_name} "
            f"{patient.last_name}", signer_role=Consent.SignerRole.PATIENT,
            guardian_signed_by_name=guardians.get(patient.pk, "Parent") if minor else "",
            signed_at=_at(signed), created_by=releaser,
        )  # fmt: skip
        fields.update(kw)
        return Consent.objects.create(**fields)

    consents: list[Consent] = []
    tpo: dict[int, Consent] = {}
    for episode in chosen:
        if rng.random() < 0.85:
            assert episode.admitted_on is not None
            tpo[episode.patient_id] = consent(episode, episode.admitted_on)
            consents.append(tpo[episode.patient_id])

    # Named consents on a few patients: two probation officers, one employer EAP, one revoked
    # (probation), one expired (EAP).
    picks = rng.sample(chosen, k=min(5, len(chosen)))
    named: list[tuple[Consent, str]] = []
    for i, episode in enumerate(picks):
        assert episode.admitted_on is not None
        signed = episode.admitted_on + dt.timedelta(days=rng.randint(0, 3))
        signed = min(signed, today)
        if i in (0, 1, 3):  # probation: attendance and drug screens until probation ends
            name, org = PROBATION[i % 2]
            kw: dict[str, Any] = dict(
                kind=Consent.Kind.NAMED, recipient_name=name, recipient_organization=org,
                recipient_description="", purpose=Consent.Purpose.CRIMINAL_JUSTICE,
                categories=["attendance", "drug_screens"],
                expires_on=signed + dt.timedelta(days=365), expiry_event="End of probation",
            )  # fmt: skip
            role = "probation"
        else:  # employer EAP: attendance and plan progress, for return to work
            kw = dict(
                kind=Consent.Kind.NAMED, recipient_name=EAP[0], recipient_organization=EAP[1],
                recipient_description="", purpose=Consent.Purpose.EMPLOYMENT,
                purpose_detail="Return-to-work clearance", categories=["attendance",
                "treatment_plan"], expires_on=signed + dt.timedelta(days=90), expiry_event="",
            )  # fmt: skip
            role = "eap"
        if i == 4:  # the expired one
            kw["signed_at"] = _at(today - dt.timedelta(days=120))
            kw["expires_on"] = today - dt.timedelta(days=30)
        c = consent(episode, signed, **kw)
        consents.append(c)
        named.append((c, role))

    disclosures: list[Disclosure] = []

    def disclose(c: Consent, when: dt.datetime, purpose: str, cats: list[str], channel: str,
                 name: str = "", org: str = "", by: User | None = None) -> None:  # fmt: skip
        disclosures.append(Disclosure.objects.create(
            organization=organization, patient=c.patient, consent=c,
            status=Disclosure.Status.MADE, recipient_name=name or c.recipient_name,
            recipient_organization=org or c.recipient_organization, purpose=purpose,
            categories=cats, channel=channel, disclosed_at=when, disclosed_by=by or releaser,
            created_by=by or releaser, redisclosure_notice=rules.REDISCLOSURE_NOTICE,
            consent_snapshot=c.snapshot(),
        ))  # fmt: skip

    for c in list(tpo.values())[:3]:  # claims support to the health plan
        day = min(today, c.signed_at.date() + dt.timedelta(days=rng.randint(7, 20)))
        disclose(c, _at(day, 17), "payment", ["demographics", "attendance", "diagnoses"],
                 "export", org=rng.choice(PAYERS), by=billers[0] if billers else None)  # fmt: skip
    revoke_day = today - dt.timedelta(days=2)
    for c, role in named:
        signed_on = c.signed_at.date()
        last = c.expires_on if c.expires_on and c.expires_on < today else today
        if c is named[0][0]:  # revoked below: its release went out before the revocation
            last = min(last, revoke_day - dt.timedelta(days=1))
        if role == "probation" and last > signed_on:
            day = signed_on + dt.timedelta(days=rng.randint(1, max(1, (last - signed_on).days)))
            disclose(c, _at(min(day, last), 16), "criminal_justice", ["attendance",
                     "drug_screens"], "release")  # fmt: skip
        elif role == "eap" and last > signed_on:
            disclose(c, _at(signed_on + dt.timedelta(days=1), 16), "employment", ["attendance"],
                     "print")  # fmt: skip

    # The first probation consent is revoked after its disclosure: that release stays listed.
    revoked = named[0][0] if named else None
    if revoked is not None:
        revoked.revoked_at = _at(revoke_day, 14)
        revoked.revoked_by = releaser
        revoked.revocation_note = "Patient handed in a signed revocation at the front desk."
        revoked.save(update_fields=["revoked_at", "revoked_by", "revocation_note"])
        # ...and a later attempt to release under it was refused.
        Disclosure.objects.create(
            organization=organization, patient=revoked.patient, consent=revoked,
            status=Disclosure.Status.REFUSED, recipient_name=revoked.recipient_name,
            recipient_organization=revoked.recipient_organization, purpose="criminal_justice",
            categories=["attendance"], channel="release",
            disclosed_at=_at(today - dt.timedelta(days=1), 16), disclosed_by=releaser,
            refusal_reasons=[rules.REASON_TEXT[rules.Reason.REVOKED]],
        )  # fmt: skip

    # One emergency access, over and waiting for review: a counselor opened the record of a
    # patient outside their caseload when the patient arrived in crisis.
    accesses = 0
    outside = [e for e in chosen if e.primary_counselor_id is not None]
    if counselors and outside:
        episode = rng.choice(outside)
        user = next((u for u in counselors if u.pk != episode.primary_counselor_id), counselors[0])
        started = _at(today - dt.timedelta(days=1), 22)
        BreakGlassAccess.objects.create(
            organization=organization, user=user, patient=episode.patient,
            reason="Patient arrived intoxicated and distressed after hours; primary counselor "
            "unreachable. Needed the safety plan and current medications.",
            started_at=started, expires_at=started + dt.timedelta(minutes=60), created_by=user,
        )  # fmt: skip
        accesses = 1
    return {"consents": len(consents), "disclosures": len(disclosures), "break_glass": accesses}
