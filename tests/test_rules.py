"""Rule files: every mistake fails when the file loads, at the right line, with a suggestion."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from matcher.cli import EXIT_BAD_INPUT, main
from matcher.errors import RuleFileError
from matcher.rules.language import AllOf, AnyOf, Comparison, QueryRef, load_trial, load_trials

from .helpers import BASE_PATIENT, RULES

RULE_FILE = RULES / "NCT00698191.yaml"
TEXT = RULE_FILE.read_text()


def test_the_encoded_trial_loads_with_every_bullet(tmp_path: Path) -> None:
    trial = load_trial(RULE_FILE)
    assert trial.id == "NCT00698191"
    assert [c.id for c in trial.criteria if c.kind == "inclusion"] == ["inc-1", "inc-2", "inc-3", "inc-4", "inc-5"]
    assert [c.id for c in trial.criteria if c.kind == "exclusion"] == ["exc-1", "exc-2", "exc-3", "exc-4", "exc-5"]
    assert all(c.text for c in trial.criteria)
    assert all(c.manual for c in trial.criteria if c.condition is None)
    assert len(trial.content_hash) == 64


def test_verbatim_texts_appear_in_the_registry_seed() -> None:
    """Every criterion's text is the registry's own words (whitespace and bullets aside)."""
    seed = (Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_ba637e9376022d7a.txt")
    if not seed.exists():
        pytest.skip("../shared/seeds is not beside this checkout")
    registry = " ".join(seed.read_text().replace("•", " ").split())
    for criterion in load_trial(RULE_FILE).criteria:
        assert " ".join(criterion.text.replace("•", " ").split()) in registry, criterion.id


def test_thresholds_are_converted_to_canonical_units() -> None:
    trial = load_trial(RULE_FILE)
    inc2 = trial.criterion("inc-2").condition
    assert isinstance(inc2, AllOf)
    protein = inc2.children[1]
    assert isinstance(protein, Comparison)
    assert (protein.field, protein.op, protein.value, protein.written) == ("urine_protein_24h", "gte", 1.0, "1 g/day")
    cyclophosphamide = trial.queries["failed_biweekly_cyclophosphamide"].where
    assert isinstance(cyclophosphamide, AllOf)
    low = cyclophosphamide.children[1]
    assert isinstance(low, Comparison) and low.value == 400.0  # mg/m2
    inc3 = trial.criterion("inc-3").condition
    assert isinstance(inc3, AnyOf) and isinstance(inc3.children[0], AllOf)
    corticosteroid = inc3.children[0].children[0]
    assert isinstance(corticosteroid, AnyOf) and isinstance(corticosteroid.children[0], QueryRef)


# (case id, replaced text, replacement, expected message part)
BROKEN: list[tuple[str, str, str, str]] = [
    ("unknown field", "{field: sledai_2k, gte: 8}", "{field: sledai2k, gte: 8}",
     "unknown field 'sledai2k' (did you mean 'sledai_2k'"),
    ("unknown operator", "{field: sledai_2k, gte: 8}", "{field: sledai_2k, gteq: 8}",
     "gteq: unknown operator or key (did you mean 'gte'"),
    ("two operators", "{field: sledai_2k, gte: 8}", "{field: sledai_2k, gte: 8, lt: 20}",
     "a comparison needs exactly one operator"),
    ("threshold without its unit", "{field: urine_protein_24h, gte: 1 g/day}", "{field: urine_protein_24h, gte: 1}",
     "is a measured quantity: write the threshold with its unit"),
    ("threshold in the wrong unit", "{field: urine_protein_24h, gte: 1 g/day}",
     "{field: urine_protein_24h, gte: 1 mmHg}", "unit 'mmHg' cannot be converted to g/day"),
    ("unit on a plain number", "{field: sledai_2k, gte: 8}", "{field: sledai_2k, gte: 8 points}",
     "takes a plain number"),
    ("misspelt enum value", "{field: drug, eq: cyclophosphamide}", "{field: drug, eq: cyclophosphamid}",
     "'cyclophosphamid' is not a value of 'drug' (did you mean 'cyclophosphamide'"),
    ("operator that does not apply", "{field: dialysis, eq: true}", "{field: dialysis, gt: true}",
     "operator 'gt' does not apply to bool field 'dialysis'"),
    ("bool compared with a number", "{field: dialysis, eq: true}", "{field: dialysis, eq: 1}",
     "compare it with true or false"),
    ("unknown query", "{query: uncontrolled_infection}", "{query: uncontroled_infection}",
     "unknown query 'uncontroled_infection' (did you mean 'uncontrolled_infection'"),
    ("bad kind", "kind: exclusion\n    text: End-stage", "kind: exclusions\n    text: End-stage",
     "kind must be inclusion or exclusion, not 'exclusions' (did you mean 'exclusion'"),
    ("condition and manual", "    manual: a stated willingness",
     "    condition: {field: dialysis, eq: true}\n    manual: a stated willingness",
     "a criterion needs exactly one of 'condition' or 'manual'"),
    ("duplicate criterion id", "id: exc-5", "id: exc-4", "criterion id 'exc-4' is used twice"),
    ("unknown criterion key", "    notes:\n      - >-\n        REGISTRY ERROR",
     "    note:\n      - >-\n        REGISTRY ERROR", "unknown key (did you mean 'notes'"),
    ("list that cannot be queried", "over: infections", "over: infection",
     "cannot query 'infection' (did you mean 'infections'"),
    ("empty any", "      any:\n        - equivalent:\n"
     "            - {field: egfr_reported_or_ckd_epi_2021, lt: 15 mL/min/1.73m2, label: eGFR}\n"
     "            - {field: egfr_ckd_epi_2021_same_day_as_reported, lt: 15 mL/min/1.73m2}\n"
     "        - {field: dialysis, eq: true}", "      any: []", "'any' needs a non-empty list of conditions"),
    ("trial id does not match the file", "trial: NCT00698191", "trial: NCT00000000",
     "does not match the file name"),
    ("malformed YAML", "criteria:\n", "criteria: [\n", "invalid YAML"),
]


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_rule_file_fails_at_load_with_its_location(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in TEXT, old
    path = tmp_path / "NCT00698191.yaml"
    path.write_text(TEXT.replace(old, new, 1))
    with pytest.raises(RuleFileError) as caught:
        load_trial(path)
    error = caught.value
    assert expected in str(error)
    assert error.file == str(path)
    assert error.line is not None and error.line >= 1


def test_error_points_at_the_line_of_the_mistake(tmp_path: Path) -> None:
    path = tmp_path / "NCT00698191.yaml"
    path.write_text(TEXT.replace("{field: sledai_2k, gte: 8}", "{field: sledai2k, gte: 8}"))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "sledai2k" in text)
    with pytest.raises(RuleFileError) as caught:
        load_trial(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert caught.value.criterion == "inc-1"


def test_unused_query_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "NCT00698191.yaml"
    path.write_text(TEXT.replace("condition: {query: uncontrolled_infection}", "manual: x"))
    with pytest.raises(RuleFileError, match="query 'uncontrolled_infection' is defined but no criterion uses it"):
        load_trial(path)


def test_cli_reports_a_broken_rule_file(tmp_path: Path) -> None:
    (tmp_path / "NCT00698191.yaml").write_text(TEXT.replace("gte: 8}", "gte: eight}", 1))
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(BASE_PATIENT), "--rules", str(tmp_path)], out, err)
    assert code == EXIT_BAD_INPUT
    assert out.getvalue() == ""
    assert err.getvalue().startswith(f"matcher: error: {tmp_path / 'NCT00698191.yaml'}:")
    assert "takes a plain number, not 'eight'" in err.getvalue()
    assert len(err.getvalue().strip().splitlines()) == 1


def test_empty_rules_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="no rule files"):
        load_trials(tmp_path)
