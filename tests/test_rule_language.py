"""Rule-language features beyond plain comparisons: disputed boundaries and manual parts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from matcher.engine.evaluate import Evaluator
from matcher.intake.load import parse_yaml
from matcher.results.explain import CriterionResult, explain_criterion
from matcher.rules.compile import compile_trial
from matcher.rules.language import parse_trial

from .helpers import base_patient, profile

TRIAL = """
trial: TEST-LANG
title: language features
condition: none
source: {registry: test, last_updated: 2026-01-01}
criteria:
  - id: age
    kind: inclusion
    text: "age > 18 years old (structured ages: 18 Years)"
    condition: {field: age_years, gt: 18, alternative: {gte: 18}}
  - id: heart
    kind: exclusion
    text: "Cardiac failure: clinical signs of heart failure; LVEF < 40%"
    condition:
      any:
        - {field: lvef, lt: 40 %}
        - {manual: clinical signs of congestive heart failure are a clinical judgement}
"""
AS_OF = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def evaluator() -> Any:
    trial = parse_trial(parse_yaml(TRIAL, "<string>"))
    with Evaluator([compile_trial(trial)]) as ev:
        yield ev


def criterion(evaluator: Evaluator, data: dict[str, Any], criterion_id: str) -> CriterionResult:
    evaluation = evaluator.evaluate(profile(data), AS_OF, "TEST-LANG")
    return explain_criterion(evaluation, evaluation.compiled.trial.criterion(criterion_id))


@pytest.mark.parametrize(("born", "expected"), [
    ("2008-11-03", "not_met"),   # 17
    ("2008-11-02", "manual"),    # 18: "> 18" says no, structured ages say yes
    ("2007-11-03", "manual"),    # still 18 (19 tomorrow)
    ("2007-11-02", "met"),       # 19
])
def test_disputed_boundary(evaluator: Evaluator, born: str, expected: str) -> None:
    data = base_patient()
    data["demographics"]["birth_date"] = born
    result = criterion(evaluator, data, "age")
    assert result.outcome == expected
    if expected == "manual":
        assert "disputed boundary" in result.reason
        assert "> 18 years: false" in result.reason and "≥ 18 years: true" in result.reason
        assert result.missing == ()


def test_disputed_boundary_with_missing_value_is_unknown(evaluator: Evaluator) -> None:
    data = base_patient()
    del data["demographics"]["birth_date"]
    result = criterion(evaluator, data, "age")
    assert result.outcome == "unknown"
    assert result.missing == ("date of birth (or age)",)


@pytest.mark.parametrize(("lvef", "expected"), [("35 %", "met"), ("40 %", "manual"), ("55 %", "manual"),
                                                (None, "unknown")])
def test_manual_part_decided_around(evaluator: Evaluator, lvef: str | None, expected: str) -> None:
    data = base_patient()
    if lvef is not None:
        data["labs"].append({"test": "lvef", "value": lvef, "date": "2026-10-01"})
    result = criterion(evaluator, data, "heart")
    assert result.outcome == expected
    if expected == "manual":
        assert "left to the clinician: clinical signs of congestive heart failure" in result.reason
    if expected == "unknown":
        assert result.missing == ("left ventricular ejection fraction",)


def test_manual_part_is_not_allowed_in_a_query() -> None:
    from matcher.errors import RuleFileError

    text = TRIAL + """queries:
  q:
    over: medications
    label: x
    where: {manual: no}
"""
    with pytest.raises(RuleFileError, match="a manual part cannot be used inside a query"):
        parse_trial(parse_yaml(text, "<string>"))


def test_alternative_must_differ() -> None:
    from matcher.errors import RuleFileError

    with pytest.raises(RuleFileError, match="the alternative reading is the same as the first"):
        parse_trial(parse_yaml(TRIAL.replace("alternative: {gte: 18}", "alternative: {gt: 18}"), "<string>"))
