"""Properties of bad input: arbitrary documents, wrong types and impossible values raise only the matcher's
own errors, and ``matcher check`` answers them with one line per problem and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

from hypothesis import given, note

import matcher
from matcher.cli import EXIT_BAD_INPUT, EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_REVIEW, EXIT_UNDETERMINED, main
from matcher.errors import MatcherError, PatientFileError
from matcher.intake.load import parse_json, parse_yaml
from matcher.intake.validate import validate_patient
from matcher.model.profile import PatientProfile

from . import strategies as gen
from .helpers import RULES, examples


# ================================================================== 8. bad input
def _parse(text: str, suffix: str) -> PatientProfile:
    name = f"patient{suffix}"
    document = parse_json(text, name, PatientFileError) if suffix == ".json" else parse_yaml(text, name,
                                                                                             PatientFileError)
    return validate_patient(document)


@examples(2.0)
@given(document=gen.bad_documents())
def test_bad_input_raises_only_the_matchers_own_errors(document: tuple[str, str]) -> None:
    """Arbitrary YAML and JSON, wrong types, impossible values, unknown and missing keys: reading and
    validating a patient either succeeds or raises a PatientFileError naming the file; a patient that
    validates is evaluated without any exception but the matcher's own."""
    text, suffix = document
    note(text)
    try:
        patient = _parse(text, suffix)
    except PatientFileError as error:
        assert error.file == f"patient{suffix}"
        return
    try:
        matcher.evaluate(patient, list(gen.encoded_trials()), dt.date(2026, 11, 2))
    except MatcherError as error:  # e.g. a birth date after the as-of date
        assert isinstance(error, PatientFileError), error


@examples(0.4)
@given(document=gen.bad_documents())
def test_the_cli_answers_bad_input_with_one_line_and_exit_code_2(document: tuple[str, str]) -> None:
    """``matcher check`` on any file never prints a traceback: bad input gives exit code 2 and one line
    per problem on stderr, each naming the file; input that validates gives a verdict's exit code."""
    text, suffix = document
    note(text)
    try:
        _parse(text, suffix)
        valid = True
    except MatcherError:
        valid = False
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"patient{suffix}"
        path.write_text(text, encoding="utf-8")
        rules = Path(folder) / "rules"  # one small trial keeps each run (and shrinking) quick
        rules.mkdir()
        smallest = min(gen.encoded_trials(), key=lambda t: len(t.criteria))
        (rules / Path(smallest.path).name).write_bytes((RULES / Path(smallest.path).name).read_bytes())
        out, err = io.StringIO(), io.StringIO()
        code = main(["check", str(path), "--as-of", "2026-11-02", "--format", "json", "--rules", str(rules)], out, err)
    assert "Traceback" not in err.getvalue() + out.getvalue()
    if valid:
        assert code in (EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_UNDETERMINED, EXIT_REVIEW, EXIT_BAD_INPUT), code
    else:
        assert code == EXIT_BAD_INPUT, code
    if code == EXIT_BAD_INPUT:
        lines = err.getvalue().splitlines()  # one line per problem of the file, each naming it
        assert lines and all(line.startswith(f"matcher: error: {path}") for line in lines), lines
        assert out.getvalue() == ""
