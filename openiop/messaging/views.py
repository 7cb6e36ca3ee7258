"""Staff view of the reminder outbox, and the SMS provider's inbound webhook (STOP / START)."""

from __future__ import annotations

import hmac
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm
from openiop.core.access import require_perm
from openiop.core.audit import audit_log_many
from openiop.core.models import AuditEvent
from openiop.messaging import services
from openiop.messaging.models import ContactPreference, OutboxMessage

STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
START_WORDS = {"start", "unstop", "yes"}


def mask(address: str) -> str:
    """Enough of an address to recognise it, not to copy it: d***@example.org, ***-0100."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = re.sub(r"\D", "", address)
    return f"***-{digits[-4:]}" if len(digits) >= 4 else "***"


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    """Reminders queued, sent, failed and cancelled: what went out, and what needs a fix."""
    require_perm(request.user, Perm.PORTAL_INVITE)
    org = request.user.organization
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    rows = (
        OutboxMessage.objects.for_org(org).select_related("patient").order_by("-send_after", "-id")
    )
    if status in OutboxMessage.Status.values:
        rows = rows.filter(status=status)
    if kind in OutboxMessage.Kind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, 50).get_page(request.GET.get("page") or 1)
    messages = list(page.object_list)
    audit_log_many(
        actor=request.user, action="openiop.messaging.outbox.list",
        category=AuditEvent.Category.SCHEDULE, patients=[m.patient for m in messages],
        request=request, detail={"status": status, "kind": kind},
    )  # fmt: skip
    counts = dict.fromkeys(OutboxMessage.Status.values, 0)
    counts.update(
        OutboxMessage.objects.for_org(org).order_by().values_list("status").annotate(n=Count("id"))
    )
    return render(
        request,
        "messaging/outbox.html",
        {
            "page": page, "rows": [(m, mask(m.to)) for m in messages], "status": status,
            "kind": kind, "kinds": OutboxMessage.Kind.choices,
            "statuses": [(v, label, counts[v]) for v, label in OutboxMessage.Status.choices],
        },
    )  # fmt: skip


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def same_number(a: str, b: str) -> bool:
    """The same phone number, written either way (+1 and punctuation, or a local number
    without its area code): the last 10 digits, or all of the shorter one (7 at least)."""
    x, y = _digits(a), _digits(b)
    n = min(len(x), len(y), 10)
    return n >= 7 and x[-n:] == y[-n:]


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest, token: str) -> HttpResponse:
    """The SMS provider posts replies here (``From``, ``Body``; Twilio's names). STOP and its
    synonyms opt the sender out everywhere they are a patient's number; START opts back in.
    The URL's token (``OPENIOP_SMS_INBOUND_TOKEN``) is the credential; unset, the URL is 404."""
    expected = getattr(settings, "OPENIOP_SMS_INBOUND_TOKEN", "")
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Http404("Not found")
    sender = request.POST.get("From", "")
    word = (request.POST.get("Body", "") or "").strip().split(" ")[0].lower().strip(".!")
    if len(_digits(sender)) < 7 or word not in STOP_WORDS | START_WORDS:
        return HttpResponse("", content_type="text/plain")
    matches = [
        p for p in ContactPreference.unscoped.select_related("patient__organization")
        .exclude(phone="")
        if same_number(p.phone, sender)
    ]  # fmt: skip
    for pref in matches:
        if word in STOP_WORDS:
            services.contact_preference_opt_out(
                actor=None, patient=pref.patient, now=timezone.now(), request=request
            )
        else:
            services.contact_preference_opt_in(actor=None, patient=pref.patient, request=request)
    return HttpResponse("", content_type="text/plain")
