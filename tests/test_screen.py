"""Cohort screening: `matcher screen` over each input format, workers, bad records, atomic outputs, the log,
and the Python API's cohort iterator."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.cli import EXIT_BAD_INPUT, EXIT_SOME_NOT_SCREENED
from matcher.intake.load import read_document
from matcher.intake.sources import write_csv
from matcher.screening.outputs import CSV_COLUMNS

from .helpers import EXAMPLE_FILES, PATIENTS, ROOT, RULES, cli, example_data

#: the example patient files (profiles), and every file `matcher screen patients/` reads (FHIR bundles too)
EVERY_FILE = sorted(p for p in PATIENTS.rglob("*") if p.suffix in (".yaml", ".json"))
BUNDLES = sorted((PATIENTS / "fhir").glob("*.json"))
AS_OF = "2026-11-02"
#: how many trials are encoded: a trial added to rules/ needs no change here
TRIALS = len(list(RULES.glob("*.yaml")))


def check_verdicts(path: Path) -> dict[str, str]:
    """{trial: verdict} from `matcher check` of one patient file: what screening must agree with."""
    code, out, err = cli("check", str(path), "--format", "json", "--as-of", AS_OF)
    assert code in (0, 10, 11, 12), err
    return {r["trial"]: r["verdict"] for r in json.loads(out)["results"]}


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, str]]:
    """patient id -> {trial: verdict}, from `matcher check` on every example file."""
    return {read_document(p).data["id"]: check_verdicts(p) for p in EXAMPLE_FILES}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def verdicts_of(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["trial"]:
            found.setdefault(row["patient"], {})[row["trial"]] = row["verdict"]
    return found


def write_jsonl(path: Path, records: list[Any], extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, default=str) + "\n")
        for line in extra_lines:
            handle.write(line + "\n")
    return path


# ------------------------------------------------------------------ each input format gives `matcher check`'s verdicts
def test_directory_screen_agrees_with_check(tmp_path: Path, expected: dict[str, dict[str, str]]) -> None:
    out = tmp_path / "results.csv"
    code, stdout, err = cli("screen", str(PATIENTS), "--as-of", AS_OF, "--out", str(out), "--no-log")
    assert code == 0, err
    rows = read_csv(out)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert verdicts_of(rows) == expected
    assert len(rows) == len(EVERY_FILE) * TRIALS
    assert f"screened {len(EVERY_FILE)} patients against {TRIALS} trials" in stdout
    assert BUNDLES, "the FHIR example bundles are screened with the rest"
    assert {row["location"] for row in rows} == {str(p) for p in EVERY_FILE}


def test_jsonl_and_csv_sources_agree_with_check(tmp_path: Path, expected: dict[str, dict[str, str]]) -> None:
    data = example_data()
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", data)
    table = tmp_path / "cohort.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        write_csv(data, handle)
    for source in (jsonl, table):
        out = tmp_path / f"from-{source.suffix[1:]}.csv"
        code, _, err = cli("screen", str(source), "--as-of", AS_OF, "--out", str(out), "--no-log")
        assert code == 0, err
        assert verdicts_of(read_csv(out)) == expected, source.name


def test_an_ndjson_of_fhir_bundles_gives_the_verdicts_of_the_yaml_twins(
        tmp_path: Path, expected: dict[str, dict[str, str]]) -> None:
    source = write_jsonl(tmp_path / "bundles.ndjson", [read_document(path).data for path in BUNDLES])
    out = tmp_path / "r.jsonl"
    code, _, err = cli("screen", str(source), "--as-of", AS_OF, "--out", str(out), "--no-log")
    assert code == 0, err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(BUNDLES) * TRIALS
    for line in lines:
        assert expected[line["patient"]][line["trial"]] == line["verdict"]
        assert set(line["fhir_import"]) >= {"unused", "unknown", "resources"}


def test_jsonl_output_holds_the_check_objects(tmp_path: Path) -> None:
    path = PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"
    out = tmp_path / "r.jsonl"
    code, _, err = cli("screen", str(path), "--as-of", AS_OF, "--trials", "NCT00698191", "--out", str(out),
                       "--no-log")
    assert code == 0, err
    (line,) = out.read_text(encoding="utf-8").splitlines()
    screened = json.loads(line)
    _, check_out, _ = cli("check", str(path), "--as-of", AS_OF, "--trial", "NCT00698191", "--format", "json")
    checked = json.loads(check_out)
    assert screened.pop("patient") == checked["patient"]
    assert screened.pop("as_of") == AS_OF
    assert screened.pop("as_of_source") == checked["as_of_source"]
    assert screened.pop("location") == str(path)
    assert screened == checked["results"][0]


# ------------------------------------------------------------------ workers, bad records
def test_one_and_two_workers_give_identical_files_and_bad_records_are_skipped(tmp_path: Path) -> None:
    data = example_data()
    records = []
    for copy_number in range(4):
        for record in data:
            records.append({**record, "id": f"{record['id']}-{copy_number}"})
    bad = ['{"id": "typo", "demographics": {"sex": "femal"}}', "{not json"]
    source = write_jsonl(tmp_path / "cohort.jsonl", records[:30], bad[:1])
    with source.open("a", encoding="utf-8") as handle:
        for record in records[30:]:
            handle.write(json.dumps(record, default=str) + "\n")
        handle.write(bad[1] + "\n")
    outputs = {}
    for workers in ("1", "2"):
        paths = [tmp_path / f"w{workers}.jsonl", tmp_path / f"w{workers}.csv"]
        code, stdout, err = cli("screen", str(source), "--as-of", AS_OF, "--workers", workers,
                                "--out", str(paths[0]), "--out", str(paths[1]), "--no-log")
        assert code == EXIT_SOME_NOT_SCREENED
        assert "cohort.jsonl:31:40: demographics.sex: 'femal' is not allowed" in err
        assert f"cohort.jsonl:{len(records) + 2}:2: invalid JSON" in err
        assert "2 records not screened" in stdout
        outputs[workers] = [p.read_bytes() for p in paths]
    assert outputs["1"] == outputs["2"]
    rows = read_csv(tmp_path / "w1.csv")
    assert len(rows) == len(records) * TRIALS + 2
    skipped = [row for row in rows if row["verdict"] == "not screened"]
    assert [row["location"].rsplit(":", 1)[1] for row in skipped] == ["31", str(len(records) + 2)]
    lines = [json.loads(line) for line in (tmp_path / "w1.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum("problem" in line for line in lines) == 2


def test_csv_source_problems(tmp_path: Path) -> None:
    table = tmp_path / "bad-header.csv"
    table.write_text("id,demographics.birth_dat\nx,1990-01-01\n", encoding="utf-8")
    code, _, err = cli("screen", str(table), "--out", str(tmp_path / "r.csv"), "--no-log")
    assert code == EXIT_BAD_INPUT
    assert "column 'demographics.birth_dat'" in err and "did you mean 'birth_date'" in err
    assert not (tmp_path / "r.csv").exists()
    table = tmp_path / "bad-cell.csv"
    table.write_text("id,medications.1.drug,medications.1.dose,infections\n"
                     "ok,prednisone,10 mg,none\nbad,prednisone,ten mg,none\n", encoding="utf-8")
    code, _, err = cli("screen", str(table), "--out", str(tmp_path / "r.csv"), "--no-log", "--as-of", AS_OF)
    assert code == EXIT_SOME_NOT_SCREENED
    assert "bad-cell.csv:3:3: column medications.1.dose:" in err
    rows = read_csv(tmp_path / "r.csv")
    assert {row["patient"] for row in rows if row["verdict"] != "not screened"} == {"ok"}


def test_csv_none_records_an_empty_list_and_blank_leaves_it_unknown(tmp_path: Path) -> None:
    table = tmp_path / "lists.csv"
    table.write_text("id,infections\nnone-recorded,none\nnot-asked,\n", encoding="utf-8")
    records = list(matcher.read_cohort(table))
    assert [r.profile.infections if r.profile else "error" for r in records] == [[], None]


def test_bad_source_and_output_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    code, _, err = cli("screen", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r.csv"), "--no-log")
    assert code == EXIT_BAD_INPUT and "missing.jsonl: no such file or directory" in err
    code, _, err = cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.pdf"), "--no-log")
    assert code == EXIT_BAD_INPUT and "unsupported output type '.pdf'" in err
    code, _, err = cli("screen", str(PATIENTS), "--out", str(tmp_path / "no" / "r.csv"), "--no-log")
    assert code == EXIT_BAD_INPUT and "does not exist" in err
    assert sorted(os.listdir(tmp_path)) == []


# ------------------------------------------------------------------ interrupted runs
def big_cohort(tmp_path: Path, copies: int) -> Path:
    data = example_data()
    return write_jsonl(tmp_path / "big.jsonl",
                       [{**record, "id": f"{record['id']}-{n}"} for n in range(copies) for record in data])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_no_output_and_marks_the_log(tmp_path: Path, sig: signal.Signals) -> None:
    source = big_cohort(tmp_path, 400)  # about 10,000 patients: far more than the time we give it
    out = tmp_path / "r.csv"
    out.write_text("the previous run's results\n", encoding="utf-8")
    log = tmp_path / "log.db"
    command = [sys.executable, "-m", "matcher", "screen", str(source), "--out", str(out), "--log", str(log),
               "--workers", "2", "--progress", "never"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until evaluations are being logged: the run is under way
        time.sleep(0.2)
        if log.exists():
            with contextlib.suppress(sqlite3.OperationalError), sqlite3.connect(log) as connection:
                if connection.execute("SELECT count(*) FROM evaluations").fetchone()[0]:  # (tables made yet?)
                    break
    else:
        process.kill()
        pytest.fail("the run logged nothing within 60 s")
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "the previous run's results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl", "log.db", "r.csv"]
    with sqlite3.connect(log) as connection:
        assert connection.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]


# ------------------------------------------------------------------ the screening log
def test_log_records_every_evaluation_and_summary_counts_latest(tmp_path: Path,
                                                                expected: dict[str, dict[str, str]]) -> None:
    log = tmp_path / "screening.db"
    for _ in range(2):  # re-screening appends
        code, stdout, err = cli("screen", str(PATIENTS), "--as-of", AS_OF, "--out", str(tmp_path / "r.csv"),
                                "--log", str(log))
        assert code == 0, err
        assert f"logged to {log}" in stdout
    with sqlite3.connect(log) as connection:
        rows = connection.execute("SELECT run_id, patient_id, trial_id, verdict, criteria_not_met, as_of, "
                                  "matcher_version, rules_sha256 FROM evaluations").fetchall()
        runs = connection.execute("SELECT status FROM runs").fetchall()
        stored = dict(connection.execute("SELECT sha256, content FROM rule_files").fetchall())
    assert runs == [("complete",), ("complete",)]
    assert len(rows) == 2 * len(EVERY_FILE) * TRIALS
    for _, patient, trial, verdict, not_met, as_of, version, sha in rows:
        assert expected[patient][trial] == verdict
        assert as_of == AS_OF and version and isinstance(json.loads(not_met), list)
        rule_file = ROOT / "rules" / f"{trial}.yaml"
        assert stored[sha] == rule_file.read_text(encoding="utf-8")
    code, summary, err = cli("log", "summary", str(log))
    assert code == 0, err
    assert "2 runs, " in summary
    for trial in ("NCT00698191", "NCT03562065"):
        block = summary.split(trial + "  ")[1]
        verdicts = [v[trial] for v in expected.values()]
        assert f"screened {len(expected):>7}" in block.replace("  screened      ", "screened ")
        assert f"eligible      {verdicts.count('eligible'):>7}" in block
        assert f"ineligible    {verdicts.count('ineligible'):>7}" in block
        assert f"undetermined  {verdicts.count('undetermined'):>7}" in block


def test_log_summary_of_a_file_that_is_not_a_log(tmp_path: Path) -> None:
    code, _, err = cli("log", "summary", str(tmp_path / "none.db"))
    assert code == EXIT_BAD_INPUT and "no such screening log" in err
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite", encoding="utf-8")
    code, _, err = cli("log", "summary", str(junk))
    assert code == EXIT_BAD_INPUT and "not a screening log" in err


# ------------------------------------------------------------------ the Python API
def test_api_screen_iterates_the_same_results_as_check(expected: dict[str, dict[str, str]]) -> None:
    import datetime as dt

    records = list(matcher.read_cohort(PATIENTS))
    assert all(r.problem is None for r in records)
    with matcher.Matcher(matcher.load_trials()) as screening:
        results = list(screening.screen((r.profile for r in records if r.profile), dt.date.fromisoformat(AS_OF)))
    assert len(records) == len(EVERY_FILE)
    assert {(r.patient, r.trial): r.verdict for r in results} == {
        (patient, trial): verdict for patient, by_trial in expected.items() for trial, verdict in by_trial.items()}


def test_api_read_cohort_yields_bad_records_with_their_problem(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "c.jsonl", [{"id": "a"}], ['{"id": 5}'])
    first, second = matcher.read_cohort(source)
    assert first.profile is not None and first.problem is None
    assert second.profile is None and second.problem is not None
    assert str(second.problem).startswith(f"{source}:2:")


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path: Path) -> None:
    out = str(tmp_path / "r.csv")
    _, _, quiet = cli("screen", str(PATIENTS), "--out", out, "--no-log")
    assert quiet == ""
    _, _, shown = cli("screen", str(PATIENTS), "--out", out, "--no-log", "--progress", "always")
    assert f"{len(EVERY_FILE)}/{len(EVERY_FILE)}" in shown and "patients" in shown


def test_a_synthetic_cohort_as_jsonl_and_as_csv_screens_alike_with_any_number_of_workers(tmp_path: Path) -> None:
    jsonl, table = tmp_path / "cohort.jsonl", tmp_path / "cohort.csv"
    for target in (jsonl, table):
        code, stdout, err = cli("synthetic", "120", "--out", str(target), "--seed", "7")
        assert code == 0, err
        assert "wrote 120 synthetic patients (seed 7" in stdout
    results = {}
    for source, workers in ((jsonl, "1"), (jsonl, "2"), (table, "2")):
        out = tmp_path / f"{source.suffix[1:]}-{workers}.csv"
        code, _, err = cli("screen", str(source), "--as-of", "2026-11-01", "--workers", workers, "--out", str(out),
                           "--no-log")
        assert code == 0, err
        rows = read_csv(out)
        assert len(rows) == 120 * TRIALS
        results[(source.suffix, workers)] = [{k: v for k, v in row.items() if k != "location"} for row in rows]
    assert results[(".jsonl", "1")] == results[(".jsonl", "2")] == results[(".csv", "2")]
    verdicts = {row["verdict"] for row in results[(".jsonl", "1")]}
    assert {"eligible", "ineligible", "undetermined"} <= verdicts <= {"eligible", "ineligible", "undetermined",
                                                                      "review"}


@pytest.mark.parametrize(("header", "meant"), [("demographics.gender", "sex"), ("demographics.dob", "birth_date"),
                                              ("drugs.1.drug", "medications")])
def test_a_csv_header_with_another_system_s_name_gets_a_did_you_mean(tmp_path: Path, header: str,
                                                                      meant: str) -> None:
    table = tmp_path / "other-names.csv"
    table.write_text(f"id,{header}\nx,female\n", encoding="utf-8")
    code, _, err = cli("screen", str(table), "--out", str(tmp_path / "r.csv"), "--no-log")
    assert code == EXIT_BAD_INPUT
    assert f"other-names.csv:1:2: column {header!r}" in err and f"(did you mean {meant!r}?)" in err
