"""``matcher screen --collect-next``: a cohort's "collect next" ranking (matcher log summary), checked by
writing the top item's values, on both sides of the rules' thresholds, into the records of the patients who
lack it and screening them again."""

from __future__ import annotations

import copy
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from matcher.api import load_trials
from matcher.model.fields import LISTS, PATIENT_FIELDS
from matcher.model.measurements import LAB_TESTS
from matcher.screening.collect_items import GROUPS, PlainItem, plain_item
from matcher.screening.log import SCHEMA_VERSION, summarise

from .helpers import cli
from .test_collect_next import lab_values

PATIENTS = 200
SEED = 7


@dataclass
class Screening:
    directory: Path
    records: dict[str, dict[str, Any]]
    #: (patient, trial) -> its full JSON Lines result
    results: dict[tuple[str, str], dict[str, Any]]
    log: Path


def _screen(directory: Path, cohort: Path, name: str, *extra: str) -> dict[tuple[str, str], dict[str, Any]]:
    out = directory / f"{name}.jsonl"
    code, _, err = cli("screen", str(cohort), "--out", str(out), "--progress", "never", *extra)
    assert code in (0, 3), err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {(line["patient"], line["trial"]): line for line in lines}


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Screening:
    directory = tmp_path_factory.mktemp("collect-next")
    cohort = directory / "cohort.jsonl"
    assert cli("synthetic", str(PATIENTS), "--out", str(cohort), "--seed", str(SEED))[0] == 0
    records = {record["id"]: record for record in map(json.loads, cohort.read_text(encoding="utf-8").splitlines())}
    log = directory / "screening.db"
    results = _screen(directory, cohort, "first", "--collect-next", "--log", str(log))
    return Screening(directory, records, results, log)


def _fields_of(item: PlainItem) -> list[str]:
    """The patient fields whose data to collect reads as ``item``."""
    return [name for name, spec in PATIENT_FIELDS.items() if plain_item(spec.collect) == item]


def field_values(trials: list[Any], field: str) -> list[Any]:
    """The values to write for ``field``: yes and no, every choice, or both sides of every lab threshold."""
    spec = PATIENT_FIELDS[field]
    if spec.type == "bool":
        return [True, False]
    if spec.type == "enum":
        return list(spec.choices)
    assert field in LAB_TESTS, f"the test writes labs, yes/no and choices, not {field}"
    return lab_values(trials, field)


def with_value(data: dict[str, Any], field: str, value: Any, day: str) -> dict[str, Any]:
    """``data`` with ``field`` written in: a lab result of ``day``, or a plain attribute at its path."""
    changed = copy.deepcopy(data)
    if field in LAB_TESTS:
        unit = LAB_TESTS[field].measure.canonical
        changed.setdefault("labs", []).append({"test": field, "value": f"{value:g} {unit}", "date": day})
        return changed
    derive = PATIENT_FIELDS[field].derive
    assert derive.startswith("attribute "), f"the test cannot write {field} ({derive}) into a record"
    *parents, leaf = derive.split()[1].split(".")
    node = changed
    for parent in parents:
        node = node.setdefault(parent, {})
    node[leaf] = value
    return changed


def _decided_by_filling_in(screening: Screening, item: PlainItem) -> tuple[int, int]:
    """Write each value of ``item`` into the records of the patients whose undetermined pairs lack it and screen
    them again: how many of those pairs some value decides, and how many some value makes eligible (or review)."""
    lacking = {pair for pair, result in screening.results.items()
               if result["verdict"] == "undetermined" and any(plain_item(raw) == item for raw in result["to_collect"])}
    patients = sorted({patient for patient, _ in lacking})
    fields = _fields_of(item)
    assert fields, f"no patient field reads as {item}"
    seen: dict[tuple[str, str], set[str]] = {pair: set() for pair in lacking}
    trials = load_trials()
    for field in fields:
        for number, value in enumerate(field_values(trials, field)):
            cohort = screening.directory / f"{field}-{number}.jsonl"
            cohort.write_text("".join(json.dumps(with_value(record, field, value, record["screening_date"])) + "\n"
                                      for record in (screening.records[patient] for patient in patients)),
                              encoding="utf-8")
            for pair, result in _screen(screening.directory, cohort, f"{field}-{number}-out", "--no-log").items():
                if pair in seen:
                    seen[pair].add(result["verdict"])
    decided = sum(1 for verdicts in seen.values() if verdicts - {"undetermined"})
    eligible = sum(1 for verdicts in seen.values() if verdicts & {"eligible", "review"})
    return decided, eligible


def test_the_summarys_top_item_filled_in_decides_at_least_as_many_pairs_as_listed(screened: Screening) -> None:
    ranking = summarise(screened.log).collect_next
    assert ranking.computed == ranking.undetermined > 0
    (item, listed, could_pass), second = ranking.ranked()[:2]
    assert listed >= second[1] and listed > 0
    decided, eligible = _decided_by_filling_in(screened, item)
    assert decided >= listed, (item, decided, listed)
    assert eligible >= could_pass, (item, eligible, could_pass)
    code, out, err = cli("log", "summary", str(screened.log))
    assert code == 0, err
    assert f"  {listed:>8}  {could_pass:>19}  {item.name} ({item.group})" in out
    code, out, err = cli("log", "summary", str(screened.log), "--format", "json", "--top", "2")
    assert code == 0, err
    document = json.loads(out)["collect_next"]
    assert document["items"][0] == {"item": item.name, "group": item.group, "decides": listed,
                                    "could_make_eligible": could_pass}
    assert len(document["items"]) == 2 and document["items_distinct"] == len(ranking.ranked())
    assert document["undetermined_pairs"] == document["computed_pairs"] == ranking.undetermined


def test_the_check_catches_an_inflated_count(screened: Screening, tmp_path: Path) -> None:
    """A log that claims the top item decides every undetermined pair: filling it in falls short of the claim."""
    inflated = tmp_path / "inflated.db"
    inflated.write_bytes(screened.log.read_bytes())
    item, listed, _ = summarise(inflated).collect_next.ranked()[0]
    raw = next(field.collect for field in PATIENT_FIELDS.values() if plain_item(field.collect) == item)
    with sqlite3.connect(inflated) as connection:
        connection.execute("UPDATE evaluations SET collect_next = ? WHERE verdict = 'undetermined'",
                           (json.dumps([{"item": raw, "could_make_eligible": False}]),))
    claimed = summarise(inflated).collect_next.ranked()[0]
    assert claimed[0] == item and claimed[1] > listed
    decided, _ = _decided_by_filling_in(screened, item)
    assert decided < claimed[1]


def test_each_undetermined_pair_carries_its_deciding_items(screened: Screening) -> None:
    undetermined = [result for result in screened.results.values() if result["verdict"] == "undetermined"]
    decided = [result for result in screened.results.values() if result["verdict"] != "undetermined"]
    assert undetermined and all(isinstance(result["collect_next"], list) for result in undetermined)
    assert any(result["collect_next"] for result in undetermined)
    assert all(result["collect_next"] == [] for result in decided)
    fields = {spec.collect for spec in PATIENT_FIELDS.values()}
    for result in undetermined:  # a patient field that decides a pair is one it lacks (a list's query is named
        lacking = {plain_item(raw) for raw in result["to_collect"]}  # by its label, not as in to_collect)
        deciding = {plain_item(entry["item"]) for entry in result["collect_next"] if entry["item"] in fields}
        assert deciding <= lacking, result["trial"]


def test_an_item_named_by_a_querys_label_says_its_list_and_is_grouped_by_it(screened: Screening) -> None:
    """"belimumab given within 2 months" is about the medication history: the pair's entry says so, and the
    summary groups it under Medications, not Other."""
    fields = {spec.collect for spec in PATIENT_FIELDS.values()}
    about = {(entry["item"], entry.get("list")) for result in screened.results.values()
             for entry in result["collect_next"] or () if entry["item"] not in fields}
    labelled = {(item, listed) for item, listed in about if listed is not None}
    assert labelled, "no item named by a query's label in the screened cohort"
    assert all(listed in LISTS for _, listed in labelled)
    groups = {plain_item(item, listed).group for item, listed in labelled}
    assert "Other" not in groups and groups <= set(GROUPS)
    ranked = summarise(screened.log).collect_next.ranked()
    named = {item for item, listed in labelled}
    assert all(entry.group != "Other" for entry, _, _ in ranked if entry.name in named)


def test_without_the_option_nothing_is_computed_and_the_summary_says_nothing(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.jsonl"
    assert cli("synthetic", "20", "--out", str(cohort), "--seed", str(SEED))[0] == 0
    log = tmp_path / "plain.db"
    for form in ("full", "compact"):
        results = _screen(tmp_path, cohort, form, "--log", str(log), "--jsonl", form)
        assert all("collect_next" not in result for result in results.values())
    summary = summarise(log).collect_next
    assert summary.computed == 0 and summary.undetermined > 0
    assert "Collect next" not in cli("log", "summary", str(log))[1]


def test_one_or_two_workers_give_the_same_outputs_and_log_summary(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.jsonl"
    assert cli("synthetic", "80", "--out", str(cohort), "--seed", str(SEED))[0] == 0
    texts = []
    for workers in ("1", "2"):
        outs = [tmp_path / f"w{workers}.jsonl", tmp_path / f"w{workers}.csv"]
        log = tmp_path / f"w{workers}.db"
        code, _, err = cli("screen", str(cohort), "--collect-next", "--workers", workers, "--progress", "never",
                           "--log", str(log), *[arg for out in outs for arg in ("--out", str(out))])
        assert code in (0, 3), err
        texts.append([out.read_text(encoding="utf-8") for out in outs] + [cli("log", "summary", str(log))[1]])
    assert '"collect_next":[{' in texts[0][0]
    assert texts[0] == texts[1]


def test_a_log_of_schema_2_is_brought_up_to_date_and_still_summarises(screened: Screening, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    old.write_bytes(screened.log.read_bytes())
    with sqlite3.connect(old) as connection:  # as schema version 2 was written: no collect_next column
        connection.execute("ALTER TABLE evaluations DROP COLUMN collect_next")
        connection.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    code, out, err = cli("log", "summary", str(old))
    assert code == 0, err
    assert "undetermined" in out and "Collect next" not in out
    cohort = tmp_path / "few.jsonl"
    cohort.write_text("".join(json.dumps(record) + "\n" for record in list(screened.records.values())[:5]),
                      encoding="utf-8")
    _screen(tmp_path, cohort, "again", "--collect-next", "--log", str(old))
    with sqlite3.connect(old) as connection:
        version = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == str(SCHEMA_VERSION) == "3"
    summary = summarise(old).collect_next
    assert 0 < summary.computed < summary.undetermined  # the old rows count as not computed
    assert (f"{summary.undetermined} undetermined patient-trial pairs, {summary.computed} screened with "
            f"--collect-next (the other {summary.undetermined - summary.computed} are not counted)"
            in cli("log", "summary", str(old))[1])
