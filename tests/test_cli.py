"""The CLI through main(argv, stdout, stderr), and the example patients through it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import EXIT_BAD_INPUT, EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_REVIEW, EXIT_UNDETERMINED

from .helpers import BASE_PATIENT, EXAMPLE_FILES, PATIENTS, cli

EXPECTED_EXIT = {"eligible": EXIT_ELIGIBLE, "ineligible": EXIT_INELIGIBLE, "undetermined": EXIT_UNDETERMINED,
                 "review": EXIT_REVIEW}


def trial_and_verdict(path: Path) -> tuple[str, str]:
    """Example files are named <trial>-<verdict>-<description>: the verdict they were written to give."""
    trial, verdict = path.name.split("-")[:2]
    return trial, verdict


def test_every_trial_has_examples_of_every_verdict(trials: list[Any]) -> None:
    named = [trial_and_verdict(p) for p in EXAMPLE_FILES]
    assert {trial for trial, _ in named} <= {t.id for t in trials}
    for trial in trials:
        verdicts = [verdict for t, verdict in named if t == trial.id]
        assert {"eligible", "ineligible", "undetermined"} <= set(verdicts), trial.id
    assert [v for t, v in named if t == "NCT00698191"].count("ineligible") >= 3


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_example_patient_verdict_matches_its_name(path: Path) -> None:
    trial, expected = trial_and_verdict(path)
    code, out, err = cli("check", str(path), "--trial", trial, "--format", "json")
    assert err == ""
    document = json.loads(out)
    (result,) = document["results"]
    assert result["verdict"] == expected
    assert code == EXPECTED_EXIT[expected]


def test_json_schema_fields() -> None:
    path = PATIENTS / "NCT00698191-undetermined-no-proteinuria.yaml"
    _, out, _ = cli("check", str(path), "--trial", "NCT00698191", "--format", "json")
    document = json.loads(out)
    assert document["schema_version"] == 1
    assert document["engine"].startswith("durable-rules 2.0.")
    assert document["patient"] == "example-undetermined-proteinuria"
    assert document["as_of"] == "2026-11-02"
    result = document["results"][0]
    assert result["trial"] == "NCT00698191"
    assert result["verdict"] == "undetermined"
    assert result["to_collect"] == ["24-hour urine protein"]
    assert len(result["rules"]["sha256"]) == 64
    for criterion in result["criteria"]:
        assert set(criterion) >= {"id", "kind", "text", "outcome", "reason", "missing", "values", "notes"}
        assert criterion["outcome"] in ("met", "not_met", "unknown", "manual")
    inc2 = next(c for c in result["criteria"] if c["id"] == "inc-2")
    assert inc2["outcome"] == "unknown"
    assert inc2["missing"] == ["24-hour urine protein"]
    assert inc2["text"] == "Lupus nephritis with 24h urine protein≥1g;"


def test_text_output_is_plain_when_not_a_terminal() -> None:
    code, out, _ = cli("check", str(BASE_PATIENT), "--trial", "NCT00698191")
    assert code == EXIT_ELIGIBLE
    assert "\033[" not in out
    assert "NCT00698191: ELIGIBLE" in out
    assert "[clinician] inc-4 (signed informed consent): manual" in out
    assert '"Lupus nephritis with 24h urine protein≥1g;"' in out


def test_colour_on_request() -> None:
    _, out, _ = cli("check", str(BASE_PATIENT), "--trial", "NCT00698191", "--color", "always")
    assert "\033[32m" in out


def test_brief_output_is_one_line_per_trial() -> None:
    code, out, _ = cli("check", str(PATIENTS / "NCT00698191-ineligible-liver-function.yaml"), "--trial",
                       "NCT00698191", "--brief")
    lines = out.strip().splitlines()
    assert len(lines) == 2  # header + one trial
    assert lines[1].startswith("NCT00698191  INELIGIBLE  exc-1 (ALT > 3 × normal): ALT: 3.75 x ULN")
    assert code == EXIT_INELIGIBLE


def test_as_of_changes_the_answer_and_is_printed() -> None:
    path = str(PATIENTS / "NCT00698191-ineligible-too-young.json")  # born 2012-01-05
    _, out, _ = cli("check", path, "--trial", "NCT00698191", "--as-of", "2027-01-05", "--format", "json")
    document = json.loads(out)
    assert document["as_of"] == "2027-01-05"
    assert document["as_of_source"] == "given"
    inc1 = next(c for c in document["results"][0]["criteria"] if c["id"] == "inc-1")
    assert inc1["outcome"] == "met"


def test_unknown_trial_is_bad_input() -> None:
    code, out, err = cli("check", str(BASE_PATIENT), "--trial", "NCT00698192")
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert "no rule file for trial 'NCT00698192' (did you mean 'NCT00698191'" in err


def test_bad_date_option_is_bad_input() -> None:
    code, _, err = cli("check", str(BASE_PATIENT), "--as-of", "2026-02-30")
    assert code == EXIT_BAD_INPUT
    assert err.strip() == ("matcher: argument --as-of: '2026-02-30' is not a valid date: day is out of range for "
                           "month (see matcher check --help)")
    code, _, err = cli("check", str(BASE_PATIENT), "--as-of", "20261102")
    assert code == EXIT_BAD_INPUT
    assert "is not a date written YYYY-MM-DD" in err


def test_birth_after_as_of_is_bad_input() -> None:
    code, _, err = cli("check", str(BASE_PATIENT), "--as-of", "1990-01-01")
    assert code == EXIT_BAD_INPUT
    assert err.strip() == (f"matcher: error: {BASE_PATIENT}: demographics.birth_date: birth date 1991-03-14 is after "
                           "the as-of date 1990-01-01")


def test_no_command_prints_help() -> None:
    code, out, _ = cli()
    assert code == EXIT_BAD_INPUT
    assert "check" in out


def test_version_names_the_matcher_and_the_engine() -> None:
    from importlib.metadata import version

    code, out, err = cli("--version")
    assert code == 0 and err == ""
    assert out.startswith(f"matcher {version('trial-matcher')} (durable-rules {version('durable-rules')}, Python ")


@pytest.mark.parametrize(("argv", "command"), [
    (["log", "summary"], "matcher log summary"),
    (["log", "summary", "a.db", "extra"], "matcher log summary"),
    (["log"], "matcher log"),
    (["lint", "--bogus"], "matcher lint"),
    (["trials", "--format", "xml"], "matcher trials"),
    (["screen", "patients"], "matcher screen"),
    (["synthetic", "0", "--out", "x.csv"], "matcher synthetic"),
    (["bench", "--patients", "x"], "matcher bench"),
    (["import"], "matcher import"),
    (["check"], "matcher check"),
    (["nonsense"], "matcher"),
])
def test_a_usage_error_points_to_the_help_of_its_own_command(argv: list[str], command: str) -> None:
    code, out, err = cli(*argv)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith("matcher: ") and err.rstrip().endswith(f"(see {command} --help)"), err


def test_check_and_screen_choose_trials_with_the_same_option(tmp_path: Path) -> None:
    """``--trial`` in both (repeatable or comma-separated), ``--trials`` another name for it; SOURCE after
    the option is still the source."""
    for option in ("--trial", "--trials"):
        code, out, err = cli("check", str(BASE_PATIENT), option, "NCT00698191,NCT00953485", "--format", "json")
        assert code == EXIT_ELIGIBLE, err
        assert [r["trial"] for r in json.loads(out)["results"]] == ["NCT00698191", "NCT00953485"]
        target = tmp_path / f"{option.strip('-')}.csv"
        code, out, err = cli("screen", "--no-log", option, "NCT00698191", option, "NCT00953485",
                             str(BASE_PATIENT), "--out", str(target))
        assert code == 0, err
        assert "screened 1 patient against 2 trials" in out


def test_a_patient_file_given_to_import_is_said_not_to_be_a_bundle(tmp_path: Path) -> None:
    code, out, err = cli("import", str(BASE_PATIENT))
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.strip() == (f"matcher: error: {BASE_PATIENT}: not a FHIR Bundle: it has no \"resourceType\" (a Bundle "
                           "has \"resourceType\": \"Bundle\"). matcher import reads a FHIR R4 Bundle in JSON; a "
                           "patient file in the matcher's own format needs no import: give it to matcher check")
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    code, _, err = cli("import", str(listed))
    assert code == EXIT_BAD_INPUT
    assert err.strip() == (f"matcher: error: {listed}: not a FHIR Bundle: found a list, expected a JSON object "
                           "with \"resourceType\": \"Bundle\"")


def test_a_patient_file_key_with_another_system_s_name_gets_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(BASE_PATIENT.read_text().replace("  sex:", "  gender:"))
    code, _, err = cli("check", str(path))
    assert code == EXIT_BAD_INPUT
    assert "demographics.gender: unknown field (did you mean 'sex'?)" in err
