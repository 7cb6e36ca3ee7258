"""The consent rules (openiop/consent/rules.py): pure, no database."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from openiop.consent.rules import (
    CATEGORY_KEYS,
    SUD_COUNSELING_NOTES,
    ConsentTerms,
    Reason,
    Request,
    decide,
    evaluate,
    signature_problems,
)

DAY = dt.date(2026, 11, 16)
TPO = ConsentTerms(
    kind="tpo", purpose="treatment", signed_on=dt.date(2026, 11, 2),
    categories=frozenset({"demographics", "attendance", "diagnoses"}), expiry_event_on=None,
    ref="tpo",
)  # fmt: skip
PROBATION = ConsentTerms(
    kind="named", purpose="criminal_justice", signed_on=dt.date(2026, 11, 2),
    categories=frozenset({"attendance", "drug_screens"}), recipient_name="Officer Dana Reyes",
    recipient_organization="County Probation", expires_on=dt.date(2027, 5, 1), ref="probation",
)  # fmt: skip


def ask(name="Officer Dana Reyes", org="County Probation", purpose="criminal_justice",
        cats=("attendance",), on=DAY) -> Request:  # fmt: skip
    return Request(
        recipient_name=name, recipient_organization=org, purpose=purpose,
        categories=frozenset(cats), on=on,
    )  # fmt: skip


def test_tpo_consent_covers_any_treating_provider_for_treatment_payment_operations():
    for purpose in ("treatment", "payment", "operations"):
        decision = evaluate(TPO, ask("Dr. Lee", "Mercy Hospital", purpose, ("diagnoses",)))
        assert decision.allowed, decision.reasons


def test_tpo_consent_does_not_cover_probation_purposes():
    decision = evaluate(TPO, ask(purpose="criminal_justice"))
    assert not decision.allowed
    assert decision.reasons == (Reason.PURPOSE_NOT_COVERED,)


def test_named_consent_covers_its_recipient_ignoring_case_and_spacing():
    assert evaluate(PROBATION, ask("officer  dana reyes", "COUNTY probation")).allowed


def test_named_consent_refuses_another_recipient():
    decision = evaluate(PROBATION, ask("Officer Sam Cole", "County Probation"))
    assert decision.reasons == (Reason.RECIPIENT_NOT_NAMED,)


def test_named_consent_refuses_another_purpose():
    decision = evaluate(PROBATION, ask(purpose="employment"))
    assert decision.reasons == (Reason.PURPOSE_NOT_COVERED,)


def test_organization_only_consent_covers_anyone_there():
    eap = dataclasses.replace(
        PROBATION, recipient_name="", recipient_organization="Acme EAP", purpose="employment"
    )
    assert evaluate(eap, ask("Pat Jones", "Acme EAP", "employment")).allowed
    assert not evaluate(eap, ask("Pat Jones", "Other EAP", "employment")).allowed


def test_consent_covers_its_expiry_day_and_not_the_day_after():
    assert evaluate(PROBATION, ask(on=dt.date(2027, 5, 1))).allowed
    decision = evaluate(PROBATION, ask(on=dt.date(2027, 5, 2)))
    assert decision.reasons == (Reason.EXPIRED,)


def test_consent_expires_on_the_day_its_event_is_recorded():
    ended = dataclasses.replace(TPO, expiry_event_on=DAY)
    assert evaluate(ended, ask("Dr. Lee", "", "treatment", on=DAY - dt.timedelta(days=1))).allowed
    assert evaluate(ended, ask("Dr. Lee", "", "treatment")).reasons == (Reason.EXPIRED,)


def test_revoked_consent_is_refused():
    decision = evaluate(dataclasses.replace(PROBATION, revoked=True), ask())
    assert decision.reasons == (Reason.REVOKED,)


def test_category_outside_the_consent_is_refused_and_named():
    decision = evaluate(PROBATION, ask(cats=("attendance", "diagnoses")))
    assert decision.reasons == (Reason.CATEGORY_NOT_COVERED,)
    assert decision.missing_categories == ("diagnoses",)
    assert any("Diagnoses" in m for m in decision.messages)


def test_sud_counseling_notes_are_never_covered_even_if_a_consent_lists_them():
    everything = dataclasses.replace(TPO, categories=CATEGORY_KEYS | {SUD_COUNSELING_NOTES})
    decision = decide([everything], ask("Dr. Lee", "", "treatment", (SUD_COUNSELING_NOTES,)))
    assert decision.reasons == (Reason.SUD_COUNSELING_NOTES,)


def test_no_consent_at_all_says_so():
    assert decide([], ask()).reasons == (Reason.NO_CONSENT,)


def test_decide_explains_with_the_closest_consent():
    revoked = dataclasses.replace(PROBATION, revoked=True)
    decision = decide([TPO, revoked], ask())
    assert decision.reasons == (Reason.REVOKED,)
    assert decision.consent_ref == "probation"


def test_decide_allows_through_the_consent_that_covers():
    decision = decide([TPO, PROBATION], ask())
    assert decision.allowed and decision.consent_ref == "probation"


# --- signatures (42 CFR 2.14) --------------------------------------------------------------------

AGES = {"PA": 14}


def sig(age, state="PA", role="patient", guardian=""):
    return signature_problems(
        age=age, state=state, signer_role=role, guardian_signed_by_name=guardian,
        minor_self_consent_age=AGES,
    )  # fmt: skip


def test_adult_signs_alone_or_through_a_representative():
    assert sig(30) == [] and sig(30, role="representative") == []


def test_minor_who_may_consent_to_treatment_signs_alone():
    assert sig(15) == []


def test_minor_who_may_consent_alone_must_sign_themselves():
    assert sig(15, role="guardian", guardian="Pat Whitfield")


def test_minor_below_the_state_age_needs_a_guardian_too():
    assert sig(13) and sig(13, guardian="Pat Whitfield") == []


def test_unconfigured_state_needs_a_guardian_for_every_minor():
    assert sig(17, state="ZZ") and sig(17, state="ZZ", guardian="Pat Whitfield") == []


# --- properties ----------------------------------------------------------------------------------

names = st.sampled_from(["Officer Dana Reyes", "officer dana reyes", "Dr. Lee", "", "Pat Jones"])
orgs = st.sampled_from(["County Probation", "Mercy Hospital", "", "Acme EAP"])
purposes = st.sampled_from(
    ["treatment", "payment", "operations", "patient_request", "criminal_justice", "employment",
     "other"]
)  # fmt: skip
cats = st.frozensets(st.sampled_from(sorted(CATEGORY_KEYS | {SUD_COUNSELING_NOTES})))
days = st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31))
terms = st.builds(
    ConsentTerms, kind=st.sampled_from(["tpo", "named", "other"]), purpose=purposes,
    categories=st.frozensets(st.sampled_from(sorted(CATEGORY_KEYS))), signed_on=days,
    recipient_name=names, recipient_organization=orgs, expires_on=st.none() | days,
    expiry_event_on=st.none() | days, revoked=st.booleans(),
)  # fmt: skip
requests = st.builds(
    Request, recipient_name=names, recipient_organization=orgs, purpose=purposes,
    categories=cats, on=days,
)  # fmt: skip


@given(terms, requests)
def test_a_revoked_consent_never_allows_anything(t, r):
    assert not evaluate(dataclasses.replace(t, revoked=True), r).allowed


@given(st.lists(terms, max_size=4), requests)
def test_sud_counseling_notes_are_never_allowed(ts, r):
    r = dataclasses.replace(r, categories=r.categories | {SUD_COUNSELING_NOTES})
    assert not decide(ts, r).allowed


@given(terms, requests, st.data())
def test_asking_for_less_never_turns_an_allowed_release_into_a_refusal(t, r, data):
    if evaluate(t, r).allowed:
        fewer = data.draw(st.frozensets(st.sampled_from(sorted(r.categories)), min_size=1))
        assert evaluate(t, dataclasses.replace(r, categories=fewer)).allowed


@given(st.lists(terms, max_size=4), requests)
def test_decide_allows_exactly_when_one_consent_allows(ts, r):
    assert decide(ts, r).allowed == any(evaluate(t, r).allowed for t in ts)
