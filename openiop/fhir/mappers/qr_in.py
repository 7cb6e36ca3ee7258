"""Read a QuestionnaireResponse as form tools write it (pure: no database, no Django).

``parse(resource) -> ParsedResponse(instrument_key, answers, authored, subject_ref)`` where
``answers`` maps our item linkIds to our answer codes (``instruments.base.AnswerOption.code``),
ready for ``questionnaires.services.response_record``. Bad input raises :class:`FhirInputError`
with a FHIRPath-like ``expression`` naming the element (``QuestionnaireResponse.item[3]``).

Accepted (issue 11, the shapes LHC-Forms and the SDC examples produce):

* the questionnaire named by our canonical URL (``urn:openiop:fhir:Questionnaire/phq9``), by any
  URL whose last segment is our key or the LOINC panel code (``http://loinc.org/q/44249-1``,
  ``http://example.org/fhir/Questionnaire/44249-1``, a ``|version`` suffix ignored), or by the bare
  panel code. Without ``questionnaire`` the instrument is the one whose items the answered items
  are (when exactly one instrument fits);
* items identified by ``linkId`` = our linkId / the LOINC item code, with or without a leading
  ``/`` (LHC-Forms writes ``/44250-9`` and ``/44249-1/44250-9`` for nested items: the last path
  segment counts), or else by ``item.code[*].code``; in any order; groups (and items nested under
  answers) are flattened;
* answers as LOINC answer codes (``valueCoding.code`` = LA...), our own codes (``valueCoding`` in
  ``urn:openiop:answers:<key>``), ordinal values (``valueInteger``, an integral ``valueDecimal``, a
  ``valueCoding`` whose code is a number in another or no system, or a ``valueCoding`` carrying the
  ``ordinalValue`` extension), and ``valueBoolean`` for yes/no items.

Ordinal values are the scored values (``AnswerOption.value``), which differ from our codes only on
reverse-scored items (DAST-10 item 3: "No" scores 1).

Ignored: items with no answer (display items, groups, skipped questions: a skipped *required*
item is then reported missing), and an item carrying the instrument's own total score (LOINC
total code, e.g. 44261-6 that LHC-Forms calculates): the score is always recomputed.

Refused: an unknown questionnaire, an answered item the instrument does not have, an item
answered twice or with more than one answer, an answer not among the item's options, a missing
item (the instrument's validation names it), ``status`` other than completed/amended, and an
``authored`` without a time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from openiop.questionnaires.instruments import registry
from openiop.questionnaires.instruments.base import AnswerError, AnswerOption, Instrument, Item

CANONICAL_PREFIX = "urn:openiop:fhir:Questionnaire/"
ANSWER_SYSTEM_PREFIX = "urn:openiop:answers:"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ROOT = "QuestionnaireResponse"
YES_LOINC, NO_LOINC = "LA33-6", "LA32-8"


class FhirInputError(ValueError):
    """Input the server cannot accept; ``expression`` names the element (OperationOutcome
    ``issue.expression``)."""

    def __init__(self, message: str, expression: str = ROOT) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression


@dataclass(frozen=True)
class ParsedResponse:
    instrument_key: str
    answers: dict[str, int]
    authored: dt.datetime | None
    subject_ref: str | None


# -- questionnaire ---------------------------------------------------------------------------
def _by_name() -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for instrument in registry.INSTRUMENTS.values():
        out[instrument.key] = instrument
        if instrument.panel_loinc:
            out[instrument.panel_loinc] = instrument
    return out


def instrument_for(questionnaire: str) -> Instrument | None:
    """The instrument a canonical URL (or bare key / panel code) names, or None."""
    name = questionnaire.strip().split("|", 1)[0].rstrip("/")
    if name.startswith(CANONICAL_PREFIX):
        name = name[len(CANONICAL_PREFIX) :]
    last = name.rsplit("/", 1)[-1]
    return _by_name().get(last)


# -- items -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Answered:
    path: str
    link_id: str
    codes: tuple[str, ...]
    answers: tuple[Any, ...]


def _walk(items: Any, path: str) -> Iterator[_Answered]:
    if items is None:
        return
    if not isinstance(items, list):
        raise FhirInputError("item must be a list", path)
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise FhirInputError("an item must be an object", here)
        link_id = item.get("linkId")
        if not isinstance(link_id, str) or not link_id.strip():
            raise FhirInputError("item has no linkId", here)
        codes = tuple(
            str(c.get("code"))
            for c in item.get("code") or []
            if isinstance(c, dict) and c.get("code")
        )
        answers = item.get("answer") or []
        if not isinstance(answers, list):
            raise FhirInputError("answer must be a list", f"{here}.answer")
        yield _Answered(here, link_id.strip(), codes, tuple(answers))
        yield from _walk(item.get("item"), f"{here}.item")
        for a_index, answer in enumerate(answers):
            if isinstance(answer, dict):
                yield from _walk(answer.get("item"), f"{here}.answer[{a_index}].item")


def _item_index(instrument: Instrument) -> dict[str, Item]:
    out: dict[str, Item] = {}
    for item in instrument.items:
        out[item.link_id] = item
        if item.loinc:
            out[item.loinc] = item
    return out


def _match(index: dict[str, Item], answered: _Answered) -> Item | None:
    segment = answered.link_id.rstrip("/").rsplit("/", 1)[-1]
    for key in (answered.link_id, segment, *answered.codes):
        if key in index:
            return index[key]
    return None


def _guess_instrument(answered: list[_Answered]) -> Instrument | None:
    with_answers = [a for a in answered if a.answers]
    if not with_answers:
        return None
    fits = [
        instrument
        for instrument in registry.INSTRUMENTS.values()
        if all(
            _match(_item_index(instrument), a) is not None
            or (instrument.total_loinc and _is_total(instrument, a))
            for a in with_answers
        )
    ]
    return fits[0] if len(fits) == 1 else None


def _is_total(instrument: Instrument, answered: _Answered) -> bool:
    if not instrument.total_loinc:
        return False
    segment = answered.link_id.rstrip("/").rsplit("/", 1)[-1]
    return instrument.total_loinc in (answered.link_id, segment, *answered.codes)


# -- answers ---------------------------------------------------------------------------------
def _by_value(item: Item, value: Any, where: str) -> AnswerOption:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise FhirInputError(f"{value!r} is not a number", where) from None
    matches = [o for o in item.options if Decimal(o.value) == number]
    if len(matches) == 1:
        return matches[0]
    allowed = ", ".join(str(o.value) for o in item.options)
    if matches:
        raise FhirInputError(f"ordinal value {value} is ambiguous for item {item.label}", where)
    raise FhirInputError(
        f"item {item.label} (linkId {item.link_id}): ordinal value {value} is not one of {allowed}",
        where,
    )


def _ordinal_extension(coding: dict[str, Any]) -> Any:
    for ext in coding.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == ORDINAL_VALUE:
            for key in ("valueDecimal", "valueInteger"):
                if key in ext:
                    return ext[key]
    return None


def _from_coding(instrument: Instrument, item: Item, coding: Any, where: str) -> AnswerOption:
    if not isinstance(coding, dict):
        raise FhirInputError("valueCoding must be an object", where)
    code = str(coding.get("code") or "").strip()
    system = str(coding.get("system") or "")
    for option in item.options:
        if option.loinc and option.loinc == code:
            return option
    if code and system == f"{ANSWER_SYSTEM_PREFIX}{instrument.key}":
        for option in item.options:
            if str(option.code) == code:
                return option
    elif code.lstrip("-").isdigit():
        return _by_value(item, code, where)
    ordinal = _ordinal_extension(coding)
    if ordinal is not None:
        return _by_value(item, ordinal, where)
    allowed = ", ".join(o.loinc or f"{ANSWER_SYSTEM_PREFIX}{instrument.key}|{o.code}"
                        for o in item.options)  # fmt: skip
    shown = f"{system}|{code}" if system else code or "(no code)"
    raise FhirInputError(
        f"item {item.label} (linkId {item.link_id}): answer {shown} is not one of {allowed}", where
    )


def _from_boolean(item: Item, value: Any, where: str) -> AnswerOption:
    wanted = YES_LOINC if value else NO_LOINC
    for option in item.options:
        if option.loinc == wanted:
            return option
    raise FhirInputError(f"item {item.label} (linkId {item.link_id}) is not a yes/no item", where)


def _decode(instrument: Instrument, item: Item, answer: Any, where: str) -> int:
    if not isinstance(answer, dict):
        raise FhirInputError("an answer must be an object", where)
    if "valueCoding" in answer:
        return _from_coding(instrument, item, answer["valueCoding"], f"{where}.valueCoding").code
    if "valueInteger" in answer:
        value = answer["valueInteger"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise FhirInputError("valueInteger must be a whole number", f"{where}.valueInteger")
        return _by_value(item, value, f"{where}.valueInteger").code
    if "valueDecimal" in answer:
        value = answer["valueDecimal"]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise FhirInputError("valueDecimal must be a number", f"{where}.valueDecimal")
        return _by_value(item, value, f"{where}.valueDecimal").code
    if "valueBoolean" in answer and isinstance(answer["valueBoolean"], bool):
        return _from_boolean(item, answer["valueBoolean"], f"{where}.valueBoolean").code
    kinds = ", ".join(sorted(k for k in answer if k.startswith("value"))) or "no value"
    raise FhirInputError(
        f"item {item.label} (linkId {item.link_id}): unsupported answer ({kinds}); send "
        "valueCoding, valueInteger or valueDecimal",
        where,
    )


# -- the rest --------------------------------------------------------------------------------
def _authored(value: Any) -> dt.datetime | None:
    where = f"{ROOT}.authored"
    if value in (None, ""):
        return None
    if not isinstance(value, str) or "T" not in value:
        raise FhirInputError("authored must be a date and time with a time zone", where)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FhirInputError(f"authored {value!r} is not a FHIR dateTime", where) from None
    if parsed.tzinfo is None:
        raise FhirInputError("authored needs a time zone", where)
    return parsed


def _subject(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FhirInputError("subject must be a Reference", f"{ROOT}.subject")
    reference = value.get("reference")
    return reference if isinstance(reference, str) and reference else None


def parse(resource: dict[str, Any]) -> ParsedResponse:
    if not isinstance(resource, dict) or resource.get("resourceType") != ROOT:
        raise FhirInputError("expected a QuestionnaireResponse", f"{ROOT}.resourceType")
    status = resource.get("status")
    if status is not None and status not in ("completed", "amended"):
        raise FhirInputError(
            f"status {status!r}: only a completed response can be recorded", f"{ROOT}.status"
        )
    answered = list(_walk(resource.get("item"), f"{ROOT}.item"))

    questionnaire = resource.get("questionnaire")
    if questionnaire:
        if not isinstance(questionnaire, str):
            raise FhirInputError("questionnaire must be a canonical URL", f"{ROOT}.questionnaire")
        instrument = instrument_for(questionnaire)
        if instrument is None:
            raise FhirInputError(
                f"unknown questionnaire {questionnaire!r}; known: "
                + ", ".join(f"{CANONICAL_PREFIX}{k}" for k in registry.KEYS),
                f"{ROOT}.questionnaire",
            )
    else:
        instrument = _guess_instrument(answered)
        if instrument is None:
            raise FhirInputError(
                "no questionnaire given and the items match no single instrument",
                f"{ROOT}.questionnaire",
            )

    index = _item_index(instrument)
    answers: dict[str, int] = {}
    where_of: dict[str, str] = {}
    for entry in answered:
        if not entry.answers or _is_total(instrument, entry):
            continue
        item = _match(index, entry)
        if item is None:
            raise FhirInputError(
                f"{instrument.short_title} has no item {entry.link_id!r}", entry.path
            )
        if item.link_id in answers:
            raise FhirInputError(
                f"item {item.label} (linkId {item.link_id}) is answered twice "
                f"(also at {where_of[item.link_id]})",
                entry.path,
            )
        if len(entry.answers) != 1:
            raise FhirInputError(
                f"item {item.label} (linkId {item.link_id}) needs exactly one answer",
                f"{entry.path}.answer",
            )
        answers[item.link_id] = _decode(
            instrument, item, entry.answers[0], f"{entry.path}.answer[0]"
        )
        where_of[item.link_id] = entry.path

    try:
        instrument.validate(answers)
    except AnswerError as exc:
        raise FhirInputError(str(exc), where_of.get(exc.link_id, f"{ROOT}.item")) from None

    return ParsedResponse(
        instrument_key=instrument.key,
        answers={i.link_id: answers[i.link_id] for i in instrument.items},
        authored=_authored(resource.get("authored")),
        subject_ref=_subject(resource.get("subject")),
    )
