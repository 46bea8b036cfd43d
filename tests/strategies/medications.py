"""Field writers for medication courses: the drug (by name, alias or class), route, response, doses per
administration, day, week, kg and m2, prednisone equivalents, frequency, and start and end dates just
around every time window (calendar months, days, weeks, since the start, since the end, treated periods).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from matcher.model import drugs
from matcher.model import profile as profile_module
from matcher.model.profile import FREQUENCY_INTERVAL_DAYS

from .quantities import calendar_months, days, decimal_text, exact, plus_months, quantity
from .trials import PATIENT
from .writers import Ctx, Token, Write, Writer

# ------------------------------------------------------------------ medication courses
DOSE_LIMITS: dict[str, float] = getattr(profile_module, "DOSE_LIMITS", {"mass": 20000.0, "per_m2": 5000.0,
                                                                          "per_kg": 100.0})
GLUCOCORTICOIDS = tuple(sorted(d.name for d in drugs.DRUGS.values() if d.mg_per_5mg_prednisone is not None))
_ALIASES: dict[str, list[str]] = {}
for _alias, _name in drugs.ALIASES.items():
    _ALIASES.setdefault(_name, []).append(_alias)


def drug_spelling(ctx: Ctx, name: str) -> str:
    """The drug as a clinician may write it: its name, an alias, upper case or with spaces."""
    return ctx.draw(st.sampled_from([name, name.upper(), name.replace("_", " "), *_ALIASES.get(name, [])]))


def _per_day(ctx: Ctx, amount: Fraction, frequencies: dict[str, int]) -> tuple[str, Fraction]:
    """A frequency and the per-administration amount giving ``amount`` per period, exactly and in few digits."""
    exact_ones = [(f, amount / n) for f, n in frequencies.items() if len(decimal_text(amount / n)) < 16
                  and Fraction(decimal_text(amount / n)) == amount / n]
    return ctx.draw(st.sampled_from(exact_ones))


#: frequencies whose per-administration dose the matcher multiplies back to the same float (x1, x2). Three times
#: daily (x3) and daily-to-weekly (x7) are left out: the matcher multiplies floats without rounding, so 6.7 mg
#: three times daily reads 20.099999999999998 mg/day (see the report that came with these tests).
_DAILY = {"daily": 1, "twice_daily": 2}
_WEEKLY = {"weekly": 1}


def _end(course: dict[str, Any], end: dt.date | None) -> None:
    """Set the end of a course: a date, or ongoing when None."""
    if end is None:
        course.pop("end", None)
        course["ongoing"] = True
    else:
        course.pop("ongoing", None)
        course["end"] = end
        if course.get("start") is not None and course["start"] > end:
            course["start"] = end


def _start(course: dict[str, Any], start: dt.date) -> None:
    course["start"] = start
    if course.get("end") is not None and course["end"] < start:
        course["end"] = start


def _months_around(ctx: Ctx, threshold: Fraction, end: dt.date, make: Callable[[dt.date], Any]) -> list[Token]:
    """Start dates whose calendar months to ``end`` are just below, at and just above ``threshold``."""
    if threshold < 0:
        return []
    guess = plus_months(end, -(math.floor(threshold) + 1))
    measured = [(calendar_months(start, end), start) for start in (guess + days(k) for k in range(-4, 36))
                if start <= end]
    below = [m for m in measured if m[0] < threshold]
    above = [m for m in measured if m[0] > threshold]
    chosen = [max(below) if below else None, next((m for m in measured if m[0] == threshold), None),
              min(above) if above else None]
    return [Token(months, make(start)) for months, start in (c for c in chosen if c is not None)]


def _random_months(ctx: Ctx, end: dt.date, make: Callable[[dt.date], Any]) -> Token:
    start = end - days(ctx.draw(st.integers(0, 3000)))
    return Token(calendar_months(start, end), make(start))


def _duration_months_writer() -> Writer:
    """Calendar months from the first to the last day of the course, both counted (so to the day after the last
    day; a course still running is on the drug on the as-of date)."""

    def end_of(ctx: Ctx) -> dt.date | None:
        return None if ctx.draw(st.booleans()) else ctx.as_of - days(ctx.draw(st.integers(0, 400)))

    def around(ctx: Ctx, threshold: Fraction) -> list[Token]:
        end = end_of(ctx)
        last = end or ctx.as_of
        tokens = _months_around(ctx, threshold, last + days(1), lambda start: (start, end))
        return [t for t in tokens if t.payload[0] <= last]

    def random_token(ctx: Ctx) -> Token:
        end = end_of(ctx)
        last = end or ctx.as_of
        start = last - days(ctx.draw(st.integers(0, 3000)))
        return Token(calendar_months(start, last + days(1)), (start, end))

    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        start, end = token.payload
        course["start"] = start
        _end(course, end)

    return Writer("duration_months", "medications", write, low=Fraction(0), high=Fraction(100),
                  custom_around=around, custom_random=random_token)


#: days from a dose to the next (at least one day); "monthly" is one calendar month
_NEXT_DOSE_DAYS = {"daily": 1, "twice_daily": 1, "three_times_daily": 1, "weekly": 7, "every_2_weeks": 14,
                   "every_4_weeks": 28}


def _treated_months_writer() -> Writer:
    """Calendar months a course covers: from its start to the as-of date while it runs, else to one dosing
    interval after the last dose (three monthly boluses from 6 January treat to 6 April)."""

    def covered_until(ctx: Ctx) -> tuple[dt.date, dt.date | None, str]:
        frequency = ctx.draw(st.sampled_from(sorted([*_NEXT_DOSE_DAYS, "monthly"])))
        if ctx.draw(st.booleans()):
            return ctx.as_of, None, frequency
        end = ctx.as_of - days(ctx.draw(st.integers(1, 400)))
        until = plus_months(end, 1) if frequency == "monthly" else end + days(_NEXT_DOSE_DAYS[frequency])
        return until, end, frequency

    def around(ctx: Ctx, threshold: Fraction) -> list[Token]:
        until, end, frequency = covered_until(ctx)
        tokens = _months_around(ctx, threshold, until, lambda start: (start, end, frequency))
        return [t for t in tokens if end is None or t.payload[0] <= end]

    def random_token(ctx: Ctx) -> Token:
        until, end, frequency = covered_until(ctx)
        start = (end or until) - days(ctx.draw(st.integers(0, 3000)))
        return Token(calendar_months(start, until), (start, end, frequency))

    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        start, end, frequency = token.payload
        course.update(start=start, frequency=frequency)
        _end(course, end)

    return Writer("treated_months", "medications", write, low=Fraction(0), high=Fraction(100),
                  custom_around=around, custom_random=random_token)


def _months_since_end_writer() -> Writer:
    """Calendar months from the end of the course to the as-of date (0 while it runs)."""

    def around(ctx: Ctx, threshold: Fraction) -> list[Token]:
        return _months_around(ctx, threshold, ctx.as_of, lambda end: end)

    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        end: dt.date = token.payload
        _end(course, None if end == ctx.as_of and ctx.draw(st.booleans()) else end)

    return Writer("months_since_end", "medications", write, low=Fraction(0), high=Fraction(100),
                  custom_around=around, custom_random=lambda ctx: _random_months(ctx, ctx.as_of, lambda end: end))


def _days_since_end_writer(name: str, per: int) -> Writer:
    """Days (per=1) or weeks of 7 days (per=7) from the end of the course to the as-of date (0 while it runs)."""

    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        count = int(token.value * per)
        if count == 0 and ctx.draw(st.booleans()):
            _end(course, None if ctx.draw(st.booleans()) else ctx.as_of + days(ctx.draw(st.integers(0, 30))))
        else:
            _end(course, ctx.as_of - days(count))

    return Writer(name, "medications", write, low=Fraction(0), high=Fraction(3000, per), grid=Fraction(1, per))


def _days_since_start_writer() -> Writer:
    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        _start(course, ctx.as_of - days(int(token.value)))

    return Writer("days_since_start", "medications", write, low=Fraction(0), high=Fraction(5000), grid=Fraction(1))


def _months_before_as_of_writer(field: str, scope: str, put: Callable[[dict[str, Any], dt.date], None]) -> Writer:
    """Calendar months from a date ``put`` writes (a course's start, a biopsy) to the as-of date."""

    def around(ctx: Ctx, threshold: Fraction) -> list[Token]:
        return _months_around(ctx, threshold, ctx.as_of, lambda day: day)

    def random_token(ctx: Ctx) -> Token:
        return _random_months(ctx, ctx.as_of, lambda day: day)

    def write(ctx: Ctx, target: dict[str, Any], token: Token) -> None:
        put(target, token.payload)

    return Writer(field, scope, write, low=Fraction(0), high=Fraction(100), custom_around=around,
                  custom_random=random_token)


def _put_biopsy_date(data: dict[str, Any], day: dt.date) -> None:
    diagnoses = data.get("diagnoses") or {}
    nephritis = diagnoses.get("lupus_nephritis") or {}
    nephritis["biopsy_date"] = day
    diagnoses["lupus_nephritis"] = nephritis
    data["diagnoses"] = diagnoses


def biopsy_months_writer() -> Writer:
    """Calendar months from the renal biopsy (diagnoses.lupus_nephritis.biopsy_date) to the as-of date."""
    return _months_before_as_of_writer("lupus_nephritis.biopsy_months_ago", PATIENT, _put_biopsy_date)


def malignancy_months_writer() -> Writer:
    """Calendar months from a malignancy's diagnosis (malignancies[i].diagnosed) to the as-of date."""

    def put(malignancy: dict[str, Any], day: dt.date) -> None:
        malignancy["diagnosed"] = day

    return _months_before_as_of_writer("months_since_diagnosed", "malignancies", put)


def _duration_days_writer() -> Writer:
    """Days from the first to the last day of the course, both counted (the as-of date is the last while it runs)."""

    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        if ctx.draw(st.booleans()):
            last, end = ctx.as_of, None if ctx.draw(st.booleans()) else ctx.as_of + days(ctx.draw(st.integers(0, 60)))
        else:
            last = end = ctx.as_of - days(ctx.draw(st.integers(1, 400)))
        course["start"] = last - days(int(token.value) - 1)
        _end(course, end)

    return Writer("duration_days", "medications", write, low=Fraction(1), high=Fraction(5000), grid=Fraction(1))


def _ongoing_writer() -> Writer:
    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        if token.value:
            _end(course, None if ctx.draw(st.booleans()) else ctx.as_of + days(ctx.draw(st.integers(0, 60))))
        else:
            _end(course, ctx.as_of - days(ctx.draw(st.integers(1, 400))))

    return Writer("ongoing", "medications", write, choices=(True, False))


def course_writers() -> list[Writer]:
    made: list[Writer] = []

    def simple(name: str, key: str, choices: tuple[Any, ...]) -> None:
        def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
            course[key] = token.value

        made.append(Writer(name, "medications", write, choices=choices))

    def drug(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        course["drug"] = drug_spelling(ctx, token.value)

    made.append(Writer("drug", "medications", drug, choices=tuple(sorted(drugs.DRUGS))))
    for drug_class in drugs.CLASSES:
        members = tuple(sorted(n for n, d in drugs.DRUGS.items() if drug_class in d.classes))
        others = tuple(sorted(n for n, d in drugs.DRUGS.items() if drug_class not in d.classes))

        def in_class(ctx: Ctx, course: dict[str, Any], token: Token,
                     members: tuple[str, ...] = members, others: tuple[str, ...] = others) -> None:
            course["drug"] = drug_spelling(ctx, ctx.draw(st.sampled_from(members if token.value else others)))

        made.append(Writer(f"is_{drug_class}", "medications", in_class, choices=(True, False)))
    simple("route", "route", ("oral", "iv", "sc", "im", "other"))
    simple("response", "response", ("failed", "not_tolerated", "responded"))
    made += _dose_writers()
    made += [_duration_months_writer(), _treated_months_writer(), _months_since_end_writer(),
             _days_since_end_writer("days_since_end", 1), _days_since_end_writer("weeks_since_end", 7),
             _days_since_start_writer(), _months_before_as_of_writer("months_since_start", "medications", _start),
             _duration_days_writer(), _ongoing_writer()]
    # a lone course is a treatment of its own: its treatment duration and response are the course's
    made += [replace(_duration_days_writer(), field="treatment_days"),
             replace(_duration_months_writer(), field="treatment_months")]
    simple("treatment_response", "response", ("failed", "not_tolerated", "responded"))
    made.append(_adequate_trial_writer())
    return made


def _adequate_trial_writer() -> Writer:
    """An adequate trial by the table in matcher/model/drugs.py: MMF 3 g/day for 120 days, or 1 g/day, or 30 days."""

    def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        row = drugs.ADEQUATE_TRIALS["mycophenolate_mofetil"]
        short = not token.value and ctx.draw(st.booleans())
        daily = Fraction(3000) if token.value or short else Fraction(1000)
        length = row.days - 1 if short else row.days + ctx.draw(st.integers(0, 60))
        end = ctx.as_of - days(ctx.draw(st.integers(1, 400)))
        course.update(drug="mycophenolate_mofetil", dose=quantity(ctx.draw, daily / 2, "mg"),
                      frequency="twice_daily", start=end - days(length - 1))
        _end(course, end)

    return Writer("adequate_trial", "medications", write, choices=(True, False))


def _dose_writers() -> list[Writer]:
    """Doses per administration, per day, per week, per kg, prednisone-equivalent; frequency; count."""
    made: list[Writer] = []

    def dose(display: str, kind: str) -> Write:
        def write(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
            course["dose"] = quantity(ctx.draw, token.value, display)

        return write

    dose_low = Fraction(1, 1000)
    made.append(Writer("dose", "medications", dose("mg", "mass"), low=dose_low, high=exact(DOSE_LIMITS["mass"])))
    made.append(Writer("dose_per_m2", "medications", dose("mg/m2", "per_m2"), low=dose_low,
                       high=exact(DOSE_LIMITS["per_m2"])))
    made.append(Writer("dose_per_kg", "medications", dose("mg/kg", "per_kg"), low=dose_low,
                       high=exact(DOSE_LIMITS["per_kg"])))
    made.append(Writer("dose_absolute", "medications", dose("mg", "mass"), low=dose_low,
                       high=exact(DOSE_LIMITS["mass"])))

    intervals = {exact(v): name for name, v in FREQUENCY_INTERVAL_DAYS.items() if v is not None}

    def interval(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        course["frequency"] = intervals[token.value]

    made.append(Writer("interval_days", "medications", interval, levels=tuple(sorted(intervals))))

    def daily(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        frequency, each = _per_day(ctx, token.value, _DAILY)
        course["frequency"] = frequency
        course["dose"] = quantity(ctx.draw, each, "mg")

    made.append(Writer("daily_dose", "medications", daily, low=2 * dose_low, high=exact(DOSE_LIMITS["mass"])))

    def weekly(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        frequency, each = _per_day(ctx, token.value, _WEEKLY)
        course["frequency"] = frequency
        course["dose"] = quantity(ctx.draw, each, "mg")

    made.append(Writer("weekly_dose", "medications", weekly, low=dose_low, high=exact(DOSE_LIMITS["mass"])))

    def per_kg_daily(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        frequency, each = _per_day(ctx, token.value, _DAILY)
        course["frequency"] = frequency
        course["dose"] = quantity(ctx.draw, each, "mg/kg")

    made.append(Writer("daily_dose_per_kg", "medications", per_kg_daily, low=2 * dose_low,
                       high=exact(DOSE_LIMITS["per_kg"]), grid=Fraction(1, 10**4)))

    def prednisone_equivalent(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        name = ctx.draw(st.sampled_from(GLUCOCORTICOIDS))
        per_5mg = exact(drugs.DRUGS[name].mg_per_5mg_prednisone or 5)
        frequency, each = _per_day(ctx, token.value * per_5mg / 5, _DAILY)
        course.update(drug=drug_spelling(ctx, name), frequency=frequency, dose=quantity(ctx.draw, each, "mg"))

    # the matcher rounds prednisone equivalents to 6 decimals
    made.append(Writer("prednisone_equivalent_daily_dose", "medications", prednisone_equivalent, low=Fraction(2, 100),
                       high=Fraction(2000), grid=Fraction(1, 10**6), places=1))

    def administrations(ctx: Ctx, course: dict[str, Any], token: Token) -> None:
        course["administrations"] = int(token.value)

    made.append(Writer("administrations", "medications", administrations, low=Fraction(1), high=Fraction(10000),
                       grid=Fraction(1)))
    return made
