"""The words patients receive. Neutral on purpose (42 CFR Part 2, and a lock screen anyone can
read): a message never names a program, a session title, a diagnosis or the kind of care, and
it names the sender by the organization's name with any such words taken out.

``render`` refuses to return a text containing a banned word (``NotNeutralError``), so a future
template or organization name cannot leak one silently.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

#: Words (lower case, matched as word prefixes) that never appear in a message.
BANNED_WORDS: tuple[str, ...] = (
    "substance",
    "alcohol",
    "drug",
    "opioid",
    "opiate",
    "addict",
    "recovery",
    "rehab",
    "iop",
    "intensive outpatient",
    "treatment",
    "therapy",
    "therapist",
    "counsel",
    "sober",
    "sobriety",
    "detox",
    "behavioral",
    "mental",
    "psychiatr",
    "diagnos",
    "methadone",
    "buprenorphine",
    "suboxone",
    "naltrexone",
    "group",
    "clinic",
    "health",
)
_BANNED = re.compile(r"\b(" + "|".join(re.escape(w) for w in BANNED_WORDS) + r")", re.IGNORECASE)

FALLBACK_SENDER = "Your care team"

#: Friendly names for the zones our clinics use; any other zone shows its IANA name.
ZONE_LABELS = {
    "America/New_York": "Eastern",
    "America/Detroit": "Eastern",
    "America/Indiana/Indianapolis": "Eastern",
    "America/Chicago": "Central",
    "America/Denver": "Mountain",
    "America/Phoenix": "Arizona",
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "Pacific/Honolulu": "Hawaii",
}

STOP = "Reply STOP to opt out."
EMAIL_FOOTER = (
    "You are receiving this because you asked us for reminders. To stop them, reply STOP to a "
    "text message from us or tell our front desk."
)

#: kind -> (subject, text). Placeholders: {sender}, {what}, {when}.
TEMPLATES: dict[str, tuple[str, str]] = {
    "session_reminder": (
        "Appointment reminder from {sender}",
        "Reminder: your {what} at {sender} is {when}.",
    ),
    "follow_up": (
        "A message from {sender}",
        "{sender} would like to check in with you. Please call us when it suits you.",
    ),
    "questionnaire": (
        "A short form from {sender}",
        "{sender}: you have a short form waiting in your online account.",
    ),
}


class NotNeutralError(ValueError):
    """A rendered message contains a banned word."""


def banned_in(text: str) -> list[str]:
    return sorted({m.group(1).lower() for m in _BANNED.finditer(text)})


def ensure_neutral(text: str) -> str:
    found = banned_in(text)
    if found:
        raise NotNeutralError(f"message text contains banned words: {', '.join(found)}")
    return text


def sender_name(organization: Any) -> str:
    """The organization's name without any word that starts with a banned word ("Riverbend
    Recovery" -> "Riverbend", "Lakeside Behavioral Health" -> "Lakeside");
    ``FALLBACK_SENDER`` if nothing neutral is left."""
    words = (getattr(organization, "name", "") or "").split()
    kept = [w for w in words if not banned_in(w)]
    while kept and kept[-1].lower().strip(",.") in {"&", "-", "and", "of", "for", "the"}:
        kept.pop()
    name = " ".join(kept).strip(" ,.-&")
    return name if name and not banned_in(name) else FALLBACK_SENDER


def zone_label(tz: zoneinfo.ZoneInfo) -> str:
    key = str(tz)
    return ZONE_LABELS.get(key, key)


def _clock(moment: dt.datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


def when_text(starts_at: dt.datetime, tz: zoneinfo.ZoneInfo, *, now: dt.datetime) -> str:
    """ "today at 6:00 PM (Eastern)", "tomorrow at ..." or "on Tuesday, Nov 17 at ..."."""
    local = starts_at.astimezone(tz)
    today = now.astimezone(tz).date()
    if local.date() == today:
        day = "today"
    elif local.date() == today + dt.timedelta(days=1):
        day = "tomorrow"
    else:
        day = "on " + local.strftime("%A, %b ") + str(local.day)
    return f"{day} at {_clock(local)} ({zone_label(tz)})"


def render(
    kind: str,
    channel: str,
    *,
    organization: Any,
    now: dt.datetime,
    starts_at: dt.datetime | None = None,
    tz: zoneinfo.ZoneInfo | None = None,
    is_virtual: bool = False,
) -> tuple[str, str]:
    """``(subject, body)`` of a message; the subject is empty for SMS."""
    subject_t, text_t = TEMPLATES[kind]
    values = {
        "sender": sender_name(organization),
        "what": "video appointment" if is_virtual else "appointment",
        "when": when_text(starts_at, tz or zoneinfo.ZoneInfo("UTC"), now=now) if starts_at else "",
    }
    text = text_t.format(**values)
    if channel == "sms":
        subject, body = "", f"{text} {STOP}"
    else:
        subject, body = subject_t.format(**values), f"{text}\n\n{EMAIL_FOOTER}\n"
    ensure_neutral(subject)
    ensure_neutral(body)
    return subject, body
