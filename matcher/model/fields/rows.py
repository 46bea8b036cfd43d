"""The field catalogue read from ``fields.yaml``: one :class:`FieldRow` per field a rule may test.

``fields.yaml`` (package data beside this module) is the one declaration of the fields: name, type,
unit, allowed values, label, what it reads and how it is derived. Lab-test and activity-score fields are
the exception: their rows are generated, one per entry of ``LAB_TESTS`` and ``ACTIVITY_INDICES`` in
:mod:`matcher.model.measurements` (which the patient file is validated against), at the place of a
``rows_from:`` line in the file; so adding a lab is one edit there. A mistake in the file (an unknown
kind, type or value source, a field named twice) stops the import with a message naming the row.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, get_args

import yaml

from matcher.model import drugs
from matcher.model.fields.readings import FieldType, ValueKind
from matcher.model.measurements import ACTIVITY_INDICES, LAB_TESTS
from matcher.model.profile import AGE_RANGE, BODY_RANGES, InfectionAgent, MalignancyCategory
from matcher.model.units import Measure

#: libyaml's C parser where PyYAML was built with it (the wheels are), about 8x faster than the pure-Python
#: one on this file; both give the same data (only the scanner and parser differ, the constructor is shared)
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PATIENT = "patient"
CATALOGUE_FILE = "fields.yaml"
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
VALUE_KINDS: tuple[ValueKind, ...] = get_args(ValueKind)

#: the value lists a row may take its allowed values from (``values: from NAME``)
VALUE_SOURCES: dict[str, tuple[str, ...]] = {
    "InfectionAgent": tuple(typing.get_args(InfectionAgent)),
    "MalignancyCategory": tuple(typing.get_args(MalignancyCategory)),
    "drugs.DRUGS": tuple(sorted(drugs.DRUGS)),
}
#: the ranges a row may take its possible values from (``range: from NAME``): what a patient file is checked
#: against, so that ``matcher lint`` refuses a threshold no patient can reach
RANGE_SOURCES: dict[str, tuple[float, float]] = {
    "AGE_RANGE": AGE_RANGE,
    **{f"BODY_RANGES.{name}": bounds for name, bounds in BODY_RANGES.items()},
}
_KEYS = {"name", "type", "label", "reads", "derive", "unit", "pint", "per_bsa", "counts", "values", "window",
         "range"}


class CatalogueError(Exception):
    """fields.yaml is malformed: a programming error of the package, named with its row."""


@dataclass(frozen=True)
class FieldRow:
    """One field as the catalogue declares it."""

    name: str
    #: ``patient``, or the list whose entries the field describes (``medications``)
    scope: str
    type: FieldType
    label: str
    #: what the patient file must give (what to collect when the field is unknown)
    reads: str
    #: the extractor kind (``lab``, ``attribute``, ``function``, ...)
    kind: str
    #: the kind's parameter (``serum_creatinine``, ``diagnoses.sle.present``, the function's name)
    parameter: str
    #: the canonical unit of a measured quantity (a threshold is then written with a unit)
    unit: Measure | None = None
    #: what a plain number counts ("years", "x ULN")
    counts: str = ""
    values: tuple[str, ...] = ()
    #: the kind of dated value read, where a currency window applies
    window: ValueKind | None = None
    #: the values a number field can take, when the patient model bounds them
    possible: tuple[float, float] | None = None

    @property
    def derive(self) -> str:
        return f"{self.kind} {self.parameter}".strip()


@dataclass(frozen=True)
class ListRows:
    """A list of the profile that queries range over, and the rows of its item fields."""

    name: str
    label: str
    reads: str
    rows: tuple[FieldRow, ...]


def _measure(raw: dict[str, Any]) -> Measure | None:
    if "unit" not in raw:
        return None
    display = str(raw["unit"])
    return Measure(str(raw.get("pint", display)), display, per_bsa=bool(raw.get("per_bsa", False)))


def _values(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    values = raw.get("values", ())
    if isinstance(values, str):
        source = values.removeprefix("from ").strip()
        if not values.startswith("from ") or source not in VALUE_SOURCES:
            raise CatalogueError(f"{where}: values {values!r}: write a list, or 'from' one of {sorted(VALUE_SOURCES)}")
        return VALUE_SOURCES[source]
    return tuple(str(value) for value in values)


def _range(raw: dict[str, Any], where: str) -> tuple[float, float] | None:
    if "range" not in raw:
        return None
    source = str(raw["range"]).removeprefix("from ").strip()
    if not str(raw["range"]).startswith("from ") or source not in RANGE_SOURCES:
        raise CatalogueError(f"{where}: range {raw['range']!r}: write 'from' one of {sorted(RANGE_SOURCES)}")
    return RANGE_SOURCES[source]


def _row(raw: dict[str, Any], scope: str) -> FieldRow:
    where = f"{CATALOGUE_FILE}, {scope} field {raw.get('name', '?')}"
    unknown = set(raw) - _KEYS
    missing = {"name", "type", "label", "reads", "derive"} - set(raw)
    if unknown or missing:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if raw["type"] not in FIELD_TYPES:
        raise CatalogueError(f"{where}: type {raw['type']!r} is not one of {FIELD_TYPES}")
    if raw.get("window") is not None and raw["window"] not in VALUE_KINDS:
        raise CatalogueError(f"{where}: window {raw['window']!r} is not one of {VALUE_KINDS}")
    kind, _, parameter = str(raw["derive"]).partition(" ")
    return FieldRow(str(raw["name"]), scope, raw["type"], str(raw["label"]), str(raw["reads"]), kind,
                    parameter.strip(), _measure(raw), str(raw.get("counts", "")), _values(raw, where),
                    raw.get("window"), _range(raw, where))


def _lab_rows() -> list[FieldRow]:
    """One row per lab test of LAB_TESTS, and ``<test>_x_uln`` beside each test read against its ULN."""
    rows: list[FieldRow] = []
    for test, spec in LAB_TESTS.items():
        rows.append(FieldRow(test, PATIENT, "number", spec.label, spec.label, "lab", test, spec.measure,
                             window=spec.window, possible=(spec.low, spec.high)))
        if spec.needs_uln:
            rows.append(_uln_row(test))
    return rows


def _uln_row(test: str) -> FieldRow:
    label = LAB_TESTS[test].label
    return FieldRow(f"{test}_x_uln", PATIENT, "number", label, f"{label} with the lab's ULN", "lab_x_uln", test,
                    counts="x ULN", window="lab")


def _score_rows() -> list[FieldRow]:
    """One row per disease-activity index of ACTIVITY_INDICES (``SLEDAI-2K`` is the field ``sledai_2k``)."""
    return [FieldRow(index.lower().replace("-", "_"), PATIENT, "number", index, f"{index} score", "activity_score",
                     index, window="activity_score", possible=bounds) for index, bounds in ACTIVITY_INDICES.items()]


_GENERATED = {"LAB_TESTS": _lab_rows, "ACTIVITY_INDICES": _score_rows}


def _rows(entries: list[dict[str, Any]], scope: str) -> tuple[FieldRow, ...]:
    rows: list[FieldRow] = []
    for raw in entries:
        if "rows_from" in raw:
            if raw["rows_from"] not in _GENERATED:
                raise CatalogueError(f"{CATALOGUE_FILE}: rows_from {raw['rows_from']!r} is not one of "
                                     f"{sorted(_GENERATED)}")
            rows += _GENERATED[raw["rows_from"]]()
        else:
            rows.append(_row(raw, scope))
    names = [row.name for row in rows]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise CatalogueError(f"{CATALOGUE_FILE}: {scope} fields declared twice: {twice}")
    return tuple(rows)


@cache
def load() -> tuple[tuple[FieldRow, ...], tuple[ListRows, ...]]:
    """The patient rows, and each list with its item rows, in the order of the file."""
    text = resources.files("matcher.model.fields").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    document = yaml.load(text, Loader=_SAFE_LOADER)
    patient = _rows(document["patient"], PATIENT)
    lists = tuple(ListRows(name, str(body["label"]), str(body["reads"]), _rows(body["fields"], name))
                  for name, body in document["lists"].items())
    return patient, lists
