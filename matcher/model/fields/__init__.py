"""The fields rules may test, and how each is read from a patient profile.

A rule never reads the profile directly: it names a field. Every field is one row of the catalogue
``fields.yaml`` beside this module (name, type, unit, allowed values, label, what it reads, how it is
derived, its currency window); :mod:`matcher.model.fields.rows` reads the rows and this module builds
the registries from them: :data:`PATIENT_FIELDS` (fields of the patient, tested in a criterion's
condition) and :data:`LISTS` (each list of the profile a query ranges over, with the item fields of its
entries). Lint, ``matcher fields``, the table in docs/rule-files.md and the currency windows
(matcher.model.currency) read these registries, so a field is declared once.

A row's ``derive`` names a kind (the factories in ``KINDS`` of :mod:`~matcher.model.fields.patient`,
:mod:`~matcher.model.fields.pregnancy`, :mod:`~matcher.model.fields.medications`,
:mod:`~matcher.model.fields.entries`) or, for a field whose logic is its own, ``function NAME`` (their
``FUNCTIONS``). Lab tests and activity indices are declared in matcher/model/measurements.py, and one
row per entry is generated there (adding a lab is one edit).

Extracting a field gives an :class:`Observation` or an :class:`Absence`: nothing is defaulted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from matcher.model import drugs
from matcher.model.fields import entries, medications, patient, pregnancy
from matcher.model.fields.readings import (
    Absence,
    FieldSpec,
    FieldType,
    ListSpec,
    Observation,
    Reading,
    Scalar,
    ValueKind,
    fact_key,
)
from matcher.model.fields.rows import PATIENT, CatalogueError, FieldRow, ListRows, load

__all__ = [
    "IMMUNIZATION_FIELDS", "INFECTION_FIELDS", "LISTS", "MALIGNANCY_FIELDS", "MEDICATION_FIELDS", "PATIENT",
    "PATIENT_FIELDS", "PROCEDURE_FIELDS", "Absence", "FieldRow", "FieldSpec", "FieldType", "ListSpec",
    "Observation", "Reading", "Scalar", "ValueKind", "fact_key",
]

_PATIENT_KINDS = {**patient.KINDS, **pregnancy.KINDS}
_PATIENT_FUNCTIONS = {**patient.FUNCTIONS, **pregnancy.FUNCTIONS}
_ITEM_KINDS = {**medications.KINDS, **entries.KINDS}
_ITEM_FUNCTIONS = {**medications.FUNCTIONS, **entries.FUNCTIONS}
#: how an entry of each list is described, and whether it has happened by the as-of date
_DESCRIBE: dict[str, Callable[[Any], str]] = {"medications": medications.describe_course, **entries.DESCRIBE}
_VISIBLE: dict[str, Callable[[Any, Any], bool]] = {"medications": medications.visible_course, **entries.VISIBLE}


def _extractor(row: FieldRow, kinds: Mapping[str, Callable[[str, FieldRow], Any]],
               functions: Mapping[str, Any]) -> Callable[..., Reading]:
    if row.kind == "function":
        if row.parameter not in functions:
            raise CatalogueError(f"fields.yaml, {row.scope} field {row.name}: no extractor function "
                                 f"{row.parameter!r}; known: {sorted(functions)}")
        extract: Callable[..., Reading] = functions[row.parameter]
        return extract
    if row.kind not in kinds:
        raise CatalogueError(f"fields.yaml, {row.scope} field {row.name}: unknown kind {row.kind!r}; known: "
                             f"function, {', '.join(sorted(kinds))}")
    made: Callable[..., Reading] = kinds[row.kind](row.parameter, row)
    return made


def _spec(row: FieldRow, kinds: Mapping[str, Callable[[str, FieldRow], Any]],
          functions: Mapping[str, Any]) -> FieldSpec:
    return FieldSpec(row.name, row.label, row.type, _extractor(row, kinds, functions), row.unit, row.values,
                     row.reads, row.counts, row.derive, row.window, row.possible)


def _list(rows: ListRows) -> ListSpec:
    if rows.name not in _DESCRIBE:
        raise CatalogueError(f"fields.yaml: the list {rows.name!r} has no description and date rule (lists known: "
                             f"{sorted(_DESCRIBE)})")
    fields = {row.name: _spec(row, _ITEM_KINDS, _ITEM_FUNCTIONS) for row in rows.rows}
    return ListSpec(rows.name, rows.label, _DESCRIBE[rows.name], fields, rows.reads, _VISIBLE[rows.name])


def _check_drug_classes(fields: Mapping[str, FieldSpec]) -> None:
    """Every class of matcher/model/drugs.py has its ``is_<class>`` row, and no row names another class."""
    declared = {spec.derive.removeprefix("drug_class ") for spec in fields.values()
                if spec.derive.startswith("drug_class ")}
    if declared != set(drugs.CLASSES):
        raise CatalogueError(f"fields.yaml: the drug_class rows ({sorted(declared)}) must be the classes of "
                             f"matcher/model/drugs.py ({sorted(drugs.CLASSES)})")


_PATIENT_ROWS, _LIST_ROWS = load()
PATIENT_FIELDS: dict[str, FieldSpec] = {row.name: _spec(row, _PATIENT_KINDS, _PATIENT_FUNCTIONS)
                                        for row in _PATIENT_ROWS}
LISTS: dict[str, ListSpec] = {rows.name: _list(rows) for rows in _LIST_ROWS}
MEDICATION_FIELDS = LISTS["medications"].fields
INFECTION_FIELDS = LISTS["infections"].fields
MALIGNANCY_FIELDS = LISTS["malignancies"].fields
PROCEDURE_FIELDS = LISTS["procedures"].fields
IMMUNIZATION_FIELDS = LISTS["immunizations"].fields
_check_drug_classes(MEDICATION_FIELDS)

