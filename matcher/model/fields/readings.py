"""What extracting a field gives, and the spec a field is built into.

Extracting a field gives either an :class:`Observation` (the value the engine sees, with where it came
from, its date, its unit and how it was derived) or an :class:`Absence` (why it is unknown, and what to
collect). Nothing is defaulted: a value the profile does not give stays absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from matcher.model.dates import months_between
from matcher.model.profile import PatientProfile
from matcher.model.units import Measure

Scalar = float | bool | str
FieldType = Literal["number", "bool", "enum"]
#: the kinds of dated value a currency window applies to (matcher.model.currency gives their windows)
ValueKind = Literal["lab", "activity_score", "pregnancy_test", "imaging"]


@dataclass(frozen=True)
class Observation:
    """A known value: what the engine compares, and how to explain it."""

    value: Scalar
    display: str
    source: str
    date: dt.date | None = None
    derivation: str | None = None


@dataclass(frozen=True)
class Absence:
    """An unknown value: why, and what a coordinator should collect."""

    reason: str
    collect: str


Reading = Observation | Absence
#: a patient field's extractor: (profile, as-of date)
PatientExtract = Callable[[PatientProfile, dt.date], Reading]
#: an item field's extractor: (entry, its index in the list, profile, as-of date)
ItemExtract = Callable[[Any, int, PatientProfile, dt.date], Reading]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: FieldType
    extract: Callable[..., Reading]
    #: canonical unit (pint spelling) of a number field that is a measured quantity
    measure: Measure | None = None
    choices: tuple[str, ...] = ()
    collect: str = ""
    #: what a plain number of this field counts, shown after thresholds ("years", "x ULN")
    suffix: str = ""
    #: how the value is derived, as the catalogue row says it (``lab serum_creatinine``, ``function age_years``)
    derive: str = ""
    #: the kind of dated value read, where a currency window applies (patient fields only)
    window: ValueKind | None = None
    #: the values a number field can take (what a patient file is checked against), when it is bounded
    possible: tuple[float, float] | None = None

    @property
    def unit_display(self) -> str:
        return self.measure.display if self.measure else self.suffix


@dataclass(frozen=True)
class ListSpec:
    """A list in the profile that queries can range over."""

    name: str
    label: str
    item_label: Callable[[Any], str]
    fields: dict[str, FieldSpec]
    collect: str
    #: entries dated after the as-of date have not happened yet on that day and are left out
    visible: Callable[[Any, dt.date], bool]

    def items(self, profile: PatientProfile) -> list[Any] | None:
        entries: list[Any] | None = getattr(profile, self.name)
        return entries


def fact_key(name: str) -> str:
    """The engine's key for a field name (the engine reads dots as nesting)."""
    return name.replace(".", "__")


def fmt(value: float) -> str:
    return f"{value:.6g}"


def elapsed(since: dt.date, until: dt.date, unit: str) -> float:
    """Days, weeks (7 days) or calendar months from ``since`` to ``until`` (see matcher.model.dates)."""
    if unit == "months":
        return round(months_between(since, until), 4)
    days = (until - since).days
    return days if unit == "days" else round(days / 7, 4)


def later_count(results: list[Any] | None, as_of: dt.date, keep: Callable[[Any], bool]) -> int:
    """How many entries ``keep`` selects are dated after ``as_of`` (not yet done on it: left out)."""
    return len([entry for entry in results or () if keep(entry) and entry.date > as_of])


def left_out(count: int, noun: str) -> str:
    if count == 0:
        return ""
    return f" ({count} {noun}{'s' if count > 1 else ''} dated after the as-of date left out)"


def latest(results: list[Any] | None, as_of: dt.date, keep: Callable[[Any], bool]) -> tuple[int, Any] | None:
    """The most recent entry on or before ``as_of`` (index in the list, entry). Entries of one day (the profile
    refuses two different values of one thing on one day) are told apart by what they record, never by
    their order in the list: a lab's ULN or the spelling of a value is then the same whatever the order."""
    best: tuple[int, Any] | None = None
    for index, entry in enumerate(results or ()):
        if keep(entry) and entry.date <= as_of and (
                best is None or entry.date > best[1].date
                or (entry.date == best[1].date and repr(entry) < repr(best[1]))):
            best = (index, entry)
    return best
