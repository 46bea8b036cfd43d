"""The command line: ``matcher check PATIENT``, ``matcher trials``, ``matcher lint``.

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

``matcher trials`` exits 0 (2 if a rule file is bad); ``matcher lint`` exits 0 when every
file is clean and 1 when it found problems (2 for bad options).
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
    trials = commands.add_parser("trials", help="list the encoded trials",
                                 description="List the encoded trials with their registry dates and criteria counts.")
    trials.add_argument("--rules", metavar="DIR", help="rules directory (default: $MATCHER_RULES or ./rules)")
    trials.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    lint = commands.add_parser("lint", help="check rule files and report their coverage",
                               description="Check rule files (schema, fields, operators, units, verbatim registry "
                                           "text, coverage of every registry bullet, contradictions) and report "
                                           "coverage and interpretation notes per trial.")
    lint.add_argument("files", nargs="*", metavar="RULE_FILE",
                      help="rule files or directories (default: the rules directory)")
    lint.add_argument("--quiet", action="store_true", help="print only problems, not coverage and notes")
    _add_import_parser(commands)
    return parser


def _add_import_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    imp = commands.add_parser("import", help="write the profile read from a FHIR R4 Bundle as patient YAML",
                              description="Read a FHIR R4 Bundle (JSON) and write the patient profile it gives as "
                                          "YAML on stdout, with comments listing what was not used or left unknown "
                                          "(see docs/FHIR.md).")
    imp.add_argument("bundle", metavar="BUNDLE", help="FHIR R4 Bundle (.json)")


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
        if args.command == "trials":
            return _trials(args, out)
        if args.command == "lint":
            return _lint(args, out)
        if args.command == "import":
            return _import(args, out)
        return _check(args, out)
    except EvaluationError as exc:
        print(f"matcher: error: {one_line(str(exc))}", file=err)
        return EXIT_ENGINE
    except MatcherError as exc:
        print(f"matcher: error: {one_line(str(exc))}", file=err)
        return EXIT_BAD_INPUT


def one_line(message: str) -> str:
    """The message with newlines and other control characters escaped, so an error is always one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from . import api
    from .render import TextRenderer, to_json
    from .validate import read_patient

    loaded = read_patient(args.patient)
    patient = loaded.profile
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
        print(to_json(results, patient.id, as_of, as_of_source,
                      fhir_import=loaded.fhir.report() if loaded.fhir else None), file=out)
    else:
        colour = args.color == "always" or (
            args.color == "auto" and hasattr(out, "isatty") and out.isatty() and "NO_COLOR" not in os.environ)
        renderer = TextRenderer(colour, shutil.get_terminal_size((100, 24)).columns)
        print(renderer.header(patient.id, as_of, as_of_source), file=out)
        full = args.explain or (not args.brief and len(results) == 1)
        for result in results:
            print(renderer.full(result) if full else renderer.brief(result), file=out)
        _print_fhir_report(loaded.fhir, out)
    verdicts = {result.verdict for result in results}
    if "eligible" in verdicts:
        return EXIT_ELIGIBLE
    if "undetermined" in verdicts:
        return EXIT_UNDETERMINED
    return EXIT_INELIGIBLE


def _print_fhir_report(imported: object, out: TextIO) -> None:
    """After the results of a patient read from a FHIR bundle: what the bundle gave and did not give."""
    if imported is None:
        return
    from .fhir import FhirImport, text_report

    assert isinstance(imported, FhirImport)
    print("", file=out)
    for line in text_report(imported):
        print(one_line(line), file=out)


def _import(args: argparse.Namespace, out: TextIO) -> int:
    from .fhir import read_bundle, to_yaml

    out.write(to_yaml(read_bundle(args.bundle)))
    return 0


def _trials(args: argparse.Namespace, out: TextIO) -> int:
    import json

    from . import api
    from .lint import coverage

    rows = []
    for trial in api.load_trials(args.rules):
        counts = coverage(trial)
        rows.append({
            "trial": trial.id, "title": trial.title, "condition": trial.condition,
            "last_updated": trial.last_updated.isoformat() if trial.last_updated else None,
            "inclusion": counts.inclusion, "exclusion": counts.exclusion, "computable": counts.computable,
            "partly_manual": counts.partly_manual, "manual": counts.manual, "rules_file": trial.path,
        })
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=out)
        return 0
    for row in rows:
        print(f"{row['trial']}  {row['condition']}", file=out)
        print(f"    {row['title']}", file=out)
        print(f"    registry last updated: {row['last_updated'] or 'unknown (no copy gives it)'}; criteria: "
              f"{row['inclusion']} inclusion, {row['exclusion']} exclusion ({row['computable']} computable, "
              f"{row['partly_manual']} partly manual, {row['manual']} manual); {row['rules_file']}", file=out)
    return 0


def _lint(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from . import api
    from .lint import all_notes, coverage, lint_file
    from .rules import display_path

    targets = [Path(f) for f in args.files] or [api.default_rules_dir()]
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(target.glob("*.yaml"))
        elif target.exists():
            files.append(target)
        else:
            print(f"{target}: no such file or directory", file=out)
            return 1
    if not files:
        print(f"{', '.join(map(str, targets))}: no rule files (*.yaml)", file=out)
        return 1
    failed = 0
    for found in files:
        path = Path(display_path(found))
        report = lint_file(path)
        status = "ok" if report.ok else f"{len(report.errors)} problem{'s' if len(report.errors) != 1 else ''}"
        print(f"{path}: {status}", file=out)
        for error in report.errors:
            print(f"  error: {error}", file=out)
        failed += not report.ok
        if report.trial is None or args.quiet:
            continue
        c = coverage(report.trial)
        encoded = report.bullets - len(report.uncovered)
        print(f"  {report.trial.id}: {report.bullets} registry bullets, {encoded} encoded; "
              f"{c.inclusion + c.exclusion} criteria ({c.inclusion} inclusion, {c.exclusion} exclusion): "
              f"{c.computable} computable, {c.partly_manual} partly manual, {c.manual} manual with reason; "
              f"{c.disputed_boundaries} disputed boundaries; {c.notes} interpretation notes "
              f"({c.registry_errors} registry errors)", file=out)
        for where, note in all_notes(report.trial):
            print(f"    {where}: {' '.join(note.split())}", file=out)
    print(f"{len(files) - failed} of {len(files)} rule files clean", file=out)
    return 1 if failed else 0


def run() -> None:
    """Console-script entry point: ``main`` plus a quiet exit when the reader goes away (``| head``, Ctrl-C)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        code = 0
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
