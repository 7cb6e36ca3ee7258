from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin


class User(AbstractUser):
    """A staff member. Belongs to exactly one organization and sees nothing of another."""

    class Credential(models.TextChoices):
        NONE = "", "None"
        MD = "MD", "MD"
        DO = "DO", "DO"
        NP = "NP", "Nurse practitioner"
        PA = "PA", "Physician assistant"
        LCSW = "LCSW", "Licensed clinical social worker"
        LPC = "LPC", "Licensed professional counselor"
        LMFT = "LMFT", "Licensed marriage and family therapist"
        LADC = "LADC", "Licensed alcohol and drug counselor"
        CADC = "CADC", "Certified alcohol and drug counselor"
        RN = "RN", "Registered nurse"
        PEER = "CPRS", "Certified peer recovery specialist"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    credential = models.CharField(max_length=8, choices=Credential.choices, blank=True)
    # Supervisees and pre-licensed staff: their signed notes wait in this person's co-signature
    # queue until co-signed (issue #5). Empty for staff who sign on their own.
    cosigner = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supervisees"
    )
    npi = models.CharField("NPI", max_length=10, blank=True)
    # A patient's or guardian's portal log-in (openiop.portal), never a staff member: kept inside
    # /portal/ by PortalIsolationMiddleware without a query per request.
    is_portal = models.BooleanField(default=False, editable=False)

    def __str__(self) -> str:
        full = self.get_full_name()
        if full and self.credential:
            return f"{full}, {self.credential}"
        return full or self.username


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only a SHA-256 of the secret is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A user's set of one-time recovery codes, as a django-otp device so that a code verifies a
    session exactly like a TOTP code does. Only a SHA-256 of each code is stored; the codes are
    shown once, when generated."""

    class Meta(Device.Meta):
        verbose_name = "recovery code set"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: Any) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = recovery_code_hash(str(token))
        used = self.codes.filter(code_hash=digest, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if used:
            self.throttle_reset()
            return True
        self.throttle_increment()
        return False

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code {self.code_hash[:8]}… ({'used' if self.used_at else 'unused'})"


def recovery_code_hash(code: str) -> str:
    """Codes are compared case- and separator-insensitively ("ABCD-efgh" == "abcdefgh")."""
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()
