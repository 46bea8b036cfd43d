"""Field writers for age (completed years, from a birth date or stated), sex, weight, height, body-surface
area (Mosteller) and the kidney function computed from them (CKD-EPI 2021, Cockcroft-Gault), each
worked out from the published formula and never by calling the matcher's own arithmetic.
"""
from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from matcher.model.fields import PATIENT_FIELDS
from matcher.model.measurements import LAB_TESTS

from .labs import lab_writer
from .quantities import completed_years, days, plus_months, quantity
from .trials import PATIENT
from .writers import Ctx, Token, Writer, demographics_of, set_sex


# ------------------------------------------------------------------ age, body size, derived renal function
def _birth_date_for(ctx: Ctx, years: int) -> dt.date:
    """A birth date giving ``years`` completed years on the as-of date: the birthday today, turning
    ``years + 1`` tomorrow, or a day between."""
    latest = plus_months(ctx.as_of, -12 * years)
    if completed_years(latest, ctx.as_of) != years:  # 29 February as-of date, birthday on 28 February
        latest -= days(1)
    earliest = plus_months(ctx.as_of, -12 * (years + 1)) + days(1)
    while completed_years(earliest, ctx.as_of) != years:
        earliest += days(1)
    return ctx.draw(st.one_of(st.sampled_from([latest, earliest]), st.dates(earliest, latest)))


def _write_age(ctx: Ctx, data: dict[str, Any], years: int) -> None:
    demo = demographics_of(data)
    if ctx.draw(st.integers(0, 3)) == 0:
        demo.pop("birth_date", None)
        demo["age"] = years
    else:
        demo.pop("age", None)
        demo["birth_date"] = _birth_date_for(ctx, years)


def age_writer() -> Writer:
    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        _write_age(ctx, data, int(token.value))

    return Writer("age_years", PATIENT, write, low=Fraction(0), high=Fraction(120), grid=Fraction(1))


def body_writer(name: str, low: int, high: int) -> Writer:
    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        demographics_of(data)[name] = quantity(ctx.draw, token.value, "kg" if name == "weight" else "cm")

    return Writer(name, PATIENT, write, low=Fraction(low), high=Fraction(high), places=1)


def bsa_writer() -> Writer:
    """Mosteller: BSA = sqrt(height cm x weight kg / 3600), read to 4 decimals."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        product = 3600 * token.value**2  # height x weight
        low_w, high_w = max(Fraction(1), product / 250), min(Fraction(400), product / 30)
        weight = ctx.draw(st.sampled_from(sorted({low_w, high_w, (low_w + high_w) / 2})))
        demo = demographics_of(data)
        demo["weight"] = quantity(ctx.draw, weight, "kg")
        demo["height"] = quantity(ctx.draw, product / weight, "cm")

    return Writer("body_surface_area", PATIENT, write, low=Fraction(1, 10), high=Fraction(5),
                  grid=Fraction(1, 10**4))


def ckd_epi_2021(creatinine: float, years: int, sex: str) -> float:
    """CKD-EPI 2021 (race-free), from the published equation."""
    kappa, alpha, factor = (0.7, -0.241, 1.012) if sex == "female" else (0.9, -0.302, 1.0)
    ratio = creatinine / kappa
    return 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.2 * 0.9938**years * factor


def _creatinine_entry(ctx: Ctx, amount: Fraction) -> dict[str, Any]:
    return {"test": "serum_creatinine", "value": quantity(ctx.draw, amount, "mg/dL"), "date": ctx.as_of}


def ckd_epi_writer() -> Writer:
    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        target = float(token.value)
        years, sex = ctx.draw(st.integers(18, 90)), ctx.draw(st.sampled_from(["female", "male"]))
        low, high = 0.05, 30.0  # creatinine is decreasing in eGFR: bisect for the creatinine that gives it
        if not ckd_epi_2021(high, years, sex) <= target <= ckd_epi_2021(low, years, sex):
            years, sex = 18, "female"
        for _ in range(200):
            middle = (low + high) / 2
            low, high = (middle, high) if ckd_epi_2021(middle, years, sex) > target else (low, middle)
        _write_age(ctx, data, years)
        set_sex(data, sex)
        kept = [e for e in data.get("labs") or [] if e["test"] != "serum_creatinine"]
        data["labs"] = [*kept, _creatinine_entry(ctx, Fraction(f"{low:.15g}"))]

    # read to one decimal; from an 18-year-old woman's range, so every value is reachable
    return Writer("egfr_ckd_epi_2021", PATIENT, write, low=Fraction(3), high=Fraction(200), grid=Fraction(1, 10))


def ckd_epi_same_day_as_reported_writer() -> Writer:
    """CKD-EPI 2021 from a creatinine of the as-of date, beside a lab eGFR of that day reading the same value (the
    two readings agree: where they disagree the criterion goes to the clinician, tests/test_egfr_same_day.py)."""
    computed = ckd_epi_writer()

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        computed.write(ctx, data, token)
        kept = [e for e in data.get("labs") or [] if e["test"] != "egfr"]
        written = quantity(ctx.draw, token.value, LAB_TESTS["egfr"].measure.display)
        data["labs"] = [*kept, {"test": "egfr", "value": written, "date": ctx.as_of}]

    return Writer("egfr_ckd_epi_2021_same_day_as_reported", PATIENT, write, low=computed.low, high=computed.high,
                  grid=computed.grid)


def cockcroft_gault_writer() -> Writer:
    """(140 - age) x weight / (72 x creatinine mg/dL), x 0.85 for a woman; read to one decimal."""

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        years, sex = ctx.draw(st.integers(18, 90)), ctx.draw(st.sampled_from(["female", "male"]))
        factor = Fraction(85, 100) if sex == "female" else Fraction(1)
        weight = creatinine = Fraction(0)
        for creatinine in (Fraction(1), Fraction(1, 2), Fraction(2), Fraction(1, 10), Fraction(5), Fraction(20)):
            weight = token.value * 72 * creatinine / ((140 - years) * factor)
            if 30 <= weight <= 200:
                break
        _write_age(ctx, data, years)
        set_sex(data, sex)
        demographics_of(data)["weight"] = quantity(ctx.draw, weight, "kg")
        kept = [e for e in data.get("labs") or [] if e["test"] != "serum_creatinine"]
        data["labs"] = [*kept, _creatinine_entry(ctx, creatinine)]

    return Writer("creatinine_clearance_cockcroft_gault", PATIENT, write, low=Fraction(1), high=Fraction(1000),
                  grid=Fraction(1, 10))

def egfr_either_writer(name: str) -> Writer:
    """The lab's eGFR when there is one, else CKD-EPI 2021 from creatinine."""
    reported, computed = lab_writer("egfr"), ckd_epi_writer()

    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        if ctx.draw(st.booleans()):
            reported.write(ctx, data, token)
        else:
            data["labs"] = [e for e in data.get("labs") or [] if e["test"] != "egfr"]
            computed.write(ctx, data, token)

    return Writer(name, PATIENT, write, low=computed.low, high=computed.high, grid=computed.grid)

def sex_writer() -> Writer:
    def write(ctx: Ctx, data: dict[str, Any], token: Token) -> None:
        set_sex(data, token.value)

    return Writer("sex", PATIENT, write, choices=PATIENT_FIELDS["sex"].choices)
