"""Calendar feeds: create, rotate and revoke a feed link, and serve a feed by its token.

A feed link is ``/calendar/<token>.ics``; the token (``secrets.token_urlsafe(32)``, 256 bits) is
the only credential, because calendar apps cannot log in. Only its SHA-256 digest is stored, as
for API tokens (``accounts.tokens``): the full link is shown to staff once, when it is made, and a
lost link is replaced by rotating it. Every write and every fetch is audited; a fetch is a read
of patient data by an outside client (actor None, the client's address and user agent kept).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.attendance.models import AttendanceRecord
from openiop.core.actors import user_or_none as _user
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent
from openiop.patients.models import Patient
from openiop.scheduling import calendar
from openiop.scheduling.models import CalendarFeed, Session

CAT = AuditEvent.Category.SCHEDULE
TOKEN_BYTES = 32
PREFIX_CHARS = 8
#: The feed covers sessions starting from two weeks ago to eight weeks ahead.
WINDOW_BEFORE = dt.timedelta(weeks=2)
WINDOW_AFTER = dt.timedelta(weeks=8)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _subject(*, patient: Patient | None, user: Any) -> tuple[str, dict[str, Any], Any]:
    """(kind, filter on the feed table, organization) for exactly one of patient / user."""
    if (patient is None) == (user is None):
        raise ValidationError("A calendar feed is for one patient or one staff member.")
    if patient is not None:
        return CalendarFeed.Kind.PATIENT, {"patient": patient}, patient.organization
    if getattr(user, "organization_id", None) is None or not user.is_active:
        raise ValidationError("Only active staff of an organization can have a calendar feed.")
    return CalendarFeed.Kind.CLINICIAN, {"user": user}, user.organization


def _audit(
    *, actor: Any, verb: str, feed: CalendarFeed, request: HttpRequest | None, **detail: Any
) -> None:
    audit_log(
        actor=actor,
        action=f"openiop.scheduling.calendar_feed.{verb}",
        category=CAT,
        obj=feed,
        patient=feed.patient,
        organization=feed.organization,
        request=request,
        detail={"kind": feed.kind, "prefix": feed.prefix, **detail},
    )


def _new_feed(
    *, actor: Any, kind: str, subject: dict[str, Any], organization: Any
) -> tuple[CalendarFeed, str]:
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        with transaction.atomic():  # savepoint: a racing second "create" loses cleanly
            feed = CalendarFeed.objects.create(
                organization=organization,
                kind=kind,
                token_hash=_digest(raw),
                prefix=raw[:PREFIX_CHARS],
                created_by=_user(actor),
                updated_by=_user(actor),
                **subject,
            )
    except IntegrityError:
        raise ValidationError("There is already an active calendar link; rotate it.") from None
    return feed, raw


def calendar_feed_active(
    *, patient: Patient | None = None, user: Any = None
) -> CalendarFeed | None:
    """The active feed of a patient or a staff member, if any."""
    _, subject, organization = _subject(patient=patient, user=user)
    return CalendarFeed.objects.for_org(organization).active().filter(**subject).first()


@transaction.atomic
def calendar_feed_create(
    *,
    actor: Any,
    patient: Patient | None = None,
    user: Any = None,
    request: HttpRequest | None = None,
) -> tuple[CalendarFeed, str]:
    """A new feed link for a patient or a staff member; returns (feed, raw token).

    The raw token exists only in the return value: show it once, never store or log it.
    Refused when an active link exists (two tabs, double click): rotate it instead."""
    kind, subject, organization = _subject(patient=patient, user=user)
    if CalendarFeed.objects.for_org(organization).active().filter(**subject).exists():
        raise ValidationError("There is already an active calendar link; rotate it.")
    feed, raw = _new_feed(actor=actor, kind=kind, subject=subject, organization=organization)
    _audit(actor=actor, verb="create", feed=feed, request=request)
    return feed, raw


@transaction.atomic
def calendar_feed_rotate(
    *,
    actor: Any,
    patient: Patient | None = None,
    user: Any = None,
    request: HttpRequest | None = None,
) -> tuple[CalendarFeed, str]:
    """Revoke the active link (if any) and make a new one, in one transaction, so the old URL
    stops working at the same instant the new one starts. Returns (new feed, raw token)."""
    kind, subject, organization = _subject(patient=patient, user=user)
    old = (
        CalendarFeed.objects.for_org(organization)
        .select_for_update()
        .active()
        .filter(**subject)
        .first()
    )
    if old is not None:
        old.revoked_at = timezone.now()
        old.updated_by = _user(actor)
        old.save(update_fields=["revoked_at", "updated_by", "updated_at"])
    feed, raw = _new_feed(actor=actor, kind=kind, subject=subject, organization=organization)
    _audit(
        actor=actor,
        verb="rotate",
        feed=feed,
        request=request,
        old_prefix=old.prefix if old is not None else "",
    )
    return feed, raw


@transaction.atomic
def calendar_feed_revoke(
    *, actor: Any, feed: CalendarFeed, request: HttpRequest | None = None
) -> CalendarFeed:
    """Stop a feed link for good. Idempotent: revoking a revoked feed changes nothing."""
    feed = (
        CalendarFeed.objects.select_for_update(of=("self",))
        .select_related("patient")
        .get(pk=feed.pk)
    )
    if feed.revoked_at is not None:
        return feed
    feed.revoked_at = timezone.now()
    feed.updated_by = _user(actor)
    feed.save(update_fields=["revoked_at", "updated_by", "updated_at"])
    _audit(actor=actor, verb="revoke", feed=feed, request=request)
    return feed


# --- serving a feed ----------------------------------------------------------------------------


def _feed_for_token(token: str) -> CalendarFeed | None:
    if not token or len(token) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("organization", "patient", "user")
        .filter(token_hash=_digest(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    if feed.kind == CalendarFeed.Kind.CLINICIAN:
        person = feed.user
        if person is None or not person.is_active or person.organization_id != feed.organization_id:
            return None  # staff who left, or moved organization: their link dies with the account
    elif feed.patient is None or feed.patient.organization_id != feed.organization_id:
        return None
    return feed


def calendar_feed_events(*, feed: CalendarFeed, now: dt.datetime) -> list[calendar.FeedEvent]:
    """The feed's events, from two weeks ago to eight weeks ahead, in one query.

    Patient feeds: every session the patient is booked into (cancelled ones too, marked
    STATUS:CANCELLED so the app removes or strikes them). Clinician feeds: every session they
    facilitate."""
    lo, hi = now - WINDOW_BEFORE, now + WINDOW_AFTER
    org_name = feed.organization.name
    if feed.kind == CalendarFeed.Kind.PATIENT:
        records = (
            AttendanceRecord.objects.for_org(feed.organization_id)
            .filter(patient_id=feed.patient_id, session__starts_at__gte=lo)
            .filter(session__starts_at__lt=hi)
            .select_related("session__program__site")
            .order_by("session__starts_at", "session__id")
        )
        return [calendar.patient_event(r.session, organization_name=org_name) for r in records]
    sessions = (
        Session.objects.for_org(feed.organization_id)
        .filter(facilitators=feed.user_id)
        .between(lo, hi)
        .select_related("program__site")
        .order_by("starts_at", "id")
        .distinct()
    )
    return [calendar.clinician_event(s, organization_name=org_name) for s in sessions]


def calendar_feed_fetch(
    *, token: str, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> bytes | None:
    """The .ics body for a token, or None for an unknown, revoked or orphaned token.

    Audited as a read by no one (actor None): the reader is whatever calendar service holds the
    link; the audit row keeps its address and user agent, the feed prefix and the event count.
    Unknown tokens are not audited (nothing was read, and anyone could fill the trail)."""
    feed = _feed_for_token(token)
    if feed is None:
        return None
    now = now or timezone.now()
    events = calendar_feed_events(feed=feed, now=now)
    body = calendar.render_calendar(events, now=now)
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        _audit(actor=None, verb="read", feed=feed, request=request, events=len(events))
    return body
