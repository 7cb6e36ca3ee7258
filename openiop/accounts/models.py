from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


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
