"""Criterion labels beside the ids in every output a person reads, and the shortened query lines of ``--explain``.

A rule file gives each criterion a short ``label`` (lint requires one); ``matcher check`` (brief and --explain),
the JSON, the CSV, the screening log's summary and the Spark/Arrow result rows show it beside the id. The
HTML report is tested in tests/test_report.py (explanation headings and the chart of excluding criteria).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from matcher.api import Matcher
from matcher.cli import main
from matcher.intake.validate import load_patient
from matcher.results.explain import TrialResult
from matcher.results.render import TextRenderer
from matcher.rules.language import LABEL_MAX_CHARS, load_trials
from matcher.rules.lint import lint_file
from matcher.screening.log import labels_of_rule_file

from .helpers import PATIENTS, RULES

#: the longest --explain among the examples: seven medication courses against NCT03562065's nine regimens
TAPERED = PATIENTS / "NCT03562065-eligible-tapered-prednisone.yaml"
TRIAL = "NCT03562065"


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ the rule files
def test_every_criterion_of_every_rule_file_has_a_short_label() -> None:
    trials = load_trials(RULES)
    assert trials
    for trial in trials:
        for criterion in trial.criteria:
            assert criterion.label, f"{trial.id} {criterion.id} has no label"
            assert len(criterion.label) <= LABEL_MAX_CHARS, f"{trial.id} {criterion.id}: {criterion.label!r}"
            assert criterion.label != criterion.id


def _copy_trial(tmp_path: Path, trial: str, edit: Any) -> Path:
    (tmp_path / "registry").mkdir()
    shutil.copy(RULES / "registry" / f"{trial}.txt", tmp_path / "registry" / f"{trial}.txt")
    path = tmp_path / f"{trial}.yaml"
    path.write_text(edit((RULES / f"{trial}.yaml").read_text(encoding="utf-8")), encoding="utf-8")
    return path


def test_lint_fails_a_criterion_without_a_label(tmp_path: Path) -> None:
    line = "    label: severe heart, lung or organ failure\n"
    path = _copy_trial(tmp_path, "NCT00698191", lambda text: text.replace(line, "", 1))
    errors = lint_file(path).errors
    assert any("criterion exc-3: no label" in error for error in errors), errors
    assert len(errors) == 1  # the file still loads: only lint asks for the label


def test_lint_fails_a_label_too_long(tmp_path: Path) -> None:
    long = "severe heart failure, pulmonary failure or damage to other important organs"
    path = _copy_trial(tmp_path, "NCT00698191", lambda text: text.replace(
        "label: severe heart, lung or organ failure", f"label: {long}", 1))
    errors = lint_file(path).errors
    assert any(f"criterion exc-3: label is {len(long)} characters long" in error for error in errors), errors


def test_a_label_is_one_line_of_text(tmp_path: Path) -> None:
    path = _copy_trial(tmp_path, "NCT00698191", lambda text: text.replace(
        "label: severe heart, lung or organ failure", "label: [severe]", 1))
    errors = lint_file(path).errors
    assert any("expected non-empty text" in error and "label" in error for error in errors), errors


# ------------------------------------------------------------------ matcher check
def test_brief_output_names_each_criterion_with_its_label() -> None:
    _, out, err = cli("check", str(PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"))
    assert err == ""
    assert ("NCT00698191  ELIGIBLE  (clinician to confirm exc-3 (severe heart, lung or organ failure); routine: "
            "inc-4 (signed informed consent), inc-5 (willing to use contraception))") in out
    assert "NCT03562065  INELIGIBLE  inc-4 (stable SLE treatment for 30 days): an ongoing" in out


def test_explain_and_json_carry_the_label() -> None:
    _, out, _ = cli("check", str(TAPERED), "--trial", TRIAL, "--explain")
    assert "[pass] inc-age (age over 18 and under 70): met" in out
    assert "Routine confirmations\n    - inc-6 (effective contraception)" in out
    _, out, _ = cli("check", str(TAPERED), "--trial", TRIAL, "--format", "json")
    (result,) = json.loads(out)["results"]
    labels = {c["id"]: c["label"] for c in result["criteria"]}
    rules = yaml.safe_load((RULES / f"{TRIAL}.yaml").read_text(encoding="utf-8"))
    assert labels == {c["id"]: c["label"] for c in rules["criteria"]}
    assert "text_details" not in result["criteria"][0]


# ------------------------------------------------------------------ screening outputs and the log
def test_csv_and_log_summary_name_criteria_with_their_labels(tmp_path: Path) -> None:
    source = tmp_path / "cohort"
    source.mkdir()
    for name in ("NCT00698191-ineligible-low-proteinuria.yaml", "NCT00698191-eligible-lupus-nephritis.yaml"):
        shutil.copy(PATIENTS / name, source / name)
    table, log = tmp_path / "out.csv", tmp_path / "log.db"
    code, _, err = cli("screen", str(source), "--trials", "NCT00698191", "--out", str(table), "--log", str(log),
                       "--progress", "never")
    assert code == 0, err
    rows = {row["patient"]: row for row in csv.DictReader(table.open(encoding="utf-8"))}
    assert any(row["criteria_not_met"] == "inc-2 (lupus nephritis, proteinuria ≥ 1 g/24h)" for row in rows.values())
    assert any(row["clinician_to_confirm"].startswith("inc-4 (signed informed consent); inc-5 (willing to use "
                                                      "contraception)") for row in rows.values()), rows
    code, out, _ = cli("log", "summary", str(log))
    assert code == 0
    assert any(line.split() == ["inc-2", "1", "lupus", "nephritis,", "proteinuria", "≥", "1", "g/24h"]
               for line in out.splitlines()), out


def test_log_labels_come_from_the_stored_rule_file() -> None:
    text = (RULES / "NCT03562065.yaml").read_text(encoding="utf-8")
    labels = labels_of_rule_file(text)
    assert labels["exc-9b"] == "rituximab/B-cell depletion in 6 months"
    assert labels_of_rule_file("criteria: [") == {}  # an unreadable text gives bare ids, never an error


def test_csv_names_data_to_collect_plainly(tmp_path: Path) -> None:
    source = tmp_path / "cohort"
    source.mkdir()
    shutil.copy(TAPERED, source / TAPERED.name)
    table = tmp_path / "out.csv"
    code, _, err = cli("screen", str(source), "--out", str(table), "--no-log", "--progress", "never")
    assert code == 0, err
    collect = " ".join(row["data_to_collect"] for row in csv.DictReader(table.open(encoding="utf-8")))
    assert collect and "_" not in collect  # no internal spelling (mycophenolate_mofetil, infections[1].severe)


# ------------------------------------------------------------------ --explain: query lines shortened
def one_trial(engine: Matcher, path: Path) -> TrialResult:
    return next(result for result in engine.evaluate(load_patient(path)) if result.trial == TRIAL)


def _text(result: TrialResult, shortened: bool) -> str:
    if not shortened:  # every entry, as the JSON's details have them
        result = dataclasses.replace(result, criteria=tuple(
            dataclasses.replace(c, text_details=()) for c in result.criteria))
    return TextRenderer(colour=False).full(result)


def _section(text: str, criterion: str) -> list[str]:
    """The lines of one criterion in a --explain text: from its heading to the next criterion's."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    [") and f"] {criterion} (" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("    [") or not lines[i].strip()),
               len(lines))
    return lines[start:end]


def test_explain_of_the_longest_example_shrinks_and_still_names_the_matched_entries(engine: Matcher) -> None:
    result = one_trial(engine, TAPERED)
    full, short = _text(result, False), _text(result, True)
    assert len(short.splitlines()) < 0.7 * len(full.splitlines()), (len(short.splitlines()), len(full.splitlines()))
    full_inc3b, short_inc3b = _section(full, "inc-3b"), _section(short, "inc-3b")
    assert len(short_inc3b) < len(full_inc3b) / 3, (len(short_inc3b), len(full_inc3b))  # 298 lines before
    # the matched entry is shown in full, with the values it matched on
    assert ("(ii) failed or not tolerated oral mycophenolate mofetil > 2000 mg/day for ≥ 90 days: yes, "
            "medications[4] mycophenolate mofetil") in " ".join(short.split())
    assert "daily dose: 3000 mg/day" in " ".join(short.split())
    # a regimen no course matched: one line counting the entries by the first condition each fails
    assert ("(iii) failed or not tolerated oral azathioprine > 2 mg/kg/day for ≥ 90 days: no, 7 entries of the "
            "medication history, by the first condition failed: drug ≠ azathioprine: 7") in " ".join(short.split())
    assert "drug: prednisone (= azathioprine: false)" in " ".join(full.split())
    assert "drug: prednisone (= azathioprine: false)" not in " ".join(short.split())
    inc3b = next(c for c in result.criteria if c.id == "inc-3b")
    assert len(inc3b.text_details) == len(inc3b.details)
    assert any("medications[0] prednisone" in line for line in inc3b.details)  # JSON keeps every entry


def test_an_entry_failing_one_condition_is_shown_as_nearly_matched(engine: Matcher, tmp_path: Path) -> None:
    data = yaml.safe_load(TAPERED.read_text(encoding="utf-8"))
    mmf = next(m for m in data["medications"] if m["drug"] == "mycophenolate mofetil")
    mmf["dose"] = "750 mg"  # 1500 mg/day: below the regimen's > 2000 mg/day, everything else as required
    path = tmp_path / "patient.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = one_trial(engine, path)
    inc3b = next(c for c in result.criteria if c.id == "inc-3b")
    regimen = "(ii) failed or not tolerated oral mycophenolate mofetil"
    (line,) = [line for line in inc3b.text_details if line.startswith(regimen)]
    assert line.startswith("(ii) failed or not tolerated oral mycophenolate mofetil > 2000 mg/day for ≥ 90 days: no, "
                           "nearly matched: medications[4] mycophenolate mofetil 750 mg twice daily oral")
    assert "daily dose: 1500 mg/day (> 2000 mg/day, or as read otherwise ≥ 2000 mg/day: false)" in line
    assert line.endswith("6 other entries of the medication history, by the first condition failed: "
                         "drug ≠ mycophenolate_mofetil: 6")
