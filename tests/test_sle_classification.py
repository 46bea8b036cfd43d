"""SLE classification alternatives: "ACR 1997 or SLICC 2012" (NCT03917797 inc-1).

The base patient is patients/NCT03917797-eligible-class-iv-on-mycophenolate.yaml (ACR 1997 5 of 11,
SLICC 2012 not recorded); each case changes the classification only. Either classification meets the
criterion; fewer than 4 ACR criteria with SLICC 2012 not recorded is unknown, never not met; SLE recorded
absent against a fulfilled classification is a disagreement (unknown), never a reason to exclude.
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import criterion_result, example, outcome, run
from .patches import Patch, both, drop, put

TRIAL = "NCT03917797"
BASE = "NCT03917797-eligible-class-iv-on-mycophenolate.yaml"

ACR = "diagnoses.sle.acr1997_criteria_met"
SLICC = "diagnoses.sle.slicc2012_fulfilled"

CASES: list[tuple[str, Patch, str]] = [
    ("ACR 5, SLICC not recorded", put(ACR, 5), "met"),
    ("ACR 4, SLICC not fulfilled", both(put(ACR, 4), put(SLICC, False)), "met"),
    ("ACR 3, SLICC fulfilled", both(put(ACR, 3), put(SLICC, True)), "met"),
    ("ACR not recorded, SLICC fulfilled", both(drop(ACR), put(SLICC, True)), "met"),
    ("ACR 3, SLICC not fulfilled", both(put(ACR, 3), put(SLICC, False)), "not_met"),
    ("ACR 3, SLICC not recorded", put(ACR, 3), "unknown"),
    ("ACR not recorded, SLICC not fulfilled", both(drop(ACR), put(SLICC, False)), "unknown"),
    ("neither recorded", drop(ACR), "unknown"),
    ("SLE recorded absent, nothing classifies it", both(put("diagnoses.sle.present", False), put(ACR, 2)),
     "not_met"),
    ("SLE recorded absent against SLICC fulfilled", both(put("diagnoses.sle.present", False), put(ACR, 2),
                                                        put(SLICC, True)), "unknown"),
]


@pytest.mark.parametrize(("case", "patch", "expected"), CASES, ids=[c[0] for c in CASES])
def test_inc1_reads_either_classification(engine: Any, case: str, patch: Patch, expected: str) -> None:
    data = example(BASE)
    patch(data)
    assert outcome(engine, data, "inc-1", TRIAL) == expected


def test_sle_recorded_absent_against_slicc_2012_says_the_records_disagree(engine: Any) -> None:
    data = example(BASE)
    both(put("diagnoses.sle.present", False), put(ACR, 2), put(SLICC, True))(data)
    found = criterion_result(engine, data, "inc-1", TRIAL)
    assert found.outcome == "unknown" and "records disagree" in found.reason
    assert "slicc2012_fulfilled is true" in found.reason


def test_slicc_2012_not_recorded_is_asked_for_and_its_value_is_shown(engine: Any) -> None:
    data = example(BASE)
    put(ACR, 3)(data)
    result = run(engine, data, TRIAL)
    assert result.verdict == "undetermined" and "inc-1" in result.deciding
    assert any("SLICC 2012" in item for item in result.to_collect)
    put(SLICC, True)(data)
    found = criterion_result(engine, data, "inc-1", TRIAL)
    (value,) = [v for v in found.values if v.field == "sle.slicc2012_fulfilled"]
    assert (value.value, value.source) == ("yes", SLICC)
