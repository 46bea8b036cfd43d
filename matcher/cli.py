"""The command line: ``matcher check``, ``screen``, ``log summary``, ``trials``, ``lint``, ``bench``,
``schema``, ``template``, ``fields``.

Over 500 lines: the parser and the handler of every command sit together so a command reads in one
place; split it into one module per command when it grows further.

``main(argv, stdout, stderr) -> int`` is the whole CLI; tests call it with
captured streams, and ``python -m matcher`` / the ``matcher`` script only call it.

Exit codes (``matcher check``):

====  =====================================================================
0     eligible for at least one trial evaluated
10    ineligible for every trial evaluated
11    undetermined: not eligible for any, and data is missing for at least one
12    review: not eligible for any, and for at least one only the clinician's decision on a question
      the record points against (e.g. ALT above the limit, "not related to disease activity?") remains
2     bad input: a patient or rule file, an option, a date (one line on stderr)
3     the engine is unavailable or contradicted itself (one line on stderr)
====  =====================================================================

``matcher screen`` exits 0 when every record was screened, 4 when some could not be read (each
is reported and counted; the outputs are complete otherwise), 3 when the engine refused a record,
2 for bad options, a bad source or rule file (nothing written), 130 when interrupted (nothing
written but the log rows already committed, marked interrupted).

``matcher trials`` exits 0 (2 if a rule file is bad); ``matcher lint`` exits 0 when every
file is clean and 1 when it found problems (2 for bad options).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from matcher.errors import EvaluationError, MatcherError, PatientFileError, one_line
from matcher.model.dates import LAST_AS_OF

EXIT_ELIGIBLE = 0
EXIT_BAD_INPUT = 2
EXIT_ENGINE = 3
EXIT_SOME_NOT_SCREENED = 4
EXIT_INTERRUPTED = 130
EXIT_INELIGIBLE = 10
EXIT_UNDETERMINED = 11
EXIT_REVIEW = 12


_RULES_HELP = "rules directory (default: $MATCHER_RULES, else the trials installed with the matcher)"


class _ArgumentError(Exception):
    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog  # the (sub)command whose arguments were wrong: "matcher log summary"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting, so main() owns the output."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message, self.prog)


def _command_named(argv: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """``matcher`` and the subcommands written in ``argv`` ("matcher log summary"), for a usage error that the
    top-level parser reports (an unrecognised argument after a subcommand)."""
    words = ["matcher"]
    current: argparse.ArgumentParser | None = parser
    for token in argv:
        if current is None or token.startswith("-"):
            continue
        choices = next((action.choices for action in current._actions
                        if isinstance(action, argparse._SubParsersAction)), None)
        if not choices or token not in choices:
            break
        words.append(token)
        current = choices[token]
    return " ".join(words)


def _trial_ids(text: str) -> list[str]:
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise argparse.ArgumentTypeError(f"{text!r} names no trial")
    return ids


def _add_trial_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--trial`` in check and screen alike; ``--trials`` is kept as another name for it (screen's old one)."""
    parser.add_argument("--trial", "--trials", dest="trial", action="extend", type=_trial_ids, metavar="NCT_ID",
                        help=f"{what} only this trial (repeatable, or comma-separated: --trial A,B); "
                             "default: every trial in the rules directory")


def _date(text: str) -> dt.date:
    if len(text) != 10:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid date: {exc}") from None
    if day > LAST_AS_OF:
        raise argparse.ArgumentTypeError(f"{text} is too far in the future: the matcher screens on dates up to "
                                         f"{LAST_AS_OF}")
    return day


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="matcher", description="Does a patient qualify for a clinical trial, and why?")
    parser.add_argument("--version", action="store_true", help="print the matcher's and the engine's versions")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = commands.add_parser("check", help="evaluate one patient file against the encoded trials",
                                description="Evaluate one patient file (YAML or JSON) and explain every criterion.")
    check.add_argument("patient", metavar="PATIENT", help="patient file (.yaml, .yml or .json)")
    _add_trial_option(check, "evaluate")
    check.add_argument("--as-of", type=_date, metavar="DATE",
                       help="screening date YYYY-MM-DD (default: the patient's screening_date, else today)")
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    detail = check.add_mutually_exclusive_group()
    detail.add_argument("--explain", action="store_true", help="full explanation for every trial")
    detail.add_argument("--brief", action="store_true", help="one line per trial")
    check.add_argument("--rules", metavar="DIR", help=_RULES_HELP)
    check.add_argument("--timeline", action="store_true",
                       help="the dates at which a verdict or a criterion changes, from the as-of date to --until")
    check.add_argument("--collect-next", action="store_true",
                       help="rank the missing data by how many undetermined trials a value of each could decide")
    check.add_argument("--until", type=_date, metavar="DATE",
                       help="end of the --timeline horizon (default 180 days after the as-of date)")
    _add_no_cache_option(check)
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour the text output (default: when writing to a terminal)")
    trials = commands.add_parser("trials", help="list the encoded trials",
                                 description="List the encoded trials with their registry dates and criteria counts.")
    trials.add_argument("--rules", metavar="DIR", help=_RULES_HELP)
    trials.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    lint = commands.add_parser("lint", help="check rule files and report their coverage",
                               description="Check rule files (schema, fields, operators, units, verbatim registry "
                                           "text, coverage of every registry bullet, contradictions) and report "
                                           "coverage and interpretation notes per trial.")
    lint.add_argument("files", nargs="*", metavar="RULE_FILE",
                      help="rule files or directories (default: the rules directory)")
    lint.add_argument("--quiet", action="store_true", help="print only problems, not coverage and notes")
    _screen_parser(commands)
    _spark_parser(commands)
    _add_import_parser(commands)
    commands.add_parser("schema", help="print the JSON Schema of a patient file",
                        description="Print the JSON Schema of a patient file, for editors that check YAML and JSON "
                                    "as you type (see docs/patient-files.md).")
    template = commands.add_parser("template", help="write a commented starting patient file",
                                   description="Write a starting patient file: every field commented out with how "
                                               "it is written; uncomment only what is known. It validates as is.")
    template.add_argument("--out", metavar="FILE", help="write it to FILE (never overwritten) instead of stdout")
    fields = commands.add_parser("fields", help="list the fields a rule may test",
                                 description="List the fields a rule may test: patient fields and each list's item "
                                             "fields, with type, unit, allowed values and what each reads.")
    fields.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    fields.add_argument("--grep", metavar="TEXT", help="only fields whose name, label or description contain TEXT")
    log = commands.add_parser("log", help="read a screening log", description="Read a screening log (SQLite).")
    log_commands = log.add_subparsers(dest="log_command", metavar="ACTION", parser_class=_Parser, required=True)
    summary = log_commands.add_parser("summary", help="CONSORT-style counts per trial",
                                      description="Per trial: screened, eligible, review, ineligible by "
                                                  "criterion not met, undetermined by data item to collect, grouped "
                                                  "and ranked by how many patients each item alone would settle "
                                                  "(each patient's latest evaluation).")
    summary.add_argument("database", metavar="DB", help="screening log written by matcher screen --log")
    shown = summary.add_mutually_exclusive_group()
    shown.add_argument("--top", type=_positive, default=10, metavar="N",
                       help="data items to collect listed per trial (default 10)")
    shown.add_argument("--all", action="store_true", help="list every data item to collect")
    synthetic = commands.add_parser("synthetic", help="write a seeded synthetic cohort (benchmark data)",
                                    description="Write N synthetic patients (seeded, always valid, covering every "
                                                "profile field; benchmark data, not clinical) as .jsonl or .csv, "
                                                "for matcher screen.")
    synthetic.add_argument("patients", type=_positive, metavar="N", help="how many patients")
    synthetic.add_argument("--out", required=True, metavar="FILE", help="cohort file: .jsonl or .csv")
    synthetic.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    synthetic.add_argument("--as-of", type=_date, default=dt.date(2026, 11, 1), metavar="DATE",
                           help="screening date the patients are made for (default 2026-11-01)")
    _bench_parser(commands)
    return parser


def _bench_parser(commands: Any) -> None:
    bench = commands.add_parser("bench", help="measure speed and memory on a synthetic cohort",
                                description="Build a seeded synthetic cohort and print measured throughput, "
                                            "engine overhead, check start-up time and peak memory. Quick by "
                                            "default (under two minutes); --full is the long run (about two "
                                            "hours).")
    length = bench.add_mutually_exclusive_group()
    length.add_argument("--quick", action="store_true",
                        help="the quick run (the default): 1,000 patients for throughput and 5,000 streamed for "
                             "memory, under two minutes on two cores")
    length.add_argument("--full", action="store_true",
                        help="the long run: 2,000 patients for throughput and 1,000,000 streamed for memory")
    bench.add_argument("--format", choices=("text", "json"), default="text",
                       help="text (default) or one JSON object of every figure (docs/bench.md)")
    bench.add_argument("--no-cache", action="store_true",
                       help="measure with the decision cache off (docs/engine.md)")
    bench.add_argument("--patients", type=_positive, default=None, metavar="N",
                       help="synthetic patients for the throughput figures (default 1,000; 2,000 with --full)")
    bench.add_argument("--memory-patients", type=_positive, default=None, metavar="N",
                       help="patients streamed from a file for the peak-memory figure (default 5,000; "
                            "1,000,000 with --full)")
    bench.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    bench.add_argument("--workers", type=_positive, default=None, metavar="N",
                       help="processes for the all-cores figures (default: the number of CPUs)")
    bench.add_argument("--spark", action="store_true",
                       help="only compare matcher spark with matcher screen --workers N (CPU-seconds; needs pyspark)")


def _add_no_cache_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--no-cache", action="store_true",
                         help="ask durable-rules about every fact, not once per distinct case (for audits: the "
                              "results are the same; docs/engine.md)")


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1")
    return value


def _screen_parser(commands: Any) -> None:
    screen = commands.add_parser(
        "screen", help="screen a cohort against the encoded trials",
        description="Screen every patient of SOURCE (a directory of patient files, a .jsonl, a .csv, or a FHIR bulk "
                    "export: a directory of .ndjson files, one resource per line, grouped by patient) "
                    "against the trials; write results by the extension of --out (.jsonl, .csv, .html) and "
                    "append every evaluation to the screening log.")
    screen.add_argument("source", metavar="SOURCE",
                        help="directory of patient files, .jsonl, .csv, one file, or a FHIR bulk export directory")
    _add_trial_option(screen, "screen for")
    screen.add_argument("--as-of", type=_date, metavar="DATE",
                        help="screening date YYYY-MM-DD for everyone (default: each patient's "
                             "screening_date, else today)")
    screen.add_argument("--out", action="append", required=True, metavar="FILE",
                        help="results file: .jsonl, .csv or .html (repeatable for several formats)")
    screen.add_argument("--jsonl", choices=("full", "compact"), default="full",
                        help="form of a .jsonl output: full (every explanation, ~30 KB a patient-trial; default) "
                             "or compact (verdict, outcomes, data to collect, clinician's part, rule sha256; "
                             "docs/screening.md)")
    screen.add_argument("--workers", type=_positive, default=1, metavar="N",
                        help="worker processes (default 1; the engine holds the GIL, so threads would not help)")
    logging = screen.add_mutually_exclusive_group()
    logging.add_argument("--log", default="screening.db", metavar="DB",
                         help="screening log to append to (SQLite; default screening.db)")
    logging.add_argument("--no-log", action="store_true", help="do not write a screening log")
    screen.add_argument("--rules", metavar="DIR", help=_RULES_HELP)
    _add_no_cache_option(screen)
    screen.add_argument("--resume", action="store_true",
                        help="continue the latest unfinished run of SOURCE in the log (docs/limits.md)")
    screen.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                        help="progress bar on stderr (default: when stderr is a terminal)")


def _spark_parser(commands: Any) -> None:
    spark = commands.add_parser(
        "spark", help="screen a cohort on Apache Spark (pip install 'trial-matcher[spark]')",
        description="Screen SOURCE (a .jsonl of profiles or FHIR bundles, a FHIR bulk export directory of .ndjson "
                    "files, or a Parquet file or directory with a 'profile' JSON column) on Apache Spark, one "
                    "engine per partition; append the results to the Parquet table TABLE_DIR (partitioned by "
                    "run_date) and print the CONSORT summary. Runs on local[*] unless Spark's own configuration "
                    "(spark-submit, --master) names a cluster. "
                    "See docs/spark.md.")
    spark.add_argument("source", metavar="SOURCE",
                       help=".jsonl/.ndjson file, FHIR bulk export directory (*.ndjson), or .parquet file or directory")
    spark.add_argument("--out", required=True, metavar="TABLE_DIR", help="Parquet table to append the results to")
    spark.add_argument("--trial", action="append", metavar="NCT_ID", help="only this trial (repeatable)")
    spark.add_argument("--as-of", type=_date, metavar="DATE",
                       help="screening date YYYY-MM-DD for everyone (default: each patient's screening_date, "
                            "else today)")
    spark.add_argument("--partitions", type=_positive, metavar="N", help="repartition the input into N partitions")
    spark.add_argument("--explanations", action="store_true",
                       help="store each result's full explanation JSON (~1.5 KB a row; off by default)")
    spark.add_argument("--master", metavar="URL", help="Spark master (default: Spark's configuration, else local[*])")
    spark.add_argument("--rules", metavar="DIR", help="rules directory (default: $MATCHER_RULES or ./rules)")


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
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(arguments)
    except _ArgumentError as exc:
        command = exc.prog if exc.prog != parser.prog else _command_named(arguments, parser)
        print(f"matcher: {exc} (see {command} --help)", file=err)
        return EXIT_BAD_INPUT
    if args.version:
        print(_versions(), file=out)
        return 0
    if args.command is None:
        parser.print_help(out)
        return EXIT_BAD_INPUT
    try:
        if args.command == "trials":
            return _trials(args, out)
        if args.command == "lint":
            return _lint(args, out)
        if args.command == "screen":
            return _screen(args, out, err)
        if args.command == "log":
            return _log_summary(args, out)
        if args.command == "import":
            return _import(args, out)
        if args.command == "spark":
            return _spark(args, out)
        if args.command == "synthetic":
            return _synthetic(args, out)
        if args.command == "fields":
            return _fields(args, out)
        if args.command in ("schema", "template"):
            return _reference(args, out)
        if args.command == "bench":
            from matcher.tools.bench import run_bench
            from matcher.tools.spark_bench import run_spark_bench

            return run_spark_bench(args, out) if args.spark else run_bench(args, out)
        return _check(args, out)
    except EvaluationError as exc:
        print(f"matcher: error: {one_line(str(exc))}", file=err)
        return EXIT_ENGINE
    except MatcherError as exc:
        for problem in exc.problems():
            print(f"matcher: error: {one_line(problem)}", file=err)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("matcher: interrupted; no output file was written", file=err)
        return EXIT_INTERRUPTED


def _versions() -> str:
    """``matcher 0.1.0 (durable-rules 2.0.28, Python 3.11.7)``, without starting the engine."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from matcher.results.render import matcher_version

    try:
        engine = f"durable-rules {version('durable-rules')}"
    except PackageNotFoundError:
        engine = "durable-rules not installed"
    return f"matcher {matcher_version()} ({engine}, Python {platform.python_version()})"


def _jsonl_form(args: argparse.Namespace) -> str:
    """The form of the .jsonl outputs (a usage error when --jsonl is given without one)."""
    if args.jsonl != "full" and not any(target.lower().endswith(".jsonl") for target in args.out):
        raise MatcherError("--jsonl chooses the form of a .jsonl output, and no --out ends in .jsonl",
                           field="--jsonl")
    return str(args.jsonl)


def _screen(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import signal
    import time

    from matcher import api
    from matcher.engine.adapter import engine_version
    from matcher.intake.sources import iter_records
    from matcher.results.render import matcher_version
    from matcher.screening.log import FinishedRunError, ScreeningLog, find_resumable
    from matcher.screening.outputs import Output, open_output

    trials = api.load_trials(args.rules, dict.fromkeys(args.trial) if args.trial else None)
    records = iter_records(args.source)  # a bad source is reported before anything is written
    resume = None
    if args.resume:
        if args.no_log:
            raise MatcherError("--resume continues a run from its screening log: give --log, not --no-log")
        try:
            resume = find_resumable(args.log, args.source, [t.id for t in trials])
        except FinishedRunError as exc:
            print(f"matcher: {one_line(str(exc))}", file=out)
            return 0
        if args.as_of is not None and resume.as_of is not None and args.as_of != resume.as_of:
            raise MatcherError(f"run {resume.run_id} was screened --as-of {resume.as_of}: resume it with the same "
                               "date", field="--as-of")
        args.as_of = args.as_of or resume.as_of
    meta = {"source": args.source, "as_of": args.as_of.isoformat() if args.as_of else None,
            "matcher_version": matcher_version(), "engine": engine_version(),
            "trials": [{"id": t.id, "title": t.title, "rules_file": t.path, "sha256": t.content_hash,
                        "labels": {c.id: c.label for c in t.criteria if c.label}} for t in trials]}
    outputs: list[Output] = []
    log = None
    status = "interrupted"
    started = time.perf_counter()

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM cleans up as Ctrl-C does: no output file, log run marked interrupted

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        for target in dict.fromkeys(args.out):
            outputs.append(open_output(target, meta, _jsonl_form(args)))
        if not args.no_log:
            log = ScreeningLog(args.log, source=args.source, as_of=args.as_of, trials=trials,
                               matcher_version=meta["matcher_version"], engine=meta["engine"],
                               command=" ".join(["matcher", *sys.argv[1:]]), resume=resume)
        tally = _screen_loop(args, records, [t.id for t in trials], outputs, log, err)
        for output in outputs:
            output.commit()
        status = "complete"
    finally:
        signal.signal(signal.SIGTERM, previous)
        if status != "complete":
            for output in outputs:
                output.discard()
        if log is not None:
            log.finish(status)
    screened, problems, engine_problems = tally["screened"], tally["problems"], tally["engine"]
    print(f"screened {screened} patient{'s' if screened != 1 else ''} against {len(trials)} "
          f"trial{'s' if len(trials) != 1 else ''} in {time.perf_counter() - started:.1f} s: "
          f"{tally['eligible']} eligible, {tally['review']} review, {tally['ineligible']} ineligible, "
          f"{tally['undetermined']} undetermined "
          f"(patient-trial pairs); {problems} record{'s' if problems != 1 else ''} not screened", file=out)
    for output in outputs:
        print(f"wrote {output.path}", file=out)
    if log is not None:
        resumed = f"; resumed: {len(log.done)} records logged before it was interrupted" if log.done else ""
        print(f"logged to {log.path} (run {log.run_id}{resumed})", file=out)
    if engine_problems:
        return EXIT_ENGINE
    return EXIT_SOME_NOT_SCREENED if problems else 0


def _screen_loop(args: argparse.Namespace, records: Iterable[object], trial_ids: list[str],
                 outputs: Sequence[Any], log: Any, err: TextIO) -> dict[str, int]:
    """Screen every record, feed the outputs and the log, report problems; the counts by verdict."""
    from matcher.intake.sources import count_records
    from matcher.screening.screen import screen_records

    tally = dict.fromkeys(("screened", "problems", "engine", "eligible", "review", "ineligible", "undetermined"), 0)
    show = args.progress == "always" or (args.progress == "auto" and hasattr(err, "isatty") and err.isatty())
    progress = None
    if show:
        from tqdm import tqdm

        progress = tqdm(total=count_records(args.source), unit=" patients", file=err, dynamic_ncols=True)
    try:
        for record in screen_records(records, rules_dir=args.rules, trial_ids=trial_ids, as_of=args.as_of,
                                     workers=args.workers, render_json=any(o.needs_json for o in outputs),
                                     cache=not args.no_cache):
            for output in outputs:
                output.add(record)
            if log is not None:
                log.add(record)
            if record.problem is not None:
                tally["problems"] += 1
                tally["engine"] += record.problem_kind == "engine"
                message = f"matcher: not screened: {record.problem}"
                if progress is not None:
                    progress.write(message, file=err)
                else:
                    print(message, file=err)
            else:
                tally["screened"] += 1
                for row in record.rows:
                    tally[row.verdict] += 1
            if progress is not None:
                progress.update()
    finally:
        if progress is not None:
            progress.close()
    return tally


def _spark(args: argparse.Namespace, out: TextIO) -> int:
    from matcher.screening.distributed import load_rules_data
    from matcher.screening.spark_job import check_source, render_run, run_spark, spark_session

    rules = load_rules_data(args.rules, list(dict.fromkeys(args.trial)) if args.trial else None)
    check_source(args.source)  # problems with the rules or the source are reported before Spark starts (~20 s)
    spark = spark_session(args.master)
    try:
        run = run_spark(spark, args.source, args.out, rules, as_of=args.as_of, partitions=args.partitions,
                        explanations=args.explanations)
    finally:
        spark.stop()
    print(render_run(run, args.out), file=out)
    if run.engine_problems:
        return EXIT_ENGINE
    return EXIT_SOME_NOT_SCREENED if run.summary.not_screened else 0


def _synthetic(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from matcher.screening.outputs import AtomicFile
    from matcher.tools.synthetic import write_csv, write_jsonl

    target = Path(args.out)
    writers = {".jsonl": write_jsonl, ".csv": write_csv}
    if target.suffix.lower() not in writers:
        raise MatcherError(f"unsupported cohort type {target.suffix or '(none)'!r}: use .jsonl or .csv",
                           file=args.out, field="--out")
    file = AtomicFile(target)  # written beside the target, renamed into place when complete
    file.handle.close()
    try:
        writers[target.suffix.lower()](file.temporary, args.patients, args.seed, args.as_of)
    except BaseException:
        file.discard()
        raise
    file.publish()
    print(f"wrote {args.patients} synthetic patients (seed {args.seed}, as of {args.as_of}) to {target}", file=out)
    return 0


def _reference(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from matcher.model.reference import json_schema, template

    if args.command == "schema":
        print(json_schema(), file=out)
        return 0
    if args.out is None:
        out.write(template())
        return 0
    try:
        with Path(args.out).open("x", encoding="utf-8") as handle:
            handle.write(template())
    except FileExistsError:
        raise MatcherError("already exists; the template never overwrites a file", file=args.out,
                           field="--out") from None
    except OSError as exc:
        raise MatcherError(f"cannot write: {exc.strerror}", file=args.out, field="--out") from None
    print(f"wrote {args.out}: uncomment and fill in what is known, then: matcher check {args.out}", file=out)
    return 0


def _fields(args: argparse.Namespace, out: TextIO) -> int:
    from matcher.model.catalogue import as_json, catalogue, matching, text

    entries = matching(catalogue(), args.grep)
    out.write(as_json(entries) + "\n" if args.format == "json" else text(entries))
    return 0


def _log_summary(args: argparse.Namespace, out: TextIO) -> int:
    from matcher.screening.log import render_summary, summarise

    print(render_summary(summarise(args.database), None if args.all else args.top), file=out)
    return 0


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from matcher import api
    from matcher.intake.validate import read_patient
    from matcher.results.render import TextRenderer, to_json

    loaded = read_patient(args.patient)
    patient = loaded.profile
    trials = api.load_trials(args.rules, dict.fromkeys(args.trial) if args.trial else None)
    as_of, as_of_source = api.resolve_as_of(patient, args.as_of)
    if args.until is not None and not args.timeline:
        raise MatcherError("--until is the end of a timeline: add --timeline", field="--until")
    try:
        with api.Matcher(trials, cache=not args.no_cache) as matcher:
            results = matcher.evaluate(patient, as_of, as_of_source)
            if args.timeline:
                return _print_timeline(matcher.timeline(patient, as_of, args.until), patient.id, as_of_source,
                                       results, args, out)
            misses = matcher.near_misses(patient, results)
            collect = matcher.collect_next(patient, results) if args.collect_next else None
    except PatientFileError as exc:
        if exc.file is None:  # a problem only visible once the as-of date is known
            exc.file = args.patient
        raise
    if args.format == "json":
        document = json.loads(to_json(results, patient.id, as_of, as_of_source,
                                      fhir_import=loaded.fhir.report() if loaded.fhir else None))
        for result in document["results"]:  # docs/check.md, "Near misses"
            miss = misses.get(result["trial"])
            result["near_miss"] = miss.to_json() if miss else None
        if collect is not None:  # docs/check.md, "What to collect next"
            document["collect_next"] = [entry.to_json() for entry in collect]
        print(json.dumps(document, indent=2, ensure_ascii=False), file=out)
    else:
        colour = args.color == "always" or (
            args.color == "auto" and hasattr(out, "isatty") and out.isatty() and "NO_COLOR" not in os.environ)
        renderer = TextRenderer(colour, shutil.get_terminal_size((100, 24)).columns)
        print(renderer.header(patient.id, as_of, as_of_source), file=out)
        full = args.explain or (not args.brief and len(results) == 1)
        for result in results:
            print(renderer.full(result) if full else renderer.brief(result), file=out)
            if full and result.trial in misses:
                print(f"  near miss: {misses[result.trial].text}", file=out)
        _print_fhir_report(loaded.fhir, out)
        if collect is not None:
            print(_collect_text(collect), file=out)
    return _exit_code(results)


def _collect_text(collect: list[Any]) -> str:
    deciding = [entry for entry in collect if entry.decides]
    if not deciding:
        return "\nCollect next: no single missing item decides an undetermined trial"
    lines = ["", "Collect next (each item alone, every value on both sides of the rules' thresholds):"]
    for entry in deciding:
        could = (f"could make eligible for {', '.join(entry.could_make_eligible)}" if entry.could_make_eligible
                 else "can only rule the patient out")
        lines.append(f"  {entry.item}: decides {len(entry.decides)} ({', '.join(entry.decides)}); {could}")
    return "\n".join(lines)


def _print_timeline(timelines: list[Any], patient: str, as_of_source: str, results: list[Any],
                    args: argparse.Namespace, out: TextIO) -> int:
    from matcher.results.timeline import timeline_document, timeline_text

    if args.format == "json":
        print(json.dumps(timeline_document(timelines, patient, as_of_source), indent=2, ensure_ascii=False), file=out)
    else:
        first = timelines[0]
        print(f"Patient {patient}, screened as of {first.as_of} ({as_of_source}); timeline to {first.until}",
              file=out)
        print(timeline_text(timelines), file=out)
    return _exit_code(results)


def _exit_code(results: list[Any]) -> int:
    verdicts = {result.verdict for result in results}
    if "eligible" in verdicts:
        return EXIT_ELIGIBLE
    if "review" in verdicts:  # one clinical decision away from eligible: before data still to collect
        return EXIT_REVIEW
    if "undetermined" in verdicts:
        return EXIT_UNDETERMINED
    return EXIT_INELIGIBLE


def _print_fhir_report(imported: object, out: TextIO) -> None:
    """After the results of a patient read from a FHIR bundle: what the bundle gave and did not give."""
    if imported is None:
        return
    from matcher.intake.fhir import FhirImport, text_report

    assert isinstance(imported, FhirImport)
    print("", file=out)
    for line in text_report(imported):
        print(one_line(line), file=out)


def _import(args: argparse.Namespace, out: TextIO) -> int:
    from matcher.intake.load import read_document

    document = read_document(args.bundle, PatientFileError)
    if isinstance(document.data, dict) and "resourceType" not in document.data:
        raise PatientFileError("not a FHIR Bundle: it has no \"resourceType\" (a Bundle has \"resourceType\": "
                               "\"Bundle\"). matcher import reads a FHIR R4 Bundle in JSON; a patient file in the "
                               "matcher's own format needs no import: give it to matcher check", file=args.bundle)
    if not isinstance(document.data, dict):
        found = "an empty file" if document.data is None else f"a {type(document.data).__name__}"
        raise PatientFileError(f"not a FHIR Bundle: found {found}, expected a JSON object with \"resourceType\": "
                               "\"Bundle\"", file=args.bundle)
    from matcher.intake.fhir import import_document, to_yaml

    out.write(to_yaml(import_document(document)))
    return 0


def _trials(args: argparse.Namespace, out: TextIO) -> int:
    import json

    from matcher import api
    from matcher.rules.lint import coverage

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

    from matcher import api
    from matcher.rules.language import display_path
    from matcher.rules.lint import all_notes, coverage, lint_file

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
        if not (report.ok and args.quiet):  # --quiet: only the files with problems
            print(f"{path}: {status}", file=out)
        for error in report.errors:
            print(f"  error: {error}", file=out)
        for warning in report.warnings:
            print(f"  warning: {warning}", file=out)
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
    if failed or not args.quiet:
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
