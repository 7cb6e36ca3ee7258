"""Video rooms for virtual sessions (issue 10, "Join a virtual session").

A *provider* turns a virtual ``scheduling.Session`` into the address of its video room:
``room_url(session) -> str``. ``settings.OPENIOP_VIDEO_PROVIDER`` picks one:

* ``"jitsi"`` (default): ``settings.OPENIOP_VIDEO_BASE_URL`` (default ``https://meet.jit.si/``)
  plus the session's room name.
* ``"custom"``: the clinic's own service, the same base URL plus the same room name (set
  ``OPENIOP_VIDEO_BASE_URL`` to, e.g., ``https://video.example.org/rooms/``).
* a dotted path ``"package.module.function"``: any callable ``(session) -> str``; it may call
  ``room_name(session)`` to reuse the stored name.

Built-in providers are in ``PROVIDERS``; ``register(name)`` adds one. The room name is given on
first use: ``"openiop-"`` plus ``secrets.token_urlsafe(16)`` (128 random bits, unguessable),
stored in ``Session.video_room`` (saved with ``update_fields``), so every patient booked on the
session lands in the same room. No network calls are made: the room exists once someone opens
the address.

This module also holds the facilitator-side helper ``portal_prefill``: the portal join/leave
times of a virtual session turned into suggested minutes and a present/late status for the
attendance roster. Nothing is recorded automatically; the facilitator confirms.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from openiop.scheduling.models import Session

ROOM_PREFIX = "openiop-"
DEFAULT_BASE_URL = "https://meet.jit.si/"
# A portal join later than this after the start suggests "late" on the attendance roster.
LATE_AFTER_MINUTES = 10

Provider = Callable[[Session], str]
PROVIDERS: dict[str, Provider] = {}


def register(name: str) -> Callable[[Provider], Provider]:
    def decorate(provider: Provider) -> Provider:
        PROVIDERS[name] = provider
        return provider

    return decorate


def base_url() -> str:
    base = getattr(settings, "OPENIOP_VIDEO_BASE_URL", "") or DEFAULT_BASE_URL
    return base if base.endswith("/") else base + "/"


def room_name(session: Session) -> str:
    """The session's room name, given (and stored) on first use. Concurrent first joins agree:
    the row is locked and re-read before a name is written."""
    if session.video_room:
        return session.video_room
    with transaction.atomic():
        current = (
            Session.objects.select_for_update(of=("self",))
            .only("id", "video_room")
            .get(pk=session.pk)
        )
        if not current.video_room:
            current.video_room = ROOM_PREFIX + secrets.token_urlsafe(16)
            current.save(update_fields=["video_room"])
    session.video_room = current.video_room
    return session.video_room


@register("jitsi")
def jitsi(session: Session) -> str:
    return base_url() + quote(room_name(session), safe="-_")


@register("custom")
def custom(session: Session) -> str:
    return base_url() + quote(room_name(session), safe="-_")


def get_provider(name: str | None = None) -> Provider:
    name = name or getattr(settings, "OPENIOP_VIDEO_PROVIDER", "") or "jitsi"
    if name in PROVIDERS:
        return PROVIDERS[name]
    if "." in name:
        return import_string(name)
    raise ValueError(f"unknown video provider {name!r}")


def room_url(session: Session) -> str:
    """The address of the session's video room (virtual sessions only)."""
    if not session.is_virtual:
        raise ValueError("only a virtual session has a video room")
    return get_provider()(session)


# --- facilitator side: suggestions from portal joins ------------------------------------------


@dataclass(frozen=True)
class PortalPrefill:
    visits: list[tuple[dt.datetime, dt.datetime | None]]  # (joined, left) per visit
    minutes: int
    status: str  # "present" or "late"


def portal_prefill(session: Session) -> dict[int, PortalPrefill]:
    """Per patient id: their portal visits, the minutes of the session they overlap (each visit
    clipped to [start, end], an open visit counted to the end, overlaps merged) and present or
    late (first join more than LATE_AFTER_MINUTES after the start). One query."""
    from openiop.portal.models import VirtualVisit

    by_patient: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    rows = (
        VirtualVisit.objects.for_org(session.organization_id)
        .filter(session=session)
        .order_by("joined_at")
        .values_list("patient_id", "joined_at", "left_at")
    )
    for patient_id, joined, left in rows:
        by_patient.setdefault(patient_id, []).append((joined, left))
    out = {}
    late_after = session.starts_at + dt.timedelta(minutes=LATE_AFTER_MINUTES)
    for patient_id, visits in by_patient.items():
        seconds = 0.0
        covered_to = session.starts_at
        for joined, left in visits:  # sorted by join time
            start = max(joined, covered_to)
            end = min(left or session.ends_at, session.ends_at)
            if end > start:
                seconds += (end - start).total_seconds()
                covered_to = end
        status = "late" if visits[0][0] > late_after else "present"
        out[patient_id] = PortalPrefill(visits=visits, minutes=int(seconds // 60), status=status)
    return out
