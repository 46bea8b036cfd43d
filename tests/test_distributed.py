"""Screening as a pure function of Arrow batches (matcher.screening.distributed), without Spark: it gives what
`matcher screen --workers 1` gives, whatever the batches and partitions, and engine objects refuse to travel."""

from __future__ import annotations

import copy
import csv
import json
import pickle
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from matcher.api import Matcher
from matcher.engine.evaluate import Evaluator
from matcher.results.render import status_of
from matcher.screening import distributed
from matcher.screening.screen import screen_records
from matcher.tools.synthetic import write_jsonl

from .helpers import PATIENTS, RULES, cli

pa = pytest.importorskip("pyarrow", reason="the Arrow path needs pyarrow: pip install 'trial-matcher[spark]'")

PATIENT_COUNT = 500
AS_OF = "2026-09-14"


def write_cohort(path: Path, patients: int) -> list[str]:
    """A synthetic cohort plus one FHIR bundle, three bad records, and a later record of the first patient (the
    same id, now a child: ineligible where the first record was not); its lines."""
    write_jsonl(path, patients, seed=7)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    again = {**first, "demographics": {**first.get("demographics", {}), "birth_date": "2020-01-01"}}
    bundle = json.loads((PATIENTS / "fhir" / "NCT00953485-eligible-primary-sjogren.json").read_text(encoding="utf-8"))
    bad = ['{"id": "broken", ', json.dumps({"id": "bad-sex", "demographics": {"sex": "sometimes"}}), "[1, 2]"]
    with path.open("a", encoding="utf-8") as handle:
        for line in [json.dumps(bundle), *bad, json.dumps(again)]:
            handle.write(line + "\n")
    return path.read_text(encoding="utf-8").splitlines()


def split(cell: str) -> list[str]:
    """A list the CSV output joined with "; "."""
    return cell.split("; ") if cell else []


def input_table(source: str, lines: list[str]) -> Any:
    return pa.table({"profile": lines, "source_file": [source] * len(lines),
                     "source_line": list(range(1, len(lines) + 1))})


def screen_expected(source: str, directory: Path) -> list[dict[str, Any]]:
    """The rows `matcher screen --workers 1` writes (.jsonl, .csv and the log), in the result schema's terms."""
    jsonl, table, log = directory / "out.jsonl", directory / "out.csv", directory / "log.db"
    code, _, err = cli("screen", source, "--out", str(jsonl), "--out", str(table), "--log", str(log),
                       "--rules", str(RULES), "--as-of", AS_OF, "--workers", "1")
    assert code == 4, err  # the three bad records
    with table.open(encoding="utf-8", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    with sqlite3.connect(log) as connection:
        versions = set(connection.execute("SELECT matcher_version, engine FROM evaluations"))
    assert len(versions) == 1
    matcher_version, engine = versions.pop()
    rows = []
    for line, csv_row in zip(jsonl.read_text(encoding="utf-8").splitlines(), csv_rows, strict=True):
        document = json.loads(line)
        if "problem" in document:
            rows.append({"patient_id": document["patient"], "location": document["location"], "trial": None,
                         "verdict": None, "problem_kind": document["problem_kind"], "problem": document["problem"]})
            continue
        not_met = [c["id"] for c in document["criteria"] if status_of(c["kind"], c["outcome"]) == "FAIL"]
        labels = {c["id"]: c["label"] for c in document["criteria"]}
        assert split(csv_row["criteria_not_met"]) == [f"{cid} ({labels[cid]})" for cid in not_met]  # the CSV names
        rows.append({
            "patient_id": document["patient"], "location": document["location"], "trial": document["trial"],
            "verdict": document["verdict"], "as_of": document["as_of"], "as_of_source": document["as_of_source"],
            "rules_file": document["rules"]["file"], "rules_sha256": document["rules"]["sha256"],
            "matcher_version": matcher_version, "engine": engine,
            "criteria": [{"id": c["id"], "kind": c["kind"], "outcome": c["outcome"], "label": c["label"]}
                         for c in document["criteria"]],
            "criteria_not_met": not_met,
            "criteria_unknown": [c["id"] for c in document["criteria"] if c["outcome"] == "unknown"],
            "data_to_collect": document["to_collect"], "clinician_to_confirm": document["pending_manual"],
            "problem_kind": None, "problem": None, "explanation": line})
    return rows


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with the columns `matcher screen` has no counterpart for set aside."""
    if row["problem"] is not None:
        return {key: row[key] for key in ("patient_id", "location", "trial", "verdict", "problem_kind", "problem")}
    kept = {key: value for key, value in row.items()
            if key not in ("schema_version", "run_id", "fhir_unused", "fhir_unknown")}
    kept["as_of"] = kept["as_of"].isoformat()
    return kept


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str], list[dict[str, Any]]]:
    directory = tmp_path_factory.mktemp("cohort")
    source = str(directory / "cohort.jsonl")
    lines = write_cohort(Path(source), PATIENT_COUNT)
    return source, lines, screen_expected(source, directory)


def test_a_patient_id_in_two_records_is_screened_twice_and_counted_once_by_its_later_record(cohort: Any) -> None:
    """matcher screen writes both records' rows; the log summary (which matcher spark prints, tests/test_spark.py)
    counts every evaluation, and each patient once per trial, by the later record."""
    from collections import Counter

    from matcher.screening.log import summarise

    source, lines, expected = cohort
    screened = [row for row in expected if row["problem"] is None]
    twice = json.loads(lines[0])["id"]
    rows = [row for row in screened if row["patient_id"] == twice]  # in input order: the first record's, then the later
    trials = len({row["trial"] for row in screened})
    assert len(rows) == 2 * trials
    earlier, later = ({row["trial"]: row["verdict"] for row in part} for part in (rows[:trials], rows[trials:]))
    assert later != earlier, "the later record must change a verdict, or the choice of record is not tested"
    latest = {(row["trial"], row["patient_id"]): row["verdict"] for row in screened}
    summary = summarise(Path(source).parent / "log.db")
    assert summary.evaluations == len(screened)
    for flow in summary.flows:
        assert flow.screened == len({row["patient_id"] for row in screened})
        assert +flow.verdicts == Counter(v for (trial, _), v in latest.items() if trial == flow.trial)
        assert latest[(flow.trial, twice)] == later[flow.trial]


@pytest.fixture(scope="module")
def rules() -> distributed.RulesData:
    return distributed.load_rules_data(RULES)


def run(rules: distributed.RulesData, batches: list[Any], explanations: bool) -> list[dict[str, Any]]:
    import datetime as dt

    results = distributed.screen_arrow(iter(batches), rules=rules, run_id="run-1", as_of=dt.date.fromisoformat(AS_OF),
                                       explanations=explanations)
    out = []
    for batch in results:
        assert batch.schema == distributed.result_schema()
        out.extend(batch.to_pylist())
    return out


def test_the_arrow_function_gives_the_rows_of_matcher_screen(cohort: Any, rules: distributed.RulesData) -> None:
    source, lines, expected = cohort
    got = run(rules, input_table(source, lines).to_batches(max_chunksize=97), explanations=True)
    assert {row["run_id"] for row in got} == {"run-1"}
    assert {row["schema_version"] for row in got} == {distributed.SCHEMA_VERSION}
    assert len(expected) == (PATIENT_COUNT + 2) * len(rules.files) + 3  # the bundle and the later record: 2
    assert [comparable(row) for row in got] == expected
    bundle_rows = [row for row in got if row["explanation"] and "fhir_import" in json.loads(row["explanation"])]
    assert len(bundle_rows) == len(rules.files)
    for row in bundle_rows:
        report = json.loads(row["explanation"])["fhir_import"]
        assert (row["fhir_unused"], row["fhir_unknown"]) == (len(report["unused"]), len(report["unknown"]))
    assert {row["verdict"] for row in got} >= {"eligible", "ineligible", "undetermined"}


def test_the_union_over_random_splits_equals_the_whole(cohort: Any, rules: distributed.RulesData) -> None:
    source, lines, expected = cohort
    table = input_table(source, lines)
    draw = random.Random(17)
    cuts = sorted(draw.sample(range(1, table.num_rows), 6))
    partitions = [table.slice(start, stop - start) for start, stop in zip([0, *cuts], [*cuts, table.num_rows],
                                                                           strict=True)]
    draw.shuffle(partitions)  # partitions arrive in any order, each screened by its own call (its own engine)
    got = []
    for partition in partitions:
        got.extend(run(rules, partition.to_batches(max_chunksize=draw.randint(1, 60)), explanations=False))
    assert all(row["explanation"] is None for row in got)  # off by default

    def key(row: dict[str, Any]) -> tuple[str, str]:
        return row["location"], row["trial"] or ""

    whole = sorted((comparable(row) for row in got), key=key)
    assert whole == sorted(({**row, "explanation": None} if row["problem"] is None else row for row in expected),
                           key=key)


def test_a_patient_id_that_contradicts_the_profile_is_a_problem_row(rules: distributed.RulesData) -> None:
    profile = (PATIENTS / "NCT00698191-ineligible-too-young.json").read_text(encoding="utf-8")
    own_id = json.loads(profile)["id"]
    batch = pa.record_batch({"profile": [profile, profile, None], "patient_id": ["someone-else", own_id, None]})
    got = run(rules, [batch], explanations=False)
    problems = [row for row in got if row["problem"] is not None]
    assert [row["location"] for row in problems] == ["<input>:1", "<input>:3"]
    assert "does not match the profile's id" in problems[0]["problem"]
    assert [row["trial"] for row in got if row["problem"] is None] == [trial.id for trial in rules.trials()]


def test_a_batch_without_a_profile_column_is_refused(rules: distributed.RulesData) -> None:
    from matcher.errors import MatcherError

    with pytest.raises(MatcherError, match="'profile' column"):
        run(rules, [pa.record_batch({"json": ["{}"]})], explanations=False)


def test_rules_travel_as_data_and_a_changed_text_is_refused(rules: distributed.RulesData) -> None:
    shipped = pickle.loads(pickle.dumps(rules))
    assert [t.id for t in shipped.trials()] == [t.id for t in rules.trials()]
    assert [t.content_hash for t in shipped.trials()] == [f.sha256 for f in rules.files]
    first = rules.files[0]
    tampered = distributed.RulesData((distributed.RuleFileText(first.path, first.text + "\n", first.sha256),))
    from matcher.errors import RuleFileError

    with pytest.raises(RuleFileError, match="does not match its SHA-256"):
        tampered.trials()
    from_texts = distributed.rules_data_from_texts((f.path, f.text) for f in rules.files)
    assert from_texts == rules


def test_the_spark_ddl_names_every_result_column() -> None:
    assert distributed.RESULT_DDL.startswith("schema_version INT, run_id STRING, patient_id STRING")
    assert "criteria ARRAY<STRUCT<id: STRING, kind: STRING, outcome: STRING, label: STRING>>" in distributed.RESULT_DDL
    assert [part.split(" ")[0] for part in distributed.RESULT_DDL.split(", ") if " " in part and ":" not in
            part.split(" ")[0]][:3] == ["schema_version", "run_id", "patient_id"]
    assert distributed.result_schema().names == [name for name, _, _ in distributed.RESULT_COLUMNS]


@pytest.mark.parametrize("make", [lambda: Matcher([]), lambda: Evaluator([])], ids=["Matcher", "Evaluator"])
def test_objects_holding_engine_handles_refuse_to_be_pickled_or_copied(make: Any) -> None:
    held = make()
    try:
        for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
            with pytest.raises(TypeError, match="build one per partition"):
                attempt(held)
    finally:
        held.close()


def test_a_compiled_ruleset_refuses_to_be_pickled(engine: Matcher) -> None:
    with pytest.raises(TypeError, match="Ruleset holds durable-rules engine handles"):
        pickle.dumps(engine._evaluator._rulesets[next(iter(engine._evaluator._rulesets))])


def test_two_screenings_in_one_process_do_not_share_an_engine(tmp_path: Path) -> None:
    """Interleaved runs with different trials: each run uses its own engine, never one left by the other."""
    source = tmp_path / "cohort.jsonl"
    write_jsonl(source, 3, seed=1)
    from matcher.intake.sources import iter_records

    first = screen_records(iter_records(source), rules_dir=RULES, trial_ids=["NCT00698191"], render_json=False,
                           batch_size=1)
    next(first)
    second = screen_records(iter_records(source), rules_dir=RULES, trial_ids=["NCT00953485"], render_json=False,
                            batch_size=1)
    assert [row.trial for record in second for row in record.rows] == ["NCT00953485"] * 3
    assert [row.trial for record in first for row in record.rows] == ["NCT00698191"] * 2
