"""The lab fields added for the lupus nephritis trials: white cell count, ANA titre, anti-dsDNA against the lab's
cut-off and the urinary sediment; their validation, extraction, FHIR codes and the criteria they decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.api import Matcher
from matcher.intake.fhir import import_bundle, ucum_to_text
from matcher.model.fields import PATIENT_FIELDS
from matcher.model.measurements import LAB_TESTS, LabResult
from matcher.model.units import convert
from matcher.rules.language import load_trial

from .helpers import RULES, example, outcome, profile
from .test_fhir import LOINC, bundle, observation, quantity

TRIALS = ("NCT01539902", "NCT03917797", "NCT04184258")
WBC_BASE = "NCT01539902-eligible-new-class-iv-nephritis.yaml"
SERO_BASE = "NCT03917797-eligible-class-iv-on-mycophenolate.yaml"
DSDNA_BASE = "NCT04184258-eligible-active-nephritis.yaml"


@pytest.fixture(scope="module")
def nct_engine() -> Iterator[Matcher]:
    with Matcher([load_trial(RULES / f"{trial}.yaml") for trial in TRIALS]) as m:
        yield m


def result(test: str, value: Any, uln: Any = None) -> LabResult:
    return LabResult(test=test, value=value, uln=uln, date=dt.date(2026, 10, 1))


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(("test", "value", "amount"), [
    ("wbc", "3.5 x10^9/L", 3.5),
    ("wbc", "4200 /uL", 4.2),
    ("anti_dsdna", "45 IU/mL", 45),
    ("anti_dsdna", "45 U/mL", 45),
    ("ana_titre", "1:160", 160),
    ("ana_titre", "1 : 80", 80),
    ("urine_rbc_per_hpf", "6 /HPF", 6),
    ("urine_wbc_per_hpf", "9 cells/HPF", 9),
    ("urine_cellular_casts_per_lpf", "0 /LPF", 0),
])
def test_new_labs_read_their_units(test: str, value: str, amount: float) -> None:
    assert result(test, value).amount == pytest.approx(amount)


@pytest.mark.parametrize(("test", "value", "problem"), [
    ("wbc", "3.5 g/L", "cannot be converted"),
    ("wbc", "600 x10^9/L", "outside the possible range"),
    ("wbc", 3.5, "unit is required"),
    ("anti_dsdna", "45 IU/L", "not accepted here"),
    ("anti_dsdna", "-1 IU/mL", "outside the possible range"),
    ("ana_titre", "160", "write a titre as 1:N"),
    ("ana_titre", 160, "write a titre as 1:N"),
    ("ana_titre", "1:0", "write a titre as 1:N"),
    ("ana_titre", "2:160", "write a titre as 1:N"),
    ("ana_titre", "1:200000", "outside the possible range"),
    ("urine_rbc_per_hpf", "6 /uL", "not accepted here"),
    ("urine_rbc_per_hpf", "6", "unit is required"),
    ("urine_wbc_per_hpf", "1500 /HPF", "outside the possible range"),
    ("urine_cellular_casts_per_lpf", "2 /HPF", "not accepted here"),
])
def test_new_labs_refuse_a_bad_unit_or_an_impossible_value(test: str, value: Any, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        result(test, value)


def test_each_new_lab_is_a_field_with_its_window_and_anti_dsdna_is_read_against_its_cut_off() -> None:
    for test in ("wbc", "anti_dsdna", "ana_titre", "urine_rbc_per_hpf", "urine_wbc_per_hpf",
                 "urine_cellular_casts_per_lpf"):
        assert test in LAB_TESTS and PATIENT_FIELDS[test].window == "lab"
    assert "anti_dsdna_x_uln" in PATIENT_FIELDS and "ana_titre_x_uln" not in PATIENT_FIELDS


# ---------------------------------------------------------------- extraction
def test_the_most_recent_titre_and_the_anti_dsdna_multiple_of_the_cut_off_are_read() -> None:
    data = example(SERO_BASE)
    data["labs"] += [{"test": "ana_titre", "value": "1:640", "date": "2026-06-01"},
                     {"test": "anti_dsdna", "value": "45 IU/mL", "uln": "15 IU/mL", "date": "2026-10-13"}]
    patient = profile(data)
    as_of = dt.date(2026, 10, 20)
    titre = PATIENT_FIELDS["ana_titre"].extract(patient, as_of)
    assert (titre.value, titre.display) == (160, "1:160 (= 160 reciprocal titre)")
    multiple = PATIENT_FIELDS["anti_dsdna_x_uln"].extract(patient, as_of)
    assert multiple.value == 3


# ---------------------------------------------------------------- criteria at their thresholds
def _set(data: dict[str, Any], test: str, value: str | None, uln: str | None = None,
         day: str = "2026-10-13") -> dict[str, Any]:
    data["labs"] = [e for e in data["labs"] if e["test"] != test]
    if value is not None:
        entry = {"test": test, "value": value, "date": day}
        if uln is not None:
            entry["uln"] = uln
        data["labs"].append(entry)
    return data


@pytest.mark.parametrize(("value", "expected"), [
    ("3.4 x10^9/L", "met"), ("3.5 x10^9/L", "not_met"), ("3500 /uL", "not_met"), (None, "unknown"),
])
def test_nct01539902_exc5_white_cell_count_below_3_5_excludes(nct_engine: Matcher, value: str | None,
                                                              expected: str) -> None:
    data = _set(example(WBC_BASE), "wbc", value, day="2026-10-05")
    assert outcome(nct_engine, data, "exc-5", "NCT01539902") == expected


def test_nct01539902_exc5_neutrophils_no_longer_stand_in_for_the_white_cell_count(nct_engine: Matcher) -> None:
    data = _set(example(WBC_BASE), "wbc", None)
    assert outcome(nct_engine, data, "exc-5", "NCT01539902") == "unknown"


@pytest.mark.parametrize(("titre", "dsdna", "expected"), [
    ("1:80", None, "met"),
    ("1:40", None, "unknown"),           # anti-DNA not recorded may still be positive
    ("1:40", "15 IU/mL", "not_met"),     # at the cut-off: not positive
    ("1:40", "16 IU/mL", "met"),
    (None, "16 IU/mL", "met"),
    (None, "15 IU/mL", "unknown"),
    (None, None, "unknown"),
])
def test_nct03917797_inc2_ana_titre_or_anti_dsdna(nct_engine: Matcher, titre: str | None, dsdna: str | None,
                                                  expected: str) -> None:
    data = _set(_set(example(SERO_BASE), "ana_titre", titre), "anti_dsdna", dsdna, uln="15 IU/mL")
    assert outcome(nct_engine, data, "inc-2", "NCT03917797") == expected


def test_nct03917797_inc2_anti_dsdna_without_its_cut_off_is_unknown(nct_engine: Matcher) -> None:
    data = _set(_set(example(SERO_BASE), "ana_titre", "1:40"), "anti_dsdna", "200 IU/mL")
    assert outcome(nct_engine, data, "inc-2", "NCT03917797") == "unknown"


def test_nct03917797_inc2_an_old_titre_does_not_decide(nct_engine: Matcher) -> None:
    data = _set(example(SERO_BASE), "ana_titre", "1:640", day="2026-01-05")
    assert outcome(nct_engine, data, "inc-2", "NCT03917797") == "unknown"


@pytest.mark.parametrize(("value", "uln", "expected"), [
    ("15 IU/mL", "15 IU/mL", "not_met"), ("16 IU/mL", "15 IU/mL", "met"), ("31 U/mL", "30 U/mL", "met"),
    (None, None, "unknown"), ("50 IU/mL", None, "unknown"),
])
def test_nct04184258_inc2_positive_dsdna(nct_engine: Matcher, value: str | None, uln: str | None,
                                         expected: str) -> None:
    data = _set(example(DSDNA_BASE), "anti_dsdna", value, uln=uln, day="2026-10-27")
    assert outcome(nct_engine, data, "inc-2", "NCT04184258") == expected


# ---------------------------------------------------------------- FHIR
@pytest.mark.parametrize(("ucum", "test", "amount"), [
    ("10*9/L", "wbc", 1.5), ("[IU]/mL", "anti_dsdna", 1.5), ("/[HPF]", "urine_rbc_per_hpf", 1.5),
    ("{cells}/[HPF]", "urine_wbc_per_hpf", 1.5), ("/[LPF]", "urine_cellular_casts_per_lpf", 1.5),
])
def test_ucum_units_of_the_new_labs(ucum: str, test: str, amount: float) -> None:
    assert convert(f"1.5 {ucum_to_text(ucum)}", LAB_TESTS[test].measure) == pytest.approx(amount)


def test_a_bundle_with_the_new_loinc_codes_is_read() -> None:
    """Codes written here from LOINC, not taken from matcher.intake.fhir.codes."""
    titre_string = observation("ana", LOINC, "5048-4", "Nuclear Ab [Titer] in Serum by Immunofluorescence",
                               valueString="1:160")
    obj = bundle(
        observation("wbc", LOINC, "6690-2", "Leukocytes [#/volume] in Blood by Automated count",
                    valueQuantity=quantity(3.2, "10*3/uL")),
        observation("dna", LOINC, "5130-0", "DNA double strand Ab [Units/volume] in Serum",
                    valueQuantity=quantity(48, "[IU]/mL"), referenceRange=[{"high": quantity(15, "[IU]/mL")}]),
        titre_string,
        observation("rbc", LOINC, "13945-1", "Erythrocytes [#/area] in Urine sediment by Microscopy high power field",
                    valueQuantity=quantity(7, "/[HPF]")),
        observation("wbcu", LOINC, "5821-4", "Leukocytes [#/area] in Urine sediment by Microscopy high power field",
                    valueQuantity=quantity(10, "/[HPF]")),
    )
    imported = import_bundle(obj, "built.json")
    labs = {lab.test: lab for lab in imported.profile.labs or []}
    assert labs["wbc"].amount == pytest.approx(3.2)
    assert (labs["anti_dsdna"].amount, labs["anti_dsdna"].uln_amount) == (48, 15)
    assert labs["ana_titre"].amount == 160
    assert (labs["urine_rbc_per_hpf"].amount, labs["urine_wbc_per_hpf"].amount) == (7, 10)
    assert imported.unused == [] and imported.unknown == []


def test_a_titre_as_a_fhir_ratio_is_read_and_a_bound_is_left_unknown() -> None:
    ratio = {"numerator": {"value": 1}, "denominator": {"value": 320}}
    obj = bundle(observation("ana", LOINC, "5048-4", "Nuclear Ab [Titer]", valueRatio=ratio))
    (lab,) = import_bundle(obj, "built.json").profile.labs or []
    assert (lab.test, lab.amount, lab.value) == ("ana_titre", 320, "1:320")
    bound = {"numerator": {"value": 1}, "denominator": {"value": 1280, "comparator": ">="}}
    imported = import_bundle(bundle(observation("ana", LOINC, "5048-4", "Nuclear Ab [Titer]", valueRatio=bound)),
                             "built.json")
    assert not imported.profile.labs and [u.field for u in imported.unknown] == ["labs (ana_titre)"]


@pytest.mark.parametrize(("red", "white", "casts", "expected"), [
    ("6 /HPF", "4 /HPF", "0 /LPF", "met"),
    ("5 /HPF", "9 /HPF", "0 /LPF", "met"),
    ("5 /HPF", "8 /HPF", "1 /LPF", "met"),
    ("5 /HPF", "8 /HPF", "0 /LPF", "not_met"),   # each at its threshold: not more than it
    ("5 /HPF", "8 /HPF", None, "unknown"),       # casts not recorded may still be there
    (None, "8 /HPF", "0 /LPF", "unknown"),
    (None, None, "2 /LPF", "met"),
])
def test_nct03917797_inc3b_active_urinary_sediment(nct_engine: Matcher, red: str | None, white: str | None,
                                                   casts: str | None, expected: str) -> None:
    data = example(SERO_BASE)
    for test, value in (("urine_rbc_per_hpf", red), ("urine_wbc_per_hpf", white),
                        ("urine_cellular_casts_per_lpf", casts)):
        _set(data, test, value)
    assert outcome(nct_engine, data, "inc-3b", "NCT03917797") == expected


def test_nct03917797_inc3b_an_old_sediment_does_not_decide(nct_engine: Matcher) -> None:
    data = example(SERO_BASE)
    for test, value in (("urine_rbc_per_hpf", "30 /HPF"), ("urine_wbc_per_hpf", "30 /HPF"),
                        ("urine_cellular_casts_per_lpf", "3 /LPF")):
        _set(data, test, value, day="2026-06-01")
    assert outcome(nct_engine, data, "inc-3b", "NCT03917797") == "unknown"


# ---------------------------------------------------------------- the renal biopsy's age (NCT03917797 inc-3a)
@pytest.mark.parametrize(("biopsy", "months"), [
    ("2025-10-20", 12), ("2026-02-16", 8 + 4 / 31), ("2026-10-20", 0),
])
def test_biopsy_months_ago_counts_calendar_months_to_the_as_of_date(biopsy: str, months: float) -> None:
    data = example(SERO_BASE)
    data["diagnoses"]["lupus_nephritis"]["biopsy_date"] = biopsy
    reading = PATIENT_FIELDS["lupus_nephritis.biopsy_months_ago"].extract(profile(data), dt.date(2026, 10, 20))
    assert reading.value == pytest.approx(months, abs=1e-4)


@pytest.mark.parametrize(("biopsy", "expected"), [
    ("2025-10-20", "met"),        # 12 calendar months: within
    ("2025-10-19", "not_met"),
    ("2026-10-21", "unknown"),    # dated after the as-of date: not yet done on it
    (None, "unknown"),
])
def test_nct03917797_inc3a_biopsy_within_12_months(nct_engine: Matcher, biopsy: str | None, expected: str) -> None:
    data = example(SERO_BASE)
    nephritis = data["diagnoses"]["lupus_nephritis"]
    if biopsy is None:
        del nephritis["biopsy_date"]
    else:
        nephritis["biopsy_date"] = biopsy
    assert outcome(nct_engine, data, "inc-3a", "NCT03917797") == expected


# ---------------------------------------------------------------- IVIG and telitacicept (NCT03917797 exc-2c, exc-4)
IVIG_EXAMPLE = "NCT03917797-ineligible-ivig-started-2-months-ago.yaml"


def _ivig(start: str | None, end: str | None) -> dict[str, Any]:
    data = example(IVIG_EXAMPLE)
    course = data["medications"][0]
    assert course["drug"] == "intravenous_immunoglobulin"
    for key, value in (("start", start), ("end", end)):
        if value is None:
            course.pop(key, None)
        else:
            course[key] = value
    return data


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2026-07-20", "2026-07-24", "met"),       # started 3 calendar months before the as-of date 2026-10-20
    ("2026-07-19", "2026-07-23", "manual"),    # started earlier, given within 3 months: an addition?
    ("2026-07-15", "2026-07-19", "not_met"),   # last given more than 3 months ago
    (None, "2026-09-01", "unknown"),           # start not recorded
])
def test_nct03917797_exc2c_ivig_added_in_the_prior_3_months(nct_engine: Matcher, start: str | None,
                                                           end: str | None, expected: str) -> None:
    assert outcome(nct_engine, _ivig(start, end), "exc-2c", "NCT03917797") == expected


def test_months_since_start_counts_calendar_months_from_the_course_start() -> None:
    from matcher.model.fields import LISTS

    patient = profile(_ivig("2026-07-20", "2026-07-24"))
    extract = LISTS["medications"].fields["months_since_start"].extract
    reading = extract(patient.medications[0], 0, patient, dt.date(2026, 10, 20))  # type: ignore[index]
    assert reading.value == 3


def test_telitacicept_is_a_biologic_left_to_the_clinician_as_anti_b_cell_therapy(nct_engine: Matcher) -> None:
    data = example(SERO_BASE)
    data["medications"].append({"drug": "telitacicept", "dose": "160 mg", "frequency": "weekly", "route": "sc",
                                "start": "2026-05-04", "ongoing": True})
    assert outcome(nct_engine, data, "exc-4", "NCT03917797") == "manual"
    assert outcome(nct_engine, data, "exc-2b", "NCT03917797") == "not_met"   # started 169 days ago
    data["medications"][-1]["start"] = "2025-10-18"                            # 367 days: older than 12 months
    assert outcome(nct_engine, data, "exc-4", "NCT03917797") == "not_met"


def test_ivig_doses_in_grams_per_kg_are_possible_and_other_drugs_keep_their_limits() -> None:
    from matcher.model.profile import MedicationExposure

    assert MedicationExposure(drug="ivig", dose="2 g/kg").drug == "intravenous_immunoglobulin"
    MedicationExposure(drug="intravenous_immunoglobulin", dose="35 g")
    for drug, dose in (("intravenous_immunoglobulin", "2.5 g/kg"), ("prednisone", "35 g"),
                       ("cyclophosphamide", "2 g/kg")):
        with pytest.raises(ValidationError, match="outside the possible range"):
            MedicationExposure(drug=drug, dose=dose)
