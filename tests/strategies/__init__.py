"""Hypothesis strategies for the property tests (tests/test_properties*.py and the other *_properties modules),
split by what they generate.

Nothing here lists a threshold by hand. Thresholds are read from the rule files in ``rules/`` (every
comparison of every criterion condition and query ``where``, both readings of a disputed boundary:
:mod:`.trials`); the fields come from the catalogue ``matcher/model/fields/fields.yaml``. What this package adds
is independent of the matcher:

* **field writers** (:data:`WRITERS`, :mod:`.registry`): for each field, how to make a patient (or one list
  entry) read a chosen value, worked out from the documented meaning of the field (completed years,
  calendar months, a week is 7 days, "most recent on or before the as-of date", Mosteller, CKD-EPI 2021,
  Cockcroft-Gault) and never by calling the matcher's own arithmetic. A writer also says which values of
  its field lie just below, at and just above a threshold (:meth:`Writer.around`). What a writer is:
  :mod:`.writers`; the families: :mod:`.labs` (lab results, activity scores), :mod:`.demographics` (age,
  sex, body size, computed kidney function), :mod:`.pregnancy`, :mod:`.diagnoses`, :mod:`.medications`
  (courses), :mod:`.events` (infections, procedures, immunizations), :mod:`.attributes` (plain attributes
  found in the profile model).
* **numbers, units and the calendar** (:mod:`.quantities`): exact fractions, every accepted spelling of
  each measured quantity with its factor (written out independently of pint), calendar arithmetic
  re-implemented from the documented definitions.
* **patients** (:mod:`.profiles`), **taking information away** (:mod:`.consistency`), **the same patient
  written otherwise** (:mod:`.rewriting`), **random rule files** (:mod:`.rule_trees`), **bad input**
  (:mod:`.bad_input`) and **counterexamples as files** (:mod:`.counterexamples`).

Tests import the package (``from . import strategies as gen``); the names below are its interface.
"""

from .bad_input import bad_documents, json_values, junk
from .consistency import VISIBILITY_DATES, consistent, less_informed, removable, remove
from .counterexamples import dump, patient_file, rule_file
from .demographics import ckd_epi_2021
from .medications import DOSE_LIMITS, GLUCOCORTICOIDS
from .pregnancy import FEMALE_ONLY, NEGATIVE_TEST_DAYS
from .profiles import as_of_dates, base_entry, entry, medication_histories, patients
from .quantities import (
    UNITS,
    Draw,
    calendar_months,
    completed_years,
    days,
    decimal_text,
    exact,
    plain_number,
    plus_months,
    quantity,
    quantity_text,
    read_quantity,
    spellings,
)
from .registry import WRITERS, item_writers, patient_writers, writer_for
from .rewriting import all_dates, rewrite_units, shift_dates, shuffled
from .rule_trees import rule_documents
from .trials import PATIENT, Site, Thresholds, encoded_trials, field_spec, rule_thresholds, sites, thresholds_of
from .writers import Ctx, Token, Write, Writer

__all__ = [
    "DOSE_LIMITS",
    "FEMALE_ONLY",
    "GLUCOCORTICOIDS",
    "NEGATIVE_TEST_DAYS",
    "PATIENT",
    "UNITS",
    "VISIBILITY_DATES",
    "WRITERS",
    "Ctx",
    "Draw",
    "Site",
    "Thresholds",
    "Token",
    "Write",
    "Writer",
    "all_dates",
    "as_of_dates",
    "bad_documents",
    "base_entry",
    "calendar_months",
    "ckd_epi_2021",
    "completed_years",
    "consistent",
    "days",
    "decimal_text",
    "dump",
    "encoded_trials",
    "entry",
    "exact",
    "field_spec",
    "item_writers",
    "json_values",
    "junk",
    "less_informed",
    "medication_histories",
    "patient_file",
    "patient_writers",
    "patients",
    "plain_number",
    "plus_months",
    "quantity",
    "quantity_text",
    "read_quantity",
    "removable",
    "remove",
    "rewrite_units",
    "rule_documents",
    "rule_file",
    "rule_thresholds",
    "shift_dates",
    "shuffled",
    "sites",
    "spellings",
    "thresholds_of",
    "writer_for",
]
