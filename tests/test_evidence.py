"""Only current, consistent evidence decides (issue 10): records that disagree, recorded absences, facts
derived with their provenance, and dates outside the patient's life or the calendar."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from matcher.api import Matcher
from matcher.cli import EXIT_BAD_INPUT
from matcher.errors import PatientFileError
from matcher.intake.load import Document
from matcher.intake.validate import validate_patient

from .helpers import base_patient, cli, criterion_result, example, outcome, run


def write(tmp_path: Path, data: dict[str, Any], name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, default=str, indent=1), encoding="utf-8")
    return path


# ------------------------------------------------------------------ records that disagree
SAME_DAY = [{"date": "2026-10-28", "result": "positive", "specimen": "serum"},
            {"date": "2026-10-28", "result": "negative", "specimen": "urine"}]


@pytest.mark.parametrize("order", [SAME_DAY, SAME_DAY[::-1]], ids=["serum first", "urine first"])
@pytest.mark.parametrize(("trial", "criterion"), [("NCT00698191", "exc-5"), ("NCT03219801", "exc-4"),
                                                  ("NCT00953485", "exc-4"), ("NCT05631717", "exc-8")])
def test_a_positive_serum_and_a_negative_urine_test_of_one_day_are_never_not_pregnant(
        engine: Matcher, order: list[dict[str, Any]], trial: str, criterion: str) -> None:
    data = base_patient()
    del data["pregnancy"]["pregnant"]
    data["pregnancy"]["tests"] = order
    found = criterion_result(engine, data, criterion, trial)
    assert found.outcome == "unknown", found
    assert "records disagree" in found.reason
    assert run(engine, data, trial).verdict != "eligible"


@pytest.mark.parametrize("order", [SAME_DAY, SAME_DAY[::-1]], ids=["serum first", "urine first"])
def test_disagreeing_tests_leave_the_negative_test_inclusion_unknown(engine: Matcher,
                                                                      order: list[dict[str, Any]]) -> None:
    data = example("NCT03562065-eligible-refractory-to-mmf.yaml")
    del data["pregnancy"]["pregnant"]
    data["pregnancy"]["tests"] = [{**t, "date": "2026-09-08"} for t in order]
    assert outcome(engine, data, "inc-5", "NCT03562065") in ("unknown", "not_met")
    assert run(engine, data, "NCT03562065").verdict != "eligible"


def test_a_negative_urine_test_does_not_overrule_a_positive_serum_test_of_the_same_week(engine: Matcher) -> None:
    data = base_patient()
    del data["pregnancy"]["pregnant"]
    data["pregnancy"]["tests"] = [{"date": "2026-10-25", "result": "positive", "specimen": "serum"},
                                  {"date": "2026-10-28", "result": "negative", "specimen": "urine"}]
    assert outcome(engine, data, "exc-5") == "unknown"
    data["pregnancy"]["tests"][1]["specimen"] = "serum"  # a later negative serum test does
    assert outcome(engine, data, "exc-5") == "not_met"


# ------------------------------------------------------------------ recorded absence
@pytest.mark.parametrize("trial", ["NCT00698191", "NCT03219801", "NCT03562065", "NCT05631717"])
def test_sle_recorded_absent_makes_the_sle_inclusion_not_met(engine: Matcher, trial: str) -> None:
    data = base_patient()
    data["diagnoses"]["sle"] = {"present": False}
    result = run(engine, data, trial)
    assert result.verdict == "ineligible" and "inc-1" in result.deciding
    assert not any("ACR" in item for item in result.to_collect)


def test_sle_recorded_absent_against_four_acr_criteria_is_unknown(engine: Matcher) -> None:
    data = base_patient()
    data["diagnoses"]["sle"]["present"] = False
    found = criterion_result(engine, data, "inc-1", "NCT00698191")
    assert found.outcome == "unknown" and "records disagree" in found.reason


def test_primary_sjogren_recorded_absent_or_sle_present_fails_nct00953485(engine: Matcher) -> None:
    data = example("NCT00953485-eligible-primary-sjogren.yaml")
    assert run(engine, data, "NCT00953485").verdict == "eligible"
    absent = {**data, "diagnoses": {"primary_sjogren": {"present": False}}}
    assert outcome(engine, absent, "inc-1", "NCT00953485") == "not_met"
    with_sle = {**data, "diagnoses": {**data["diagnoses"], "sle": {"present": True}}}
    found = criterion_result(engine, with_sle, "inc-1", "NCT00953485")
    assert found.outcome == "not_met" and any("secondary" in note for note in found.notes)


# ------------------------------------------------------------------ derived facts
def test_a_pregnant_woman_is_of_childbearing_potential_and_is_excluded_from_nct03562065(engine: Matcher) -> None:
    data = example("NCT03562065-eligible-refractory-to-mmf.yaml")
    data["pregnancy"] = {"pregnant": True}
    result = run(engine, data, "NCT03562065")
    assert result.verdict == "ineligible" and "inc-5" in result.deciding
    found = criterion_result(engine, data, "inc-5", "NCT03562065")
    derived = [v for v in found.values if v.field == "childbearing_potential"]
    assert derived and derived[0].value == "yes" and "pregnant" in (derived[0].derivation or "")


def test_a_positive_test_means_childbearing_potential(engine: Matcher) -> None:
    data = example("NCT03562065-eligible-refractory-to-mmf.yaml")
    data["pregnancy"] = {"tests": [{"date": "2026-09-08", "result": "positive", "specimen": "serum"}]}
    found = criterion_result(engine, data, "inc-5", "NCT03562065")
    cbp = next(v for v in found.values if v.field == "childbearing_potential")
    assert found.outcome == "not_met" and cbp.value == "yes" and "positive" in (cbp.derivation or "")


def test_a_man_is_not_of_childbearing_potential(engine: Matcher) -> None:
    data = example("NCT03562065-eligible-refractory-to-mmf.yaml")
    data["demographics"]["sex"] = "male"
    data["pregnancy"] = {}
    found = criterion_result(engine, data, "inc-5", "NCT03562065")
    assert found.outcome == "met"


@pytest.mark.parametrize(("pregnancy", "sex", "names"), [
    ({"childbearing_potential": True}, "male", ("demographics.sex", "pregnancy.childbearing_potential")),
    ({"pregnant": True, "childbearing_potential": False}, "female",
     ("pregnancy.pregnant", "pregnancy.childbearing_potential")),
])
def test_contradicting_recorded_facts_are_bad_input_naming_both(tmp_path: Path, pregnancy: dict[str, Any],
                                                                  sex: str, names: tuple[str, str]) -> None:
    data = base_patient()
    data["demographics"]["sex"] = sex
    data["pregnancy"] = pregnancy
    code, out, err = cli("check", str(write(tmp_path, data)))
    assert code == EXIT_BAD_INPUT and out == ""
    assert len(err.splitlines()) == 1 and all(name in err for name in names), err


def test_ana_among_the_acr_criteria_is_not_asked_for(engine: Matcher) -> None:
    data = example("NCT03562065-eligible-refractory-to-mmf.yaml")
    del data["diagnoses"]["sle"]["ana_positive"]
    assert outcome(engine, data, "inc-1", "NCT03562065") == "met"
    assert "ANA result" not in run(engine, data, "NCT03562065").to_collect


# ------------------------------------------------------------------ dates
def test_a_result_dated_after_today_is_bad_input_with_its_line(tmp_path: Path) -> None:
    data = base_patient()
    data["labs"][0]["date"] = dt.date.today() + dt.timedelta(days=1)
    code, _, err = cli("check", str(write(tmp_path, data)))
    assert code == EXIT_BAD_INPUT
    assert "labs[0].date" in err and "after today" in err and "p.json:" in err


def test_a_planned_procedure_may_lie_ahead_an_unplanned_one_may_not(tmp_path: Path) -> None:
    data = base_patient()
    later = dt.date.today() + dt.timedelta(days=30)
    data["procedures"] = [{"type": "major_surgery", "date": later, "planned": True}]
    assert cli("check", str(write(tmp_path, data)))[0] != EXIT_BAD_INPUT
    data["procedures"][0]["planned"] = False
    code, _, err = cli("check", str(write(tmp_path, data)))
    assert code == EXIT_BAD_INPUT and "procedures[0].date" in err and "planned: true" in err


def test_a_date_before_birth_is_bad_input(tmp_path: Path) -> None:
    data = base_patient()
    data["labs"][0]["date"] = "1900-01-01"
    code, _, err = cli("check", str(write(tmp_path, data)))
    assert code == EXIT_BAD_INPUT and "before the birth date" in err and "labs[0].date" in err


def test_far_future_dates_give_a_message_not_a_traceback(tmp_path: Path) -> None:
    data = {"id": "p", "screening_date": "9999-12-31",
            "medications": [{"drug": "prednisone", "start": "2020-01-01", "ongoing": True}]}
    code, _, err = cli("check", str(write(tmp_path, data)))
    assert code == EXIT_BAD_INPUT and "screening_date" in err and "Traceback" not in err
    del data["screening_date"]
    code, _, err = cli("check", str(write(tmp_path, data)), "--as-of", "9999-12-30")
    assert code == EXIT_BAD_INPUT and "too far in the future" in err


def test_a_far_future_row_is_skipped_and_reported_by_screen(tmp_path: Path) -> None:
    good = {"id": "good", "demographics": {"sex": "female"}}
    bad = {"id": "bad", "screening_date": "9999-12-31",
           "medications": [{"drug": "prednisone", "start": "2020-01-01", "ongoing": True}]}
    source = tmp_path / "cohort.jsonl"
    source.write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    table = tmp_path / "cohort.csv"
    table.write_text("id,screening_date,medications.1.drug,medications.1.start,medications.1.ongoing\n"
                     "bad,9999-12-31,prednisone,2020-01-01,true\ngood,,,,\n", encoding="utf-8")
    for path in (source, table):
        out = tmp_path / f"{path.suffix[1:]}-results.csv"
        _, stdout, err = cli("screen", str(path), "--out", str(out), "--no-log")
        assert "Traceback" not in err and "too far in the future" in err, err
        assert "1 record not screened" in stdout, stdout
        assert "good" in out.read_text(encoding="utf-8")


def test_entries_after_the_as_of_date_are_counted_as_left_out(engine: Matcher) -> None:
    data = base_patient()
    for entry in data["disease_activity"]:
        entry["date"] = "2026-11-10"
    found = criterion_result(engine, data, "inc-1", "NCT00698191")
    assert found.outcome == "unknown"
    assert "1 score dated after the as-of date left out" in found.reason


def test_validate_patient_checks_dates_against_the_given_today() -> None:
    data = base_patient()
    with pytest.raises(PatientFileError, match="after today"):
        validate_patient(Document("p.yaml", data), today=dt.date(2026, 10, 1))
    validate_patient(Document("p.yaml", data), today=dt.date(2026, 12, 1))


def test_list_entries_after_the_as_of_date_are_counted_as_left_out(engine: Matcher) -> None:
    data = base_patient()
    data["medications"].append({"drug": "rituximab", "dose": "1000 mg", "frequency": "once", "route": "iv",
                                "start": "2026-11-20"})
    result = run(engine, data, "NCT00698191")
    reasons = " ".join(c.reason for c in result.criteria)
    assert "1 entry dated after the as-of date left out" in reasons
