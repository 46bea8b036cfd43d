"""Near misses (matcher/results/near_miss.py): an ineligible patient a single criterion decides, the verdict
were it to pass, and for a time-bound criterion the day the engine decides it passes; in matcher check's
JSON, the screening's CSV and JSON Lines, and the HTML report's filter."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import matcher

from .helpers import PATIENTS, cli

WASHOUT = PATIENTS / "NCT05631717-ineligible-rituximab-washout-ends.yaml"


def test_a_washout_is_a_near_miss_that_passes_on_the_day_the_engine_says(engine: matcher.Matcher) -> None:
    patient = matcher.load_patient(WASHOUT)
    results = engine.evaluate(patient)
    miss = engine.near_misses(patient, results)["NCT05631717"]
    assert (miss.criterion, miss.otherwise, miss.time_bound) == ("exc-1a", "eligible", True)
    assert (miss.passes_on, miss.verdict_then) == (dt.date(2026, 10, 20), "eligible")
    assert "24 weeks after the medications[3] (rituximab) end 2026-05-04" in miss.because
    on_eve = engine.evaluate(patient, dt.date(2026, 10, 19))
    assert next(r for r in on_eve if r.trial == "NCT05631717").deciding == ("exc-1a",)


def test_only_an_ineligible_result_with_one_failing_criterion_is_a_near_miss(engine: matcher.Matcher) -> None:
    patient = matcher.load_patient(WASHOUT)
    results = engine.evaluate(patient)
    misses = engine.near_misses(patient, results)
    for result in results:
        failing = [c for c in result.criteria
                   if (c.kind, c.outcome) in (("inclusion", "not_met"), ("exclusion", "met"))]
        assert (result.trial in misses) == (result.verdict == "ineligible" and len(failing) == 1), result.trial
        if result.trial in misses:
            assert misses[result.trial].criterion == failing[0].id
    two = matcher.load_patient(PATIENTS / "NCT00698191-ineligible-no-sle.yaml")
    found = engine.near_misses(two, engine.evaluate(two))
    for result in engine.evaluate(two):
        if len(result.deciding) > 1 and result.verdict == "ineligible":
            assert result.trial not in found


def test_check_json_and_the_screening_outputs_carry_the_near_miss(tmp_path: Path) -> None:
    code, out, _ = cli("check", str(WASHOUT), "--format", "json")
    by_trial = {result["trial"]: result for result in json.loads(out)["results"]}
    assert by_trial["NCT05631717"]["near_miss"]["passes_on"] == "2026-10-20"
    assert by_trial["NCT05631717"]["near_miss"]["text"].startswith("fails only exc-1a (otherwise eligible); passes")
    assert by_trial["NCT03219801"]["near_miss"] is None  # undetermined, not ineligible
    source = tmp_path / "cohort"
    source.mkdir()
    (source / WASHOUT.name).write_text(WASHOUT.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = cli("screen", str(source), "--out", str(tmp_path / "r.csv"), "--out", str(tmp_path / "r.jsonl"),
                       "--out", str(tmp_path / "r.html"), "--no-log")
    assert code == 0, err
    rows = {row["trial"]: row for row in csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8"))}
    assert rows["NCT05631717"]["near_miss"] == ("fails only exc-1a (otherwise eligible); time-bound: "
                                                "matcher check --timeline gives when it passes")
    assert rows["NCT03219801"]["near_miss"] == ""
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    near = {line["trial"]: line["near_miss"] for line in lines}
    assert near["NCT05631717"]["criterion"] == "exc-1a" and near["NCT05631717"]["passes_on"] is None
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="near-miss-filter"' in page
    trials = sorted(rows)
    assert f'"near":["{"".join("1" if near[t] else "0" for t in trials)}"]' in page
