"""Exact numbers, calendar arithmetic and units, written independently of the matcher.

Numbers are exact (:class:`fractions.Fraction`) until they are written into a patient file as decimal
text, so "at the threshold" means exactly at it. The calendar (:func:`plus_months`,
:func:`calendar_months`, :func:`completed_years`) is re-implemented from the documented definitions, and
:data:`UNITS` lists every accepted spelling of each measured quantity with its factor, independently of pint.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

Draw = Callable[[st.SearchStrategy[Any]], Any]


# ================================================================== exact numbers
def exact(value: Any) -> Fraction:
    """A number as the decimal it is written as (floats by their shortest repr), exactly."""
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def decimal_text(value: Fraction) -> str:
    """Decimal text for ``value``: exact when it is a finite decimal, else 25 significant digits."""
    with localcontext() as context:
        context.prec = 25
        number = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def plain_number(value: Fraction) -> int | float:
    """A YAML number for ``value`` (an int when whole)."""
    return int(value) if value.denominator == 1 else float(decimal_text(value))


# ================================================================== calendar (README definitions)
def plus_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, clipped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def completed_years(born: dt.date, on: dt.date) -> int:
    """Completed years; a 29 February birthday counts on 1 March in other years."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def calendar_months(start: dt.date, end: dt.date) -> Fraction:
    """Whole calendar months, plus the days past the last one as a fraction of the next month's length."""
    if end < start:
        return -calendar_months(end, start)
    whole = (end.year - start.year) * 12 + end.month - start.month
    while whole > 0 and plus_months(start, whole) > end:
        whole -= 1
    anchor, following = plus_months(start, whole), plus_months(start, whole + 1)
    return whole + Fraction((end - anchor).days, (following - anchor).days)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


# ================================================================== units
def _f(text: str) -> Fraction:
    return Fraction(text)


_MMHG_PER_KPA = Fraction(1000) / _f("133.322387415")  # pint: mmHg = 1 mm x 13.5951 g/cm3 x 9.80665 m/s2
_CREATININE = _f("113.12")  # g/mol, as matcher.model.units.CREATININE_MOLAR_MASS

#: measure display -> (spelling, how many canonical units one written unit is). The first is canonical.
UNITS: dict[str, tuple[tuple[str, Fraction], ...]] = {
    "g/day": (("g/day", _f("1")), ("g/24h", _f("1")), ("g/24 h", _f("1")), ("mg/24h", _f("0.001")),
              ("mg/day", _f("0.001")), ("g/d", _f("1"))),
    "g/g": (("g/g", _f("1")), ("mg/mg", _f("1")), ("mg/g", _f("0.001")), ("mg/mmol", 1 / _CREATININE),
            ("g/mol", 1 / _CREATININE), ("mg/umol", 1000 / _CREATININE)),
    "mg/dL": (("mg/dL", _f("1")), ("mg/L", _f("0.1")), ("umol/L", _CREATININE / 10000),
              ("µmol/L", _CREATININE / 10000), ("mmol/L", _CREATININE / 10)),
    "mL/min/1.73 m2": (("mL/min/1.73 m2", _f("1")), ("mL/min/1.73m2", _f("1")), ("ml/min/1.73m2", _f("1")),
                       ("mL/s/1.73m2", _f("60"))),
    "U/L": (("U/L", _f("1")), ("IU/L", _f("1")), ("mU/mL", _f("1")), ("ukat/L", _f("60"))),
    "x10^9/L": (("x10^9/L", _f("1")), ("10^9/L", _f("1")), ("/uL", _f("0.001")), ("cells/uL", _f("0.001")),
                ("x10^3/uL", _f("1"))),
    "g/dL": (("g/dL", _f("1")), ("g/L", _f("0.1"))),
    "cells/uL": (("cells/uL", _f("1")), ("/uL", _f("1")), ("x10^6/L", _f("1")), ("x10^9/L", _f("1000"))),
    "%": (("%", _f("1")), ("percent", _f("1"))),
    "IU/mL": (("IU/mL", _f("1")), ("U/mL", _f("1"))),
    "/HPF": (("/HPF", _f("1")), ("cells/HPF", _f("1")), ("/hpf", _f("1"))),
    "/LPF": (("/LPF", _f("1")), ("/lpf", _f("1"))),
    "mmHg": (("mmHg", _f("1")), ("kPa", _MMHG_PER_KPA)),
    "mL/min": (("mL/min", _f("1")), ("ml/min", _f("1")), ("mL/6 min", Fraction(1, 6)), ("mL/6min", Fraction(1, 6)),
               ("mL/s", _f("60"))),
    "mg": (("mg", _f("1")), ("g", _f("1000")), ("ug", _f("0.001")), ("mcg", _f("0.001"))),
    "mg/m2": (("mg/m2", _f("1")), ("g/m2", _f("1000")), ("mg/m^2", _f("1"))),
    "mg/kg": (("mg/kg", _f("1")), ("g/kg", _f("1000")), ("ug/kg", _f("0.001")), ("mcg/kg", _f("0.001"))),
    "mg/day": (("mg/day", _f("1")), ("g/day", _f("1000")), ("mg/24h", _f("1"))),
    "mg/week": (("mg/week", _f("1")), ("g/week", _f("1000"))),
    "mg/kg/day": (("mg/kg/day", _f("1")), ("g/kg/day", _f("1000"))),
    "m2": (("m2", _f("1")), ("cm2", _f("0.0001"))),
    "kg": (("kg", _f("1")), ("g", _f("0.001")), ("lb", _f("0.45359237"))),
    "cm": (("cm", _f("1")), ("m", _f("100")), ("mm", _f("0.1")), ("in", _f("2.54"))),
}


def spellings(display: str) -> tuple[tuple[str, Fraction], ...]:
    return UNITS.get(display, ((display, Fraction(1)),))


def quantity_text(amount: Fraction, spelling: str, factor: Fraction) -> str:
    return f"{decimal_text(amount / factor)} {spelling}"


def quantity(draw: Draw, amount: Fraction, display: str) -> str:
    """``amount`` (in the canonical unit of ``display``) written in a randomly chosen accepted unit."""
    spelling, factor = draw(st.sampled_from(spellings(display)))
    return quantity_text(amount, spelling, factor)


def read_quantity(text: str, display: str) -> Fraction:
    """The canonical amount of a quantity this module wrote (``"<number> <spelling>"``)."""
    number, unit = text.split(" ", 1)
    factor = dict(spellings(display))[unit]
    return Fraction(number) * factor
