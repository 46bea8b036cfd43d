"""Fuzzing the inputs (marker ``fuzz``; CI runs it): mutated patient files, cohort rows, FHIR bundles and rule
files never crash, hang or print a traceback. A command exits with one of its documented codes, an error is one
line naming the file, and every good cohort row is screened whatever its neighbours hold.

Each test tries a bounded number of examples (about a minute in all on two cores); the ``thorough`` hypothesis
profile tries ten times more.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.cli import EXIT_BAD_INPUT, EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_REVIEW, EXIT_UNDETERMINED

from .helpers import PATIENTS, ROOT, cli

pytestmark = pytest.mark.fuzz

#: what `matcher check` may exit with (docs/check.md); 3 (the engine contradicted itself) would be a bug
CHECK_EXITS = {EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_UNDETERMINED, EXIT_REVIEW, EXIT_BAD_INPUT}
#: what `matcher screen` may exit with: complete, or some records not screened
SCREEN_EXITS = {0, 4}
#: characters that mean something to YAML or JSON, and some that mean nothing
_SPECIAL = list("&*!:{}[]-#|>'\",\n\t ?%@`\\0123456789") + ["\x00", "\u00e9", "\ufeff", "<<: ", "!!python/object:x "]
#: hostile snippets: a duplicate key (after a '{'), huge numbers, tags, deep nesting, aliases
_HOSTILE = ['"id": "dup", ', "9" * 400, "1e400", "!!python/object:os.system ", "!!set ", "[" * 300 + "]" * 300,
            "!!binary aGVsbG8= ", "&anchor ", "*anchor "]
_BOMB = "".join(f"b{i}: &b{i} [{','.join([f'*b{i - 1}' if i else 'x'] * 9)}]\n" for i in range(8))
FUZZ = settings(max_examples=25)


def assert_clean_failure(code: int, err: str, allowed: set[int], name: str) -> None:
    assert code in allowed, err
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()  # one line per problem of the file, each naming it
        assert lines, err
        for line in lines:
            assert line.startswith("matcher: error: ") and name in line, line


@st.composite
def text_mutations(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters inserted, deleted or replaced, and maybe a span repeated or cut."""
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "repeat", "cut", "hostile", "bomb"]))
        if action == "hostile":
            snippet = draw(st.sampled_from(_HOSTILE))
            brace = text.find("{", at)
            at = brace + 1 if snippet.startswith('"') and brace >= 0 else at
            text = text[:at] + snippet + text[at:]
        elif action == "bomb":
            text = _BOMB + text if not text.lstrip().startswith("{") else text
        elif action == "insert":
            text = text[:at] + draw(st.sampled_from(_SPECIAL)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif action == "replace":
            text = text[:at] + draw(st.sampled_from(_SPECIAL)) + text[at + 1:]
        elif action == "repeat":
            span = text[at:at + draw(st.integers(1, 200))]
            text = text[:at] + span * draw(st.integers(2, 5)) + text[at:]
        else:
            text = text[:at]
    return text


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False),
                     st.just(10**400), st.just("x" * 200_000), st.just([[[[[[[[[[[]]]]]]]]]]]),
                     st.text(max_size=30), st.sampled_from(["2026-02-30", "9999-12-31", "0001-01-01", "58 kg",
                                                             "1e400", "", "-1", "none"]))


@st.composite
def data_mutations(draw: st.DrawFn, data: Any) -> Any:
    """``data`` (plain JSON-like) with a few values replaced, keys dropped or list items duplicated."""
    data = json.loads(json.dumps(data, default=str))
    for _ in range(draw(st.integers(1, 4))):
        node = data
        for _depth in range(draw(st.integers(0, 6))):
            if isinstance(node, dict) and node:
                child = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                child = node[draw(st.integers(0, len(node) - 1))]
            else:
                break
            if not isinstance(child, (dict, list)):
                break
            node = child
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            action = draw(st.sampled_from(["replace", "drop", "rename"]))
            if action == "replace":
                node[key] = draw(_SCALARS)
            elif action == "drop":
                del node[key]
            else:
                node[key + draw(st.sampled_from(["_", "s", "x"]))] = node.pop(key)
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            if draw(st.booleans()):
                node.append(node[index])
            else:
                node[index] = draw(_SCALARS)
    return data


EXAMPLE_FILES = sorted(PATIENTS.glob("*.yaml"))
BUNDLES = sorted((PATIENTS / "fhir").glob("*.json"))
RULE_FILES = sorted((ROOT / "rules").glob("*.yaml"))


@FUZZ
@given(st.sampled_from(EXAMPLE_FILES).flatmap(lambda path: st.tuples(
    st.just(path.name), text_mutations(path.read_text(encoding="utf-8")))))
def test_a_mutated_patient_file_gets_a_verdict_or_one_line(example: tuple[str, str]) -> None:
    name, text = example
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        code, _, err = cli("check", str(path), "--brief")
    assert_clean_failure(code, err, CHECK_EXITS, name)


@FUZZ
@given(st.sampled_from(BUNDLES).flatmap(lambda path: st.tuples(
    st.just(path.name), data_mutations(json.loads(path.read_text(encoding="utf-8"))))))
def test_a_mutated_fhir_bundle_gets_a_verdict_or_one_line(example: tuple[str, Any]) -> None:
    name, data = example
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_text(json.dumps(data), encoding="utf-8")
        code, _, err = cli("check", str(path), "--brief")
    assert_clean_failure(code, err, CHECK_EXITS, name)


def _good_records() -> list[dict[str, Any]]:
    from matcher.intake.load import read_document

    return [read_document(path).data for path in EXAMPLE_FILES[:6]]


GOOD = _good_records()


@FUZZ
@given(st.lists(st.one_of(
    st.tuples(st.just("good"), st.sampled_from(range(len(GOOD)))),
    st.tuples(st.just("data"), st.sampled_from(GOOD).flatmap(data_mutations)),
    st.tuples(st.just("text"), st.sampled_from(GOOD).flatmap(
        lambda record: text_mutations(json.dumps(record, default=str)))),
), min_size=1, max_size=8), st.sampled_from([".jsonl", ".csv"]))
def test_every_good_cohort_row_is_screened_whatever_its_neighbours_hold(rows: list[tuple[str, Any]],
                                                                        suffix: str) -> None:
    from matcher.intake.sources import csv_cells

    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / f"cohort{suffix}"
        good_ids = []
        lines: list[str] = []
        cells: list[dict[str, str]] = []
        for number, (kind, value) in enumerate(rows):
            if kind == "good":
                record = {**GOOD[value], "id": f"good-{number}"}
                good_ids.append(record["id"])
                lines.append(json.dumps(record, default=str))
                cells.append(csv_cells(record))
            elif kind == "data":
                lines.append(json.dumps(value, default=str).replace("\n", " "))
                cells.append(csv_cells(value) if isinstance(value, dict) else {"id": str(value)})
            else:
                lines.append(value.replace("\n", " "))
                cells.append({"id": value})
        if suffix == ".jsonl":
            source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            header = list(dict.fromkeys(column for row in cells for column in row))
            with source.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
                writer.writeheader()
                writer.writerows(cells)
        out = Path(directory) / "r.csv"
        code, _, err = cli("screen", str(source), "--out", str(out), "--no-log", "--as-of", "2026-11-02")
        assert "Traceback" not in err
        if code == 2:  # only the source as a whole (a CSV header naming no field) may stop a screen
            assert suffix == ".csv" and err.count("\n") == 1 and ":1:" in err, err
            return
        assert code in SCREEN_EXITS, err
        with out.open(encoding="utf-8", newline="") as handle:
            screened = {row["patient"] for row in csv.DictReader(handle) if row["verdict"] != "not screened"}
    assert set(good_ids) <= screened
    assert all(line.startswith("matcher: not screened: ") for line in err.splitlines()), err


@FUZZ
@given(st.sampled_from(RULE_FILES).flatmap(lambda path: st.tuples(
    st.just(path), text_mutations(path.read_text(encoding="utf-8")))))
def test_a_mutated_rule_file_fails_lint_and_check_with_one_line(example: tuple[Path, str]) -> None:
    path, text = example
    with tempfile.TemporaryDirectory() as directory:
        rules = Path(directory) / "rules"
        (rules / "registry").mkdir(parents=True)
        shutil.copy(ROOT / "rules" / "registry" / f"{path.stem}.txt", rules / "registry")
        (rules / path.name).write_bytes(text.encode("utf-8", "surrogatepass"))
        code, out, err = cli("lint", "--quiet", str(rules))
        assert code in (0, 1) and "Traceback" not in out + err
        code, _, err = cli("check", "--rules", str(rules), "--brief",
                           str(PATIENTS / "NCT00698191-eligible-lupus-nephritis.yaml"))
    assert_clean_failure(code, err, CHECK_EXITS, path.name)
