"""Hostile input and interrupted runs (issue: robust input and runs): one bad record never aborts a screen,
input limits give one clear line, the screening log survives locks and interruptions."""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import EXIT_BAD_INPUT, EXIT_SOME_NOT_SCREENED
from matcher.intake.load import MAX_ALIAS_EXPANSION, MAX_ALIASES, MAX_DEPTH, MAX_TEXT_CHARACTERS
from matcher.rules.lint import text_direction
from matcher.screening import log as screening_log

from .helpers import PATIENTS, ROOT, base_patient, cli, example_data
from .strategies import encoded_trials


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ one bad JSON Lines record
@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_a_duplicate_key_in_one_json_line_skips_that_record_only(tmp_path: Path, suffix: str) -> None:
    good = json.dumps(base_patient(), default=str)
    source = tmp_path / f"cohort{suffix}"
    source.write_text('{"id":"a","id":"b"}\n' + good + "\n", encoding="utf-8")
    code, _, err = cli("screen", str(source), "--out", str(tmp_path / "r.csv"), "--no-log")
    assert code == EXIT_SOME_NOT_SCREENED, err
    line = one_error_line(err)
    assert f"cohort{suffix}:1:11: key 'id' appears twice" in line
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert {row["patient"] for row in rows if row["verdict"] != "not screened"} == {"example-eligible"}


def test_a_duplicate_key_in_a_json_file_names_its_line_and_column(tmp_path: Path) -> None:
    patient = tmp_path / "p.json"
    patient.write_text('{\n  "id": "a",\n  "demographics": {},\n  "id": "b"\n}\n', encoding="utf-8")
    code, _, err = cli("check", str(patient))
    assert code == EXIT_BAD_INPUT
    assert one_error_line(err).endswith("p.json:4:3: key 'id' appears twice in the same object")


# ------------------------------------------------------------------ input limits
def _alias_bomb(wide: int = 9, deep: int = 7) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * wide).replace(' ', '')}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * wide).replace(' ', '')}]" for i in range(1, deep + 1)]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_fails_fast_with_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb(), encoding="utf-8")
    assert len(bomb.read_bytes()) < 400
    code, _, err = cli("check", str(bomb))
    assert code == EXIT_BAD_INPUT
    assert f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} values" in one_error_line(err)


def test_too_many_yaml_aliases_are_refused(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    count = MAX_ALIASES + 1
    many.write_text("\n".join([f"k{i}: &a{i} 1" for i in range(count)] + [f"r{i}: *a{i}" for i in range(count)]),
                    encoding="utf-8")
    code, _, err = cli("check", str(many))
    assert code == EXIT_BAD_INPUT
    assert f"more than {MAX_ALIASES} YAML aliases" in one_error_line(err)


def test_a_rule_directory_with_an_alias_bomb_fails_lint_and_check(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "registry").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "registry" / "NCT00953485.txt", rules / "registry")
    (rules / "NCT00953485.yaml").write_text(_alias_bomb(), encoding="utf-8")
    code, out, _ = cli("lint", "--quiet", str(rules))
    assert code == 1 and "YAML aliases expand" in out
    code, _, err = cli("check", "--rules", str(rules), str(PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"))
    assert code == EXIT_BAD_INPUT and "YAML aliases expand" in one_error_line(err)


@pytest.mark.parametrize(("text", "problem"), [
    ("id: x\ndemographics: !!python/object:os.system {a: 1}\n",
     "YAML tag 'tag:yaml.org,2002:python/object:os.system' on a mapping"),
    ("id: x\nlabs: !!set {a, b}\n", "YAML tag 'tag:yaml.org,2002:set' on a mapping"),
    ("id: x\nlabs: !custom [1]\n", "YAML tag '!custom' on a list"),
    ("id: x\ndemographics: {weight_kg: " + "9" * 400 + "}\n", "is out of range"),
    ("id: x\ndemographics: {weight_kg: 1e400}\n", "the number inf is out of range"),
    ("id: " + "x" * (MAX_TEXT_CHARACTERS + 1) + "\n", f"more than the limit of {MAX_TEXT_CHARACTERS:,}"),
    ("id: x\nz: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",
     f"nested too deeply (more than {MAX_DEPTH} levels"),
])
def test_input_limits_give_one_line_naming_the_place(tmp_path: Path, text: str, problem: str) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text(text, encoding="utf-8")
    code, _, err = cli("check", str(patient))
    assert code == EXIT_BAD_INPUT
    line = one_error_line(err)
    assert problem in line
    assert "p.yaml:" in line and len(line) < 400


@pytest.mark.parametrize("value", ["9" * 400, "1e400", "-1e400"])
def test_a_huge_number_in_json_is_refused(tmp_path: Path, value: str) -> None:
    patient = tmp_path / "p.json"
    patient.write_text('{"id": "x", "demographics": {"weight_kg": ' + value + "}}", encoding="utf-8")
    code, _, err = cli("check", str(patient))
    assert code == EXIT_BAD_INPUT
    assert "p.json:1:" in one_error_line(err) and "demographics.weight_kg" in err and "out of range" in err


def test_a_400_digit_threshold_fails_lint_and_check_without_a_crash(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    (rules / "registry").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "registry" / "NCT00953485.txt", rules / "registry")
    text = (ROOT / "rules" / "NCT00953485.yaml").read_text(encoding="utf-8")
    assert "{field: age_years, gte: 15}" in text
    (rules / "NCT00953485.yaml").write_text(text.replace("{field: age_years, gte: 15}",
                                                         "{field: age_years, gte: " + "9" * 400 + "}"))
    code, out, _ = cli("lint", "--quiet", str(rules))
    assert code == 1 and "out of range" in out and "Traceback" not in out
    code, _, err = cli("check", "--rules", str(rules), str(PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"))
    assert code == EXIT_BAD_INPUT and "out of range" in one_error_line(err)


def test_a_10_mb_value_is_not_echoed_and_the_problem_cell_stays_within_csv_limits(tmp_path: Path) -> None:
    huge = "x" * 10_000_000
    source = tmp_path / "cohort.jsonl"
    source.write_text(json.dumps({"id": "p", "demographics": {"sex": huge}}) + "\n"
                      + json.dumps({"id": "q", "demographics": {"sex": "y" * 50_000}}) + "\n", encoding="utf-8")
    code, _, err = cli("screen", str(source), "--out", str(tmp_path / "r.csv"), "--no-log")
    assert code == EXIT_SOME_NOT_SCREENED
    assert len(err) < 2_000, err[:300]
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))  # the default field size limit: a huge cell would raise here
    assert [row["verdict"] for row in rows] == ["not screened", "not screened"]
    assert all(len(row["problem"]) < 1_000 for row in rows)


def test_a_csv_row_error_names_its_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "cohort.csv"
    source.write_text("id,demographics.sex\np1,female\np2,xx\n", encoding="utf-8")
    code, _, err = cli("screen", str(source), "--out", str(tmp_path / "r.csv"), "--no-log")
    assert code == EXIT_SOME_NOT_SCREENED
    assert "cohort.csv:3:2: column demographics.sex:" in one_error_line(err)


def test_brief_gives_each_reason_once() -> None:
    _, out, _ = cli("check", "--brief", str(PATIENTS / "NCT00698191-ineligible-not-refractory.yaml"))
    line = next(line for line in out.splitlines() if line.startswith("NCT00698191"))
    reasons = line.split("inc-3 (refractory to steroids and cytotoxics): ", 1)[1].split("; ")
    assert len(reasons) == len(set(reasons)) > 1


# ------------------------------------------------------------------ the screening log: locks, interruptions, resume
def _cohort(tmp_path: Path, copies: int, bad_every: int = 0) -> tuple[Path, int]:
    """A JSON Lines cohort of ``copies`` x the examples (ids made unique), with a bad line every ``bad_every``
    records; the path and the number of good records."""
    examples = example_data()
    lines, good = [], 0
    for n in range(copies):
        for record in examples:
            lines.append(json.dumps({**record, "id": f"{record['id']}-{n}"}, default=str))
            good += 1
            if bad_every and good % bad_every == 0:
                lines.append('{"id": "bad", "id": "twice"}')
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, good


def _log_rows(log: Path) -> tuple[list[tuple[str, ...]], list[tuple[int, str]]]:
    with sqlite3.connect(log) as connection:
        pairs = connection.execute("SELECT run_id, patient_id, trial_id FROM evaluations").fetchall()
        runs = connection.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall()
    return pairs, runs


#: one output row and one log row per patient and encoded trial
TRIALS = len(encoded_trials())


def _assert_every_good_record_logged_once(log: Path, good: int, trials: int = TRIALS) -> None:
    pairs, runs = _log_rows(log)
    assert runs[-1][1] == "complete"
    last = [pair for pair in pairs if pair[0] == runs[-1][0]]
    assert len(last) == len(set(last)) == good * trials  # no pair twice, none missing


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screening_log, "BUSY_TIMEOUT_SECONDS", 0.2)


def test_a_log_locked_from_the_start_fails_with_one_line_and_writes_nothing(tmp_path: Path,
                                                                           short_busy_timeout: None) -> None:
    log = tmp_path / "log.db"
    assert cli("screen", str(PATIENTS), "--out", str(tmp_path / "first.csv"), "--log", str(log))[0] == 0
    holder = sqlite3.connect(log, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.csv"), "--log", str(log))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == EXIT_BAD_INPUT
    assert "the screening log is locked by another process" in one_error_line(err)
    assert not (tmp_path / "r.csv").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_a_log_locked_during_the_run_keeps_the_outputs_and_the_run_can_be_resumed(
        tmp_path: Path, short_busy_timeout: None, monkeypatch: pytest.MonkeyPatch) -> None:
    source, good = _cohort(tmp_path, 1)
    log = tmp_path / "log.db"
    holders: list[sqlite3.Connection] = []
    original_init = screening_log.ScreeningLog.__init__

    def init_then_lock(self: screening_log.ScreeningLog, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        holder = sqlite3.connect(log, isolation_level=None)  # another process takes the lock mid-run
        holder.execute("BEGIN EXCLUSIVE")
        holders.append(holder)

    monkeypatch.setattr(screening_log.ScreeningLog, "__init__", init_then_lock)
    try:
        code, _, err = cli("screen", str(source), "--out", str(tmp_path / "r.csv"), "--log", str(log))
    finally:
        for holder in holders:
            holder.execute("ROLLBACK")
            holder.close()
    monkeypatch.setattr(screening_log.ScreeningLog, "__init__", original_init)
    assert code == EXIT_BAD_INPUT
    assert "are in the output files but not in the log" in one_error_line(err)
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert len(rows) == good * TRIALS  # the outputs were written in full
    code, summary, _ = cli("log", "summary", str(log))
    assert code == 0 and "NOT FINISHED: run 1" in summary and "0 evaluations," in summary
    code, _, err = cli("screen", str(source), "--out", str(tmp_path / "r.csv"), "--log", str(log), "--resume")
    assert code == 0, err
    _assert_every_good_record_logged_once(log, good)


def test_log_summary_flags_an_unfinished_run_and_does_not_count_it(tmp_path: Path) -> None:
    log = tmp_path / "log.db"
    assert cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.csv"), "--log", str(log))[0] == 0
    with sqlite3.connect(log) as connection:  # as a run killed half-way leaves it
        connection.execute("UPDATE runs SET status = 'running'")
    code, summary, _ = cli("log", "summary", str(log))
    assert code == 0
    assert "NOT FINISHED: run 1" in summary and "still running or killed" in summary
    assert "0 evaluations, 0 records not screened" in summary
    assert "screened" not in summary.split("--resume", 1)[1]


def test_resuming_a_finished_run_says_so(tmp_path: Path) -> None:
    log = tmp_path / "log.db"
    assert cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.csv"), "--log", str(log))[0] == 0
    code, out, _ = cli("screen", str(PATIENTS), "--out", str(tmp_path / "r.csv"), "--log", str(log), "--resume")
    assert code == 0 and "run 1 of" in out and "already finished" in out
    assert len(_log_rows(log)[1]) == 1


def _evaluations(log: Path) -> int:
    with contextlib.suppress(sqlite3.Error), sqlite3.connect(log) as connection:
        return int(connection.execute("SELECT count(*) FROM evaluations").fetchone()[0])
    return 0


def _start_and_wait_for_rows(command: list[str], log: Path) -> subprocess.Popen[str]:
    """Start ``command`` and return once it has logged evaluations (more than the log held before)."""
    before = _evaluations(log) if log.exists() else 0
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until evaluations are being logged: the run is under way
        time.sleep(0.1)
        if log.exists() and _evaluations(log) > before:
            return process
        if process.poll() is not None:
            break
    process.kill()
    pytest.fail("the run logged nothing")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_an_interrupted_screen_resumed_screens_every_good_record_exactly_once(tmp_path: Path,
                                                                             sig: signal.Signals) -> None:
    # 20 x the examples: about 25 batches of 64 records, so each interruption (at the first batch logged) still
    # leaves most of the run to do, with batches of both workers in flight and bad records on the way
    source, good = _cohort(tmp_path, 20, bad_every=97)
    out, log = tmp_path / "r.csv", tmp_path / "log.db"
    command = [sys.executable, "-m", "matcher", "screen", str(source), "--out", str(out), "--log", str(log),
               "--workers", "2", "--progress", "never"]
    for _ in range(2):  # interrupted twice: the second time while resuming
        process = _start_and_wait_for_rows([*command, "--resume"] if log.exists() else command, log)
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)  # returns: nothing left holds the pipes
        assert "Traceback" not in err
    partials = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert bool(partials) == (sig == signal.SIGKILL)  # a killed run cannot clean up...
    code, stdout, err = cli("screen", str(source), "--out", str(out), "--log", str(log), "--workers", "2",
                            "--resume")
    assert code == EXIT_SOME_NOT_SCREENED, err
    assert "resumed" in stdout
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]  # ...the next run does
    _assert_every_good_record_logged_once(log, good)
    pairs, runs = _log_rows(log)
    assert len(runs) == 1 and {pair[0] for pair in pairs} == {1}
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    screened = [(row["patient"], row["trial"]) for row in rows if row["trial"]]
    assert len(screened) == len(set(screened)) == good * TRIALS
    code, stdout, _ = cli("screen", str(source), "--out", str(out), "--log", str(log), "--resume")
    assert code == 0 and "already finished" in stdout


# ------------------------------------------------------------------ lint: impossible thresholds, inverted operators
def _mutated_rules(tmp_path: Path, trial: str, old: str, new: str) -> Path:
    rules = tmp_path / "rules"
    (rules / "registry").mkdir(parents=True)
    shutil.copy(ROOT / "rules" / "registry" / f"{trial}.txt", rules / "registry")
    text = (ROOT / "rules" / f"{trial}.yaml").read_text(encoding="utf-8")
    assert old in text
    (rules / f"{trial}.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return rules


@pytest.mark.parametrize(("trial", "old", "new", "problem"), [
    ("NCT00953485", "{field: age_years, gte: 15}", "{field: age_years, gte: -15}",
     "threshold -15 of age_years is outside the possible range (0-120)"),
    ("NCT00698191", "{field: treatment_months, gte: 3}", "{field: treatment_months, gte: -3}",
     "threshold -3 of treatment_months is outside the possible range (at least 0)"),
    ("NCT03219801", "{field: lvef, gte: 50 %}", "{field: lvef, gte: 150 %}",
     "threshold 150 % of lvef is outside the possible range (1-95)"),
    ("NCT00953485", "{field: ssdai, gte: 8}", "{field: ssdai, gte: 30}",
     "threshold 30 of ssdai is outside the possible range (0-21)"),
])
def test_lint_refuses_a_threshold_outside_the_fields_possible_range(tmp_path: Path, trial: str, old: str, new: str,
                                                                    problem: str) -> None:
    code, out, _ = cli("lint", "--quiet", str(_mutated_rules(tmp_path, trial, old, new)))
    assert code == 1, out
    assert problem in out


def test_lint_warns_where_the_operator_contradicts_the_texts_wording(tmp_path: Path) -> None:
    rules = _mutated_rules(tmp_path, "NCT03219801", "{field: lvef, gte: 50 %}", "{field: lvef, lte: 50 %}")
    code, out, _ = cli("lint", "--quiet", str(rules))
    assert code == 0, out  # a warning: the wording may be a registry error the rule file corrects in a note
    assert "warning:" in out and "criterion inc-4: lvef lte 50 %: the criterion's text bounds it from below" in out
    code, out, _ = cli("lint", "--quiet", str(ROOT / "rules"))
    assert code == 0 and "warning" not in out


@pytest.mark.parametrize(("text", "number", "direction"), [
    ("age less than 30 years", "30", "upper"), ("eGFR ≥ 60", "60", "lower"), ("no more than 2 g", "2", "upper"),
    ("greater than or equal to 18", "18", "lower"), ("aged 15-70", "15", None), ("<30 mL/min", "30", "upper"),
    ("at least 6 months", "6", "lower"), ("more than 120 days", "20", None),
])
def test_the_direction_a_text_gives_a_number(text: str, number: str, direction: str | None) -> None:
    assert text_direction(text, number) == direction


@pytest.mark.parametrize("line", ["-08: 1", "age_note: !!int 08", "weight_note: !!int 0x1F"])
def test_numbers_with_a_leading_zero_are_read_in_decimal_or_refused_in_one_line(tmp_path: Path, line: str) -> None:
    """PyYAML reads a leading 0 as octal and raised ValueError on ``08`` (found by the fuzz test)."""
    path = tmp_path / "patient.yaml"
    path.write_text(f"id: zero\nscreening_date: 2026-11-02\n{line}\n", encoding="utf-8")
    code, out, err = cli("check", str(path))
    assert "Traceback" not in out + err
    assert code == 2 and err.startswith(f"matcher: error: {path}"), err


def test_a_whole_number_with_a_leading_zero_is_decimal(tmp_path: Path) -> None:
    from matcher.intake.validate import load_patient

    path = tmp_path / "patient.yaml"
    path.write_text("id: zero\nscreening_date: 2026-11-02\ndemographics: {age: 08}\n", encoding="utf-8")
    profile = load_patient(path)
    assert profile.demographics is not None and profile.demographics.age == 8
