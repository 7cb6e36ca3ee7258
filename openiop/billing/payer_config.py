"""A payer row's settings -> :class:`~openiop.billing.charge_rules.PayerRules`. Pure, no Django.

A payer is stored with a billing model (per diem, per service, Medicare IOP), a claim type, a fee
schedule (code -> amount), an optional group-size cap and a JSON object of *overrides*: any
:class:`PayerRules` field by name, in plain JSON types. This module turns that into the frozen
rules the charge capture and scrubber use, and says in words what is wrong with an override
(unknown name, wrong type, an unknown code), so the payer form can show it on the field.

    rules = payer_rules(billing_model="per_diem", claim_type="professional",
                        fee_schedule={"H0015": "185.00"}, overrides={"per_diem_min_minutes": 150})

Overrides a payer may set (the others, e.g. ``bands``, stay the documented defaults):

* numbers: ``per_diem_min_minutes``, ``per_diem_min_days_per_week``,
  ``medicare_min_services_per_day``, ``medicare_higher_category_min``, ``group_size_warning``,
  ``recertification_interval``;
* true / false: ``prorate_partial_weeks``, ``certification_required``;
* text (or null): ``telehealth_pos_home``, ``telehealth_pos_other``, ``video_modifier``,
  ``audio_only_modifier``, ``recertification_unit`` ("months" / "days"), ``default_screen_method``;
* lists: ``condition_codes``, ``authorization_required_for`` (codes),
  ``per_diem_unbundled_kinds`` (service kinds), ``allowed_modalities``;
* objects: ``per_diem_codes``, ``program_revenue_codes``, ``in_person_pos`` (program kind ->
  code), ``revenue_codes_by_kind`` (service kind -> revenue code), ``code_modifiers``
  (code -> list of modifiers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from openiop.billing.charge_rules import (
    BillingModel,
    ClaimType,
    Modality,
    PayerRules,
    ProgramKind,
    ScreenMethod,
    ServiceKind,
    medicare_iop_rules,
    per_diem_rules,
    per_service_rules,
)

__all__ = ["RulesError", "base_rules", "check_fee_schedule", "payer_rules", "OVERRIDABLE"]

_CODE = re.compile(r"^[A-Z0-9]{5}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
_REVENUE = re.compile(r"^[0-9]{4}$")
_POS = re.compile(r"^[0-9]{2}$")
MAX_FEE = Decimal("99999.99")


class RulesError(ValueError):
    """What is wrong with a payer's settings: ``errors`` maps a key to a sentence."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def conv(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number from {lo} to {hi}")
        if not lo <= value <= hi:
            raise ValueError(f"must be from {lo} to {hi}")
        return value

    return conv


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _text(pattern: re.Pattern[str], what: str, *, nullable: bool = False) -> Callable[[Any], Any]:
    def conv(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not pattern.match(value.strip().upper()):
            raise ValueError(f"must be {what}" + (" or null" if nullable else ""))
        return value.strip().upper()

    return conv


def _choice(enum: Any, *, nullable: bool = False) -> Callable[[Any], Any]:
    values = [m.value for m in enum]

    def conv(value: Any) -> Any:
        if value is None and nullable:
            return None
        if value not in values:
            raise ValueError("must be one of " + ", ".join(values))
        return enum(value)

    return conv


def _list(item: Callable[[Any], Any], kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def conv(value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        return kind(item(v) for v in value)

    return conv


def _mapping(key: Callable[[Any], Any], val: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def conv(value: Any) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        return {key(k): val(v) for k, v in value.items()}

    return conv


def _unit(value: Any) -> str:
    if value not in ("months", "days"):
        raise ValueError('must be "months" or "days"')
    return str(value)


_code = _text(_CODE, "a 5-character HCPCS/CPT code such as H0015")
_modifier = _text(_MODIFIER, "a 2-character modifier such as 95")
_revenue = _text(_REVENUE, "a 4-digit revenue code such as 0905")
_pos = _text(_POS, "a 2-digit place-of-service code such as 57")

OVERRIDABLE: dict[str, Callable[[Any], Any]] = {
    "per_diem_min_minutes": _int(1, 1440),
    "per_diem_min_days_per_week": _int(1, 7),
    "prorate_partial_weeks": _bool,
    "medicare_min_services_per_day": _int(1, 20),
    "medicare_higher_category_min": _int(2, 21),
    "group_size_warning": _int(1, 100),
    "certification_required": _bool,
    "recertification_interval": _int(1, 365),
    "recertification_unit": _unit,
    "telehealth_pos_home": _pos,
    "telehealth_pos_other": _pos,
    "video_modifier": _text(_MODIFIER, "a 2-character modifier", nullable=True),
    "audio_only_modifier": _text(_MODIFIER, "a 2-character modifier", nullable=True),
    "default_screen_method": _choice(ScreenMethod, nullable=True),
    "condition_codes": _list(_text(re.compile(r"^[0-9A-Z]{2}$"), "a 2-character code"), tuple),
    "authorization_required_for": _list(_code, frozenset),
    "per_diem_unbundled_kinds": _list(_choice(ServiceKind), frozenset),
    "allowed_modalities": _list(_choice(Modality), frozenset),
    "per_diem_codes": _mapping(_choice(ProgramKind), _code),
    "program_revenue_codes": _mapping(_choice(ProgramKind), _revenue),
    "in_person_pos": _mapping(_choice(ProgramKind), _pos),
    "revenue_codes_by_kind": _mapping(_choice(ServiceKind), _revenue),
    "code_modifiers": _mapping(_code, _list(_modifier, tuple)),
}


def base_rules(billing_model: str) -> PayerRules:
    """The documented starting point for a billing model."""
    model = BillingModel(billing_model)
    if model == BillingModel.PER_SERVICE:
        return per_service_rules()
    if model == BillingModel.MEDICARE_IOP:
        return medicare_iop_rules()
    return per_diem_rules()


def check_fee_schedule(fee_schedule: Any) -> dict[str, Decimal]:
    """``{"H0015": "185.00", ...}`` as codes -> Decimal, or RulesError naming the bad entry."""
    if fee_schedule in (None, ""):
        return {}
    if not isinstance(fee_schedule, dict):
        raise RulesError({"fee_schedule": 'must be an object like {"H0015": "185.00"}'})
    fees: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for raw_code, raw_fee in fee_schedule.items():
        code = str(raw_code).strip().upper()
        if not _CODE.match(code):
            errors[f"fee_schedule.{raw_code}"] = "is not a 5-character HCPCS/CPT code"
            continue
        try:
            fee = Decimal(str(raw_fee))
        except (InvalidOperation, ValueError):
            errors[f"fee_schedule.{code}"] = "is not an amount"
            continue
        if not fee.is_finite() or fee <= 0 or fee > MAX_FEE:
            errors[f"fee_schedule.{code}"] = f"must be above 0 and at most {MAX_FEE}"
            continue
        fees[code] = fee.quantize(Decimal("0.01"))
    if errors:
        raise RulesError(errors)
    return fees


def payer_rules(
    *,
    billing_model: str,
    claim_type: str,
    fee_schedule: Any = None,
    overrides: Any = None,
    name: str = "",
    group_size_cap: int | None = None,
    extra_overrides: Any = None,
) -> PayerRules:
    """The payer's rules. ``extra_overrides`` (a program-specific rule) win over ``overrides``.
    Raises :class:`RulesError` with every problem found."""
    errors: dict[str, str] = {}
    try:
        claim = ClaimType(claim_type)
    except ValueError:
        errors["claim_type"] = "must be professional or institutional"
        claim = ClaimType.PROFESSIONAL
    try:
        rules = base_rules(billing_model)
    except ValueError:
        errors["billing_model"] = "must be per_diem, per_service or medicare_iop"
        rules = per_diem_rules()
    try:
        fees = check_fee_schedule(fee_schedule)
    except RulesError as exc:
        errors.update(exc.errors)
        fees = {}
    changes: dict[str, Any] = {"claim_type": claim, "fees": fees}
    if name:
        changes["name"] = name
    if group_size_cap is not None:
        changes["max_group_size"] = group_size_cap
    for label, data in (("overrides", overrides), ("program overrides", extra_overrides)):
        if data in (None, ""):
            continue
        if not isinstance(data, dict):
            errors[label] = "must be a JSON object of rule names and values"
            continue
        for key, value in data.items():
            conv = OVERRIDABLE.get(key)
            if conv is None:
                errors[str(key)] = "is not a rule a payer can set"
                continue
            try:
                changes[key] = conv(value)
            except ValueError as exc:
                errors[str(key)] = str(exc)
    if errors:
        raise RulesError(errors)
    try:
        return replace(rules, **changes)
    except ValueError as exc:  # PayerRules' own consistency checks
        raise RulesError({"overrides": str(exc)}) from None
