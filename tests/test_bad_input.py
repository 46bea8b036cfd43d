"""Bad patient input: one clear line naming the file, the field and the problem; exit 2; no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.cli import EXIT_BAD_INPUT

from .helpers import BASE_PATIENT, cli

BASE = BASE_PATIENT.read_text()


def check(path: Path) -> tuple[int, str, str]:
    return cli("check", str(path))


# (case id, file name, file text, text the error line must contain)
CASES: list[tuple[str, str, str, str]] = [
    ("malformed YAML", "p.yaml", "id: x\nlabs: [\n  {test: alt\n", ":4:1: invalid YAML"),
    ("tab indentation", "p.yaml", "id: x\ndemographics:\n\tsex: male\n", "invalid YAML"),
    ("wrong type", "p.yaml", BASE.replace("score: 14", "score: high"),
     ":19:31: disease_activity[0].score: Input should be a valid number (got 'high')"),
    ("number as text", "p.yaml", BASE.replace("score: 14", 'score: "14"'), "disease_activity[0].score"),
    ("unknown field", "p.yaml", BASE.replace("birth_date:", "birth_dat:"),
     ":5:3: demographics.birth_dat: unknown field (did you mean 'birth_date'?)"),
    ("unknown top-level field", "p.yaml", BASE + "medication: []\n",
     ":57:1: medication: unknown field (did you mean 'medications' or 'infections'?)"),
    ("impossible score", "p.yaml", BASE.replace("score: 14", "score: 106"),
     "disease_activity[0]: SLEDAI-2K score 106 is outside its possible range 0-105"),
    ("negative age", "p.yaml", BASE.replace("birth_date: 1991-03-14", "age: -3"),
     "demographics.age: Input should be greater than or equal to 0"),
    ("impossible creatinine", "p.yaml", BASE.replace("value: 97 umol/L", "value: 5000 mg/dL"),
     "labs[1].value: serum creatinine of 5000 mg/dL (5000 mg/dL) is outside the possible range 0.05-30 mg/dL"),
    ("unparseable unit", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: 2.4 gramz/24h"),
     "labs[0].value: cannot read unit 'gramz/24h'"),
    ("wrong dimension", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: 2.4 mmol/L"),
     "labs[0].value: unit 'mmol/L' cannot be converted to g/day"),
    ("bare number for a quantity", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: 2.4"),
     "labs[0].value: a unit is required: write e.g. '2.4 g/day', not a bare number"),
    ("percent for a ratio", "p.yaml",
     BASE.replace("test: urine_protein_24h, value: 2.4 g/24h", "test: urine_protein_creatinine_ratio, value: 45 %"),
     "labs[0].value: unit '%' is not accepted here"),
    ("misspelt lab test", "p.yaml", BASE.replace("test: alt,", "test: atl,"),
     ":24:12: labs[3].test: 'atl' is not allowed (did you mean 'ast' or 'alt'?)"),
    ("unknown drug", "p.yaml", BASE.replace("drug: prednisone", "drug: predisone"),
     "medications[0].drug: unknown drug 'predisone' (did you mean 'prednisone'"),
    ("yes is not a boolean", "p.yaml", BASE.replace("pregnant: false", "pregnant: no"),
     "pregnancy.pregnant: expected true or false, got 'no'"),
    ("course ends before it starts", "p.yaml", BASE.replace("end: 2024-09-01", "end: 2024-01-01"),
     "medications[0]: end 2024-01-01 is before start 2024-03-01"),
    ("duplicate key", "p.yaml", BASE.replace("  sex: female\n", "  sex: female\n  sex: male\n"),
     "demographics.sex: key 'sex' appears twice in the same mapping"),
    ("not a mapping", "p.yaml", "- id: x\n", "a patient file must be a mapping of fields, found list"),
    ("empty file", "p.yaml", "", "a patient file must be a mapping of fields, found empty"),
    ("missing id", "p.yaml", "demographics: {sex: male}\n", "id: required field is missing"),
    ("invalid JSON", "p.json", '{"id": "x",}', ":1:12: invalid JSON"),
    ("NaN in JSON", "p.json", '{"id": "x", "demographics": {"age": NaN}}', "NaN is not a number the matcher accepts"),
    ("wrong file type", "p.txt", "id: x\n", "unsupported file type '.txt'"),
    # found by review: values that used to be misread silently, or crashed
    ("decimal comma", "p.yaml", BASE.replace("value: 2.4 g/24h", 'value: "2,4 g/24h"'),
     "labs[0].value: '2,4 g/24h' has a comma"),
    ("thousands separator", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: 1 500 mg/24h"),
     "labs[0].value: '1 500 mg/24h' has a number inside its unit"),
    ("two numbers", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: 0.5 2 g/24h"),
     "has a number inside its unit '2 g/24h'"),
    ("date not in the calendar", "p.yaml", BASE.replace("screening_date: 2026-11-02", "screening_date: 2026-02-30"),
     ":3:17: screening_date: cannot read '2026-02-30': day is out of range for month"),
    ("bad explicit tag", "p.yaml", BASE.replace("acr1997_criteria_met: 6", "acr1997_criteria_met: !!int x"),
     "diagnoses.sle.acr1997_criteria_met: cannot read 'x'"),
    ("self-referring alias", "p.yaml", "id: x\nnotes: &a [*a]\n", "nested too deeply"),
    ("deeply nested JSON", "p.json", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("duplicate key in JSON", "p.json", '{"id": "x", "id": "y"}', "key 'id' appears twice in the same object"),
    ("date written as a number", "p.yaml", BASE.replace("screening_date: 2026-11-02", "screening_date: 20261102"),
     "screening_date: write dates as YYYY-MM-DD, not the number 20261102"),
    ("null value", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: null"),
     "labs[0].value: empty (null) value: leave the key out when the value is not known"),
    ("list where a value belongs", "p.yaml", BASE.replace("value: 2.4 g/24h", "value: [2.4, g]"), "labs[0].value:"),
    ("impossible dose", "p.yaml", BASE.replace("dose: 30 mg", "dose: 1e300 mg"),
     "medications[0].dose: dose '1e300 mg' is outside the possible range"),
    ("zero upper limit of normal", "p.yaml", BASE.replace("uln: 40 U/L", "uln: 0 U/L"),
     "labs[3].uln: uln 0 U/L must be above zero"),
    ("fractional SLEDAI-2K", "p.yaml", BASE.replace("score: 14", "score: 8.5"), "is not a whole number"),
    ("two scores on one day", "p.yaml",
     BASE.replace("  - {index: SLEDAI-2K, score: 14, date: 2026-10-28}",
                  "  - {index: SLEDAI-2K, score: 14, date: 2026-10-28}\n  - {index: SLEDAI-2K, score: 4, date: "
                  "2026-10-28}"), "two different SLEDAI-2K scores on 2026-10-28 (14 and 4)"),
    ("a man recorded as pregnant", "p.yaml",
     BASE.replace("sex: female", "sex: male").replace("pregnant: false", "pregnant: true"),
     "a patient recorded as male is recorded as pregnant"),
]


@pytest.mark.parametrize(("name", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_patient_file(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    code, out, err = check(path)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"matcher: error: {path}")
    assert expected in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = check(tmp_path / "nobody.yaml")
    assert code == EXIT_BAD_INPUT
    assert err.strip() == f"matcher: error: {tmp_path / 'nobody.yaml'}: no such file"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "x.yaml"
    folder.mkdir()
    code, _, err = check(folder)
    assert code == EXIT_BAD_INPUT
    assert "is a directory" in err


def test_sexagesimal_trap_is_text_not_a_number(tmp_path: Path) -> None:
    """YAML 1.1 reads 1:40 as the integer 100; here it stays text, so it cannot pass as a number."""
    path = tmp_path / "p.yaml"
    path.write_text(BASE.replace("acr1997_criteria_met: 6", "acr1997_criteria_met: 1:40"))
    code, _, err = check(path)
    assert code == EXIT_BAD_INPUT
    assert "sle.acr1997_criteria_met: Input should be a valid integer (got '1:40')" in err


@pytest.mark.parametrize(("text", "expected"), [
    ('id: x\n"a\\nb": 1\n', "a\\nb: unknown field"),            # a newline in a key stays on one line
    ('id: x\n"[": 1\n', "[: unknown field"),                     # a key that looks like pydantic's notation
    ("id: x\nnotes: a\x16b\n", "control characters are not allowed"),
])
def test_odd_keys_and_characters_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    code, out, err = check(path)
    assert code == EXIT_BAD_INPUT and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err


def test_every_problem_of_a_patient_file_is_shown_in_file_order(tmp_path: Path) -> None:
    """A file with three mistakes is fixed in one run: one line for each, the first in the file first."""
    path = tmp_path / "p.yaml"
    path.write_text(BASE.replace("score: 14", "score: high").replace("birth_date:", "birth_dat:")
                    .replace("acr1997_criteria_met: 6", "acr1997_criteria_met: many"))
    code, out, err = check(path)
    assert code == EXIT_BAD_INPUT and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    assert all(line.startswith(f"matcher: error: {path}:") for line in lines)
    assert "more problem" not in err
    fields = ["demographics.birth_dat", "sle.acr1997_criteria_met", "disease_activity[0].score"]
    found = [next(i for i, line in enumerate(lines) if field in line) for field in fields]
    line_numbers = [int(line.split(f"{path}:")[1].split(":")[0]) for line in lines]
    assert line_numbers == sorted(line_numbers) and sorted(found) == [0, 1, 2]


@pytest.mark.parametrize("written", ["2026/11/10", "01/12/2026", "10.11.2026"])
def test_a_date_not_written_yyyy_mm_dd_says_how_to_write_it(tmp_path: Path, written: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"id: x\nscreening_date: {written}\n")
    code, _, err = check(path)
    assert code == EXIT_BAD_INPUT
    assert err.strip() == (f"matcher: error: {path}:2:17: screening_date: '{written}' is not a date: "
                           "write dates as YYYY-MM-DD (e.g. 2026-11-02)")
