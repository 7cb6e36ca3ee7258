"""``openiop token create --user NAME [--name LABEL]`` and ``openiop token revoke --prefix P``.

``create`` prints only the raw token, on one line, so it can be captured by a script
(``TOKEN=$(openiop token create --user alice)``). It is shown once: only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from openiop.accounts.models import ApiToken, User
from openiop.accounts.tokens import token_create
from openiop.core.audit import audit_log
from openiop.core.models import AuditEvent

CAT = AuditEvent.Category.ADMINISTRATIVE


class Command(BaseCommand):
    help = "Create or revoke API tokens for the JSON API (/api/v1/)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,revoke}")
        create = sub.add_parser("create", help="Create a token and print it (once).")
        create.add_argument("--user", required=True, help="Username of the token's owner")
        create.add_argument("--name", default="", help="A label, e.g. 'nightly export'")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix (oiop_xxxxxx).")
        revoke.add_argument("--prefix", required=True, help="The first 11 characters")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options["user"], options["name"])
        else:
            self._revoke(options["prefix"])

    def _create(self, username: str, name: str) -> None:
        user = User.objects.select_related("organization").filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username} is deactivated.")
        if user.organization_id is None:
            raise CommandError(f"{username} belongs to no organization; the API would refuse it.")
        if len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("--name is too long (at most 100 characters).")
        token, raw = token_create(user=user, name=name)
        audit_log(
            actor=None,
            action="openiop.accounts.token.create",
            category=CAT,
            organization=user.organization,
            detail={"user": user.username, "prefix": token.prefix, "name": name},
        )
        self.stdout.write(raw)

    def _revoke(self, prefix: str) -> None:
        tokens = list(
            ApiToken.objects.select_related("user", "user__organization").filter(
                prefix=prefix.strip(), revoked_at__isnull=True
            )
        )
        if not tokens:
            raise CommandError(f"No active token starts with {prefix!r}.")
        if len(tokens) > 1:
            raise CommandError(f"{len(tokens)} tokens start with {prefix!r}; none was revoked.")
        token = tokens[0]
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        audit_log(
            actor=None,
            action="openiop.accounts.token.revoke",
            category=CAT,
            organization=token.user.organization,
            detail={"user": token.user.username, "prefix": token.prefix},
        )
        self.stdout.write(f"Revoked {token.prefix}… of {token.user.username}.")
