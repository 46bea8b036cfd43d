"""Every NCT00953485 criterion, each threshold at, just below and just above its boundary.

The base patient is patients/NCT00953485-eligible-primary-sjogren.yaml (screened 2026-09-01);
each case changes one thing. The saliva threshold "1~6ml/6min" is genuinely unclear: below
1 mL/6 min it is met, from 6 mL/6 min it is not, in between it is a disputed boundary.
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import criterion_result, example, outcome, run
from .patches import Patch, drop, put, remove_lab, set_lab

TRIAL = "NCT00953485"
BASE = "NCT00953485-eligible-primary-sjogren.yaml"


def saliva(value: str) -> Patch:
    return set_lab("stimulated_saliva_flow", value)


def score(index: str, value: float | None) -> Patch:
    def patch(d: dict[str, Any]) -> None:
        d["disease_activity"] = [s for s in d["disease_activity"] if s["index"] != index]
        if value is not None:
            d["disease_activity"].append({"index": index, "score": value, "date": "2026-08-25"})
    return patch


CASES: list[tuple[str, str, Patch, str]] = [
    # inc-1: AECG 2002, age 15-70 inclusive (as of 2026-09-01), SSDAI >= 8
    ("AECG 2002 not fulfilled", "inc-1", put("diagnoses.primary_sjogren.aecg2002_fulfilled", False), "not_met"),
    ("AECG 2002 not recorded", "inc-1", put("diagnoses.primary_sjogren", {"present": True}), "unknown"),
    ("age 14, 15 tomorrow", "inc-1", put("demographics.birth_date", "2011-09-02"), "not_met"),
    ("age 15 on the as-of day", "inc-1", put("demographics.birth_date", "2011-09-01"), "met"),
    ("age 70, 71 tomorrow", "inc-1", put("demographics.birth_date", "1955-09-02"), "met"),
    ("age 71 on the as-of day", "inc-1", put("demographics.birth_date", "1955-09-01"), "not_met"),
    ("SSDAI 7", "inc-1", score("SSDAI", 7), "not_met"),
    ("SSDAI 8", "inc-1", score("SSDAI", 8), "met"),
    ("SSDAI 9", "inc-1", score("SSDAI", 9), "met"),
    ("only an ESSDAI (never converted)", "inc-1", score("SSDAI", None), "unknown"),
    # inc-2: stimulated saliva < 1 mL/6 min (met either way) ... >= 6 mL/6 min (failed either way)
    ("saliva 0.9 mL/6 min", "inc-2", saliva("0.9 mL/6 min"), "met"),
    ("saliva 1 mL/6 min: disputed", "inc-2", saliva("1 mL/6 min"), "manual"),
    ("saliva 0.15 mL/min", "inc-2", saliva("0.15 mL/min"), "met"),
    ("saliva 3 mL/6 min: disputed", "inc-2", saliva("3 mL/6 min"), "manual"),
    ("saliva 5.9 mL/6 min: disputed", "inc-2", saliva("5.9 mL/6 min"), "manual"),
    ("saliva 6 mL/6 min", "inc-2", saliva("6 mL/6 min"), "not_met"),
    ("saliva 1 mL/min", "inc-2", saliva("1 mL/min"), "not_met"),
    ("saliva 6.1 mL/6 min", "inc-2", saliva("6.1 mL/6 min"), "not_met"),
    ("saliva not measured", "inc-2",
     remove_lab("stimulated_saliva_flow"), "unknown"),
    # exc-1: eGFR < 15 or dialysis
    ("eGFR 14.9", "exc-1", set_lab("egfr", "14.9 mL/min/1.73m2"), "met"),
    ("eGFR 15", "exc-1", set_lab("egfr", "15 mL/min/1.73m2"), "not_met"),
    ("on dialysis", "exc-1", put("renal.dialysis", True), "met"),
    ("dialysis not recorded", "exc-1", drop("renal"), "unknown"),
    # exc-3: uncontrolled infection
    ("uncontrolled infection", "exc-3", put("infections", [{"name": "parotitis", "status": "uncontrolled"}]), "met"),
    ("uncontrolled infection that ended years ago", "exc-3",
     put("infections", [{"name": "pyelonephritis", "status": "uncontrolled", "start": "2019-01-01",
                         "end": "2019-02-01"}]), "not_met"),
    ("uncontrolled infection ending the day after the as-of date", "exc-3",
     put("infections", [{"name": "parotitis", "status": "uncontrolled", "end": "2026-09-02"}]), "met"),
    ("controlled infection", "exc-3", put("infections", [{"name": "parotitis", "status": "controlled"}]), "not_met"),
    ("infections not assessed", "exc-3", drop("infections"), "unknown"),
    # exc-4: pregnant or nursing
    ("pregnant", "exc-4", put("pregnancy.pregnant", True), "met"),
    ("nursing", "exc-4", put("pregnancy.breastfeeding", True), "met"),
    ("nursing not recorded", "exc-4", put("pregnancy", {"pregnant": False}), "unknown"),
]


@pytest.mark.parametrize(("criterion", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criterion_outcome(engine: Any, criterion: str, patch: Patch, expected: str) -> None:
    data = example(BASE)
    patch(data)
    assert outcome(engine, data, criterion, TRIAL) == expected


def test_base_patient_is_eligible_with_manual_items_pending(engine: Any) -> None:
    result = run(engine, example(BASE), TRIAL)
    assert result.verdict == "eligible"
    assert result.pending_manual == ("inc-3", "inc-4", "exc-2")


def test_disputed_saliva_flow_is_left_to_the_clinician_and_says_why(engine: Any) -> None:
    data = example(BASE)
    saliva("3 mL/6 min")(data)
    inc2 = criterion_result(engine, data, "inc-2", TRIAL)
    assert inc2.outcome == "manual"
    assert "disputed boundary" in inc2.reason
    assert "< 1 mL/6 min (= 0.166667 mL/min): false" in inc2.reason
    assert "< 6 mL/6 min (= 1 mL/min): true" in inc2.reason
    result = run(engine, data, TRIAL)
    assert result.verdict == "eligible" and "inc-2" in result.pending_manual
