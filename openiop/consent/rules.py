"""Does a 42 CFR Part 2 consent allow this disclosure? (pure; stdlib only)

The consent app's services copy a stored ``Consent`` into :class:`ConsentTerms`, describe the
request as a :class:`Request`, and ask :func:`evaluate` (one consent) or :func:`decide` (all of a
patient's consents). Nothing here reads the database, so every rule is tested without one
(``tests/test_rules.py``, with hypothesis for the properties below).

The rules (``docs/consent.md`` explains them for compliance staff; keep the two in step):

* **SUD counseling notes are never covered.** 42 CFR 2.31(b) (2024 rule) treats them like HIPAA
  psychotherapy notes: they need their own consent that names them and nothing else. OpenIOP
  does not take such consents, so a request that includes them is always refused.
* **Recipient.** A *TPO* consent (the 2024 single consent for treatment, payment and health care
  operations) names recipients by class ("my treating providers, health plans, ..."), so any
  recipient the releasing staff member names is accepted for a TPO purpose. A *named* or *other*
  consent covers only the person / organization it names: every part the consent names (person,
  organization) must match the request, ignoring case and spacing.
* **Purpose.** A TPO consent covers treatment, payment and health care operations; any other
  consent covers the one purpose it states.
* **Status.** A revoked consent covers nothing (revocation is prospective: disclosures made
  before it stay in the accounting). A consent covers nothing after its expiry date, or from the
  day its expiry event was recorded as having happened, or before the day it was signed.
* **Information.** Every category asked for must be one the consent lists.

Properties (hypothesis): a revoked consent never allows anything; a request that includes SUD
counseling notes is never allowed; removing categories from an allowed request keeps it allowed;
:func:`decide` allows exactly when some single consent allows.

Signatures (:func:`signature_problems`): 42 CFR 2.14. Where state law lets a minor consent to SUD
treatment alone (at or above an age configured per state), only the minor may sign; otherwise the
minor *and* a parent or guardian sign. The state -> age table is configuration
(``OPENIOP_CONSENT_MINOR_SELF_CONSENT_AGE``); with no entry for a state the stricter rule (both
sign) applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    TPO = "tpo"
    NAMED = "named"
    OTHER = "other"


class Purpose(StrEnum):
    TREATMENT = "treatment"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    PATIENT_REQUEST = "patient_request"
    CRIMINAL_JUSTICE = "criminal_justice"
    EMPLOYMENT = "employment"
    OTHER = "other"


PURPOSE_LABELS: dict[str, str] = {
    Purpose.TREATMENT: "Treatment",
    Purpose.PAYMENT: "Payment",
    Purpose.OPERATIONS: "Health care operations",
    Purpose.PATIENT_REQUEST: "At the request of the patient",
    Purpose.CRIMINAL_JUSTICE: "Court, probation or parole supervision",
    Purpose.EMPLOYMENT: "Employment / employee assistance program",
    Purpose.OTHER: "Other (described on the consent)",
}
TPO_PURPOSES = frozenset({Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS})

# What a consent may cover ("amount and kind of information", 2.31(a)(3)), in display order.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("demographics", "Demographics and contact details"),
    ("attendance", "Attendance and participation"),
    ("diagnoses", "Diagnoses"),
    ("treatment_plan", "Treatment plan and progress"),
    ("notes_summary", "Summary of progress notes"),
    ("questionnaire_scores", "Questionnaire scores (PHQ-9, GAD-7, ...)"),
    ("drug_screens", "Drug screen results"),
    ("medications", "Medications, including MAT"),
    ("discharge_summary", "Discharge summary"),
)
CATEGORY_KEYS = frozenset(key for key, _ in CATEGORIES)
CATEGORY_LABELS: dict[str, str] = dict(CATEGORIES)
# Never covered by a consent recorded here (2.31(b)): asking for them is always refused.
SUD_COUNSELING_NOTES = "sud_counseling_notes"
CATEGORY_LABELS[SUD_COUNSELING_NOTES] = "SUD counseling notes"

# A TPO consent may run until revoked: "none" is an acceptable expiry (2.31(a)(7)).
NO_EXPIRY_EVENT = "None (until revoked in writing)"

TPO_RECIPIENT_CLASS = (
    "My treating providers, health plans, third-party payers, and people helping to operate "
    "this program"
)

# 42 CFR 2.32 notice that accompanies every disclosure made with consent. The long form, which
# includes the short-form sentence. domain.md §6.1 marks the 2024 rule's verbatim wording as
# unverified; this is the canonical copy (clinical/selectors/ur.py carries the same text).
REDISCLOSURE_NOTICE = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records. This information "
    "has been disclosed to you from records protected by federal confidentiality rules "
    "(42 CFR part 2). These records, and testimony relaying their content, may not be used or "
    "disclosed in any civil, criminal, administrative or legislative proceeding against the "
    "patient without the patient's written consent or a court order. A general authorization "
    "for the release of medical or other information is NOT sufficient for this purpose. A "
    "recipient holding these records under a treatment, payment and health care operations "
    "consent may redisclose them only as HIPAA permits and never for use against the patient."
)
REDISCLOSURE_NOTICE_SHORT = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
)


class Reason(StrEnum):
    NO_CONSENT = "no_consent"
    SUD_COUNSELING_NOTES = "sud_counseling_notes"
    RECIPIENT_NOT_NAMED = "recipient_not_named"
    PURPOSE_NOT_COVERED = "purpose_not_covered"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_SIGNED = "not_yet_signed"
    CATEGORY_NOT_COVERED = "category_not_covered"
    NOTHING_REQUESTED = "nothing_requested"


REASON_TEXT: dict[str, str] = {
    Reason.NO_CONSENT: "There is no Part 2 consent on file for this patient.",
    Reason.SUD_COUNSELING_NOTES: (
        "SUD counseling notes are never released under these consents: they need a separate "
        "consent that names them (42 CFR 2.31(b))."
    ),
    Reason.RECIPIENT_NOT_NAMED: "No consent names this recipient.",
    Reason.PURPOSE_NOT_COVERED: "The consent does not cover this purpose.",
    Reason.REVOKED: "The consent was revoked.",
    Reason.EXPIRED: "The consent has expired.",
    Reason.NOT_YET_SIGNED: "The consent is dated after today.",
    Reason.CATEGORY_NOT_COVERED: "The consent does not cover some of the information asked for.",
    Reason.NOTHING_REQUESTED: "Choose at least one kind of information to release.",
}


def normalize(text: str) -> str:
    """Case- and spacing-insensitive form of a name, for matching recipients."""
    return " ".join(text.casefold().split())


def is_open_ended(expiry_event: str) -> bool:
    """An expiry "event" of "none" means the consent runs until revoked."""
    return normalize(expiry_event).startswith("none")


@dataclass(frozen=True)
class ConsentTerms:
    """What a consent allows, copied out of the database row."""

    kind: str
    purpose: str
    categories: frozenset[str]
    signed_on: dt.date
    recipient_name: str = ""
    recipient_organization: str = ""
    expires_on: dt.date | None = None
    expiry_event_on: dt.date | None = None
    revoked: bool = False
    ref: str = ""  # the consent's public id, handed back in the decision

    @property
    def purposes(self) -> frozenset[str]:
        return TPO_PURPOSES if self.kind == Kind.TPO else frozenset({self.purpose})


@dataclass(frozen=True)
class Request:
    recipient_name: str
    purpose: str
    categories: frozenset[str]
    on: dt.date
    recipient_organization: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    consent_ref: str = ""
    # Categories the chosen consent does not cover (for the refusal message).
    missing_categories: tuple[str, ...] = field(default=())

    @property
    def messages(self) -> list[str]:
        out = [REASON_TEXT[r] for r in self.reasons]
        if self.missing_categories:
            names = ", ".join(CATEGORY_LABELS.get(c, c) for c in self.missing_categories)
            out.append(f"Not covered: {names}.")
        return out


def status_on(terms: ConsentTerms, on: dt.date) -> str:
    """``active``, ``revoked``, ``expired`` or ``not_yet_signed`` on a day."""
    if terms.revoked:
        return Reason.REVOKED
    if terms.expires_on is not None and on > terms.expires_on:
        return Reason.EXPIRED
    if terms.expiry_event_on is not None and on >= terms.expiry_event_on:
        return Reason.EXPIRED
    if on < terms.signed_on:
        return Reason.NOT_YET_SIGNED
    return "active"


def _recipient_matches(terms: ConsentTerms, request: Request) -> bool:
    if terms.kind == Kind.TPO:
        return bool(normalize(request.recipient_name) or normalize(request.recipient_organization))
    named = [
        (terms.recipient_name, request.recipient_name),
        (terms.recipient_organization, request.recipient_organization),
    ]
    wanted = [(normalize(a), normalize(b)) for a, b in named if normalize(a)]
    return bool(wanted) and all(a == b for a, b in wanted)


# Order in which a refused consent's failures rank: a consent that fails only late in this list
# is "closest" to the request, and its reasons are the ones shown when every consent refuses.
_STAGES = (
    Reason.RECIPIENT_NOT_NAMED,
    Reason.PURPOSE_NOT_COVERED,
    Reason.REVOKED,
    Reason.EXPIRED,
    Reason.NOT_YET_SIGNED,
    Reason.CATEGORY_NOT_COVERED,
)


def evaluate(terms: ConsentTerms, request: Request) -> Decision:
    """Every reason this one consent does not cover the request (none: allowed)."""
    if SUD_COUNSELING_NOTES in request.categories:
        return Decision(False, (Reason.SUD_COUNSELING_NOTES,), terms.ref)
    if not request.categories:
        return Decision(False, (Reason.NOTHING_REQUESTED,), terms.ref)
    reasons: list[str] = []
    if not _recipient_matches(terms, request):
        reasons.append(Reason.RECIPIENT_NOT_NAMED)
    if request.purpose not in terms.purposes:
        reasons.append(Reason.PURPOSE_NOT_COVERED)
    status = status_on(terms, request.on)
    if status != "active":
        reasons.append(status)
    missing = tuple(sorted(request.categories - terms.categories))
    if missing:
        reasons.append(Reason.CATEGORY_NOT_COVERED)
    return Decision(not reasons, tuple(reasons), terms.ref, missing)


def _rank(decision: Decision) -> int:
    """How far a refused consent got: the index of its first failing stage."""
    return min(_STAGES.index(Reason(r)) for r in decision.reasons)


def decide(consents: Iterable[ConsentTerms], request: Request) -> Decision:
    """Allowed when any one consent covers the whole request.

    When none does, the reasons come from the consent that came closest (the one that failed
    latest in :data:`_STAGES`; ties go to the first given), so staff see "revoked" for the
    probation officer's revoked consent rather than "purpose not covered" from the TPO consent.
    """
    if SUD_COUNSELING_NOTES in request.categories:
        return Decision(False, (Reason.SUD_COUNSELING_NOTES,))
    if not request.categories:
        return Decision(False, (Reason.NOTHING_REQUESTED,))
    best: Decision | None = None
    for terms in consents:
        decision = evaluate(terms, request)
        if decision.allowed:
            return decision
        if best is None or _rank(decision) > _rank(best):
            best = decision
    return best if best is not None else Decision(False, (Reason.NO_CONSENT,))


# --- signatures (42 CFR 2.14 minors) ------------------------------------------------------------

ADULT_AGE = 18


def signature_problems(
    *,
    age: int,
    state: str,
    signer_role: str,
    guardian_signed_by_name: str,
    minor_self_consent_age: Mapping[str, int],
    adult_age: int = ADULT_AGE,
) -> list[str]:
    """Why the signatures on a consent are not enough (empty list: they are).

    ``signer_role`` is "patient", "guardian" or "representative"; an adult may sign for
    themselves or through a guardian or personal representative. For a minor, see the module
    docstring.
    """
    if age >= adult_age:
        return []
    state = state.strip().upper()
    threshold = minor_self_consent_age.get(state)
    alone = threshold is not None and age >= threshold
    problems: list[str] = []
    if signer_role != "patient":
        problems.append(
            "The patient is a minor: the minor signs the consent (42 CFR 2.14); record the "
            "parent or guardian as the second signature if one is needed."
        )
    if not alone and not guardian_signed_by_name.strip():
        where = f"in {state}" if state else "where no state rule is configured"
        problems.append(
            f"A minor of {age} cannot consent to treatment alone {where}: a parent or guardian "
            "must sign too (42 CFR 2.14(b))."
        )
    return problems


def minor_signs_alone(
    *, age: int, state: str, minor_self_consent_age: Mapping[str, int], adult_age: int = ADULT_AGE
) -> bool:
    threshold = minor_self_consent_age.get(state.strip().upper())
    return age < adult_age and threshold is not None and age >= threshold


def unknown_categories(categories: Sequence[str]) -> list[str]:
    return sorted(set(categories) - CATEGORY_KEYS)
