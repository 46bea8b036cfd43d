"""Item fields of ``medications``: one course, and the treatment it belongs to.

The rows of ``fields.yaml`` under ``medications`` name what they use: ``function daily_dose`` is
:data:`FUNCTIONS` ``daily_dose``; ``drug_class nsaid``, ``dose mass`` and ``since_end weeks`` are the
factories in :data:`KINDS`. How courses are read together is in :mod:`matcher.model.fields.courses`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from matcher.model import drugs
from matcher.model.dates import add_months, months_between
from matcher.model.fields.courses import (
    course_days,
    course_end,
    treatment,
    treatment_how,
    unbroken_end,
)
from matcher.model.fields.patient import body_surface_area, weight_reading
from matcher.model.fields.readings import Absence, ItemExtract, Observation, Reading, elapsed, fmt
from matcher.model.profile import FREQUENCY_INTERVAL_DAYS, MedicationExposure, PatientProfile

if TYPE_CHECKING:
    from matcher.model.fields.rows import FieldRow


def describe_course(course: MedicationExposure) -> str:
    parts = [course.drug.replace("_", " ")]
    parts += [str(x).replace("_", " ") for x in (course.dose, course.frequency, course.route) if x]
    span = f"{course.start or '?'} to {'ongoing' if course.ongoing else (course.end or '?')}"
    text = " ".join(parts) + f", {span}"
    return text + (f", {course.response.replace('_', ' ')}" if course.response else "")


def _drug(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    return Observation(course.drug, course.drug, f"medications[{i}].drug")


def drug_class(name: str, row: FieldRow) -> ItemExtract:
    """Whether the course's drug is in a class of matcher/model/drugs.py."""

    def extract(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        member = name in drugs.DRUGS[course.drug].classes
        return Observation(member, "yes" if member else "no", f"medications[{i}].drug", None,
                           f"{course.drug} is {'' if member else 'not '}classed as {name.replace('_', ' ')} "
                           "(matcher/model/drugs.py)")

    return extract


def _route(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.route is None:
        return Absence(f"route of {course.drug} not recorded", f"route of {course.drug}")
    return Observation(course.route, course.route, f"medications[{i}].route")


def _response(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.response is None:
        return Absence(f"response to {course.drug} not recorded", f"response to {course.drug} (failed, "
                       "not tolerated or responded)")
    return Observation(course.response, course.response.replace("_", " "), f"medications[{i}].response")


def dose(kind: str, row: FieldRow) -> ItemExtract:
    """The dose per administration as written, when it is written in the row's unit (``kind``: mass, per_m2,
    per_kg); a dose written in another kind is unknown here (converting needs body size)."""
    assert row.unit is not None, row.name
    unit = row.unit.display

    def extract(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        if course.dose_amount is None:
            return Absence(f"dose of {course.drug} not recorded", f"dose of {course.drug}")
        if course.dose_kind != kind:
            written_as = (course.dose_kind or "").replace("_", " ")
            return Absence(f"dose of {course.drug} is written {course.dose} ({written_as}), not {unit}; "
                           "converting needs body size (not done here)", f"dose of {course.drug}"
                           f" in {unit}")
        return Observation(course.dose_amount, f"{fmt(course.dose_amount)} {unit}", f"medications[{i}].dose")

    return extract


def _interval(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.frequency is None:
        return Absence(f"frequency of {course.drug} not recorded", f"frequency of {course.drug}")
    days = FREQUENCY_INTERVAL_DAYS[course.frequency]
    if days is None:
        return Absence(f"{course.drug} was given once: no interval", f"frequency of {course.drug}")
    return Observation(days, f"every {fmt(days)} days", f"medications[{i}].frequency", None,
                       f"{course.frequency.replace('_', ' ')} = every {fmt(days)} days")


def _administrations_per_day(course: MedicationExposure) -> float | None:
    if course.frequency in ("daily", "twice_daily", "three_times_daily"):
        interval = FREQUENCY_INTERVAL_DAYS[course.frequency]
        return None if interval is None else round(1 / interval)
    return None


def _daily_dose(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    per_day = _administrations_per_day(course)
    if course.dose_amount is None or course.dose_kind != "mass":
        return Absence(f"dose of {course.drug} in mg not recorded", f"dose of {course.drug}")
    if per_day is None:
        return Absence(f"{course.drug} is not given daily (frequency {course.frequency or 'not recorded'})",
                       f"frequency of {course.drug}")
    daily = course.dose_amount * per_day
    return Observation(daily, f"{fmt(daily)} mg/day", f"medications[{i}]", None,
                       f"{course.dose} x {per_day} per day")


def _prednisone_equivalent(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    drug = drugs.DRUGS[course.drug]
    if drug.mg_per_5mg_prednisone is None:
        return Absence(f"{course.drug} is not a glucocorticoid", "glucocorticoid dose")
    daily = _daily_dose(course, i, profile, as_of)
    if isinstance(daily, Absence):
        return daily
    assert isinstance(daily.value, float)
    equivalent = round(daily.value * 5 / drug.mg_per_5mg_prednisone, 6)
    how = (f"{daily.derivation} = {daily.display}" if course.drug == "prednisone" else
           f"{daily.derivation} = {daily.display} of {course.drug} x 5 / {drug.mg_per_5mg_prednisone:g} "
           f"(mg equal to 5 mg prednisone) = {fmt(equivalent)} mg/day prednisone")
    return Observation(equivalent, f"{fmt(equivalent)} mg/day prednisone-equivalent", f"medications[{i}]",
                       None, how)


def _duration(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    period = course_days(course, as_of)
    if isinstance(period, Absence):
        return period
    start, through, how = period
    months = round(months_between(start, through + dt.timedelta(days=1)), 4)
    return Observation(months, f"{fmt(months)} months", f"medications[{i}]", None,
                       f"calendar months from {start} {how}")


def since_end(unit: str, row: FieldRow) -> ItemExtract:
    """Days, weeks or calendar months from the course's last day (continued at the same dose) to the as-of date."""

    def extract(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        end = unbroken_end(course, i, profile, as_of)
        if end is None:
            return Absence(f"end date of {course.drug} not recorded (and not marked ongoing)",
                           f"end date of {course.drug} (or ongoing: true)")
        day, how = end
        amount = elapsed(day, as_of, unit)
        return Observation(amount, f"{fmt(amount)} {unit}", f"medications[{i}]", None,
                           f"{how}: {fmt(amount)} {unit} before the as-of date {as_of}")

    return extract


def _course_start(course: MedicationExposure, i: int, profile: PatientProfile,
                  as_of: dt.date) -> tuple[dt.date, str] | Absence:
    """The day the course started: its own start, or that of the same dose continued without a break before it."""
    if course.start is None:
        return Absence(f"start date of {course.drug} not recorded", f"start date of {course.drug}")
    run = treatment(course, i, profile, as_of, at_dose=False, same_dose=True)
    if not isinstance(run, Absence) and run[0] != course.start:
        return run[0], f" (the same dose, continued without a break from medications[{run[2][0]}])"
    return course.start, ""


def _since_start(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    started = _course_start(course, i, profile, as_of)
    if isinstance(started, Absence):
        return started
    start, how = started
    days = (as_of - start).days
    return Observation(days, f"{days} days", f"medications[{i}].start", None,
                       f"from {start} to the as-of date {as_of}{how}")


def _months_since_start(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    """Calendar months from the course's start to the as-of date ("added during the prior 3 months")."""
    started = _course_start(course, i, profile, as_of)
    if isinstance(started, Absence):
        return started
    start, how = started
    months = round(months_between(start, as_of), 4)
    return Observation(months, f"{fmt(months)} months", f"medications[{i}].start", None,
                       f"calendar months from {start} to the as-of date {as_of}{how}")


def _next_dose_due(course: MedicationExposure, last: dt.date) -> dt.date | None:
    """The day the dose after ``last`` would have been due: the end of the period the course covered."""
    if course.frequency == "monthly":
        return add_months(last, 1)
    interval = FREQUENCY_INTERVAL_DAYS.get(course.frequency or "")
    if interval is None:
        return None
    return last + dt.timedelta(days=max(1, round(interval)))


def _treated_months(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    """Pulses cover a period: three monthly boluses (6 Jan, 6 Feb, 6 Mar) treat for three months (to 6 Apr)."""
    period = course_days(course, as_of)
    if isinstance(period, Absence):
        return period
    start, last, _ = period
    if last == as_of:
        covered, how = as_of, f"{start} to the as-of date (ongoing)"
    else:
        due = _next_dose_due(course, last)
        if due is None:
            return Absence(f"frequency of {course.drug} not recorded (or a single dose)", f"frequency of {course.drug}")
        covered, how = due, f"{start} to {due}, one dosing interval after the last dose on {last}"
    months = round(months_between(start, covered), 4)
    return Observation(months, f"{fmt(months)} months", f"medications[{i}]", None, f"calendar months from {how}")


def _duration_days(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    period = course_days(course, as_of)
    if isinstance(period, Absence):
        return period
    start, through, how = period
    days = (through - start).days + 1
    return Observation(days, f"{days} days", f"medications[{i}]", None, f"from {start} {how}")


def _ongoing(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    end = unbroken_end(course, i, profile, as_of)
    if end is None:
        return Absence(f"whether {course.drug} is ongoing is not recorded", f"end date of {course.drug} "
                       "(or ongoing: true)")
    running = end[0] == as_of
    return Observation(running, "yes" if running else "no", f"medications[{i}]", None, end[1])


def _administrations(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.administrations is None:
        return Absence(f"number of doses of {course.drug} not recorded", f"number of doses of {course.drug}")
    return Observation(course.administrations, str(course.administrations),
                       f"medications[{i}].administrations")


_PER_WEEK = {"daily": 7, "twice_daily": 14, "three_times_daily": 21, "weekly": 1}


def _weekly_dose(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.dose_amount is None or course.dose_kind != "mass":
        return Absence(f"dose of {course.drug} in mg not recorded", f"dose of {course.drug}")
    per_week = _PER_WEEK.get(course.frequency or "")
    if per_week is None:
        return Absence(f"{course.drug} is not given daily or weekly (frequency {course.frequency or 'not recorded'}"
                       ")", f"frequency of {course.drug}")
    weekly = course.dose_amount * per_week
    return Observation(weekly, f"{fmt(weekly)} mg/week", f"medications[{i}]", None,
                       f"{course.dose} x {per_week} per week")


def _daily_dose_per_kg(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    per_day = _administrations_per_day(course)
    if course.dose_amount is None:
        return Absence(f"dose of {course.drug} not recorded", f"dose of {course.drug}")
    if per_day is None:
        return Absence(f"{course.drug} is not given daily (frequency {course.frequency or 'not recorded'})",
                       f"frequency of {course.drug}")
    if course.dose_kind == "per_kg":
        daily = round(course.dose_amount * per_day, 4)
        return Observation(daily, f"{fmt(daily)} mg/kg/day", f"medications[{i}]", None,
                           f"{course.dose} x {per_day} per day")
    if course.dose_kind != "mass":
        return Absence(f"dose of {course.drug} is written per m2", f"dose of {course.drug} in mg or mg/kg")
    weight = weight_reading(profile, as_of)
    if isinstance(weight, Absence):
        return Absence(f"mg/kg of {course.drug} needs the weight: {weight.reason}", "weight")
    daily = round(course.dose_amount * per_day / float(weight.value), 4)
    return Observation(daily, f"{fmt(daily)} mg/kg/day", f"medications[{i}]", None,
                       f"{course.dose} x {per_day} per day / {weight.display} (weight as recorded now)")


def _dose_absolute(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    if course.dose_amount is None:
        return Absence(f"dose of {course.drug} not recorded", f"dose of {course.drug}")
    if course.dose_kind == "mass":
        return Observation(course.dose_amount, f"{fmt(course.dose_amount)} mg", f"medications[{i}].dose")
    size = body_surface_area(profile, as_of) if course.dose_kind == "per_m2" else weight_reading(profile, as_of)
    if isinstance(size, Absence):
        return Absence(f"converting {course.dose} of {course.drug} to mg: {size.reason}", size.collect)
    amount = round(course.dose_amount * float(size.value), 1)
    return Observation(amount, f"{fmt(amount)} mg", f"medications[{i}].dose", None,
                       f"{course.dose} x {size.display} (body size as recorded now) = {fmt(amount)} mg")


def _treatment_days(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    found = treatment(course, i, profile, as_of, at_dose=True)
    if isinstance(found, Absence):
        return found
    first, last, members = found
    days = (last - first).days + 1
    return Observation(days, f"{days} days", f"medications[{i}]", None,
                       treatment_how(course, first, last, members, as_of))


def _treatment_months(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    found = treatment(course, i, profile, as_of, at_dose=True)
    if isinstance(found, Absence):
        return found
    first, last, members = found
    months = round(months_between(first, last + dt.timedelta(days=1)), 4)
    return Observation(months, f"{fmt(months)} months", f"medications[{i}]", None,
                       "calendar months: " + treatment_how(course, first, last, members, as_of))


def _treatment_response(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    found = treatment(course, i, profile, as_of, at_dose=False)
    members = [i] if isinstance(found, Absence) else found[2]
    courses = profile.medications or []
    recorded = {j: course_end(courses[j], as_of) for j in members if courses[j].response is not None}
    if not recorded:
        return _response(course, i, profile, as_of)
    last_day = max((end[0] for end in recorded.values() if end is not None), default=None)
    latest = sorted(j for j, end in recorded.items() if (end[0] if end is not None else None) == last_day)
    responses = {courses[j].response for j in latest}
    if len(responses) > 1:  # file order must not choose between them
        listed = ", ".join(f"medications[{j}] {courses[j].response}" for j in latest)
        return Absence(f"the latest courses of this {course.drug} treatment record different responses ({listed})",
                       f"response to {course.drug} (the courses ending together disagree)")
    response = courses[latest[0]].response
    assert response is not None
    how = None if latest == [i] else f"recorded on medications[{latest[0]}], the latest course of the same treatment"
    return Observation(response, response.replace("_", " "), f"medications[{latest[0]}].response", None, how)


def _adequate_trial(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    row = drugs.adequate_trial(course.drug)
    if row is None:
        return Observation(False, "no", f"medications[{i}].drug", None,
                           f"{course.drug.replace('_', ' ')} has no row in the adequacy table: the clinician judges")
    key, minimum = row
    dose = FUNCTIONS[minimum.dose_field](course, i, profile, as_of)
    if isinstance(dose, Absence):
        return dose
    days = _treatment_days(course, i, profile, as_of)
    if isinstance(days, Absence):
        return days
    assert isinstance(dose.value, (int, float)) and isinstance(days.value, (int, float))
    enough = dose.value >= minimum.minimum and days.value >= minimum.days
    return Observation(enough, "yes" if enough else "no", f"medications[{i}]", None,
                       f"{dose.display} for {days.display} against the {key.replace('_', ' ')} minimum of "
                       f"{minimum.minimum:g} {minimum.unit} for {minimum.days} days")


def visible_course(course: MedicationExposure, as_of: dt.date) -> bool:
    """A course that starts after the as-of date has not happened yet on that day."""
    return course.start is None or course.start <= as_of


KINDS: dict[str, Callable[[str, FieldRow], ItemExtract]] = {
    "drug_class": drug_class,
    "dose": dose,
    "since_end": since_end,
}
#: bespoke medication extractors a row names with ``derive: function NAME``
FUNCTIONS: dict[str, ItemExtract] = {
    "drug": _drug,
    "route": _route,
    "response": _response,
    "interval_days": _interval,
    "daily_dose": _daily_dose,
    "prednisone_equivalent_daily_dose": _prednisone_equivalent,
    "duration_months": _duration,
    "days_since_start": _since_start,
    "months_since_start": _months_since_start,
    "treated_months": _treated_months,
    "duration_days": _duration_days,
    "ongoing": _ongoing,
    "administrations": _administrations,
    "weekly_dose": _weekly_dose,
    "daily_dose_per_kg": _daily_dose_per_kg,
    "dose_absolute": _dose_absolute,
    "treatment_days": _treatment_days,
    "treatment_months": _treatment_months,
    "treatment_response": _treatment_response,
    "adequate_trial": _adequate_trial,
}
