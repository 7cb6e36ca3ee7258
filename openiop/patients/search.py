"""Patient search by word prefix, at the same cost for 200 or 20,000 patients.

Each patient's names (first, last, preferred) and MRN are cut into words; every word (and each
name with its punctuation and spaces removed, so "OBrien" finds "O'Brien") is stored in
:class:`~openiop.patients.models.PatientSearchTerm`. A search word matches a patient who has a
stored word starting with it, and every search word must match ("dan whit" finds Dana
Whitfield). Matching ignores case and accents ("jose" finds José). The number in an MRN is a
word of its own, with and without its leading zeros ("42" finds RB-000042). The middle of a
word is not a match ("donald" does not find McDonald): search from the start of a name.

Words are stored hex-encoded (UTF-8 bytes as hex digits): a prefix is then the index range
``[hex(word), hex(word) + "g")``, and strings of hex digits sort the same under every database
collation, so the range is right on SQLite and on a PostgreSQL cluster of any locale.

``Patient.save`` keeps the words current; code that writes patients with ``bulk_create`` calls
:func:`index_patients` (the demo generators do).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_WORD = re.compile(r"[^\W_]+")
MAX_WORD = 50  # characters of a word kept; the stored key is at most 50 bytes (100 hex digits)


def normalize(text: str) -> str:
    """Lower case, accents removed, compatibility forms folded ("Ｊｏｓé" -> "jose")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The search words of ``text`` (order kept, duplicates dropped)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(normalize(text)):
        seen.setdefault(word[:MAX_WORD], None)
    return list(seen)


def encode(word: str) -> str:
    """A word's key: its first 50 UTF-8 bytes as hex (the query side is cut the same way)."""
    return word.encode("utf-8")[:50].hex()


def prefix_range(word: str) -> tuple[str, str]:
    """The stored-key range of every word that starts with ``word``."""
    key = encode(word)
    return key, key + "g"


def terms_of(*, first_name: str, last_name: str, preferred_name: str, mrn: str) -> set[str]:
    """Every stored word of one patient (not yet encoded)."""
    terms: set[str] = set()
    for field in (first_name, last_name, preferred_name, mrn):
        parts = words(field)
        terms.update(parts)
        if len(parts) > 1:
            terms.add("".join(parts)[:MAX_WORD])
    # An MRN's number as people say it: "RB-000042" and "GL000042" are found by "42" and by
    # "000042" as well as by their start.
    for digits in re.findall(r"\d+", mrn):
        terms.add(digits[:MAX_WORD])
        if digits.lstrip("0"):
            terms.add(digits.lstrip("0")[:MAX_WORD])
    return terms


def index_patients(patients: Iterable[Any], *, new: bool = False) -> int:
    """(Re)write the search words of ``patients`` (saved rows; ``new``: just inserted, so there
    is nothing to delete first); returns the rows written."""
    from openiop.patients.models import PatientSearchTerm

    patients = [p for p in patients if p.pk is not None]
    if not patients:
        return 0
    if not new:
        PatientSearchTerm.objects.filter(patient_id__in=[p.pk for p in patients]).delete()
    rows = [
        PatientSearchTerm(organization_id=p.organization_id, patient_id=p.pk, key=encode(term))
        for p in patients
        for term in sorted(
            terms_of(
                first_name=p.first_name, last_name=p.last_name,
                preferred_name=p.preferred_name, mrn=p.mrn,
            )
        )
    ]  # fmt: skip
    PatientSearchTerm.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
