"""``openiop billing export --format 837p|837i|csv --from D --to D --out FILE [--payer ID]
[--organization SLUG]``: export the claims marked ready as one file.

The same service as the web page (``services_claims.claims_export``): every claim is checked
first and with any problem nothing is written; patients without a Part 2 consent to release
billing information to the payer are left out (and named). Claims written to the file become
"submitted" and the file is kept as an export batch, as from the web page.

Bad input (an unknown format, organization or payer, a date that is not YYYY-MM-DD, a period
that ends before it starts, a folder that does not exist, problems in the claims) prints
``error: ...`` to stderr and exits with status 2; nothing is written. The command acts for the
installation (no logged-in user): audit rows carry no actor and ``{"via": "cli"}``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from openiop.billing.models import Payer
from openiop.billing.services_claims import claims_export, export_candidates
from openiop.organizations.models import Organization

EXIT_BAD_INPUT = 2
FORMATS = ("837p", "837i", "csv")


class _BadInput(Exception):
    pass


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _BadInput(f"--{name} {value!r} is not a date; use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Billing tools. 'export' writes the ready claims of a period as an 837P/837I/CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ex = sub.add_parser("export", help="export ready claims as an X12 837 or CSV file")
        ex.add_argument("--format", required=True, help="837p, 837i or csv")
        ex.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        ex.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        ex.add_argument("--out", required=True, help="the file to write")
        ex.add_argument("--payer", help="only this payer (its payer id, name or public id)")
        ex.add_argument(
            "--organization", help="organization slug (needed when there is more than one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._export(options)
        except _BadInput as exc:
            self._fail(str(exc))

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            org = Organization.objects.filter(slug=slug).first()
            if org is None:
                raise _BadInput(f"no organization {slug!r}")
            return org
        # The command line acts for the installation: pick the one organization that bills.
        orgs = list(
            Organization.objects.filter(
                pk__in=Payer.unscoped.values_list("organization_id", flat=True)
            ).order_by("id")
        )
        if len(orgs) != 1:
            names = ", ".join(o.slug for o in orgs) or "none has payers"
            raise _BadInput(f"choose the organization with --organization ({names})")
        return orgs[0]

    def _payer(self, org: Organization, key: str | None) -> Payer | None:
        if not key:
            return None
        qs = Payer.objects.for_org(org.pk)
        payer = qs.filter(payer_id=key).first() or qs.filter(name__iexact=key).first()
        if payer is None:
            try:
                payer = qs.filter(public_id=key).first()
            except ValidationError:
                payer = None
        if payer is None:
            raise _BadInput(f"no payer {key!r} in {org.slug}")
        return payer

    def _export(self, options: dict[str, Any]) -> None:
        fmt = str(options["format"]).lower()
        if fmt not in FORMATS:
            raise _BadInput(f"--format {options['format']!r}: use 837p, 837i or csv")
        start, end = _date(options["start"], "from"), _date(options["end"], "to")
        if end < start:
            raise _BadInput("--to is before --from")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise _BadInput(f"cannot write {out}: the folder {out.parent} does not exist")
        org = self._organization(options.get("organization"))
        payer = self._payer(org, options.get("payer"))
        total = len(export_candidates(org.pk, fmt, start, end, payer))
        with tqdm(
            total=total, desc="Checking consents", unit="claim", file=self.stderr._out,
            leave=False, disable=options.get("verbosity", 1) == 0 or total < 20,
        ) as bar:  # fmt: skip
            result = claims_export(
                actor=None, organization=org, fmt=fmt, start=start, end=end, payer=payer,
                progress=bar.update, via="cli",
            )  # fmt: skip
        for r in result.refused:
            self.stderr.write(
                f"left out: claim {r.claim_number} ({r.patient}, {r.payer}): no consent covers "
                "the release. " + " ".join(r.reasons),
                style_func=lambda s: s,
            )
        if result.batch is None:
            raise _BadInput("nothing exported:\n  " + "\n  ".join(result.problems))
        batch = result.batch
        try:
            out.write_text(batch.content, encoding="utf-8", newline="")
        except OSError as exc:
            raise _BadInput(
                f"cannot write {out}: {exc.strerror or exc}; the export is kept as "
                f"{batch.filename} (download it from the claim files page)"
            ) from None
        self.stdout.write(
            f"wrote {out}: {batch.claim_count} claim(s), ${batch.total_charge}, "
            f"sha256 {batch.sha256}"
            + (f", interchange {batch.interchange_control_number:09d}"
               if batch.interchange_control_number else "")
        )  # fmt: skip

    def _fail(self, message: str) -> NoReturn:
        self.stderr.write(f"error: {message}", style_func=lambda s: s)
        raise SystemExit(EXIT_BAD_INPUT)
