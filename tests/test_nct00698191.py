"""Every NCT00698191 criterion, each threshold at, just below and just above its boundary.

Expected outcomes come from the registry text and the readings written in
rules/NCT00698191.yaml, worked out by hand. The base patient is
patients/NCT00698191-eligible-lupus-nephritis.yaml (screened 2026-11-02); each case changes
one thing.
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import base_patient, outcome, run
from .patches import (
    Patch,
    add_lab,
    birth,
    both,
    course,
    drop,
    put,
    remove_lab,
    replace_course,
    scores,
    set_lab,
    stated_age,
)


def sledai(score: float, index: str = "SLEDAI-2K", date: str = "2026-10-28") -> Patch:
    return scores((index, score, date))


def acr(count: int) -> Patch:
    return put("diagnoses.sle.acr1997_criteria_met", count)


# medication courses of the base patient: 0 prednisone, 1 cyclophosphamide (see patches.course)
def replace_cyclophosphamide(**entry: Any) -> Patch:
    return replace_course(1, **{"route": "oral", "response": "failed", **entry})


CASES: list[tuple[str, str, Patch, str]] = [
    # inc-1: ACR 1997 >= 4 of 11, age 15-70 inclusive (completed years on 2026-11-02), SLEDAI-2K >= 8
    ("age 15 on the as-of day", "inc-1", birth("2011-11-02"), "met"),
    ("age 14, 15 tomorrow", "inc-1", birth("2011-11-03"), "not_met"),
    ("age 70, 71 tomorrow", "inc-1", birth("1955-11-03"), "met"),
    ("age 71 on the as-of day", "inc-1", birth("1955-11-02"), "not_met"),
    ("stated age 70", "inc-1", stated_age(70), "met"),
    ("stated age 71", "inc-1", stated_age(71), "not_met"),
    ("stated age 15", "inc-1", stated_age(15), "met"),
    ("stated age 14", "inc-1", stated_age(14), "not_met"),
    ("no birth date or age", "inc-1", drop("demographics.birth_date"), "unknown"),
    ("SLEDAI-2K 7", "inc-1", sledai(7), "not_met"),
    ("SLEDAI-2K 8", "inc-1", sledai(8), "met"),
    ("SLEDAI-2K 9", "inc-1", sledai(9), "met"),
    ("only a SELENA-SLEDAI score", "inc-1", sledai(14, "SELENA-SLEDAI"), "unknown"),
    ("SLEDAI-2K only after the as-of date", "inc-1", sledai(14, date="2026-11-03"), "unknown"),
    ("SLEDAI-2K on the as-of date", "inc-1", sledai(14, date="2026-11-02"), "met"),
    ("ACR 3 of 11", "inc-1", acr(3), "not_met"),
    ("ACR 4 of 11", "inc-1", acr(4), "met"),
    ("ACR count missing", "inc-1", drop("diagnoses.sle.acr1997_criteria_met"), "unknown"),
    ("age unknown but SLEDAI-2K 7", "inc-1", both(drop("demographics.birth_date"), sledai(7)), "not_met"),
    # inc-2: lupus nephritis and 24-hour urine protein >= 1 g
    ("protein 0.99 g/24h", "inc-2", set_lab("urine_protein_24h", "0.99 g/24h"), "not_met"),
    ("protein 1 g/24h", "inc-2", set_lab("urine_protein_24h", "1 g/24h"), "met"),
    ("protein 1.01 g/24h", "inc-2", set_lab("urine_protein_24h", "1.01 g/24h"), "met"),
    ("protein 1000 mg/24h", "inc-2", set_lab("urine_protein_24h", "1000 mg/24h"), "met"),
    ("protein 999 mg/24h", "inc-2", set_lab("urine_protein_24h", "999 mg/24h"), "not_met"),
    ("protein 1 g/day", "inc-2", set_lab("urine_protein_24h", "1 g/day"), "met"),
    ("no lupus nephritis", "inc-2", put("diagnoses.lupus_nephritis.present", False), "not_met"),
    ("lupus nephritis not recorded", "inc-2", drop("diagnoses.lupus_nephritis"), "unknown"),
    ("no 24-hour urine protein", "inc-2", remove_lab("urine_protein_24h"), "unknown"),
    ("a UPCR does not stand in for 24-hour protein", "inc-2",
     both(remove_lab("urine_protein_24h"), add_lab("urine_protein_creatinine_ratio", "2.0 g/g", "2026-10-28")),
     "unknown"),
    # inc-3: failed oral glucocorticoid > 20 mg/day AND (cyclophosphamide 0.4-0.6 g/m2 q2w >= 6 months,
    # or MMF >= 2 g/day >= 3 months, or another immunosuppressant >= 3 months)
    ("prednisone 20 mg/day", "inc-3", course(0, dose="20 mg"), "manual"),
    ("prednisone 21 mg/day", "inc-3", course(0, dose="21 mg"), "met"),
    ("prednisone 10 mg twice daily = 20 mg/day", "inc-3", course(0, dose="10 mg", frequency="twice_daily"),
     "manual"),
    ("prednisone 11 mg twice daily = 22 mg/day", "inc-3", course(0, dose="11 mg", frequency="twice_daily"), "met"),
    ("methylprednisolone 16 mg = prednisone 20", "inc-3", course(0, drug="methylprednisolone", dose="16 mg"),
     "manual"),
    ("methylprednisolone 17 mg = prednisone 21.25", "inc-3", course(0, drug="methylprednisolone", dose="17 mg"),
     "met"),
    ("prednisone not tolerated", "inc-3", course(0, response="not_tolerated"), "manual"),
    ("prednisone intravenous", "inc-3", course(0, route="iv"), "manual"),
    ("prednisone response not recorded", "inc-3", course(0, response=None), "unknown"),
    ("prednisone dose not recorded", "inc-3", course(0, dose=None), "unknown"),
    ("cyclophosphamide 0.39 g/m2", "inc-3", course(1, dose="0.39 g/m2"), "manual"),
    ("cyclophosphamide 0.4 g/m2", "inc-3", course(1, dose="0.4 g/m2"), "met"),
    ("cyclophosphamide 400 mg/m2", "inc-3", course(1, dose="400 mg/m2"), "met"),
    ("cyclophosphamide 0.6 g/m2", "inc-3", course(1, dose="0.6 g/m2"), "met"),
    ("cyclophosphamide 0.61 g/m2", "inc-3", course(1, dose="0.61 g/m2"), "manual"),
    ("cyclophosphamide monthly", "inc-3", course(1, frequency="monthly"), "manual"),
    # six months of treatment: from the first pulse (15 September) to two weeks after the last
    ("cyclophosphamide last pulse 1 March treats to 15 March: six months", "inc-3", course(1, end="2025-03-01"),
     "met"),
    ("cyclophosphamide last pulse 28 February: six months less a day", "inc-3", course(1, end="2025-02-28"),
     "manual"),
    ("cyclophosphamide 13 fortnightly pulses from 15 September, the last on 2 March", "inc-3",
     course(1, start="2024-09-15", end="2025-03-02"), "met"),
    ("cyclophosphamide ongoing for over six months", "inc-3", course(1, end=None, ongoing=True), "met"),
    ("cyclophosphamide dose in mg, not per m2", "inc-3", course(1, dose="800 mg"), "unknown"),
    ("cyclophosphamide end date missing", "inc-3", course(1, end=None), "unknown"),
    # a daily drug's course counts its first and last day: 10 January through 9 April is three months
    ("MMF 1 g twice daily for 3 months, last day 9 April", "inc-3",
     replace_cyclophosphamide(drug="mmf", dose="1 g", frequency="twice_daily", start="2025-01-10",
                              end="2025-04-09"), "met"),
    ("MMF 3 months less a day, last day 8 April", "inc-3",
     replace_cyclophosphamide(drug="mmf", dose="1 g", frequency="twice_daily", start="2025-01-10",
                              end="2025-04-08"), "manual"),
    ("MMF 1 January through 31 March: three months", "inc-3",
     replace_cyclophosphamide(drug="mmf", dose="1 g", frequency="twice_daily", start="2025-01-01",
                              end="2025-03-31"), "met"),
    ("MMF 1.5 g/day", "inc-3",
     replace_cyclophosphamide(drug="mycophenolate mofetil", dose="750 mg", frequency="twice_daily",
                              start="2025-01-10", end="2025-07-10"), "manual"),
    ("azathioprine failed after 3 months", "inc-3",
     replace_cyclophosphamide(drug="azathioprine", dose="100 mg", frequency="daily", start="2025-01-10",
                              end="2025-04-10"), "met"),
    ("tacrolimus responded", "inc-3",
     replace_cyclophosphamide(drug="tacrolimus", dose="2 mg", frequency="twice_daily", start="2025-01-10",
                              end="2025-07-10", response="responded"), "manual"),
    ("neither regimen failed", "inc-3", both(course(0, response="responded"), course(1, response="responded")),
     "not_met"),
    ("monthly cyclophosphamide and failed steroid", "inc-3", course(1, frequency="monthly", dose="0.75 g/m2"),
     "manual"),
    ("mycophenolate sodium 720 mg twice daily", "inc-3",
     replace_cyclophosphamide(drug="mycophenolate_sodium", dose="720 mg", frequency="twice_daily",
                              start="2025-01-10", end="2025-04-10"), "met"),
    ("mycophenolate sodium 540 mg twice daily", "inc-3",
     replace_cyclophosphamide(drug="mycophenolate_sodium", dose="540 mg", frequency="twice_daily",
                              start="2025-01-10", end="2025-04-10"), "manual"),
    ("medication history not recorded", "inc-3", drop("medications"), "unknown"),
    ("medication history empty", "inc-3", put("medications", []), "not_met"),
    # exc-1: ALT > 3 x the lab's ULN
    ("ALT 3.0 x ULN", "exc-1", set_lab("alt", "120 U/L"), "not_met"),
    ("ALT 3.025 x ULN", "exc-1", set_lab("alt", "121 U/L"), "met"),
    ("ALT 2.975 x ULN", "exc-1", set_lab("alt", "119 U/L"), "not_met"),
    ("ALT in IU/L", "exc-1", set_lab("alt", "150 IU/L"), "met"),
    ("ALT without the lab's ULN", "exc-1", set_lab("alt", "500 U/L", uln=None), "unknown"),
    ("no ALT", "exc-1", remove_lab("alt"), "unknown"),
    # exc-2: eGFR < 15 or dialysis
    # the example's creatinine (97 umol/L, CKD-EPI about 68) is of the eGFR's day: without it the lab's eGFR
    # decides alone; with it an eGFR below 15 disagrees with it (tests/test_egfr_same_day.py)
    ("eGFR 14.9", "exc-2", both(remove_lab("serum_creatinine"), set_lab("egfr", "14.9 mL/min/1.73m2")), "met"),
    ("eGFR 15", "exc-2", both(remove_lab("serum_creatinine"), set_lab("egfr", "15 mL/min/1.73m2")), "not_met"),
    ("eGFR 15.1", "exc-2", both(remove_lab("serum_creatinine"), set_lab("egfr", "15.1 mL/min/1.73m2")), "not_met"),
    ("eGFR 14.9, creatinine of that day: computed 68", "exc-2", set_lab("egfr", "14.9 mL/min/1.73m2"), "unknown"),
    ("eGFR 15, creatinine of that day: computed 68", "exc-2", set_lab("egfr", "15 mL/min/1.73m2"), "not_met"),
    ("no eGFR, creatinine 5.5 mg/dL: computed 9", "exc-2",
     both(remove_lab("egfr"), set_lab("serum_creatinine", "5.5 mg/dL")), "met"),
    ("no eGFR and no creatinine", "exc-2", both(remove_lab("egfr"), remove_lab("serum_creatinine")), "unknown"),
    ("on dialysis", "exc-2", put("renal.dialysis", True), "met"),
    ("dialysis not recorded, eGFR 68", "exc-2", drop("renal"), "unknown"),
    ("dialysis not recorded, eGFR 10", "exc-2",
     both(drop("renal"), remove_lab("serum_creatinine"), set_lab("egfr", "10 mL/min/1.73m2")),
     "met"),
    ("no eGFR: computed from creatinine", "exc-2", remove_lab("egfr"), "not_met"),
    # exc-4: uncontrolled infection
    ("uncontrolled infection", "exc-4",
     put("infections", [{"name": "pneumonia", "status": "uncontrolled"}]), "met"),
    ("controlled infection", "exc-4", put("infections", [{"name": "UTI", "status": "controlled"}]), "not_met"),
    ("infections not assessed", "exc-4", drop("infections"), "unknown"),
    # exc-5: pregnant, breastfeeding, or intending a pregnancy
    ("pregnant", "exc-5", put("pregnancy.pregnant", True), "met"),
    ("breastfeeding", "exc-5", put("pregnancy.breastfeeding", True), "met"),
    ("intends a pregnancy", "exc-5", put("pregnancy.planning_pregnancy", True), "met"),
    ("pregnancy status and tests not recorded", "exc-5",
     both(drop("pregnancy.pregnant"), drop("pregnancy.tests")), "unknown"),
    ("not recorded, negative test 5 days before", "exc-5", drop("pregnancy.pregnant"), "not_met"),
    ("not recorded, negative test 7 days before", "exc-5",
     both(drop("pregnancy.pregnant"), put("pregnancy.tests", [{"date": "2026-10-26", "result": "negative"}])),
     "not_met"),
    ("not recorded, negative test 8 days before", "exc-5",
     both(drop("pregnancy.pregnant"), put("pregnancy.tests", [{"date": "2026-10-25", "result": "negative"}])),
     "unknown"),
    ("not recorded, positive test", "exc-5",
     both(drop("pregnancy.pregnant"), put("pregnancy.tests", [{"date": "2026-09-01", "result": "positive"}])),
     "met"),
    ("recorded not pregnant, contradicted by a positive test", "exc-5",
     put("pregnancy.tests", [{"date": "2026-10-30", "result": "positive", "specimen": "serum"}]), "unknown"),
    ("not of childbearing potential", "exc-5",
     both(drop("pregnancy.pregnant"), drop("pregnancy.tests"),
          put("pregnancy.childbearing_potential", False)), "not_met"),
    ("man, intention recorded", "exc-5",
     both(put("demographics.sex", "male"), put("pregnancy", {"planning_pregnancy": False})), "not_met"),
    ("man, intention not recorded", "exc-5",
     both(put("demographics.sex", "male"), drop("pregnancy")), "unknown"),
]


@pytest.mark.parametrize(("criterion", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criterion_outcome(engine: Any, criterion: str, patch: Patch, expected: str) -> None:
    data = base_patient()
    patch(data)
    assert outcome(engine, data, criterion) == expected


def test_base_patient_is_eligible_with_manual_items_pending(engine: Any) -> None:
    result = run(engine, base_patient())
    assert result.verdict == "eligible"
    assert result.pending_manual == ("inc-4", "inc-5", "exc-3")
    assert {c.outcome for c in result.criteria if c.id not in result.pending_manual} == {"met", "not_met"}


def test_most_recent_score_is_used(engine: Any) -> None:
    data = base_patient()
    data["disease_activity"] = [
        {"index": "SLEDAI-2K", "score": 14, "date": "2026-06-01"},
        {"index": "SLEDAI-2K", "score": 6, "date": "2026-10-01"},
    ]
    result = run(engine, data)
    inc1 = next(c for c in result.criteria if c.id == "inc-1")
    assert inc1.outcome == "not_met"
    assert "6 on 2026-10-01" in inc1.reason


def test_unknown_criterion_names_what_to_collect(engine: Any) -> None:
    data = base_patient()
    remove_lab("urine_protein_24h")(data)
    result = run(engine, data)
    assert result.verdict == "undetermined"
    assert result.deciding == ("inc-2",)
    assert result.to_collect == ("24-hour urine protein",)
    inc2 = next(c for c in result.criteria if c.id == "inc-2")
    assert inc2.missing == ("24-hour urine protein",)


def test_missing_uln_is_named(engine: Any) -> None:
    data = base_patient()
    set_lab("alt", "50 U/L", uln=None)(data)
    result = run(engine, data)
    assert result.verdict == "undetermined"
    assert result.to_collect == ("the reporting lab's upper limit of normal for ALT",)


def test_ineligible_verdict_names_the_failing_criteria(engine: Any) -> None:
    data = base_patient()
    set_lab("alt", "400 U/L")(data)
    sledai(5)(data)
    result = run(engine, data)
    assert result.verdict == "ineligible"
    assert result.deciding == ("inc-1", "exc-1")


def test_ineligible_wins_over_unknown(engine: Any) -> None:
    data = base_patient()
    remove_lab("urine_protein_24h")(data)
    put("pregnancy.pregnant", True)(data)
    result = run(engine, data)
    assert result.verdict == "ineligible"
    assert result.deciding == ("exc-5",)
    assert result.to_collect == ("24-hour urine protein",)


def test_explanation_shows_values_units_dates_and_derivations(engine: Any) -> None:
    result = run(engine, base_patient())
    by_id = {c.id: c for c in result.criteria}
    assert "2.4 g/24h" in by_id["inc-2"].reason and "2026-10-28" in by_id["inc-2"].reason
    assert "≥ 1 g/day" in by_id["inc-2"].reason
    alt = next(v for v in by_id["exc-1"].values if v.field == "alt_x_uln")
    assert alt.derivation == "ALT 38 U/L / ULN 40 U/L = 0.95"
    age = next(v for v in by_id["inc-1"].values if v.field == "age_years")
    assert age.derivation == "completed years from birth date 1991-03-14 to 2026-11-02"
    assert any("REGISTRY ERROR" in note for note in by_id["exc-4"].notes)
    assert by_id["inc-4"].outcome == "manual" and "left to the clinician" in by_id["inc-4"].reason


def test_prednisone_equivalent_derivation_is_shown(engine: Any) -> None:
    data = base_patient()
    course(0, drug="methylprednisolone", dose="32 mg")(data)
    result = run(engine, data)
    inc3 = next(c for c in result.criteria if c.id == "inc-3")
    derivation = next(v.derivation for v in inc3.values if v.field == "medications[0].prednisone_equivalent_daily_dose")
    assert derivation is not None and "x 5 / 4" in derivation and "= 40 mg/day prednisone" in derivation


def test_a_failed_list_query_shows_why_each_entry_fails(engine: Any) -> None:
    data = base_patient()
    course(0, response="responded")(data)
    course(1, response="responded")(data)
    result = run(engine, data)
    inc3 = next(c for c in result.criteria if c.id == "inc-3")
    assert inc3.outcome == "not_met"
    steroid_line = next(line for line in inc3.details if line.startswith("failed oral glucocorticoid"))
    assert "medications[0] prednisone 30 mg daily oral" in steroid_line
    assert "response to the treatment (the latest recorded of its courses, at any dose): responded (= failed: " \
           "false)" in steroid_line
    assert any(v.field == "medications[0].treatment_response" and v.value == "responded" for v in inc3.values)


def test_prednisone_equivalent_is_shown_when_it_decides_a_failure(engine: Any) -> None:
    data = base_patient()
    course(0, drug="methylprednisolone", dose="16 mg")(data)
    inc3 = next(c for c in run(engine, data).criteria if c.id == "inc-3")
    value = next(v for v in inc3.values if v.field == "medications[0].prednisone_equivalent_daily_dose")
    assert value.value == "20 mg/day prednisone-equivalent"
    assert value.derivation is not None and "x 5 / 4" in value.derivation


def test_missing_names_only_what_would_settle_the_entry(engine: Any) -> None:
    """An MMF course with no recorded response: collect the response, nothing else it already has."""
    data = base_patient()
    replace_cyclophosphamide(drug="mmf", dose="1 g", frequency="twice_daily", start="2025-01-10",
                             end="2025-07-10")(data)
    data["medications"][1].pop("response")
    result = run(engine, data)
    inc3 = next(c for c in result.criteria if c.id == "inc-3")
    assert inc3.outcome == "unknown"
    assert inc3.missing == ("response to mycophenolate_mofetil (failed, not tolerated or responded)",)


def test_only_one_regimen_failed_is_left_to_the_clinician(engine: Any) -> None:
    data = base_patient()
    course(1, response="responded")(data)
    inc3 = next(c for c in run(engine, data).criteria if c.id == "inc-3")
    assert inc3.outcome == "manual"
    assert "only one of the two regimens failed" in inc3.reason
    assert inc3.missing == ()


def test_readings_of_the_queries_a_criterion_uses_are_shown_with_it(engine: Any) -> None:
    inc3 = next(c for c in run(engine, base_patient()).criteria if c.id == "inc-3")
    assert any("REGISTRY ERROR" in note and "g/m2" in note for note in inc3.notes)
    assert any(note.startswith("(failed mycophenolate mofetil") for note in inc3.notes)
