"""Two-factor pages: enrolment, the verify step after the password, recovery codes, and the
user's own password change. The rules they serve: openiop.accounts.mfa, docs/security.md."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from openiop.accounts import mfa
from openiop.accounts.forms import SecondStepForm, TotpCodeForm
from openiop.accounts.models import RecoveryCodeDevice


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _verified(request: HttpRequest) -> bool:
    return bool(request.user.is_verified())


@login_required
def mfa_settings(request: HttpRequest) -> HttpResponse:
    recovery = RecoveryCodeDevice.objects.filter(user=request.user).first()
    return render(
        request,
        "accounts/mfa_settings.html",
        {
            "enrolled": mfa.has_mfa(request.user),
            "verified": _verified(request),
            "required": mfa.mfa_required(request.user),
            "recovery_left": recovery.remaining() if recovery else 0,
        },
    )


@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    if mfa.has_mfa(request.user):
        # Replacing an authenticator is done by an administrator (docs/security.md): enrolling a
        # second one from a password-only session would bypass the first.
        return redirect("accounts:mfa-settings" if _verified(request) else "accounts:mfa-verify")
    device = mfa.pending_totp_device(request.user)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.totp_enroll(user=request.user, token=form.cleaned_data["code"], request=request)
        if codes is not None:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
        form.add_error("code", "That code did not match. Check the time on your phone and retry.")
    uri = device.config_url
    secret = b32encode(device.bin_key).decode()
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="Scan with your authenticator")
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "otpauth_uri": uri,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr_svg": qr_svg,
            "required": mfa.mfa_required(request.user),
            "next": _next_url(request),
        },
    )


@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    if _verified(request):
        return redirect(_next_url(request))
    if not mfa.has_mfa(request.user):
        # An administrator reset this user's authenticator since they logged in.
        request.session.pop(mfa.ENROLLED_SESSION_KEY, None)
        if mfa.mfa_required(request.user):
            return redirect("accounts:mfa-setup")
        return redirect(_next_url(request))
    form = SecondStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = mfa.mfa_verify(user=request.user, token=form.cleaned_data["code"], request=request)
        if result == mfa.VerifyResult.OK:
            return redirect(_next_url(request))
        if result == mfa.VerifyResult.THROTTLED:
            form.add_error("code", "Too many wrong codes. Wait a minute, then try again.")
        else:
            form.add_error("code", "That code is not valid.")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not (_verified(request) and mfa.has_mfa(request.user)):
        messages.error(request, "Set up two-factor authentication first.")
        return redirect("accounts:mfa-settings")
    codes = mfa.recovery_codes_generate(user=request.user, request=request)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": reverse("accounts:mfa-settings"), "first_time": False},
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own view (old password, new password twice, AUTH_PASSWORD_VALIDATORS). It keeps
    this session and ends the user's other sessions (their session hash no longer matches)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:mfa-settings")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        from openiop.core.audit import audit_log
        from openiop.core.models import AuditEvent

        response = super().form_valid(form)
        audit_log(
            actor=self.request.user,
            action="openiop.accounts.password.change",
            category=AuditEvent.Category.ADMINISTRATIVE,
            request=self.request,
        )
        messages.success(self.request, "Password changed. Your other sessions have ended.")
        return response
