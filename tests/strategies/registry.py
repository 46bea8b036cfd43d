"""Every field writer, by (scope, field): built once at import from the writer families, keeping only the
fields the matcher's field registry has (a field renamed there must not keep a stale writer).
"""
from __future__ import annotations

from matcher.model.fields import LISTS, PATIENT_FIELDS
from matcher.model.measurements import ACTIVITY_INDICES, LAB_TESTS

from .attributes import attribute_writer, item_attribute_writer
from .demographics import (
    age_writer,
    body_writer,
    bsa_writer,
    ckd_epi_same_day_as_reported_writer,
    ckd_epi_writer,
    cockcroft_gault_writer,
    egfr_either_writer,
    sex_writer,
)
from .diagnoses import acr_count_writer, ana_writer, diagnosis_status_writer
from .events import done_weeks_writer, infection_writers
from .labs import activity_writer, bilag_writer, lab_writer, uln_multiple_writer
from .medications import biopsy_months_writer, course_writers, malignancy_months_writer
from .pregnancy import (
    FEMALE_ONLY,
    female_only_writer,
    pregnancy_test_age_writer,
    pregnancy_test_writer,
    pregnant_writer,
)
from .trials import PATIENT
from .writers import Writer

WRITERS: dict[tuple[str, str], Writer] = {}


def _register(writer: Writer) -> Writer:
    WRITERS[(writer.scope, writer.field)] = writer
    return writer


def writer_for(scope: str, name: str) -> Writer | None:
    return WRITERS.get((scope, name))

def _build_writers() -> None:
    for writer in (age_writer(), sex_writer(), acr_count_writer(), body_writer("weight", 1, 400),
                   body_writer("height", 30, 250), bsa_writer(), ckd_epi_writer(),
                   ckd_epi_same_day_as_reported_writer(), cockcroft_gault_writer(),
                   pregnant_writer(), egfr_either_writer("egfr_reported_or_ckd_epi_2021"), ana_writer(),
                   biopsy_months_writer(), malignancy_months_writer(), bilag_writer(),
                   *(diagnosis_status_writer(n) for n in ("sle", "primary_sjogren")
                     if f"{n}.status" in PATIENT_FIELDS),
                   *(female_only_writer(n) for n in FEMALE_ONLY if n in PATIENT_FIELDS)):
        _register(writer)
    for index in ACTIVITY_INDICES:
        _register(activity_writer(index))
    for test in LAB_TESTS:
        _register(lab_writer(test))
        if f"{test}_x_uln" in PATIENT_FIELDS:
            _register(uln_multiple_writer(test))
    for specimen in ("urine", "serum", None):
        _register(pregnancy_test_writer(specimen))
        _register(pregnancy_test_age_writer(specimen))
    for name, spec in PATIENT_FIELDS.items():
        if (PATIENT, name) not in WRITERS and spec.type in ("bool", "enum"):
            found = attribute_writer(name, spec)
            if found is not None:
                _register(found)
    for writer in course_writers():
        _register(writer)
    for writer in infection_writers():
        _register(writer)
    for scope in ("procedures", "immunizations"):
        if scope in LISTS and "weeks_since" in LISTS[scope].fields:
            _register(done_weeks_writer(scope))
    for scope, listed in LISTS.items():
        for name, spec in listed.fields.items():
            if (scope, name) not in WRITERS:
                found = item_attribute_writer(scope, name, spec)
                if found is not None:
                    _register(found)
    # keep only writers of fields the registry has (a field renamed there must not keep a stale writer)
    for scope, name in list(WRITERS):
        if name not in (PATIENT_FIELDS if scope == PATIENT else LISTS[scope].fields if scope in LISTS else {}):
            del WRITERS[(scope, name)]


_build_writers()


def patient_writers() -> list[Writer]:
    return [w for (scope, _), w in sorted(WRITERS.items()) if scope == PATIENT]


def item_writers(scope: str) -> list[Writer]:
    return [w for (s, _), w in sorted(WRITERS.items()) if s == scope]
