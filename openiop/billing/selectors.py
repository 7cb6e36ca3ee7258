"""Authorization reads: how much of each payer authorization is used, and the alerts before one
runs out.

Units used are COUNTED from attendance, never typed in, so the figure is as current as the last
check-in. What counts, per unit kind (the same rules as weekly-hours compliance,
``attendance/compliance.py``):

* a session belongs to the SITE-local date on which it starts (its date of service), and only
  sessions whose date of service falls inside the authorization's date range count;
* a session counts as attended when its attendance record is present / late / left early with
  more than 0 minutes; cancelled sessions never count;
* ``days``: distinct dates of service with at least one attended session;
  ``sessions``: attended sessions; ``hours``: attended minutes / 60, to one decimal.

Every read loads its rows in a fixed number of queries (pinned in the tests) and is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.attendance.models import AttendanceRecord
from openiop.billing.models import Authorization
from openiop.core.access import require_perm
from openiop.core.audit import audit_log, audit_log_many
from openiop.core.lists import Counted
from openiop.core.models import AuditEvent
from openiop.core.snapshots import Snapshot, dashboard_max_age, panel_snapshot
from openiop.enrollment.models import Episode
from openiop.scheduling.models import Session

CAT = AuditEvent.Category.BILLING
K = Authorization.UnitKind
TENTH = Decimal("0.1")

# --- pure: counting units ------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One attended, not cancelled session: its local date of service and minutes attended."""

    day: dt.date
    minutes: int


def count_units(unit_kind: str, visits: Iterable[Visit], start: dt.date, end: dt.date) -> Decimal:
    """Units used between ``start`` and ``end`` (both included) by the attended ``visits``."""
    inside = [v for v in visits if start <= v.day <= end and v.minutes > 0]
    if unit_kind == K.DAYS:
        return Decimal(len({v.day for v in inside}))
    if unit_kind == K.SESSIONS:
        return Decimal(len(inside))
    if unit_kind == K.HOURS:
        minutes = sum(v.minutes for v in inside)
        return (Decimal(minutes) / Decimal(60)).quantize(TENTH, rounding=ROUND_HALF_UP)
    raise ValueError(f"unknown unit kind {unit_kind!r}")


def _num(value: Decimal) -> str:
    """12 -> "12", 8.5 -> "8.5" (no trailing ".0" for whole units)."""
    return str(value.quantize(Decimal(1))) if value == value.to_integral() else str(value)


@dataclass(frozen=True)
class Usage:
    """One authorization with its units used and left, as of ``today``."""

    authorization: Authorization
    used: Decimal
    today: dt.date

    @property
    def authorized(self) -> Decimal:
        return Decimal(self.authorization.units_authorized)

    @property
    def remaining(self) -> Decimal:
        return self.authorized - self.used

    @property
    def percent_used(self) -> int:
        """0-100 for the use bar (an over-used authorization shows a full bar)."""
        return min(100, int(self.used * 100 / self.authorized)) if self.authorized else 100

    @property
    def used_display(self) -> str:
        return _num(self.used)

    @property
    def remaining_display(self) -> str:
        return _num(self.remaining)

    @property
    def unit_label(self) -> str:
        return {K.DAYS: "days", K.SESSIONS: "sessions", K.HOURS: "hours"}.get(
            self.authorization.unit_kind, self.authorization.unit_kind
        )

    @property
    def is_active(self) -> bool:
        return self.authorization.status == Authorization.Status.ACTIVE

    @property
    def is_current(self) -> bool:
        a = self.authorization
        return self.is_active and a.start_on <= self.today <= a.end_on

    @property
    def is_expired(self) -> bool:
        return self.is_active and self.authorization.end_on < self.today

    @property
    def is_exhausted(self) -> bool:
        return self.is_active and self.remaining <= 0

    @property
    def is_low(self) -> bool:
        return (
            self.is_active
            and not self.is_exhausted
            and self.remaining <= self.authorization.alert_units_remaining
        )

    @property
    def days_left(self) -> int:
        """Days from today to the end date (0 on the last day)."""
        return (self.authorization.end_on - self.today).days

    @property
    def is_ending(self) -> bool:
        return (
            self.is_active
            and self.authorization.start_on <= self.today
            and 0 <= self.days_left <= self.authorization.alert_days_before_end
        )

    @property
    def state(self) -> str:
        """One word for the badge: void, denied, pending, expired, exhausted, low, ending,
        future or ok."""
        a = self.authorization
        if a.status != Authorization.Status.ACTIVE:
            return str(a.status)
        if self.is_expired:
            return "expired"
        if self.is_exhausted:
            return "exhausted"
        if self.is_low:
            return "low"
        if self.is_ending:
            return "ending"
        if a.start_on > self.today:
            return "future"
        return "ok"

    @property
    def state_label(self) -> str:
        return {
            "void": "Void",
            "denied": "Denied",
            "pending": "Requested, pending",
            "expired": "Expired",
            "exhausted": "Used up",
            "low": "Running low",
            "ending": "Ending soon",
            "future": "Not started",
            "ok": "In force",
        }[self.state]

    @property
    def badge_class(self) -> str:
        return {
            "expired": "below",
            "exhausted": "below",
            "low": "at_risk",
            "ending": "at_risk",
            "ok": "met",
            "future": "on_track",
        }.get(self.state, "exempt")


# --- loading ------------------------------------------------------------------------------------


def _visits_by_episode(
    episodes: Sequence[Episode], start: dt.date, end: dt.date
) -> dict[int, list[Visit]]:
    """Attended sessions of ``episodes`` whose date of service is in [start, end], in one query.

    The bounds are widened by a day on each side so that every site's local dates are covered;
    the exact local date is then computed per episode in Python.
    """
    if not episodes:
        return {}
    lo = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(0), tzinfo=dt.UTC)
    tz_of: dict[int, ZoneInfo] = {e.pk: e.program.site.tz for e in episodes}
    rows = (
        AttendanceRecord.objects.filter(
            episode_id__in=list(tz_of),
            status__in=AttendanceRecord.ATTENDED,
            minutes_attended__gt=0,
            session__starts_at__gte=lo,
            session__starts_at__lt=hi,
        )
        .exclude(session__status=Session.Status.CANCELLED)
        .values_list("episode_id", "session__starts_at", "minutes_attended")
    )
    out: dict[int, list[Visit]] = defaultdict(list)
    for episode_id, starts_at, minutes in rows:
        out[episode_id].append(Visit(starts_at.astimezone(tz_of[episode_id]).date(), minutes))
    return out


def usages_for(authorizations: Sequence[Authorization], today: dt.date) -> list[Usage]:
    """Usage of each authorization (``episode__program__site`` must be loaded); one query."""
    if not authorizations:
        return []
    episodes = {a.episode_id: a.episode for a in authorizations}
    visits = _visits_by_episode(
        list(episodes.values()),
        min(a.start_on for a in authorizations),
        max(a.end_on for a in authorizations),
    )
    return [
        Usage(
            a, count_units(a.unit_kind, visits.get(a.episode_id, ()), a.start_on, a.end_on), today
        )
        for a in authorizations
    ]


def _auth_qs(organization_id: int) -> Any:
    return Authorization.objects.for_org(organization_id).select_related(
        "episode__program__site", "patient", "recorded_by"
    )


def authorization_list_for_episode(
    *, user: Any, episode: Episode, today: dt.date, request: HttpRequest | None = None
) -> list[Usage]:
    """Every authorization of the episode, newest first, with units used. Two queries + audit."""
    require_perm(user, Perm.AUTHORIZATION_VIEW)
    auths = list(
        _auth_qs(user.organization_id).filter(episode=episode).order_by("-start_on", "-id")
    )
    audit_log(
        actor=user, action="openiop.billing.authorization.list", category=CAT, obj=episode,
        patient=episode.patient, request=request, detail={"authorizations": len(auths)},
    )  # fmt: skip
    return usages_for(auths, today)


def authorization_usage(*, authorization: Authorization, today: dt.date) -> Usage:
    """Units used of one authorization (no audit: the caller's read is audited)."""
    return usages_for([authorization], today)[0]


def authorization_in_force(
    *, episode: Episode, on: dt.date, today: dt.date | None = None
) -> Usage | None:
    """The active authorization covering ``on`` (the latest-starting one if several), with its
    usage; None if there is none. Used by the UR packet header. Two queries."""
    auth = (
        _auth_qs(episode.organization_id)
        .filter(episode=episode, status=Authorization.Status.ACTIVE)
        .filter(start_on__lte=on, end_on__gte=on)
        .order_by("-start_on", "-id")
        .first()
    )
    if auth is None:
        return None
    return authorization_usage(authorization=auth, today=today or on)


# --- alerts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizationAlert:
    """One line on the dashboard: an authorization about to run out (or already out), or an
    episode in treatment with no authorization in force at all (``usage`` is None)."""

    kind: str  # expired | exhausted | low | ending | missing
    episode: Episode
    usage: Usage | None
    reasons: tuple[str, ...]
    next_authorization: Authorization | None = None

    SEVERITY = {"expired": 0, "exhausted": 1, "missing": 2, "low": 3, "ending": 4}
    LABELS = {
        "expired": "Expired",
        "exhausted": "Used up",
        "missing": "No authorization",
        "low": "Running low",
        "ending": "Ending soon",
    }

    @property
    def patient(self) -> Any:
        return self.episode.patient

    @property
    def label(self) -> str:
        return self.LABELS[self.kind]

    @property
    def badge_class(self) -> str:
        return "below" if self.kind in ("expired", "exhausted", "missing") else "at_risk"

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (
            self.SEVERITY[self.kind],
            self.episode.patient.last_name,
            self.episode.patient.first_name,
        )


def _alert_for(usage: Usage) -> AuthorizationAlert | None:
    a = usage.authorization
    unit = usage.unit_label
    reasons: list[str] = []
    if usage.is_expired:
        kind = "expired"
        reasons.append(f"ended {a.end_on:%b} {a.end_on.day}; the episode is still open")
        if usage.remaining > 0:
            reasons.append(f"{usage.remaining_display} {unit} were left unused")
    elif usage.is_exhausted:
        kind = "exhausted"
        over = -usage.remaining
        reasons.append(f"all {a.units_authorized} {unit} used")
        if over > 0:
            reasons.append(f"{_num(over)} {unit} over")
    elif usage.is_low or usage.is_ending:
        kind = "low" if usage.is_low else "ending"
        if usage.is_low:
            reasons.append(f"{usage.remaining_display} of {a.units_authorized} {unit} left")
        if usage.is_ending:
            left = usage.days_left
            when = "ends today" if left == 0 else f"ends in {left} day{'s' if left != 1 else ''}"
            reasons.append(f"{when} ({a.end_on:%b} {a.end_on.day})")
    else:
        return None
    return AuthorizationAlert(kind=kind, episode=a.episode, usage=usage, reasons=tuple(reasons))


def _alerts_for_episodes(
    organization_id: int, episodes: list[Episode], today: dt.date
) -> list[AuthorizationAlert]:
    """Every alert of ``episodes`` (open, admitted), most urgent first. Three queries."""
    by_id = {e.pk: e for e in episodes}
    # Only these can raise an alert: the ones in force or still to come, and, for an episode
    # with none of those, its last one that ended. Loading and counting the units of every
    # earlier block would read months of authorizations and attendance for nothing (on a large
    # organization, most of the dashboard's cost).
    active = Authorization.objects.for_org(organization_id).filter(
        status=Authorization.Status.ACTIVE
    )
    ahead = list(
        active.filter(episode_id__in=list(by_id), end_on__gte=today).order_by("start_on", "id")
    )
    covered = {a.episode_id for a in ahead}
    last_ended: dict[int, Authorization] = {}
    for a in active.filter(
        episode_id__in=[pk for pk in by_id if pk not in covered], end_on__lt=today
    ).order_by("start_on", "id"):  # in start order: the last one wins
        last_ended[a.episode_id] = a
    auths = [*ahead, *last_ended.values()]
    for a in auths:  # share the already-loaded episodes: no query per authorization
        a.episode = by_id[a.episode_id]
    usages = usages_for(ahead, today) + usages_for(list(last_ended.values()), today)
    per_episode: dict[int, list[Usage]] = defaultdict(list)
    for u in usages:
        per_episode[u.authorization.episode_id].append(u)

    alerts: list[AuthorizationAlert] = []
    for episode in episodes:
        mine = per_episode.get(episode.pk, [])
        current = [u for u in mine if u.is_current]
        later = [u for u in mine if u.authorization.start_on > today]
        for u in current:
            alert = _alert_for(u)
            if alert is not None:
                alerts.append(alert)
        if current:
            continue
        expired = [u for u in mine if u.is_expired]
        if expired and not later:
            alert = _alert_for(expired[-1])  # the most recent one that ended
            if alert is not None:
                alerts.append(alert)
            continue
        nxt = later[0].authorization if later else None
        reason = (
            f"next authorization starts {nxt.start_on:%b} {nxt.start_on.day}"
            if nxt is not None
            else "no authorization recorded for today"
        )
        alerts.append(
            AuthorizationAlert(
                kind="missing", episode=episode, usage=None, reasons=(reason,),
                next_authorization=nxt,
            )
        )  # fmt: skip
    alerts.sort(key=lambda a: a.sort_key)
    return alerts


def _episodes_in_treatment(qs: Any, today: dt.date) -> list[Episode]:
    return list(
        qs.open()
        .filter(admitted_on__isnull=False, admitted_on__lte=today)
        .select_related("patient", "program__site", "primary_counselor")
    )


def _alerts_snapshot_data(organization_id: int, today: dt.date) -> dict[str, Any]:
    """The whole organization's alerts as ids and words (no names), most urgent first."""
    episodes = _episodes_in_treatment(Episode.objects.for_org(organization_id), today)
    rows = [
        [
            a.kind,
            a.episode.pk,
            a.episode.patient_id,
            a.usage.authorization.pk if a.usage is not None else None,
            a.next_authorization.pk if a.next_authorization is not None else None,
            list(a.reasons),
        ]
        for a in _alerts_for_episodes(organization_id, episodes, today)
    ]
    return {"today": today.isoformat(), "alerts": rows}


def _alerts_from_snapshot(
    user: Any, today: dt.date, limit: int | None, refresh: bool
) -> tuple[list[AuthorizationAlert], int, Snapshot]:
    """The user's alerts from the organization's snapshot: the caseload filter is applied to its
    rows, then only the shown rows' episodes and authorizations are loaded (a fixed number of
    queries whatever the size of the organization)."""
    from openiop.enrollment.caseload import is_caseload_scoped, keep_visible

    org_id = user.organization_id
    scoped = is_caseload_scoped(user)
    snap, rows, total = panel_snapshot(
        scoped=scoped,
        field="alerts",
        limit=limit,
        organization_id=org_id,
        key="dashboard:authorization_alerts",
        compute=lambda: _alerts_snapshot_data(org_id, today),
        max_age=dashboard_max_age(),
        refresh=refresh,
        valid=lambda data: data.get("today") == today.isoformat(),
    )
    if scoped:
        rows = keep_visible(user, rows, 2)
        total = len(rows)
    shown = rows[:limit] if limit is not None else rows
    episodes = (
        Episode.objects.for_org(org_id)
        .select_related("patient", "program__site", "primary_counselor")
        .in_bulk([r[1] for r in shown])
    )
    auths = _auth_qs(org_id).in_bulk([r[i] for r in shown for i in (3, 4) if r[i] is not None])
    for a in auths.values():
        if a.episode_id in episodes:
            a.episode = episodes[a.episode_id]
    usages = {
        u.authorization.pk: u
        for u in usages_for([auths[r[3]] for r in shown if r[3] in auths], today)
    }
    alerts = [
        AuthorizationAlert(
            kind=kind,
            episode=episodes[episode_id],
            usage=usages.get(auth_id) if auth_id is not None else None,
            reasons=tuple(reasons),
            next_authorization=auths.get(next_id) if next_id is not None else None,
        )
        for kind, episode_id, _patient, auth_id, next_id, reasons in shown
        if episode_id in episodes
    ]
    return alerts, total, snap


def authorization_alerts(
    user: Any,
    today: dt.date,
    *,
    request: HttpRequest | None = None,
    limit: int | None = None,
    snapshot: bool = False,
    refresh: bool = False,
) -> list[AuthorizationAlert]:
    """Alerts for every episode in treatment (admitted on or before ``today``, not discharged).

    * an active authorization that ends within its ``alert_days_before_end`` days, or has
      ``alert_units_remaining`` units or fewer left, or is used up;
    * an active authorization that has ended while the episode is still open, unless a later
      authorization already covers today;
    * an episode with no active authorization covering today ("No authorization"; if one starts
      later, it is named).

    Roles without ``AUTHORIZATION_VIEW`` get an empty list (nothing is read or audited).
    Four queries plus one audit row, whatever the number of episodes. With ``snapshot`` (the
    dashboard) the organization's alerts come from a snapshot at most
    ``OPENIOP_SNAPSHOT_MAX_AGE_SECONDS`` old (ADR 0016); the returned list then has
    ``computed_at``.
    """
    if not user_has_perm(user, Perm.AUTHORIZATION_VIEW):
        return []
    from openiop.enrollment.caseload import scope_to_caseload

    computed_at = None
    if snapshot:
        alerts, total, snap = _alerts_from_snapshot(user, today, limit, refresh)
        computed_at = snap.computed_at
    else:
        qs = scope_to_caseload(Episode.objects.for_org(user.organization_id), user)
        alerts = _alerts_for_episodes(
            user.organization_id, _episodes_in_treatment(qs, today), today
        )
        total = len(alerts)
        if limit is not None:
            alerts = alerts[:limit]  # the most urgent first: only those are shown (and audited)
    audit_log_many(
        actor=user,
        action="openiop.billing.authorization.alerts",
        category=CAT,
        patients=[a.patient for a in alerts],
        request=request,
        detail={"alerts": total, "shown": len(alerts), "today": today.isoformat()},
    )
    if limit is not None or snapshot:
        return Counted(alerts, total, computed_at)
    return alerts


def authorization_alerts_context(
    user: Any,
    today: dt.date,
    *,
    request: HttpRequest | None = None,
    limit: int | None = None,
    snapshot: bool = False,
) -> dict[str, Any]:
    """Context for ``billing/_authorization_alerts.html``; ``None`` hides the panel for roles
    that may not see authorizations. The dashboard reads the alerts from the organization's
    snapshot (``snapshot``; ``?refresh=1`` recomputes it); the billing page computes them."""
    if not user_has_perm(user, Perm.AUTHORIZATION_VIEW):
        return {"authorization_alerts": None}
    refresh = request is not None and request.GET.get("refresh") == "1"
    rows = authorization_alerts(
        user, today, request=request, limit=limit, snapshot=snapshot, refresh=refresh
    )
    return {
        "authorization_alerts": rows,
        "authorization_alerts_total": getattr(rows, "total", len(rows)),
        "authorization_alerts_computed_at": getattr(rows, "computed_at", None),
    }


# The dashboard panel lists this many (the most urgent) and gives the total.
PANEL_ROWS = 25
