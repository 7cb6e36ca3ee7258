"""``openiop fhir client create|list|revoke``: FHIR clients and their bearer tokens.

    openiop fhir client create --name "Dr. Lee's app" --kind user --user lee --scopes "user/*.rs"
    openiop fhir client create --name "County Hospital" --kind system --scopes "system/*.rs" \\
        --recipient-org "County Hospital" --purpose treatment
    openiop fhir client create --name "Warehouse" --kind system --internal --scopes "system/*.rs"
    openiop fhir client create --name "My app" --kind patient --patient MRN --scopes "patient/*.rs"
    openiop fhir client list
    openiop fhir client revoke fhir_AbC123

The token is printed once; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from openiop.fhir.models import FhirClient


def client_args(p: CommandParser) -> None:
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("prefix", nargs="?", help="revoke: the token's first characters (fhir_xxxxxx)")
    p.add_argument("--org", help="the organization's slug (optional when there is only one)")
    p.add_argument("--name", default="")
    p.add_argument("--kind", choices=FhirClient.Kind.values)
    p.add_argument("--scopes", default="", help='SMART scopes, e.g. "system/*.rs"')
    p.add_argument("--user", help="user clients: the staff member's user name")
    p.add_argument("--patient", help="patient clients: the patient's MRN")
    p.add_argument("--internal", action="store_true", help="system clients of the program itself")
    p.add_argument("--recipient-org", default="", help="outside clients: the organization")
    p.add_argument("--recipient-name", default="", help="outside clients: the person")
    p.add_argument("--purpose", default="", help="outside clients: treatment, payment, ...")


def client_command(command: Any, options: dict[str, Any]) -> None:
    from openiop.accounts.models import User
    from openiop.fhir.importer import resolve_organization
    from openiop.fhir.services import fhir_client_create, fhir_client_revoke
    from openiop.patients.models import Patient

    try:
        org = resolve_organization(options.get("org"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    action = options["action"]
    if action == "list":
        for c in FhirClient.objects.for_org(org).select_related("user"):
            state = "revoked" if c.revoked_at else "active"
            who = c.recipient_organization or c.recipient_name or c.user.username
            external = "outside" if c.needs_consent else "internal"
            command.stdout.write(
                f"{c.prefix}…  {c.kind:8} {state:8} {external:9} {c.name} ({who})  {c.scopes}"
            )
        return
    if action == "revoke":
        prefix = options.get("prefix") or ""
        matches = list(FhirClient.objects.for_org(org).filter(prefix__startswith=prefix[:11]))
        if not prefix or len(matches) != 1:
            raise CommandError("give the token's first characters as listed by 'client list'")
        fhir_client_revoke(actor=None, client=matches[0])
        command.stdout.write(f"revoked {matches[0].name}")
        return
    user = patient = None
    if options.get("user"):
        user = User.objects.filter(organization=org, username=options["user"]).first()
        if user is None:
            raise CommandError(f"no staff member {options['user']!r} in {org.name}")
    if options.get("patient"):
        patient = Patient.objects.for_org(org).filter(mrn=options["patient"]).first()
        if patient is None:
            raise CommandError(f"no patient with MRN {options['patient']!r} in {org.name}")
    try:
        client, token = fhir_client_create(
            actor=None, organization=org, name=options["name"], kind=options.get("kind") or "",
            scopes=options["scopes"], user=user, patient=patient,
            is_external=not options["internal"], recipient_name=options["recipient_name"],
            recipient_organization=options["recipient_org"], purpose=options["purpose"],
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise CommandError(problems) from None
    command.stdout.write(f"FHIR client {client.name!r} ({client.kind}, {client.scopes})")
    if client.needs_consent:
        command.stdout.write(
            f"outside recipient {client.recipient_organization or client.recipient_name!r}: "
            f"patient data only under a consent covering {client.purpose!r}"
        )
    command.stdout.write(f"token (shown once): {token}")
