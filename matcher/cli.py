"""The command line: ``matcher check PATIENT``.

``main(argv, stdout, stderr) -> int`` is the whole CLI; tests call it with
captured streams, and ``python -m matcher`` / the ``matcher`` script only call it.

Exit codes (``matcher check``):

====  =====================================================================
0     eligible for at least one trial evaluated
10    ineligible for every trial evaluated
11    undetermined: not eligible for any, and data is missing for at least one
2     bad input: a patient or rule file, an option, a date (one line on stderr)
3     the engine is unavailable or contradicted itself (one line on stderr)
====  =====================================================================
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from collections.abc import Sequence
from typing import TextIO

from .errors import EvaluationError, MatcherError, PatientFileError

EXIT_ELIGIBLE = 0
EXIT_BAD_INPUT = 2
EXIT_ENGINE = 3
EXIT_INELIGIBLE = 10
EXIT_UNDETERMINED = 11


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting, so main() owns the output."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message)


def _date(text: str) -> dt.date:
    if len(text) != 10:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="matcher", description="Does a patient qualify for a clinical trial, and why?")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = commands.add_parser("check", help="evaluate one patient file against the encoded trials",
                                description="Evaluate one patient file (YAML or JSON) and explain every criterion.")
    check.add_argument("patient", metavar="PATIENT", help="patient file (.yaml, .yml or .json)")
    check.add_argument("--trial", action="append", metavar="NCT_ID",
                       help="evaluate only this trial (repeatable); default: every trial in the rules directory")
    check.add_argument("--as-of", type=_date, metavar="DATE",
                       help="screening date YYYY-MM-DD (default: the patient's screening_date, else today)")
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    detail = check.add_mutually_exclusive_group()
    detail.add_argument("--explain", action="store_true", help="full explanation for every trial")
    detail.add_argument("--brief", action="store_true", help="one line per trial")
    check.add_argument("--rules", metavar="DIR", help="rules directory (default: $MATCHER_RULES or ./rules)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour the text output (default: when writing to a terminal)")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except _ArgumentError as exc:
        print(f"matcher: {exc} (see matcher check --help)", file=err)
        return EXIT_BAD_INPUT
    if args.command is None:
        parser.print_help(out)
        return EXIT_BAD_INPUT
    try:
        return _check(args, out)
    except EvaluationError as exc:
        print(f"matcher: error: {exc}", file=err)
        return EXIT_ENGINE
    except MatcherError as exc:
        print(f"matcher: error: {exc}", file=err)
        return EXIT_BAD_INPUT


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from . import api
    from .render import TextRenderer, to_json
    from .validate import load_patient

    patient = load_patient(args.patient)
    trials = api.load_trials(args.rules, dict.fromkeys(args.trial) if args.trial else None)
    as_of, as_of_source = api.resolve_as_of(patient, args.as_of)
    try:
        with api.Matcher(trials) as matcher:
            results = matcher.evaluate(patient, as_of, as_of_source)
    except PatientFileError as exc:
        if exc.file is None:  # a problem only visible once the as-of date is known
            exc.file = args.patient
        raise
    if args.format == "json":
        print(to_json(results, patient.id, as_of, as_of_source), file=out)
    else:
        colour = args.color == "always" or (
            args.color == "auto" and hasattr(out, "isatty") and out.isatty() and "NO_COLOR" not in os.environ)
        renderer = TextRenderer(colour, shutil.get_terminal_size((100, 24)).columns)
        print(renderer.header(patient.id, as_of, as_of_source), file=out)
        full = args.explain or (not args.brief and len(results) == 1)
        for result in results:
            print(renderer.full(result) if full else renderer.brief(result), file=out)
    verdicts = {result.verdict for result in results}
    if "eligible" in verdicts:
        return EXIT_ELIGIBLE
    if "undetermined" in verdicts:
        return EXIT_UNDETERMINED
    return EXIT_INELIGIBLE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
