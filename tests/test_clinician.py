"""The clinician's part (issue 11): the review verdict, routine confirmations, recorded decisions.

Review: a criterion left to the clinician whose computable part already points against eligibility
(an exclusion's measurable part true, an inclusion's false) makes the verdict ``review``, never
``eligible``. Decisions: a patient file's ``decisions`` settle such criteria, on the rule file they
were made on and within the window, and never override what the record decides.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from matcher.api import Matcher
from matcher.cli import EXIT_ELIGIBLE, EXIT_REVIEW, main
from matcher.results.decisions import DECISION_WINDOW_DAYS
from matcher.rules.language import load_trial
from matcher.rules.lint import lint_file

from .helpers import PATIENTS, RULES, example, run

TRIAL = "NCT03562065"
ALT = "NCT03562065-review-alt-above-twice-normal.yaml"
HIV = "NCT03562065-review-hiv-controlled.yaml"
ELIGIBLE = "NCT03562065-eligible-refractory-to-mmf.yaml"
AS_OF = dt.date(2026, 9, 14)


def sha(trial: str = TRIAL) -> str:
    return load_trial(RULES / f"{trial}.yaml").content_hash


def decision(criterion: str = "exc-3", outcome: str = "not_met", on: dt.date = dt.date(2026, 9, 10),
             rules_sha256: str | None = None, by: str = "Dr A. Martin (rheumatology)", **extra: Any) -> dict[str, Any]:
    return {"trial": TRIAL, "criterion": criterion, "outcome": outcome, "by": by, "on": on.isoformat(),
            "rules_sha256": rules_sha256 or sha(), "note": "ALT rise with the flare (lupus hepatitis)", **extra}


def criterion(result: Any, cid: str) -> Any:
    return next(c for c in result.criteria if c.id == cid)


# ------------------------------------------------------------------ review
def test_raised_alt_with_a_judgement_left_is_review_with_its_evidence(engine: Matcher) -> None:
    result = run(engine, example(ALT), TRIAL)
    assert result.verdict == "review"
    assert result.deciding == ("exc-3",)
    (question,) = result.to_decide
    assert question.startswith("exc-3 (hepatitis: AST or ALT > 2 × normal), ALT: 3.75 x ULN (150 U/L / ULN 40 U/L) "
                               "on 2026-09-08")
    assert question.endswith('whether raised transaminases are "not related to disease activity" (lupus '
                             "hepatitis) is a clinical judgement.")
    assert result.summary.startswith("review: clinician to decide: exc-3 (hepatitis: AST or ALT > 2 × normal), ALT: "
                                  "3.75 x ULN")


def test_controlled_hiv_is_review(engine: Matcher) -> None:
    result = run(engine, example(HIV), TRIAL)
    assert result.verdict == "review"
    (question,) = result.to_decide
    assert question.startswith("exc-8 (HIV, HTLV, hepatitis B or C infection), an HIV, HTLV, hepatitis B or "
                               "hepatitis C infection not resolved on the "
                               "as-of date: yes, infections[0] HIV-1 infection")


def test_a_judgement_with_nothing_recorded_against_keeps_the_patient_eligible(engine: Matcher) -> None:
    """exc-3 with normal transaminases is not met; heart-failure signs (exc-2a) are a question, not evidence."""
    result = run(engine, example(ELIGIBLE), TRIAL)
    assert result.verdict == "eligible"
    assert result.to_decide == ()
    assert result.routine_pending == ("inc-6", "inc-7", "exc-11")
    assert result.clinical_pending == ("exc-2a", "exc-2c", "exc-5", "exc-10", "exc-12", "exc-14")
    assert "clinician to confirm exc-2a (clinical heart failure), exc-2c" in result.summary
    assert ("routine: inc-6 (effective contraception), inc-7 (signed informed consent), exc-11 (excluded from "
            "research roster)") in result.summary


def test_a_routine_confirmation_never_makes_review(engine: Matcher) -> None:
    """A man's contraception (inc-6) is left to the clinician with its computable part false: routine."""
    data = example(ELIGIBLE)
    data["demographics"]["sex"] = "male"
    del data["pregnancy"]
    result = run(engine, data, TRIAL)
    assert criterion(result, "inc-6").outcome == "manual"
    assert criterion(result, "inc-6").routine and criterion(result, "inc-6").question is None
    assert result.verdict == "eligible", result.summary


def test_review_in_every_output(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(PATIENTS / ALT), "--trial", TRIAL], out, err)
    assert code == EXIT_REVIEW and err.getvalue() == ""
    assert f"{TRIAL}: REVIEW" in out.getvalue()
    assert "Clinician to decide (the record points against eligibility)" in out.getvalue()
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(PATIENTS / ALT, source / ALT)
    csv_path, log = tmp_path / "out.csv", tmp_path / "log.db"
    code = main(["screen", str(source), "--trials", TRIAL, "--out", str(csv_path), "--log", str(log),
                 "--progress", "never"], io.StringIO(), io.StringIO())
    assert code == 0
    (row,) = csv.DictReader(csv_path.open())
    assert row["verdict"] == "review" and row["clinician_to_decide"].startswith(
        "exc-3 (hepatitis: AST or ALT > 2 × normal), ALT: 3.75 x ULN")
    summary = io.StringIO()
    assert main(["log", "summary", str(log)], summary, io.StringIO()) == 0
    assert "  review              1   clinician to decide" in summary.getvalue()


def test_lint_asks_whether_a_consent_criterion_is_routine(tmp_path: Path) -> None:
    (tmp_path / "registry").mkdir()
    shutil.copy(RULES / "registry" / f"{TRIAL}.txt", tmp_path / "registry" / f"{TRIAL}.txt")
    path = tmp_path / f"{TRIAL}.yaml"
    text = (RULES / f"{TRIAL}.yaml").read_text()
    assert text.count("    routine: true\n") == 3
    path.write_text(text.replace("    kind: inclusion\n    routine: true\n    text: Signed Informed Consent.",
                                 "    kind: inclusion\n    text: Signed Informed Consent."))
    assert any("criterion inc-7: the text speaks of consent" in e for e in lint_file(path).errors)
    path.write_text(text.replace("  - id: exc-1\n    label: creatinine clearance < 30 ml/min\n",
                                 "  - id: exc-1\n    label: creatinine clearance < 30 ml/min\n    routine: true\n"))
    assert any("criterion exc-1: routine: true on a criterion with nothing left to the clinician" in e
               for e in lint_file(path).errors)


# ------------------------------------------------------------------ recorded decisions
def test_a_decision_settles_the_question_and_is_shown(engine: Matcher) -> None:
    data = example(ALT)
    data["decisions"] = [decision()]
    result = run(engine, data, TRIAL)
    exc3 = criterion(result, "exc-3")
    assert exc3.outcome == "not_met"
    assert exc3.decision == ("decided by Dr A. Martin (rheumatology) on 2026-09-10: not met (ALT rise with the "
                             "flare (lupus hepatitis))")
    assert result.verdict == "eligible" and "decided: exc-3" in result.summary
    data["decisions"] = [decision(outcome="met")]
    result = run(engine, data, TRIAL)
    assert result.verdict == "ineligible" and result.deciding == ("exc-3",)


def test_a_decision_on_another_rule_file_version_is_not_used(engine: Matcher) -> None:
    data = example(ALT)
    data["decisions"] = [decision(rules_sha256="0" * 64)]
    result = run(engine, data, TRIAL)
    exc3 = criterion(result, "exc-3")
    assert exc3.outcome == "manual" and exc3.decision is None and result.verdict == "review"
    assert exc3.decision_ignored is not None and "made on another version of the rule file" in exc3.decision_ignored


@pytest.mark.parametrize(("days_before", "used"), [(DECISION_WINDOW_DAYS - 1, True), (DECISION_WINDOW_DAYS, False),
                                                   (-1, False), (0, True)])
def test_the_decision_window(engine: Matcher, days_before: int, used: bool) -> None:
    data = example(ALT)
    data["decisions"] = [decision(on=AS_OF - dt.timedelta(days=days_before))]
    exc3 = criterion(run(engine, data, TRIAL), "exc-3")
    assert (exc3.outcome == "not_met") == used
    assert (exc3.decision_ignored is None) == used


def test_a_decision_never_overrides_a_computed_outcome(engine: Matcher) -> None:
    data = example(ELIGIBLE)  # ALT normal: exc-3 is not met by the record
    data["decisions"] = [decision(outcome="met"), decision(criterion="inc-2", outcome="not_met")]
    result = run(engine, data, TRIAL)
    assert criterion(result, "exc-3").outcome == "not_met" and criterion(result, "inc-2").outcome == "met"
    assert result.verdict == "eligible"
    assert "a decision never overrides it" in (criterion(result, "exc-3").decision_ignored or "")
    del data["labs"][1]  # ALT unknown: missing data is collected, not decided
    result = run(engine, data, TRIAL)
    assert criterion(result, "exc-3").outcome == "unknown" and result.verdict == "undetermined"


def test_disagreeing_decisions_of_one_day_are_not_used_whatever_their_order(engine: Matcher) -> None:
    data = example(ALT)
    pair = [decision(), decision(outcome="met", by="Dr B. Chen (hepatology)")]
    for decisions in (pair, pair[::-1]):
        data["decisions"] = decisions
        exc3 = criterion(run(engine, data, TRIAL), "exc-3")
        assert exc3.outcome == "manual" and "disagree" in (exc3.decision_ignored or "")
    data["decisions"] = [decision(on=dt.date(2026, 9, 1), outcome="met"), decision()]
    assert criterion(run(engine, data, TRIAL), "exc-3").outcome == "not_met"  # the latest counts


def test_a_decision_naming_no_criterion_is_reported(engine: Matcher) -> None:
    data = example(ALT)
    data["decisions"] = [decision(criterion="exc-99")]
    result = run(engine, data, TRIAL)
    assert result.decisions_not_used and "the trial has no criterion 'exc-99'" in result.decisions_not_used[0]


def test_decisions_in_json_and_text(tmp_path: Path) -> None:
    data = example(ALT)
    data["decisions"] = [decision()]
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(data, default=str))
    out = io.StringIO()
    assert main(["check", str(path), "--trial", TRIAL, "--format", "json"], out, io.StringIO()) == EXIT_ELIGIBLE
    (result,) = json.loads(out.getvalue())["results"]
    assert result["decided"] == ["exc-3 (hepatitis: AST or ALT > 2 × normal): decided by Dr A. Martin (rheumatology) "
                                 "on 2026-09-10: not met (ALT rise "
                                 "with the flare (lupus hepatitis))"]
    exc3 = next(c for c in result["criteria"] if c["id"] == "exc-3")
    assert exc3["outcome"] == "not_met" and exc3["decision"].startswith("decided by Dr A. Martin")
    out = io.StringIO()
    main(["check", str(path), "--trial", TRIAL], out, io.StringIO())
    assert "decided by Dr A. Martin (rheumatology) on 2026-09-10" in out.getvalue()


def test_a_bad_decision_is_bad_input(tmp_path: Path) -> None:
    data = example(ALT)
    data["decisions"] = [decision(outcome="probably")]
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(data, default=str))
    err = io.StringIO()
    assert main(["check", str(path), "--trial", TRIAL], io.StringIO(), err) == 2
    assert "decisions" in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1


# ------------------------------------------------------------------ prior treatment as clinicians read it
def _course(drug: str, dose: str, start: str, end: str, response: str | None = None, frequency: str = "daily",
            route: str = "oral", **extra: Any) -> dict[str, Any]:
    course = {"drug": drug, "dose": dose, "frequency": frequency, "route": route, "start": start, "end": end, **extra}
    if response:
        course["response"] = response
    return course


def _with_courses(name: str, keep: tuple[str, ...], *courses: dict[str, Any]) -> dict[str, Any]:
    """Example ``name`` with only its medication courses of the drugs in ``keep``, plus ``courses``."""
    data = example(name)
    data["medications"] = [c for c in data["medications"] if c["drug"] in keep] + list(courses)
    return data


STABLE = ("hydroxychloroquine",)


def _stable_prednisone() -> dict[str, Any]:
    return {"drug": "prednisone", "dose": "10 mg", "frequency": "daily", "route": "oral", "start": "2026-06-01",
            "ongoing": True, "response": "responded"}


MMF_FAILED = _course("mycophenolate mofetil", "1500 mg", "2025-01-06", "2025-07-31", "failed", "twice_daily")


def test_a_taper_is_one_treatment(engine: Matcher) -> None:
    result = run(engine, example("NCT03562065-eligible-tapered-prednisone.yaml"), TRIAL)
    inc3a = criterion(result, "inc-3a")
    assert inc3a.outcome == "met"
    days = {v.field: v for v in inc3a.values if v.field.endswith("treatment_days")}
    assert days["medications[1].treatment_days"].value == "42 days"  # the time at 30 mg/day or more
    taper = days["medications[3].treatment_days"]  # at 15 mg/day or more: the whole taper
    assert taper.value == "84 days"
    assert taper.derivation is not None and taper.derivation.startswith(
        "4 courses of prednisone (medications[0], medications[1], medications[2], medications[3]) at this dose or "
        "above read as one treatment")
    assert any("are one treatment" in note for note in inc3a.notes + result.trial_notes)


@pytest.mark.parametrize(("courses", "outcome"), [
    # 10 mg/day for 14 days then 5 mg/day for 60: only 14 days at 6 mg/day or more
    ([("10 mg", "2025-01-06", "2025-01-19", None), ("5 mg", "2025-01-20", "2025-03-20", "failed")], "not_met"),
    # 20 days, a 14-day gap, 20 days: one treatment of 54 days
    ([("20 mg", "2025-01-01", "2025-01-20", None), ("20 mg", "2025-02-04", "2025-02-23", "failed")], "met"),
    # a 15-day gap is two treatments of 20 days (the first one's response its own)
    ([("20 mg", "2025-01-01", "2025-01-20", "responded"), ("20 mg", "2025-02-05", "2025-02-24", "failed")], "not_met"),
    # a 40-day course tapered below 6 mg/day: still 40 days at 20 mg/day
    ([("20 mg", "2025-01-01", "2025-02-09", None), ("2.5 mg", "2025-02-10", "2025-03-01", "failed")], "met"),
])
def test_glucocorticoid_courses_merge_at_the_dose_they_held(engine: Matcher, courses: list[Any],
                                                            outcome: str) -> None:
    written = (_course("prednisone", dose, start, end, response) for dose, start, end, response in courses)
    data = _with_courses(ELIGIBLE, ("mycophenolate_mofetil", *STABLE), _stable_prednisone(), *written)
    assert criterion(run(engine, data, TRIAL), "inc-3a").outcome == outcome


def test_courses_of_another_drug_or_route_are_not_merged(engine: Matcher) -> None:
    data = _with_courses(ELIGIBLE, ("prednisone", *STABLE),
                         _course("mycophenolate mofetil", "1250 mg", "2025-01-06", "2025-03-06", "responded",
                                 "twice_daily"),
                         _course("mycophenolate sodium", "1080 mg", "2025-03-07", "2025-05-05", "failed",
                                 "twice_daily"))
    assert criterion(run(engine, data, TRIAL), "inc-3b").outcome == "not_met"


def test_a_dose_increase_is_one_treatment(engine: Matcher) -> None:
    result = run(engine, example("NCT03562065-eligible-mmf-dose-increase.yaml"), TRIAL)
    assert criterion(result, "inc-3b").outcome == "met"


@pytest.mark.parametrize(("response", "outcome"), [("not_tolerated", "met"), ("failed", "not_met")])
def test_a_course_stopped_for_intolerance_counts_whatever_its_length(engine: Matcher, response: str,
                                                                     outcome: str) -> None:
    data = _with_courses(ELIGIBLE, ("prednisone", *STABLE), _course(
        "mycophenolate mofetil", "1500 mg", "2025-01-06", "2025-02-04", response, "twice_daily"))
    inc3b = criterion(run(engine, data, TRIAL), "inc-3b")
    assert inc3b.outcome == outcome
    assert any("adverse effects necessitating discontinuation" in note for note in inc3b.notes)


def test_the_euro_lupus_regimen_is_left_to_the_clinician(engine: Matcher) -> None:
    result = run(engine, example("NCT03562065-review-euro-lupus-cyclophosphamide.yaml"), TRIAL)
    inc3b = criterion(result, "inc-3b")
    assert inc3b.outcome == "manual" and result.verdict == "review"
    assert inc3b.question is not None and "just short of the \"3 months minimum\"" in inc3b.question
    assert any("Euro-Lupus" in note and "left to the clinician" in note for note in inc3b.notes)


@pytest.mark.parametrize(("dose", "verdict"), [("25 mg", "review"), ("100 mg", "eligible")])
def test_an_immunosuppressant_below_an_adequate_trial_goes_to_the_clinician(engine: Matcher, dose: str,
                                                                            verdict: str) -> None:
    data = example("NCT00698191-review-low-dose-azathioprine.yaml")
    data["medications"][1]["dose"] = dose  # 58 kg: 0.43 or 1.72 mg/kg/day against 1.5
    result = run(engine, data, "NCT00698191")
    assert result.verdict == verdict, result.summary
    if verdict == "review":
        assert "adequate therapeutic trial" in result.to_decide[0]


@pytest.mark.parametrize(("end", "verdict"), [("2024-03-05", "review"), ("2024-03-27", "review"),
                                              ("2024-03-28", "eligible")])
def test_a_short_corticosteroid_course_is_not_a_trial_outright(engine: Matcher, end: str, verdict: str) -> None:
    data = example("NCT00698191-review-five-days-prednisone.yaml")
    data["medications"][0]["end"] = end  # from 1 March: 5, 27 and 28 days
    assert run(engine, data, "NCT00698191").verdict == verdict


def test_the_adequacy_table_is_shown_in_the_explanation(engine: Matcher) -> None:
    result = run(engine, example("NCT00698191-review-low-dose-azathioprine.yaml"), "NCT00698191")
    details = " ".join(criterion(result, "inc-3").details)
    assert "adequate therapeutic trial" in details or "ADEQUATE_TRIALS" in " ".join(criterion(result, "inc-3").notes)


def test_disagreeing_responses_of_one_treatment_leave_it_unknown_whatever_the_order(engine: Matcher) -> None:
    """Two overlapping MMF courses ending the same day, one failed, one responded: file order must not choose."""
    courses = [_course("mycophenolate mofetil", "1500 mg", "2025-01-06", "2025-07-31", "failed", "twice_daily"),
               _course("mycophenolate mofetil", "1250 mg", "2025-03-01", "2025-07-31", "responded", "twice_daily")]
    for order in (courses, courses[::-1]):
        data = _with_courses(ELIGIBLE, ("prednisone", *STABLE), *order)
        inc3b = criterion(run(engine, data, TRIAL), "inc-3b")
        assert inc3b.outcome == "unknown"
        assert any("courses ending together disagree" in item for item in inc3b.missing)
