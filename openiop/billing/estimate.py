"""What treatment will cost the patient: an IOP cost estimate, a Good Faith Estimate for
self-pay and uninsured patients, and the same weeks of residential treatment beside it.
Pure: numbers in, numbers and sentences out (no Django).

How the numbers are made (``docs/guide/billing.md`` says it for staff):

* **Expected treatment**: the program's typical length in weeks, its weekly hours (the
  program's minimum, 9 h for an adult IOP) and days a week (3). Staff may change them.
* **Charges**: with a payer that pays a per-diem rate, days x the payer's rate for the IOP
  code (H0015 / S9480); otherwise hours x the clinic's price per hour (configurable; virtual IOPs
  are commonly offered under $50 an hour, issue #8).
* **Who pays what** (insured): the deductible still to meet is paid first by the patient, then a
  copay per day of treatment, then the coinsurance percentage of what is left; the patient's
  total is capped at what remains of the out-of-pocket maximum, when known. The payer pays the
  rest. Plans apply these differently (some charge a copay *instead of* coinsurance); the page
  says so.
* **Self-pay / uninsured**: the patient pays the charges; the estimate is an itemized Good Faith
  Estimate (No Surprises Act) with the required explanation of the right to dispute a bill that
  is $400 or more above it.
* **Residential comparison**: the same weeks, 7 days a week, at a configurable daily rate
  (default an assumption, see ``DEFAULT_RESIDENTIAL_DAILY_RATE``), with the same cost sharing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "DEFAULT_PRICE_PER_HOUR",
    "DEFAULT_RESIDENTIAL_DAILY_RATE",
    "GFE_NOTICE",
    "CostSharing",
    "Estimate",
    "Item",
    "Share",
    "TreatmentPlan",
    "estimate",
    "split_cost",
]

CENT = Decimal("0.01")
# The clinic's list price per hour of IOP when no payer rate applies. Issue #8: virtual IOPs
# are offered at under $50 an hour; change it in the billing settings.
DEFAULT_PRICE_PER_HOUR = Decimal("45.00")
# A day of private residential treatment. An ASSUMPTION for the comparison, not a quote: a
# commonly republished figure (National Center for Drug Abuse Statistics, private inpatient
# facilities $500-$650 a day, about $575 on average, 2016 study adjusted to 2022). Set your
# region's figure in the billing settings.
DEFAULT_RESIDENTIAL_DAILY_RATE = Decimal("575.00")
DISPUTE_THRESHOLD = Decimal("400")

# The Good Faith Estimate explanation (No Surprises Act, 45 CFR 149.610), in our own words.
GFE_NOTICE: tuple[str, ...] = (
    "This Good Faith Estimate shows the costs of the items and services we reasonably expect "
    "for your treatment, based on what we know today. It is an estimate, not a bill and not a "
    "contract, and you do not have to get these services from us.",
    "It does not include costs nobody can foresee yet. If your treatment changes (more weeks, "
    "extra services), your bill can be higher.",
    "If your bill is $400 or more above this estimate, federal law lets you dispute it. You can "
    "ask us to update the bill to match the estimate, to negotiate it, or whether financial "
    "help is available. You can also start the federal patient-provider dispute resolution "
    "process within 120 calendar days of the date on the bill.",
    "Keep a copy of this estimate. For questions about your rights, visit "
    "www.cms.gov/nosurprises or call 1-800-985-3059.",
)
INSURED_NOTICE: tuple[str, ...] = (
    "This is an estimate, not a bill. Your health plan decides what it pays when it receives "
    "the claims; the amounts here use the coverage details on file with us (deductible, copay, "
    "coinsurance) and can change if your plan's benefits differ.",
    "Plans apply cost sharing differently (for example a copay instead of coinsurance). Call "
    "the member services number on your insurance card to check.",
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TreatmentPlan:
    """The treatment the estimate assumes."""

    weeks: int
    hours_per_week: Decimal
    days_per_week: int

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= 52:
            raise ValueError("weeks must be from 1 to 52")
        if not Decimal(0) < self.hours_per_week <= Decimal(60):
            raise ValueError("hours per week must be above 0 and at most 60")
        if not 1 <= self.days_per_week <= 7:
            raise ValueError("days per week must be from 1 to 7")

    @property
    def days(self) -> int:
        return self.weeks * self.days_per_week

    @property
    def hours(self) -> Decimal:
        return self.hours_per_week * self.weeks

    @property
    def hours_per_day(self) -> Decimal:
        return self.hours_per_week / self.days_per_week


@dataclass(frozen=True)
class CostSharing:
    """The patient's share under their coverage. ``None`` out-of-pocket remaining = unknown."""

    copay_per_day: Decimal = Decimal(0)
    coinsurance_percent: Decimal = Decimal(0)
    deductible_remaining: Decimal = Decimal(0)
    out_of_pocket_remaining: Decimal | None = None

    def __post_init__(self) -> None:
        if self.copay_per_day < 0 or self.deductible_remaining < 0:
            raise ValueError("copay and deductible must not be negative")
        if not Decimal(0) <= self.coinsurance_percent <= Decimal(100):
            raise ValueError("coinsurance must be from 0 to 100 percent")
        if self.out_of_pocket_remaining is not None and self.out_of_pocket_remaining < 0:
            raise ValueError("the out-of-pocket amount left must not be negative")


@dataclass(frozen=True)
class Share:
    """How ``charges`` split between the patient and the payer."""

    charges: Decimal
    deductible: Decimal
    copay: Decimal
    coinsurance: Decimal
    patient: Decimal
    payer: Decimal
    capped: bool = False  # the out-of-pocket maximum limited the patient's share


def split_cost(charges: Decimal, days: int, sharing: CostSharing | None) -> Share:
    """Deductible first, then a copay per day, then coinsurance on what is left; capped at the
    out-of-pocket maximum left. No coverage (``None``): the patient pays everything."""
    charges = _money(charges)
    if sharing is None:
        return Share(charges, Decimal(0), Decimal(0), Decimal(0), charges, Decimal(0))
    deductible = min(charges, _money(sharing.deductible_remaining))
    rest = charges - deductible
    copay = min(rest, _money(sharing.copay_per_day * days))
    rest -= copay
    coinsurance = _money(rest * sharing.coinsurance_percent / Decimal(100))
    patient = deductible + copay + coinsurance
    capped = False
    if sharing.out_of_pocket_remaining is not None and patient > sharing.out_of_pocket_remaining:
        patient = _money(sharing.out_of_pocket_remaining)
        capped = True
    return Share(charges, deductible, copay, coinsurance, patient, charges - patient, capped)


@dataclass(frozen=True)
class Item:
    """One line of the itemized estimate."""

    description: str
    code: str
    quantity: Decimal
    unit: str  # "day" or "hour"
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True)
class Estimate:
    plan: TreatmentPlan
    items: tuple[Item, ...]
    price_per_hour: Decimal
    total: Decimal
    share: Share
    self_pay: bool
    residential_daily_rate: Decimal
    residential_days: int
    residential_total: Decimal
    residential_share: Share
    notices: tuple[str, ...]

    @property
    def is_good_faith_estimate(self) -> bool:
        return self.self_pay

    @property
    def patient_per_week(self) -> Decimal:
        return _money(self.share.patient / self.plan.weeks)

    @property
    def savings(self) -> Decimal:
        """What the patient pays less than for residential treatment (0 when not less)."""
        return max(Decimal(0), self.residential_share.patient - self.share.patient)

    @property
    def dispute_threshold(self) -> Decimal:
        """A bill at or above this amount may be disputed (Good Faith Estimates only)."""
        return self.total + DISPUTE_THRESHOLD


def _plural(n: Decimal | int, word: str) -> str:
    text = f"{Decimal(n).normalize():f}"
    return f"{text} {word}" + ("" if Decimal(n) == 1 else "s")


def estimate(
    *,
    plan: TreatmentPlan,
    price_per_hour: Decimal = DEFAULT_PRICE_PER_HOUR,
    day_rate: Decimal | None = None,
    code: str = "",
    sharing: CostSharing | None = None,
    self_pay: bool = False,
    residential_daily_rate: Decimal = DEFAULT_RESIDENTIAL_DAILY_RATE,
    program_name: str = "Intensive outpatient program",
) -> Estimate:
    """The estimate for ``plan``. ``day_rate`` (the payer's per-diem rate) wins over
    ``price_per_hour``. ``self_pay`` (or no ``sharing``) makes it a Good Faith Estimate."""
    if price_per_hour < 0 or (day_rate is not None and day_rate <= 0):
        raise ValueError("prices must be above 0")
    if residential_daily_rate < 0:
        raise ValueError("the residential daily rate must not be negative")
    self_pay = self_pay or sharing is None
    hours_day = plan.hours_per_day.quantize(Decimal("0.1"))
    items: list[Item] = []
    for week in range(1, plan.weeks + 1):
        what = (
            f"{program_name}, week {week}: {_plural(plan.days_per_week, 'day')} of group and "
            f"individual therapy (about {hours_day.normalize():f} hours a day)"
        )
        if day_rate is not None:
            items.append(
                Item(what, code, Decimal(plan.days_per_week), "day", _money(day_rate),
                     _money(day_rate * plan.days_per_week))
            )  # fmt: skip
        else:
            items.append(
                Item(what, code, plan.hours_per_week, "hour", _money(price_per_hour),
                     _money(price_per_hour * plan.hours_per_week))
            )  # fmt: skip
    total = sum((i.total for i in items), Decimal(0))
    effective = _money(day_rate / plan.hours_per_day) if day_rate is not None else price_per_hour
    share = split_cost(total, plan.days, None if self_pay else sharing)
    res_days = plan.weeks * 7
    res_total = _money(residential_daily_rate * res_days)
    res_share = split_cost(res_total, res_days, None if self_pay else sharing)
    return Estimate(
        plan=plan,
        items=tuple(items),
        price_per_hour=_money(effective),
        total=_money(total),
        share=share,
        self_pay=self_pay,
        residential_daily_rate=_money(residential_daily_rate),
        residential_days=res_days,
        residential_total=res_total,
        residential_share=res_share,
        notices=GFE_NOTICE if self_pay else INSURED_NOTICE,
    )
