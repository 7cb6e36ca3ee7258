"""TOTP two-factor authentication (django-otp) and one-time recovery codes.

Who must use it: ``mfa_required``. Where it is enforced: ``openiop.core.middleware.
MfaRequiredMiddleware`` (a password-only session reaches nothing but the verify or enrolment
page). What is promised and how it is tested: docs/security.md.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import RecoveryCode, RecoveryCodeDevice, recovery_code_hash
from openiop.accounts.permissions import Perm, user_has_perm
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent

# A session flag set at log-in: the user had a confirmed TOTP device then, so this session must
# pass the TOTP step. Kept in the session so that an ordinary request costs no extra query.
ENROLLED_SESSION_KEY = "_openiop_mfa_enrolled"
RECOVERY_CODE_COUNT = 10
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def mfa_required(user: Any) -> bool:
    """Required for every role that reads clinical notes, and for superusers, unless the
    deployment relaxed it (OPENIOP_MFA_REQUIRED=false, the development default)."""
    if not getattr(settings, "OPENIOP_MFA_REQUIRED", True):
        return False
    return bool(user.is_superuser or user_has_perm(user, Perm.NOTE_VIEW))


def totp_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def has_mfa(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(user: Any) -> TOTPDevice:
    """The not-yet-confirmed device whose secret the enrolment page shows. The same one is shown
    until it is confirmed, so a reload does not invalidate a code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _audit(
    request: HttpRequest, user: Any, verb: str, outcome: str = AuditEvent.Outcome.SUCCESS, **detail
) -> None:
    audit_log(
        actor=user,
        action=f"openiop.accounts.mfa.{verb}",
        category=AuditEvent.Category.ADMINISTRATIVE,
        outcome=outcome,
        request=request,
        detail=detail or None,
    )


def _mark_verified(request: HttpRequest, device: Any) -> None:
    # A new session key for the raised privilege (same reason Django rotates it at log-in).
    request.session.cycle_key()
    otp_login(request, device)
    request.session[ENROLLED_SESSION_KEY] = True


def recovery_codes_generate(*, user: Any, request: HttpRequest) -> list[str]:
    """Replace the user's recovery codes with new ones and return them: the only time they are
    readable. Stored as SHA-256 hashes (each code carries ~79 random bits)."""
    codes = [
        "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCodeDevice.objects.filter(user=user).delete()
        device = RecoveryCodeDevice.objects.create(user=user, name="Recovery codes")
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(device=device, code_hash=recovery_code_hash(c)) for c in codes]
        )
        _audit(request, user, "recovery_codes.generate", count=len(codes))
    return codes


def totp_enroll(*, user: Any, token: str, request: HttpRequest) -> list[str] | None:
    """Confirm the pending authenticator with a code from it. On success the session counts as
    verified and the user's first recovery codes are returned; on a wrong code, None."""
    device = pending_totp_device(user)
    if not device.verify_token(token.strip().replace(" ", "")):
        _audit(request, user, "enroll", AuditEvent.Outcome.FAILED)
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        _audit(request, user, "enroll")
    _mark_verified(request, device)
    return recovery_codes_generate(user=user, request=request)


class VerifyResult:
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


def mfa_verify(*, user: Any, token: str, request: HttpRequest) -> str:
    """Check a six-digit authenticator code, or else a recovery code (each works once)."""
    token = token.strip()
    digits = token.replace(" ", "")
    totp = totp_device(user)
    throttled = False
    if totp is not None and digits.isdigit():
        if not totp.verify_is_allowed()[0]:
            throttled = True
        elif totp.verify_token(digits):
            _mark_verified(request, totp)
            _audit(request, user, "verify", method="totp")
            return VerifyResult.OK
    elif not digits.isdigit():
        recovery = RecoveryCodeDevice.objects.filter(user=user).first()
        if recovery is not None:
            if not recovery.verify_is_allowed()[0]:
                throttled = True
            elif recovery.verify_token(token):
                _mark_verified(request, recovery)
                _audit(request, user, "verify", method="recovery_code", left=recovery.remaining())
                return VerifyResult.OK
    _audit(request, user, "verify", AuditEvent.Outcome.FAILED, throttled=throttled)
    return VerifyResult.THROTTLED if throttled else VerifyResult.WRONG
