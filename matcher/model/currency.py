"""Currency of values: how recent a dated value must be to count.

A lab result, an activity score, a pregnancy test or an imaging result
describes the patient on the day it was taken; past its *window* it no longer
describes the patient on the as-of date, and it is not used. The rule language
(:mod:`matcher.rules.language`) says which window applies to each comparison;
this module says which fields read dated values (their *kind*), the project's
default window for each kind, and turns a reading older than its window into
an :class:`~matcher.model.fields.Absence` that says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from matcher.model.fields import PATIENT_FIELDS, Absence, Observation, Reading, ValueKind
from matcher.model.fields.rows import VALUE_KINDS

__all__ = ["DEFAULT_WINDOW_DAYS", "FIELD_KINDS", "KIND_LABELS", "LONGEST_WINDOW_DAYS", "PROJECT_DEFAULT",
           "SANE_WINDOW_DAYS", "VALUE_KINDS", "ValueKind", "Window", "age_days", "current"]

#: what each kind of value covers, for messages and documentation
KIND_LABELS: dict[ValueKind, str] = {
    "lab": "labs",
    "activity_score": "activity scores",
    "pregnancy_test": "pregnancy tests",
    "imaging": "imaging and echo",
}

#: the project's default window (days) per kind of value, used where neither the comparison, the
#: criterion nor the trial states one (rules/GUIDE.md gives the clinical reasons)
DEFAULT_WINDOW_DAYS: dict[ValueKind, int] = {
    "lab": 90,
    "activity_score": 90,
    "pregnancy_test": 7,
    "imaging": 180,
}

#: the longest window a rule may state, per kind: beyond it a value no longer describes the patient now
#: (``matcher lint`` reports a longer one); a window of more than ten years is refused when a file loads
SANE_WINDOW_DAYS: dict[ValueKind, int] = {
    "lab": 365,
    "activity_score": 365,
    "pregnancy_test": 30,
    "imaging": 730,
}
LONGEST_WINDOW_DAYS = 3650

#: patient field -> the kind of dated value it reads: the ``window`` of its row in the field catalogue
#: (fields not listed are not dated results: an age, a diagnosis, a dose; ``*_days_ago`` fields compare the
#: age of a test itself)
FIELD_KINDS: dict[str, ValueKind] = {name: spec.window for name, spec in PATIENT_FIELDS.items() if spec.window}


@dataclass(frozen=True)
class Window:
    """How recent a value must be: at most ``days`` days before the as-of date, and where that was said."""

    days: int
    #: where the window comes from, e.g. "the comparison", "criterion inc-3", "the trial's lab window",
    #: "the project default for laboratory results"
    origin: str

    def describe(self) -> str:
        return f"{self.days}-day window ({self.origin})"

    @property
    def is_project_default(self) -> bool:
        """The rule file states no window for this value: the project's default applies."""
        return self.origin.startswith(PROJECT_DEFAULT)


PROJECT_DEFAULT = "the project default"


def age_days(day: dt.date, as_of: dt.date) -> int:
    return (as_of - day).days


def _days(count: int) -> str:
    return f"{count:,} day{'s' if count != 1 else ''}"


def current(reading: Reading, window: Window | None, as_of: dt.date, label: str) -> Reading:
    """``reading`` if it is within ``window`` of ``as_of`` (or no window applies); else an absence
    that names the last value's date, its age and the window, and asks for a current one."""
    if window is None or not isinstance(reading, Observation):
        return reading
    if reading.date is None:
        return Absence(f"the {label} used ({reading.display}) has no date, so whether it is within the "
                       f"{window.describe()} cannot be told", f"a current {label} (with its date)")
    age = age_days(reading.date, as_of)
    if age <= window.days:
        return reading
    over = age - window.days
    return Absence(
        f"the last {label}, {reading.display} on {reading.date}, is {_days(age)} old on {as_of}: older than the "
        f"{window.describe()}, so it is not used",
        f"a current {label} (the last one, on {reading.date}, is {_days(over)} older than the "
        f"{window.days}-day window)")
