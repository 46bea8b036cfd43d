"""Courses of a drug: when one ended, and the treatment it belongs to (courses of one drug read together
across dose changes, tapers and short gaps), for the item fields of ``medications``."""

from __future__ import annotations

import datetime as dt

from matcher.model.fields.readings import Absence
from matcher.model.profile import FREQUENCY_INTERVAL_DAYS, MedicationExposure, PatientProfile


def course_days(course: MedicationExposure, as_of: dt.date) -> tuple[dt.date, dt.date, str] | Absence:
    """The first and the last day on the drug, both counted: a course from 1 January to 31 March lasted
    three months (90 days), not 89 days. A course still running is on the drug on the as-of date."""
    if course.start is None:
        return Absence(f"start date of {course.drug} not recorded", f"start date of {course.drug}")
    end = course_end(course, as_of)
    if end is None:
        return Absence(f"end date of {course.drug} not recorded (and not marked ongoing)",
                       f"end date of {course.drug}")
    day = end[0]
    through = f"through the as-of date {day} (ongoing)" if day == as_of else f"through its last day {day}"
    return course.start, day, f"{through}, both days counted"


def course_end(course: MedicationExposure, as_of: dt.date) -> tuple[dt.date, str] | None:
    """When the course ended as seen on the as-of date (the as-of date itself while it runs). A single dose
    (frequency ``once``, or one administration) with no end date ends on its start date."""
    end = course.end
    single = course.frequency == "once" or course.administrations == 1
    if end is None and not course.ongoing and single and course.start is not None and course.start <= as_of:
        return course.start, f"a single dose on {course.start}"
    if course.ongoing or (end is not None and end >= as_of):
        return as_of, "ongoing on the as-of date"
    if end is not None:
        return end, f"ended {end}"
    return None


#: two courses of one drug (and route) separated by at most this many days without it are one treatment
TREATMENT_GAP_DAYS = 14


def dose_rate(course: MedicationExposure) -> tuple[str, float] | None:
    """The course's dose per day in its own kind (mg, mg/kg, mg/m2), to compare courses of one drug."""
    interval = FREQUENCY_INTERVAL_DAYS.get(course.frequency or "")
    if course.dose_amount is None or course.dose_kind is None or interval is None:
        return None
    return course.dose_kind, course.dose_amount / interval


def same_drug(course: MedicationExposure, other: MedicationExposure) -> bool:
    return other.drug == course.drug and other.route == course.route


def treatment(course: MedicationExposure, i: int, profile: PatientProfile, as_of: dt.date,
               at_dose: bool, same_dose: bool = False) -> tuple[dt.date, dt.date, list[int]] | Absence:
    """The treatment course ``i`` belongs to: its first and last day and its courses (indices, by start).

    Courses of the same drug and route that overlap or follow each other with at most
    :data:`TREATMENT_GAP_DAYS` days between them are one treatment (a dose change, a taper, a short
    interruption); the days of a bridged gap count. ``at_dose``: only courses at course ``i``'s daily
    dose or above are joined, so the treatment is the time spent at least at that dose. A course whose
    dose cannot be compared is not joined; entries dated after the as-of date are left out. ``same_dose``:
    only entries at the same dose that continue each other without a day's break are joined (one
    course written as several entries, which a stable-dose reading must not take for a change).
    """
    own = course_days(course, as_of)
    if isinstance(own, Absence):
        return own
    rate = dose_rate(course)
    spans: list[tuple[dt.date, dt.date, int]] = []
    for j, other in enumerate(profile.medications or []):
        if j != i:
            if not same_drug(course, other) or other.start is None or other.start > as_of:
                continue
            if at_dose or same_dose:
                other_rate = dose_rate(other)
                if rate is None or other_rate is None or other_rate[0] != rate[0] or other_rate[1] < rate[1] - 1e-9:
                    continue
                if same_dose and other_rate[1] > rate[1] + 1e-9:
                    continue
            days = course_days(other, as_of)
            if isinstance(days, Absence):
                continue
            spans.append((days[0], days[1], j))
        else:
            spans.append((own[0], own[1], i))
    spans.sort()
    first, last, members = spans[0][0], spans[0][1], [spans[0][2]]
    gap = 0 if same_dose else TREATMENT_GAP_DAYS
    for start, end, j in spans[1:]:
        if (start - last).days - 1 <= gap:
            last = max(last, end)
            members.append(j)
        elif i in members:
            break
        else:
            first, last, members = start, end, [j]
    return first, last, members


def unbroken_end(course: MedicationExposure, i: int, profile: PatientProfile,
                  as_of: dt.date) -> tuple[dt.date, str] | None:
    """:func:`course_end`, but of the course together with entries that continue it at the same dose."""
    run = treatment(course, i, profile, as_of, at_dose=False, same_dose=True)
    if isinstance(run, Absence) or len(run[2]) == 1:
        return course_end(course, as_of)
    others = ", ".join(f"medications[{j}]" for j in run[2] if j != i)
    if run[1] == as_of:
        return as_of, f"ongoing on the as-of date (continued at the same dose by {others})"
    return run[1], f"ended {run[1]} (continued at the same dose by {others})"


def treatment_how(course: MedicationExposure, first: dt.date, last: dt.date, members: list[int],
                   as_of: dt.date) -> str:
    through = "the as-of date (ongoing)" if last == as_of else str(last)
    if len(members) == 1:
        return f"one course, {first} through {through}, both days counted"
    listed = ", ".join(f"medications[{j}]" for j in members)
    return (f"{len(members)} courses of {course.drug.replace('_', ' ')} ({listed}) at this dose or above read as "
            f"one treatment (dose changes, tapers, gaps of up to {TREATMENT_GAP_DAYS} days): {first} through "
            f"{through}, both days counted")
