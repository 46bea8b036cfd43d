"""Derived values against hand-computed references, each with its source.

- CKD-EPI 2021 (Inker LA et al., N Engl J Med 2021;385:1737-49; race-free):
  142 x min(Scr/k,1)^a x max(Scr/k,1)^-1.200 x 0.9938^age x 1.012 if female,
  k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M). Worked by hand below.
- Cockcroft-Gault (Cockcroft & Gault, Nephron 1976;16:31-41): (140 - age) x kg / (72 x Scr) x 0.85 if female.
- Mosteller body-surface area (N Engl J Med 1987;317:1098): sqrt(cm x kg / 3600).
- Prednisone equivalents (matcher/model/drugs.py): prednisone 5 = dexamethasone 0.75 = hydrocortisone 20 mg.
- Creatinine 113.12 g/mol: 1 mg/dL = 88.4 umol/L; urine protein/creatinine 1 g/g = 113.12 mg/mmol.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from matcher.model.fields import LISTS, PATIENT_FIELDS, Absence, Observation

from .helpers import profile

AS_OF = dt.date(2026, 11, 2)


def patient(sex: str, age: int, creatinine: str | None = None, **demographics: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": "p", "demographics": {"sex": sex, "age": age, **demographics}, "labs": []}
    if creatinine:
        data["labs"].append({"test": "serum_creatinine", "value": creatinine, "date": "2026-10-01"})
    return data


def read(field: str, data: dict[str, Any]) -> Observation:
    reading = PATIENT_FIELDS[field].extract(profile(data), AS_OF)
    assert isinstance(reading, Observation), reading
    return reading


@pytest.mark.parametrize(("sex", "age", "creatinine", "expected"), [
    # 142 x (1.0/0.7)^-1.2 = 142 x 0.65176 = 92.55; x 0.9938^50 (0.73276) = 67.82; x 1.012 = 68.6
    ("female", 50, "1.0 mg/dL", 68.6),
    # 142 x (0.8/0.9)^-0.302 = 142 x 1.0362 = 147.14; x 0.9938^60 (0.68815) = 101.3
    ("male", 60, "0.8 mg/dL", 101.3),
    # 142 x (2.0/0.9)^-1.2 = 142 x 0.38347 = 54.45; x 0.9938^40 (0.77970) = 42.5
    ("male", 40, "2.0 mg/dL", 42.5),
    # 0.6 mg/dL = 53 umol/L: 142 x (0.6/0.7)^-0.241 = 142 x 1.0378 = 147.37; x 0.9938^30 (0.82947) x 1.012 = 123.8
    ("female", 30, "53.04 umol/L", 123.8),
])
def test_ckd_epi_2021(sex: str, age: int, creatinine: str, expected: float) -> None:
    egfr = read("egfr_ckd_epi_2021", patient(sex, age, creatinine))
    assert egfr.value == pytest.approx(expected, abs=0.1)
    assert egfr.derivation is not None and egfr.derivation.startswith("CKD-EPI 2021 from creatinine")


def test_ckd_epi_is_not_computed_for_children_or_without_inputs() -> None:
    for data in (patient("female", 16, "0.6 mg/dL"), patient("female", 40)):
        assert isinstance(PATIENT_FIELDS["egfr_ckd_epi_2021"].extract(profile(data), AS_OF), Absence)


@pytest.mark.parametrize(("data", "collect"), [
    (patient("female", 16, "0.6 mg/dL"), "a measured or reported eGFR"),  # creatinine, age, sex are recorded
    (patient("female", 40), "eGFR (or the serum creatinine to compute it)"),
])
def test_a_missing_egfr_asks_only_for_what_is_missing(data: dict[str, Any], collect: str) -> None:
    reading = PATIENT_FIELDS["egfr_reported_or_ckd_epi_2021"].extract(profile(data), AS_OF)
    assert isinstance(reading, Absence) and reading.collect == collect


def test_reported_egfr_is_preferred_and_the_computed_one_is_marked() -> None:
    data = patient("female", 50, "1.0 mg/dL")
    computed = read("egfr_reported_or_ckd_epi_2021", data)
    assert computed.display == "68.6 mL/min/1.73m2 (computed)"
    data["labs"].append({"test": "egfr", "value": "75 mL/min/1.73m2", "date": "2026-10-01"})
    reported = read("egfr_reported_or_ckd_epi_2021", data)
    assert reported.value == 75 and reported.derivation == "most recent result on or before the as-of date"


def test_cockcroft_gault() -> None:
    # (140 - 60) x 70 / (72 x 1.2) = 64.81; x 0.85 = 55.1 mL/min
    clearance = read("creatinine_clearance_cockcroft_gault", patient("female", 60, "1.2 mg/dL", weight="70 kg"))
    assert clearance.value == pytest.approx(55.1, abs=0.05)
    missing = PATIENT_FIELDS["creatinine_clearance_cockcroft_gault"].extract(
        profile(patient("female", 60, "1.2 mg/dL")), AS_OF)
    assert isinstance(missing, Absence) and missing.collect == "weight"


def test_body_surface_area() -> None:
    # sqrt(170 x 70 / 3600) = sqrt(3.30556) = 1.8181 m2
    bsa = read("body_surface_area", patient("male", 40, weight="70 kg", height="1.70 m"))
    assert bsa.value == pytest.approx(1.8181, abs=1e-4)


def course_field(field: str, course: dict[str, Any], **demographics: Any) -> Observation | Absence:
    data = patient("female", 40, **demographics)
    data["medications"] = [course]
    prof = profile(data)
    reading = LISTS["medications"].fields[field].extract(prof.medications[0], 0, prof, AS_OF)  # type: ignore[index]
    return reading


@pytest.mark.parametrize(("course", "expected"), [
    ({"drug": "dexamethasone", "dose": "3 mg", "frequency": "daily"}, 20.0),        # 3 x 5 / 0.75
    ({"drug": "hydrocortisone", "dose": "20 mg", "frequency": "twice_daily"}, 10.0),  # 40 x 5 / 20
    ({"drug": "prednisolone", "dose": "7.5 mg", "frequency": "daily"}, 7.5),          # 7.5 x 5 / 5
])
def test_prednisone_equivalents(course: dict[str, Any], expected: float) -> None:
    reading = course_field("prednisone_equivalent_daily_dose", course)
    assert isinstance(reading, Observation) and reading.value == pytest.approx(expected)


def test_dose_per_kg_and_absolute_dose_from_body_size() -> None:
    # azathioprine 150 mg daily / 60 kg = 2.5 mg/kg/day
    per_kg = course_field("daily_dose_per_kg", {"drug": "azathioprine", "dose": "150 mg", "frequency": "daily"},
                          weight="60 kg")
    assert isinstance(per_kg, Observation) and per_kg.value == pytest.approx(2.5)
    # 500 mg/m2 x 1.8181 m2 = 909.1 mg
    absolute = course_field("dose_absolute", {"drug": "cyclophosphamide", "dose": "500 mg/m2"},
                            weight="70 kg", height="170 cm")
    assert isinstance(absolute, Observation) and absolute.value == pytest.approx(909.1, abs=0.05)
    unknown = course_field("dose_absolute", {"drug": "cyclophosphamide", "dose": "500 mg/m2"})
    assert isinstance(unknown, Absence) and unknown.collect == "height and weight"
    # methotrexate 20 mg weekly; 2.5 mg x 7 days = 17.5 mg/week
    weekly = course_field("weekly_dose", {"drug": "methotrexate", "dose": "2.5 mg", "frequency": "daily"})
    assert isinstance(weekly, Observation) and weekly.value == pytest.approx(17.5)


@pytest.mark.parametrize(("written", "expected"), [
    ("113.12 mg/mmol", 1.0), ("1000 mg/g", 1.0), ("1 mg/mg", 1.0), ("56.56 mg/mmol", 0.5),
])
def test_urine_protein_creatinine_ratio_units(written: str, expected: float) -> None:
    data = {"id": "p", "labs": [{"test": "urine_protein_creatinine_ratio", "value": written, "date": "2026-10-01"}]}
    assert read("urine_protein_creatinine_ratio", data).value == pytest.approx(expected, rel=1e-4)


def test_saliva_flow_from_a_timed_collection() -> None:
    data = {"id": "p", "labs": [{"test": "stimulated_saliva_flow", "value": "4.2 mL/6 min", "date": "2026-10-01"}]}
    assert read("stimulated_saliva_flow", data).value == pytest.approx(0.7)


def test_acr_count_from_the_listed_criteria() -> None:
    data = {"id": "p", "diagnoses": {"sle": {"acr1997_criteria": ["arthritis", "malar_rash", "serositis",
                                                                  "antinuclear_antibody"]}}}
    count = read("sle.acr1997_criteria_met", data)
    assert count.value == 4 and count.derivation is not None and "arthritis" in count.derivation
