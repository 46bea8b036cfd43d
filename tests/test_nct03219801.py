"""Every NCT03219801 criterion, each threshold at, just below and just above its boundary.

The base patient is patients/NCT03219801-eligible-active-sle.yaml (screened 2026-10-15);
each case changes one thing. Expected outcomes follow the registry text and the readings in
rules/NCT03219801.yaml (inclusion 5 is read inverted, see its REGISTRY ERROR note).
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import criterion_result, example, outcome, run
from .patches import Patch, both, drop, infection, put, remove_lab, set_lab

TRIAL = "NCT03219801"
BASE = "NCT03219801-eligible-active-sle.yaml"


CASES: list[tuple[str, str, Patch, str]] = [
    # inc-1: ACR 1997 >= 4 of 11 (counted from the listed criteria)
    ("ACR 3 of 11", "inc-1", put("diagnoses.sle.acr1997_criteria", ["arthritis", "serositis", "oral_ulcers"]),
     "not_met"),
    ("ACR 4 of 11", "inc-1",
     put("diagnoses.sle.acr1997_criteria", ["arthritis", "serositis", "oral_ulcers", "malar_rash"]), "met"),
    ("ACR not recorded", "inc-1", drop("diagnoses.sle.acr1997_criteria"), "unknown"),
    # inc-2: age 14-60 inclusive (as of 2026-10-15)
    ("age 13, 14 tomorrow", "inc-2", put("demographics.birth_date", "2012-10-16"), "not_met"),
    ("age 14 on the as-of day", "inc-2", put("demographics.birth_date", "2012-10-15"), "met"),
    ("age 60, 61 tomorrow", "inc-2", put("demographics.birth_date", "1965-10-16"), "met"),
    ("age 61 on the as-of day", "inc-2", put("demographics.birth_date", "1965-10-15"), "not_met"),
    # inc-3: no serious infection (computable) and no acute haemorrhage (clinician)
    ("no infection: haemorrhage left to the clinician", "inc-3", put("infections", []), "manual"),
    ("severe active infection", "inc-3", infection(status="uncontrolled", severe=True), "not_met"),
    ("severe infection resolved", "inc-3",
     infection(status="resolved", severe=True, start="2026-08-01", end="2026-09-01"), "manual"),
    ("active infection of unknown severity", "inc-3", infection(status="controlled"), "unknown"),
    ("infections not assessed", "inc-3", drop("infections"), "unknown"),
    # inc-4: LVEF >= 50%
    ("LVEF 49%", "inc-4", set_lab("lvef", "49 %"), "not_met"),
    ("LVEF 50%", "inc-4", set_lab("lvef", "50 %"), "met"),
    ("LVEF 51%", "inc-4", set_lab("lvef", "51 %"), "met"),
    ("no LVEF", "inc-4", remove_lab("lvef"), "unknown"),
    # inc-5 (read inverted): ALT, AST and creatinine each <= 2 x ULN
    ("ALT 2.0 x ULN", "inc-5", set_lab("alt", "80 U/L"), "met"),
    ("ALT 2.025 x ULN", "inc-5", set_lab("alt", "81 U/L"), "not_met"),
    ("AST 2.0 x ULN", "inc-5", set_lab("ast", "70 U/L"), "met"),
    ("AST 2.03 x ULN", "inc-5", set_lab("ast", "71 U/L"), "not_met"),
    ("creatinine 2.0 x ULN", "inc-5", set_lab("serum_creatinine", "168 umol/L"), "met"),
    ("creatinine 2.01 x ULN", "inc-5", set_lab("serum_creatinine", "169 umol/L"), "not_met"),
    ("creatinine ULN in another unit", "inc-5", set_lab("serum_creatinine", "1.9 mg/dL", uln="0.95 mg/dL"), "met"),
    ("creatinine without its ULN", "inc-5", set_lab("serum_creatinine", "88 umol/L", uln=None), "unknown"),
    ("creatinine without ULN but ALT 3 x ULN", "inc-5",
     both(set_lab("serum_creatinine", "88 umol/L", uln=None), set_lab("alt", "120 U/L")), "not_met"),
    # inc-6: no infection unresolved on the as-of date
    ("controlled infection: acute or chronic is for the clinician", "inc-6", infection(status="controlled"),
     "manual"),
    ("uncontrolled infection", "inc-6", infection(status="uncontrolled"), "not_met"),
    ("infection resolved the day before", "inc-6",
     infection(status="resolved", start="2026-09-01", end="2026-10-14"), "met"),
    ("infection resolving after the as-of date", "inc-6",
     infection(status="resolved", start="2026-09-01", end="2026-10-16"), "not_met"),
    ("infection starting after the as-of date is not yet seen", "inc-6",
     infection(status="uncontrolled", start="2026-10-16"), "met"),
    # exc-1: severe active infection
    ("severe uncontrolled infection", "exc-1", infection(status="uncontrolled", severe=True), "met"),
    ("mild uncontrolled infection", "exc-1", infection(status="uncontrolled", severe=False), "not_met"),
    # exc-2: dialysis decides "severe kidney disease"; the rest is the clinician's
    ("on dialysis", "exc-2", put("renal.dialysis", True), "met"),
    ("not on dialysis", "exc-2", put("renal.dialysis", False), "manual"),
    ("dialysis not recorded", "exc-2", drop("renal"), "unknown"),
    # exc-4: pregnant or breastfeeding
    ("pregnant", "exc-4", put("pregnancy.pregnant", True), "met"),
    ("breastfeeding", "exc-4", put("pregnancy.breastfeeding", True), "met"),
    ("pregnancy not recorded", "exc-4", drop("pregnancy"), "unknown"),
    ("a man, pregnancy not recorded", "exc-4", both(drop("pregnancy"), put("demographics.sex", "male")),
     "not_met"),
    # exc-5: active malignancy
    ("active malignancy", "exc-5", put("malignancies", [{"type": "breast cancer", "status": "active"}]), "met"),
    ("cured malignancy", "exc-5", put("malignancies", [{"type": "thyroid cancer", "status": "cured"}]), "not_met"),
    ("malignancy in remission: left to the clinician", "exc-5",
     put("malignancies", [{"type": "lymphoma", "status": "in_remission"}]), "manual"),
    ("active and in-remission malignancies", "exc-5",
     put("malignancies", [{"type": "lymphoma", "status": "in_remission"}, {"type": "melanoma", "status": "active"}]),
     "met"),
    ("malignancy history not recorded", "exc-5", drop("malignancies"), "unknown"),
    # exc-6: in another trial
    ("in another trial", "exc-6", put("administrative.in_other_trial", True), "met"),
    ("other trials not recorded", "exc-6", drop("administrative"), "unknown"),
    # exc-7: active infection, or acute severe hepatitis (clinician)
    ("active tuberculosis", "exc-7", infection(status="controlled", agent="tuberculosis"), "met"),
    ("no infection: hepatitis left to the clinician", "exc-7", put("infections", []), "manual"),
]


@pytest.mark.parametrize(("criterion", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criterion_outcome(engine: Any, criterion: str, patch: Patch, expected: str) -> None:
    data = example(BASE)
    patch(data)
    assert outcome(engine, data, criterion, TRIAL) == expected


def test_base_patient_is_eligible_with_manual_items_pending(engine: Any) -> None:
    result = run(engine, example(BASE), TRIAL)
    assert result.verdict == "eligible"
    assert result.pending_manual == ("inc-3", "inc-7", "exc-2", "exc-3", "exc-7")
    assert run(engine, example("NCT03219801-eligible-active-sle.yaml"), TRIAL).verdict == "eligible"


def test_inverted_criterion_is_flagged_in_the_explanation(engine: Any) -> None:
    inc5 = criterion_result(engine, example(BASE), "inc-5", TRIAL)
    assert any(note.startswith("REGISTRY ERROR") for note in inc5.notes)
    assert "ALT: 1.3 x ULN (52 U/L / ULN 40 U/L)" in inc5.reason


def test_acr_count_derivation_is_shown(engine: Any) -> None:
    inc1 = criterion_result(engine, example(BASE), "inc-1", TRIAL)
    (value,) = [v for v in inc1.values if v.field == "sle.acr1997_criteria_met"]
    assert value.derivation is not None and value.derivation.startswith("counted from the criteria listed")
