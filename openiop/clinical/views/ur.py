"""Utilization-review pages: an episode's reviews, prepare a new one, the packet (web page,
HTML download, PDF where WeasyPrint is installed) and the payer's decision.

Access: ``UR_PACKET`` (counselor, program director, billing, admin) reads packets and records
the payer's decision; writing the clinician's summary also needs ``NOTE_WRITE``. Another
organization's episode or review is a 404; a role without the permission gets 403.

Downloading the packet (HTML or PDF) releases it to the payer: a 42 CFR Part 2 disclosure. It is
checked against the patient's consents first; without a consent covering payment to that payer
no file is produced, the refused attempt is logged, and the page says why (409). A released
packet carries the redisclosure notice and a copy of the consent, and is listed in the patient's
accounting of disclosures.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, user_has_perm
from openiop.clinical.forms.ur import OutcomeForm, PeriodForm, URCreateForm
from openiop.clinical.models import UtilizationReview
from openiop.clinical.selectors.ur import (
    default_period,
    packet_filename,
    packet_html,
    pdf_available,
    ur_list_for_episode,
    ur_packet,
)
from openiop.clinical.services.ur import ur_create, ur_record_outcome
from openiop.consent.models import Disclosure
from openiop.consent.services import DisclosureRefused, disclosure_make
from openiop.core.access import get_for_user_or_404, require_perm
from openiop.enrollment.models import Episode


def _episode(request: HttpRequest, episode_id: Any) -> Episode:
    qs = Episode.objects.select_related("patient", "program__site", "primary_counselor")
    return get_for_user_or_404(qs, request.user, episode_id, Perm.UR_PACKET)


def _review(request: HttpRequest, public_id: Any) -> UtilizationReview:
    qs = UtilizationReview.objects.select_related(
        "episode__patient", "episode__program__site", "episode__primary_counselor",
        "prepared_by", "authorization",
    )  # fmt: skip
    return get_for_user_or_404(qs, request.user, public_id, Perm.UR_PACKET)


def _attachment(body: bytes | str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _pdf(html: str) -> bytes:
    import weasyprint  # optional; callers check pdf_available() first

    return weasyprint.HTML(string=html).write_pdf()


@login_required
def ur_list(request: HttpRequest, episode_id: Any) -> HttpResponse:
    episode = _episode(request, episode_id)
    return _list_page(request, episode)


def _list_page(
    request: HttpRequest, episode: Episode, period_form: PeriodForm | None = None, status: int = 200
) -> HttpResponse:
    reviews = ur_list_for_episode(user=request.user, episode=episode, request=request)
    start, end = default_period(episode, episode.program.site.today())
    if period_form is None:
        period_form = PeriodForm(initial={"start": start, "end": end})
    return render(
        request,
        "clinical/ur_list.html",
        {
            "episode": episode,
            "patient": episode.patient,
            "reviews": reviews,
            "period_form": period_form,
            "outcome_form": OutcomeForm(),
            "can_write": user_has_perm(request.user, Perm.NOTE_WRITE),
            "can_view_authorizations": user_has_perm(request.user, Perm.AUTHORIZATION_VIEW),
        },
        status=status,
    )


@login_required
def ur_create_view(request: HttpRequest, episode_id: Any) -> HttpResponse:
    episode = _episode(request, episode_id)
    require_perm(request.user, Perm.NOTE_WRITE)
    start, end = default_period(episode, episode.program.site.today())
    form = URCreateForm(
        request.POST or None, episode=episode, initial={"period_start": start, "period_end": end}
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = ur_create(
                actor=request.user, episode=episode, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Utilization review prepared.")
            return redirect("clinical:ur-detail", public_id=review.public_id)
    return render(
        request, "clinical/ur_create.html",
        {"episode": episode, "patient": episode.patient, "form": form},
    )  # fmt: skip


@login_required
def ur_packet_view(request: HttpRequest, episode_id: Any) -> HttpResponse:
    """An ad-hoc packet for any period (with the latest review's summary, like the command)."""
    episode = _episode(request, episode_id)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return _list_page(request, episode, form, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    download = request.method == "POST"  # a release to the payer: POST, never a link
    packet = ur_packet(
        request.user, episode, start, end, request, verb="export" if download else "view"
    )
    if download:
        payer = episode.authorizations.order_by("-start_on").values_list("payer_name", flat=True)
        refused = _release(request, episode, packet, payer.first() or "")
        if refused is not None:
            return refused
        return _attachment(packet_html(packet), packet_filename(packet), "text/html; charset=utf-8")
    query = f"?start={start.isoformat()}&end={end.isoformat()}"
    here = reverse("clinical:ur-packet", args=[episode.public_id])
    html = packet_html(
        packet,
        standalone=False,
        back_url=reverse("clinical:ur-list", args=[episode.public_id]),
        download_url=f"{here}{query}",
        csrf_token=get_token(request),
    )
    return HttpResponse(html)


@login_required
def ur_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    review = _review(request, public_id)
    episode = review.episode
    packet = ur_packet(
        request.user, episode, review.period_start, review.period_end, request, review=review
    )
    html = packet_html(
        packet,
        standalone=False,
        back_url=reverse("clinical:ur-list", args=[episode.public_id]),
        download_url=reverse("clinical:ur-download", args=[review.public_id]),
        csrf_token=get_token(request),
        pdf_url=reverse("clinical:ur-pdf", args=[review.public_id]) if pdf_available() else "",
    )
    return HttpResponse(html)


def packet_categories(packet: Any) -> list[str]:
    """What kinds of information (consent categories) a packet releases."""
    cats = ["demographics", "attendance", "diagnoses", "treatment_plan", "notes_summary"]
    if packet.drug_screens.state == "shown":
        cats.append("drug_screens")
    if packet.questionnaires.state == "shown":
        cats.append("questionnaire_scores")
    return cats


def _release(
    request: HttpRequest, episode: Episode, packet: Any, payer: str
) -> HttpResponse | None:
    """Record the release of ``packet`` to the payer; a refusal page (409) if no consent covers
    it, else None and the disclosure rides on the packet (``packet.extra["disclosure"]``)."""
    try:
        disclosure = disclosure_make(
            actor=request.user, patient=episode.patient,
            recipient_organization=payer or "Payer (utilization review)", recipient="",
            purpose="payment", categories=packet_categories(packet),
            channel=Disclosure.Channel.EXPORT, request=request,
        )  # fmt: skip
    except DisclosureRefused as exc:
        context = {"episode": episode, "payer": payer, "messages_": exc.messages}
        return render(request, "clinical/ur_refused.html", context, status=409)
    packet.extra["disclosure"] = disclosure
    return None


def _payer(review: UtilizationReview) -> str:
    return review.authorization.payer_name if review.authorization else ""


@login_required
@require_POST
def ur_download(request: HttpRequest, public_id: Any) -> HttpResponse:
    review = _review(request, public_id)
    packet = ur_packet(
        request.user,
        review.episode,
        review.period_start,
        review.period_end,
        request,
        review=review,
        verb="export",
        audit_detail={"format": "html"},
    )
    refused = _release(request, review.episode, packet, _payer(review))
    if refused is not None:
        return refused
    return _attachment(packet_html(packet), packet_filename(packet), "text/html; charset=utf-8")


@login_required
@require_POST
def ur_pdf(request: HttpRequest, public_id: Any) -> HttpResponse:
    review = _review(request, public_id)
    if not pdf_available():
        raise Http404("PDF export needs WeasyPrint, which is not installed")
    packet = ur_packet(
        request.user,
        review.episode,
        review.period_start,
        review.period_end,
        request,
        review=review,
        verb="export",
        audit_detail={"format": "pdf"},
    )
    refused = _release(request, review.episode, packet, _payer(review))
    if refused is not None:
        return refused
    return _attachment(_pdf(packet_html(packet)), packet_filename(packet, "pdf"), "application/pdf")


@login_required
@require_POST
def ur_outcome(request: HttpRequest, public_id: Any) -> HttpResponse:
    review = _review(request, public_id)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            ur_record_outcome(
                actor=request.user, review=review, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Payer decision recorded.")
    else:
        messages.error(request, "Choose the payer's decision.")
    return redirect("clinical:ur-list", episode_id=review.episode.public_id)


urlpatterns = [
    path("episodes/<uuid:episode_id>/ur/", ur_list, name="ur-list"),
    path("episodes/<uuid:episode_id>/ur/new/", ur_create_view, name="ur-create"),
    path("episodes/<uuid:episode_id>/ur/packet/", ur_packet_view, name="ur-packet"),
    path("ur/<uuid:public_id>/", ur_detail, name="ur-detail"),
    path("ur/<uuid:public_id>/packet.html", ur_download, name="ur-download"),
    path("ur/<uuid:public_id>/packet.pdf", ur_pdf, name="ur-pdf"),
    path("ur/<uuid:public_id>/outcome/", ur_outcome, name="ur-outcome"),
]
