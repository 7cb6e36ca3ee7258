"""iCalendar rendering for subscribable calendar feeds (issue #4), with the ``icalendar`` library.

Pure-ish: no database access. The caller hands in sessions it already loaded (with
``program__site`` selected) and gets RFC 5545 bytes back.

Why the wording is fixed, not taken from the session: a feed leaves the 42 CFR Part 2 boundary
the moment a calendar app subscribes to it. Google, Apple and Microsoft store it, phones show it
on the lock screen, family members share calendars. 42 CFR Part 2 (§ 2.13, § 2.32) forbids
disclosing, even implicitly, that someone receives substance use disorder treatment, and
DESIGN.md §4 says "Calendar feeds, reminder texts and e-mail subjects never reveal substance
use treatment". So nothing typed by staff reaches the feed: no program name, no session title,
no room or site name, no organization name, no facilitator, no other patient. Every word comes
from the constants below; the only data-driven text is the site's street address, and that is
dropped when it contains a revealing term or the organization's name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from icalendar import Calendar, Event, vDuration

# --- Wording (42 CFR Part 2; DESIGN.md §4). Change only to other equally neutral words. -------

#: Identifies the producing software. Deliberately NOT the product name: "OpenIOP" names an
#: Intensive Outpatient Program system for substance use treatment, and PRODID travels with the
#: feed to every calendar provider.
PRODID = "-//Appointments//Calendar//EN"
#: Shown as the calendar's name in the subscriber's app (X-WR-CALNAME and RFC 7986 NAME).
CALENDAR_NAME = "Appointments"
#: Every event in a patient's feed.
PATIENT_SUMMARY = "Appointment"
#: Events in a clinician's feed: a group session, or any other kind of appointment. The session
#: kind labels ("Medication management", "Family therapy") are too specific to leave the EHR.
CLINICIAN_GROUP_SUMMARY = "Group session"
CLINICIAN_SUMMARY = "Appointment"
#: LOCATION of a virtual session (never the video link: links are sent by other channels).
ONLINE_LOCATION = "Online"
#: DESCRIPTION of a live in-person event in a patient's feed; virtual, cancelled and clinician
#: events have none.
PATIENT_DESCRIPTION = "Please arrive 10 minutes early."
#: UID = "<session public id>" + UID_SUFFIX. Stable across fetches, so apps update in place.
#: Neutral for the same reason as PRODID.
UID_SUFFIX = "@appointments"
#: How often subscribers should refresh (RFC 7986 REFRESH-INTERVAL and the Outlook/Apple
#: X-PUBLISHED-TTL); most apps ignore anything shorter than their own minimum anyway.
REFRESH_INTERVAL = dt.timedelta(hours=1)

#: Words that must never appear in a feed. Checked against the one data-driven field (the site
#: address) and, by the tests, against every constant above.
REVEALING_TERMS: tuple[str, ...] = (
    "iop",
    "intensive outpatient",
    "substance",
    "recovery",
    "rehab",
    "rehabilitation",
    "addiction",
    "addictions",
    "detox",
    "sober",
    "sobriety",
    "alcohol",
    "alcoholism",
    "drug",
    "drugs",
    "opioid",
    "opioids",
    "methadone",
    "buprenorphine",
    "suboxone",
    "naltrexone",
    "treatment",
    "behavioral",
    "behavioural",
    "chemical dependency",
    "dependence",
    "narcotics",
    "mat",
    "sud",
    "aa",
    "na",
)
_REVEALING = re.compile(
    r"\b(?:" + "|".join(re.escape(t) for t in REVEALING_TERMS) + r")\b", re.IGNORECASE
)


def is_neutral(text: str, *, also_forbidden: Sequence[str] = ()) -> bool:
    """True if ``text`` names none of the revealing terms nor any of ``also_forbidden``
    (typically the organization's name), compared case-insensitively."""
    if _REVEALING.search(text):
        return False
    folded = text.casefold()
    return not any(word and word.casefold() in folded for word in also_forbidden)


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT, already reduced to neutral wording."""

    uid: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    summary: str
    location: str = ""
    description: str = ""
    cancelled: bool = False
    last_modified: dt.datetime | None = None


def _is_cancelled(session: Any) -> bool:
    return str(session.status) == "cancelled"


def _is_online(session: Any) -> bool:
    return bool(session.is_virtual) or str(session.program.site.kind) == "virtual"


def neutral_location(session: Any, *, organization_name: str = "") -> str:
    """ "Online" for a virtual session; otherwise the site's street address, or nothing when the
    address is empty or would reveal the clinic (e.g. "Riverbend Recovery, 12 Main St"). Room
    and site names are never used: staff name them freely ("Detox wing", "MAT clinic")."""
    if _is_online(session):
        return ONLINE_LOCATION
    address = " ".join(str(session.program.site.address or "").split())
    if address and is_neutral(address, also_forbidden=[organization_name]):
        return address
    return ""


def _uid(session: Any) -> str:
    return f"{session.public_id}{UID_SUFFIX}"


def patient_event(session: Any, *, organization_name: str = "") -> FeedEvent:
    """The event a patient sees for one booked session."""
    location = neutral_location(session, organization_name=organization_name)
    cancelled = _is_cancelled(session)
    in_person = location != ONLINE_LOCATION
    return FeedEvent(
        uid=_uid(session),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=PATIENT_SUMMARY,
        location=location,
        description=PATIENT_DESCRIPTION if in_person and not cancelled else "",
        cancelled=cancelled,
        last_modified=getattr(session, "updated_at", None),
    )


def clinician_event(session: Any, *, organization_name: str = "") -> FeedEvent:
    """The event a facilitator sees for one session: no title, no patients, no program."""
    summary = CLINICIAN_GROUP_SUMMARY if str(session.kind) == "group" else CLINICIAN_SUMMARY
    return FeedEvent(
        uid=_uid(session),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=summary,
        location=neutral_location(session, organization_name=organization_name),
        cancelled=_is_cancelled(session),
        last_modified=getattr(session, "updated_at", None),
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware datetimes")
    return moment.astimezone(dt.UTC)


def render_calendar(events: Iterable[FeedEvent], *, now: dt.datetime) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) with one VEVENT per event; times in UTC ("...Z"), which
    every client converts to its own zone, so no VTIMEZONE is needed. CLASS:PRIVATE asks shared
    calendars to show the slot as busy without its details."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", CALENDAR_NAME)
    cal.add("name", CALENDAR_NAME)
    cal.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())
    stamp = _utc(now)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", _utc(item.starts_at))
        event.add("dtend", _utc(item.ends_at))
        event.add("summary", item.summary)
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("class", "PRIVATE")
        event.add("transp", "TRANSPARENT" if item.cancelled else "OPAQUE")
        if item.last_modified is not None:
            event.add("last-modified", _utc(item.last_modified))
        cal.add_component(event)
    return cal.to_ical()
