"""Item fields of ``infections``, ``malignancies``, ``procedures`` and ``immunizations``, and how each
list's entries are described and dated (:data:`DESCRIBE`, :data:`VISIBLE`).

The rows of ``fields.yaml`` name what they use: ``item_attribute status`` reads the entry's ``status``;
``weeks_since done_on`` counts weeks from :data:`WHEN` ``done_on``; ``function infection_active`` is
:data:`FUNCTIONS` ``infection_active``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from matcher.model.fields.readings import Absence, ItemExtract, Observation, Reading, elapsed, fmt
from matcher.model.profile import Immunization, Infection, Malignancy, PatientProfile, Procedure

if TYPE_CHECKING:
    from matcher.model.fields.rows import FieldRow


def item_attribute(attr: str, row: FieldRow) -> ItemExtract:
    """A plain attribute of the entry."""
    listed = row.scope

    def extract(item: Any, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        value = getattr(item, attr)
        if value is None:
            return Absence(f"{row.label} of {listed}[{i}] not recorded", f"{row.label} ({listed}[{i}].{attr})")
        display = ("yes" if value else "no") if isinstance(value, bool) else str(value).replace("_", " ")
        return Observation(value, display, f"{listed}[{i}].{attr}")

    return extract


def weeks_since(when: str, row: FieldRow) -> ItemExtract:
    """Weeks from the day :data:`WHEN` ``when`` gives for the entry to the as-of date."""
    listed, day_of = row.scope, WHEN[when]

    def extract(item: Any, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        found = day_of(item, as_of)
        if isinstance(found, Absence):
            return found
        day, how = found
        weeks = elapsed(day, as_of, "weeks")
        return Observation(weeks, f"{fmt(weeks)} weeks", f"{listed}[{i}]", None,
                           f"{how}: {(as_of - day).days} days = {fmt(weeks)} weeks before the as-of date")

    return extract


def planned(param: str, row: FieldRow) -> ItemExtract:
    """Whether the entry is planned (not yet done); an entry not marked planned is taken as done."""
    listed = row.scope

    def extract(item: Procedure | Immunization, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
        return Observation(bool(item.planned), "yes" if item.planned else "no", f"{listed}[{i}].planned", None,
                           None if item.planned is not None else "not marked planned: taken as done")

    return extract


def _infection_active(item: Infection, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    """Active on the as-of date: not ended by then, and not recorded as resolved (without a later end)."""
    if item.end is not None and item.end <= as_of:
        return Observation(False, "no", f"infections[{i}].end", None, f"ended {item.end}")
    if item.status == "resolved" and item.end is None:
        return Observation(False, "no", f"infections[{i}].status", None, "recorded as resolved")
    how = f"ends {item.end}, after the as-of date" if item.end else f"recorded as {item.status}"
    return Observation(True, "yes", f"infections[{i}]", None, how)


def _infection_last_active(item: Infection, as_of: dt.date) -> tuple[dt.date, str] | Absence:
    if item.end is not None:
        return (as_of, "active on the as-of date") if item.end > as_of else (item.end, f"ended {item.end}")
    if item.status != "resolved":
        return as_of, "active on the as-of date"
    return Absence(f"{item.name} is resolved but its end date is not recorded", f"end date of {item.name}")


def _done_on(item: Procedure | Immunization, as_of: dt.date) -> tuple[dt.date, str] | Absence:
    if item.planned:
        return Absence("a planned entry has not happened yet", "date")
    if item.date is None:
        return Absence(f"date of {getattr(item, 'type', getattr(item, 'vaccine', 'entry'))} not recorded", "date")
    return item.date, f"done {item.date}"


def _months_since_diagnosed(item: Malignancy, i: int, profile: PatientProfile, as_of: dt.date) -> Reading:
    """Calendar months from the malignancy's diagnosis to the as-of date ("within the previous 5 years")."""
    if item.diagnosed is None:
        return Absence(f"the diagnosis date of malignancies[{i}] ({item.type}) is not recorded",
                       f"diagnosis date (malignancies[{i}].diagnosed)")
    months = elapsed(item.diagnosed, as_of, "months")
    return Observation(months, f"{fmt(months)} months", f"malignancies[{i}].diagnosed", None,
                       f"diagnosed {item.diagnosed}: {fmt(months)} calendar months before the as-of date")


def _describe_infection(item: Infection) -> str:
    span = f", {item.start or '?'} to {item.end or 'now'}" if item.start or item.end else ""
    return f"{item.name} ({item.status}{span})"


def _describe_malignancy(item: Malignancy) -> str:
    return f"{item.type} ({item.status.replace('_', ' ')})"


def _describe_procedure(item: Procedure) -> str:
    return f"{item.type.replace('_', ' ')} ({'planned' if item.planned else item.date or 'date unknown'})"


def _describe_immunization(item: Immunization) -> str:
    return f"{item.vaccine} ({'live' if item.live else 'not live'}, " \
           f"{'planned' if item.planned else item.date or 'date unknown'})"


def _on_or_before(day: dt.date | None, as_of: dt.date) -> bool:
    return day is None or day <= as_of


KINDS: dict[str, Callable[[str, FieldRow], ItemExtract]] = {
    "item_attribute": item_attribute,
    "weeks_since": weeks_since,
    "planned": planned,
}
FUNCTIONS: dict[str, ItemExtract] = {"infection_active": _infection_active,
                                     "months_since_diagnosed": _months_since_diagnosed}
#: the day a ``weeks_since`` row counts from (and how to say it), or why it is unknown
WHEN: dict[str, Callable[[Any, dt.date], tuple[dt.date, str] | Absence]] = {
    "infection_last_active": _infection_last_active,
    "done_on": _done_on,
}
#: how one entry of each list is described in an explanation
DESCRIBE: dict[str, Callable[[Any], str]] = {
    "infections": _describe_infection,
    "malignancies": _describe_malignancy,
    "procedures": _describe_procedure,
    "immunizations": _describe_immunization,
}
#: whether an entry has happened by the as-of date (entries dated after it are left out)
VISIBLE: dict[str, Callable[[Any, dt.date], bool]] = {
    "infections": lambda item, as_of: _on_or_before(item.start, as_of),
    "malignancies": lambda item, as_of: _on_or_before(item.diagnosed, as_of),
    "procedures": lambda item, as_of: bool(item.planned) or _on_or_before(item.date, as_of),
    "immunizations": lambda item, as_of: bool(item.planned) or _on_or_before(item.date, as_of),
}
