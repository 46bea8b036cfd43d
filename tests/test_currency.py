"""Currency of values (issue 10): windows in the rule language, stale values not used, the most recent
evidence across equivalent measures, lint of windows, and the example patients of this class."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.errors import RuleFileError
from matcher.intake.load import parse_yaml
from matcher.results.explain import CriterionResult, explain, explain_criterion
from matcher.rules.compile import compile_trial
from matcher.rules.language import parse_trial
from matcher.rules.lint import lint_file

from .helpers import base_patient, copy_trial, criterion_result, example, lab, outcome, profile, run

AS_OF = dt.date(2026, 11, 2)

TRIAL = """
trial: TEST-CURRENCY
title: currency windows
condition: none
source: {registry: test, last_updated: 2026-01-01}
windows:
  lab: 30 days
  notes: [labs at screening are read as at most 30 days old]
criteria:
  - id: sledai
    kind: inclusion
    text: SLEDAI >= 8
    condition: {field: sledai_2k, gte: 8}
  - id: alt
    kind: exclusion
    text: ALT > 3 x ULN
    condition: {field: alt_x_uln, gt: 3}
  - id: echo
    kind: exclusion
    text: LVEF < 40%
    within: 365 days
    condition: {field: lvef, lt: 40 %}
  - id: protein
    kind: inclusion
    text: 24-hour protein >= 1 g
    condition: {field: urine_protein_24h, gte: 1 g/day, within: 2 weeks}
  - id: proteinuria
    kind: inclusion
    text: ratio > 1 or 24-hour protein > 1
    condition:
      equivalent:
        - {field: urine_protein_creatinine_ratio, gt: 1 g/g}
        - {field: urine_protein_24h, gt: 1 g/day, within: 2 weeks}
"""


@pytest.fixture(scope="module")
def evaluator() -> Iterator[Evaluator]:
    trial = parse_trial(parse_yaml(TRIAL, "<string>"))
    with Evaluator([compile_trial(trial)]) as ev:
        yield ev


def judged(evaluator: Evaluator, data: dict[str, Any], criterion_id: str,
           as_of: dt.date = AS_OF) -> CriterionResult:
    evaluation = evaluator.evaluate(profile(data), as_of, "TEST-CURRENCY")
    return explain_criterion(evaluation, evaluation.compiled.trial.criterion(criterion_id))


def with_labs(*entries: dict[str, Any]) -> dict[str, Any]:
    data = base_patient()
    data["labs"] = list(entries)
    return data


# ------------------------------------------------------------------ the language: where a window comes from
def test_each_level_of_window_resolves_to_its_comparison(evaluator: Evaluator) -> None:
    windows = {name: (w.days, w.origin) for name, w in evaluator.compiled["TEST-CURRENCY"].windows.items()}
    assert windows["sledai_2k"] == (90, "the project default for activity scores")
    assert windows["alt_x_uln"] == (30, "the trial's window for labs")
    assert windows["lvef"] == (365, "stated by criterion echo")
    assert windows["urine_protein_24h"] == (14, "stated by the comparison")
    assert windows["urine_protein_creatinine_ratio"] == (30, "the trial's window for labs")


def test_the_trial_windows_are_stated_in_its_notes() -> None:
    trial = parse_trial(parse_yaml(TRIAL, "<string>"))
    assert trial.notes == ("Screening windows: labs 30 days.", "labs at screening are read as at most 30 days old")


def _error(text: str) -> str:
    with pytest.raises(RuleFileError) as caught:
        parse_trial(parse_yaml(text, "TEST-CURRENCY.yaml"))
    return str(caught.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("lab: 30 days", "lab: 0 days", "TEST-CURRENCY.yaml:7:8: windows.lab: a window must be between 1 and 3650"),
    ("lab: 30 days", "lab: -3 days", "a window is written as a whole number of days or weeks"),
    ("lab: 30 days", "lab: 30", "a window is written as a whole number of days or weeks"),
    ("lab: 30 days", "lab: 1 month", "a window is written as a whole number of days or weeks"),
    ("lab: 30 days", "lab: 20000 days", "a window must be between 1 and 3650 days"),
    ("lab: 30 days", "labs: 30 days", "unknown key (did you mean 'lab'?)"),
    ("{field: sledai_2k, gte: 8}", "{field: age_years, gte: 8, within: 30 days}",
     "field 'age_years' is not a dated result"),
    ("    within: 365 days\n    condition: {field: lvef, lt: 40 %}",
     "    within: 365 days\n    condition: {field: age_years, lt: 40}", "its window would apply to nothing"),
    ("{field: sledai_2k, gte: 8}", "{field: alt_x_uln, gte: 8, within: 60 days}",
     "field 'alt_x_uln' is compared with a 30-day window"),
])
def test_bad_windows_are_refused_at_the_line(old: str, new: str, expected: str) -> None:
    assert old in TRIAL
    assert expected in _error(TRIAL.replace(old, new))


def test_equivalent_needs_two_measures_of_different_fields() -> None:
    text = TRIAL.replace("- {field: urine_protein_creatinine_ratio, gt: 1 g/g}",
                         "- {field: urine_protein_24h, gt: 2 g/day, within: 2 weeks}")
    assert "appears twice" in _error(text)
    single = TRIAL.replace("        - {field: urine_protein_creatinine_ratio, gt: 1 g/g}\n", "")
    assert "at least two comparisons" in _error(single)


# ------------------------------------------------------------------ a stale value is not used
def test_a_value_older_than_its_window_is_unknown_and_says_why(evaluator: Evaluator) -> None:
    data = base_patient()
    data["disease_activity"] = [{"index": "SLEDAI-2K", "score": 14, "date": dt.date(2019, 3, 1)}]
    result = judged(evaluator, data, "sledai")
    age = (AS_OF - dt.date(2019, 3, 1)).days
    assert result.outcome == "unknown"
    assert result.missing == (f"a current SLEDAI-2K score (the last one, on 2019-03-01, is {age - 90:,} days older "
                              "than the 90-day window)",)
    assert f"is {age:,} days old on 2026-11-02: older than the 90-day window" in result.reason


def test_the_window_is_inclusive_and_moves_with_the_as_of_date(evaluator: Evaluator) -> None:
    data = base_patient()
    data["disease_activity"] = [{"index": "SLEDAI-2K", "score": 14, "date": AS_OF - dt.timedelta(days=90)}]
    assert judged(evaluator, data, "sledai").outcome == "met"
    assert judged(evaluator, data, "sledai", AS_OF + dt.timedelta(days=1)).outcome == "unknown"
    data["disease_activity"] = [{"index": "SLEDAI-2K", "score": 14, "date": dt.date(2019, 3, 1)}]
    assert judged(evaluator, data, "sledai", dt.date(2019, 3, 15)).outcome == "met"


def test_an_in_window_value_shows_its_date_age_and_window(evaluator: Evaluator) -> None:
    data = with_labs({"test": "alt", "value": "200 U/L", "uln": "40 U/L", "date": dt.date(2026, 10, 20)})
    result = judged(evaluator, data, "alt")
    assert result.outcome == "met"
    assert "on 2026-10-20 (13 days before the as-of date), within the 30-day window" in result.reason


def test_a_criterion_window_and_a_comparison_window_apply(evaluator: Evaluator) -> None:
    old_echo = with_labs({"test": "lvef", "value": "30 %", "date": dt.date(2025, 12, 1)})
    assert judged(evaluator, old_echo, "echo").outcome == "met"  # 336 days, within the criterion's 365
    older = with_labs({"test": "lvef", "value": "30 %", "date": dt.date(2025, 10, 1)})
    assert judged(evaluator, older, "echo").outcome == "unknown"
    protein = with_labs({"test": "urine_protein_24h", "value": "2 g/24h", "date": AS_OF - dt.timedelta(days=15)})
    assert judged(evaluator, protein, "protein").outcome == "unknown"  # 15 days: past the comparison's 2 weeks


# ------------------------------------------------------------------ equivalent measures
def _proteinuria(ratio: tuple[str, int] | None, day_protein: tuple[str, int] | None) -> dict[str, Any]:
    entries = []
    if ratio:
        entries.append({"test": "urine_protein_creatinine_ratio", "value": ratio[0],
                        "date": AS_OF - dt.timedelta(days=ratio[1])})
    if day_protein:
        entries.append({"test": "urine_protein_24h", "value": day_protein[0],
                        "date": AS_OF - dt.timedelta(days=day_protein[1])})
    return with_labs(*entries)


@pytest.mark.parametrize(("ratio", "day_protein", "expected"), [
    (("0.3 g/g", 3), ("3 g/24h", 10), "unknown"),     # both current, they disagree: the clinician decides
    (("2 g/g", 3), ("0.5 g/24h", 10), "unknown"),
    (("2 g/g", 3), ("3 g/24h", 10), "met"),           # they agree
    (("0.3 g/g", 3), ("0.5 g/24h", 10), "not_met"),
    (("0.3 g/g", 3), ("3 g/24h", 700), "not_met"),    # the stale 24-hour value never decides
    (("0.3 g/g", 3), None, "not_met"),
    (None, ("3 g/24h", 10), "met"),
    (None, ("3 g/24h", 700), "unknown"),
    (None, None, "unknown"),
])
def test_equivalent_measures_decide_where_they_agree(evaluator: Evaluator, ratio: tuple[str, int] | None,
                                                     day_protein: tuple[str, int] | None, expected: str) -> None:
    result = judged(evaluator, _proteinuria(ratio, day_protein), "proteinuria")
    assert result.outcome == expected
    if ratio and day_protein and day_protein[1] < 14 and expected == "unknown":
        assert result.reason.startswith("records disagree (the clinician decides): ")
        assert result.missing == ("the clinician's reading of proteinuria: current records of one quantity "
                                  "disagree (shown side by side)",)
        assert "urine protein/creatinine ratio: " in result.reason and "24-hour urine protein: " in result.reason


# ------------------------------------------------------------------ the most recent eGFR evidence
def _renal(egfr_day: dt.date, creatinine: str, creatinine_day: dt.date) -> dict[str, Any]:
    data = base_patient()
    lab(data, "egfr").update(value="68 mL/min/1.73m2", date=egfr_day)
    lab(data, "serum_creatinine").update(value=creatinine, date=creatinine_day)
    return data


@pytest.mark.parametrize(("trial", "criterion"), [("NCT00698191", "exc-2"), ("NCT00953485", "exc-1")])
def test_a_newer_creatinine_beats_an_older_reported_egfr(engine: Matcher, trial: str, criterion: str) -> None:
    data = _renal(dt.date(2026, 9, 20), "8.5 mg/dL", dt.date(2026, 10, 28))  # both within 90 days
    result = criterion_result(engine, data, criterion, trial)
    assert result.outcome == "met"
    (used,) = [v for v in result.values if v.field == "egfr_reported_or_ckd_epi_2021"]
    assert used.value == "5.8 mL/min/1.73m2 (computed)" and used.date == dt.date(2026, 10, 28)
    assert used.derivation is not None and used.derivation.endswith(
        "used instead of the lab's eGFR 68 mL/min/1.73m2 of 2026-09-20, because the creatinine is newer")


def test_on_the_same_day_the_reported_egfr_decides_only_where_the_creatinine_agrees(engine: Matcher) -> None:
    """A lab eGFR of 68 beside a creatinine of that day giving 5.8 (end-stage): the records disagree, and the
    clinician decides (tests/test_egfr_same_day.py); beside one giving about 68, the pair decides."""
    disagreeing = criterion_result(engine, _renal(dt.date(2026, 10, 28), "8.5 mg/dL", dt.date(2026, 10, 28)),
                                   "exc-2", "NCT00698191")
    assert disagreeing.outcome == "unknown" and "records disagree (the clinician decides)" in disagreeing.reason
    assert outcome(engine, _renal(dt.date(2026, 10, 28), "1.1 mg/dL", dt.date(2026, 10, 28)), "exc-2") == "not_met"


def test_an_older_creatinine_leaves_the_reported_egfr(engine: Matcher) -> None:
    data = _renal(dt.date(2026, 10, 28), "8.5 mg/dL", dt.date(2026, 10, 1))
    assert outcome(engine, data, "exc-2") == "not_met"


# ------------------------------------------------------------------ pregnancy tests and the CLI
def test_a_year_old_negative_pregnancy_test_does_not_rule_pregnancy_out(engine: Matcher) -> None:
    data = example("NCT03562065-eligible-refractory-to-mmf.yaml")
    data["pregnancy"]["tests"] = [{"date": dt.date(2025, 9, 8), "result": "negative", "specimen": "serum"}]
    result = criterion_result(engine, data, "inc-5", "NCT03562065")
    assert result.outcome == "unknown"
    assert "a current pregnancy test (urine or serum) (the last one, on 2025-09-08, is 364 days older than the " \
           "7-day window)" in result.missing


# ------------------------------------------------------------------ the example patients of this class
@pytest.mark.parametrize(("name", "verdict", "collect"), [
    ("NCT00698191-undetermined-sledai-from-2019.yaml", "undetermined",
     "a current SLEDAI-2K score (the last one, on 2019-03-01, is 2,713 days older than the 90-day window)"),
    ("NCT00698191-ineligible-newer-creatinine-end-stage-renal.yaml", "ineligible", None),
    ("NCT00953485-ineligible-newer-creatinine-end-stage-renal.yaml", "ineligible", None),
    ("NCT00953485-undetermined-ssdai-two-years-old.yaml", "undetermined",
     "a current SSDAI score (the last one, on 2024-08-25, is 647 days older than the 90-day window)"),
    ("NCT03219801-undetermined-echo-two-years-old.yaml", "undetermined",
     "a current left ventricular ejection fraction (the last one, on 2024-09-30, is 565 days older than the "
     "180-day window)"),
    ("NCT03562065-undetermined-pregnancy-test-a-year-old.yaml", "undetermined", None),
    ("NCT03562065-undetermined-selena-sledai-two-years-old.yaml", "undetermined",
     "a current SELENA-SLEDAI score (the last one, on 2024-09-08, is 706 days older than the 30-day window)"),
    ("NCT05631717-ineligible-old-24h-protein-newer-low-ratio.yaml", "ineligible", None),
    ("NCT05631717-undetermined-proteinuria-records-disagree.yaml", "undetermined",
     "the clinician's reading of inc-4: current records of one quantity disagree (shown side by side)"),
])
def test_the_example_patients_of_stale_and_newer_evidence(engine: Matcher, name: str, verdict: str,
                                                          collect: str | None) -> None:
    trial = name.split("-", maxsplit=1)[0]
    result = run(engine, example(name), trial)
    assert result.verdict == verdict
    if collect is not None:
        assert collect in result.to_collect
    if "records-disagree" in name:
        inc4 = next(c for c in result.criteria if c.id == "inc-4")
        assert inc4.outcome == "unknown" and inc4.reason.startswith("records disagree")
        assert result.deciding == ("inc-4",)
    if "old-24h" in name:
        assert result.deciding == ("inc-4",)


def test_the_cli_as_of_moves_the_window() -> None:
    import io

    from matcher.cli import main

    path = str(Path(__file__).resolve().parent.parent / "patients" / "NCT00698191-undetermined-sledai-from-2019.yaml")
    out, err = io.StringIO(), io.StringIO()
    main(["check", path, "--trial", "NCT00698191", "--as-of", "2019-03-20"], out, err)
    assert "SLEDAI-2K: 14 on 2019-03-01 (19 days before the as-of date), within the 90-day window" in \
        " ".join(out.getvalue().split())


# ------------------------------------------------------------------ lint
def test_lint_reports_a_dated_value_with_no_window_stated(tmp_path: Path) -> None:
    path = copy_trial(tmp_path, "NCT00953485")
    path.write_text(path.read_text().replace("  activity_score: 90 days\n", ""))
    errors = lint_file(path).errors
    assert any("criterion inc-1: ssdai is a dated value (activity scores) compared with no window stated: the "
               "90-day window (the project default for activity scores) applies unsaid" in e for e in errors), errors


def test_lint_reports_a_window_too_long_and_one_that_applies_to_nothing(tmp_path: Path) -> None:
    path = copy_trial(tmp_path, "NCT00953485")
    path.write_text(path.read_text().replace("  activity_score: 90 days\n",
                                             "  activity_score: 900 days\n  pregnancy_test: 7 days\n"))
    errors = lint_file(path).errors
    assert any("the 900-day window (the trial's window for activity scores) for ssdai is longer than 365 days" in e
               for e in errors), errors
    assert any("windows: states a window for pregnancy_test, but no criterion compares such a value" in e
               for e in errors), errors


def test_the_explanation_of_a_whole_trial_lists_the_stale_value_to_collect(engine: Matcher) -> None:
    data = base_patient()
    data["disease_activity"] = [{"index": "SLEDAI-2K", "score": 14, "date": dt.date(2026, 1, 2)}]
    result = run(engine, data)
    assert result.verdict == "undetermined"
    assert result.to_collect == ("a current SLEDAI-2K score (the last one, on 2026-01-02, is 214 days older than "
                                 "the 90-day window)",)
    assert explain is not None
