"""``matcher bench``: speed and memory, measured on the machine it runs on, on a seeded synthetic cohort.

Quick by default (``--quick``, under two minutes on two cores: 1,000 patients for throughput, 5,000 streamed
for memory); ``--full`` is the long run (2,000 and 1,000,000: about two hours). Every figure comes from
one run; ``--format json`` prints them as one JSON object (:data:`JSON_FIGURES`). It measures:

* patient-trial evaluations per second with outcomes only (what the CSV and the screening log read) and
  with full explanations (each result rendered to the JSON of ``matcher check``), with all cores, and
  with full explanations on 1 worker, in steady state (timed from the first result, so starting the
  workers and compiling the trials in each is left out);
* the bare engine step alone (assert, fire and retract of every fact the evaluations asked the engine
  about, pre-encoded; no field extraction, no explanation, no cache), so the cost of everything around
  the engine shows as a ratio; and the share of those facts the decision cache answered;
* ``matcher check`` wall time for one patient against every trial, against
  the start-up time of ``python -c "import pydantic, yaml"`` (medians of 7);
* peak memory (resident, the main process and its workers together, sampled
  every 50 ms) while ``matcher screen`` streams a large synthetic cohort from
  a JSON Lines file to a CSV.

``--no-cache`` runs it all with the decision cache off (docs/engine.md), for a before/after in one checkout.
Figures are measurements, not verdicts (no pass or fail is printed), and not assertions: the tests
run this command on a tiny cohort only to check that it works.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

AS_OF = dt.date(2026, 11, 1)
#: cohort sizes (throughput, memory): the quick default, and ``--full``
QUICK_SIZES = (1_000, 5_000)
FULL_SIZES = (2_000, 1_000_000)
#: the figures of ``--format json`` (besides the run's settings: seed, cpus, workers, python, as_of, patients,
#: memory_patients, cache)
JSON_FIGURES = (
    "outcomes_per_s_all_cores", "explained_per_s_all_cores", "explained_per_s_1_worker",
    "bare_engine_per_s_1_process", "engine_overhead_ratio", "cache_hit_rate", "python_startup_ms",
    "check_startup_ms", "memory_peak_mb", "memory_screen_s", "memory_patients_per_s",
)


def cohort_sizes(args: argparse.Namespace) -> tuple[int, int]:
    """Patients for the throughput figures and for the memory run: as given, else the quick or full default."""
    patients, memory_patients = FULL_SIZES if args.full else QUICK_SIZES
    return args.patients or patients, args.memory_patients or memory_patients


def _line(out: TextIO | None, label: str, value: str, remark: str = "") -> None:
    if out is not None:
        print(f"  {label:<58} {value:>16}  {remark}".rstrip(), file=out, flush=True)


def _heading(out: TextIO | None, text: str) -> None:
    if out is not None:
        print(f"\n{text}", file=out, flush=True)


def run_bench(args: argparse.Namespace, out: TextIO) -> int:
    """Run every measurement once and print the figures: as text (default) or, with ``--format json``, as one
    JSON object (:data:`JSON_FIGURES` and the run's settings) and nothing else."""
    workers = args.workers or os.cpu_count() or 1
    args.patients, args.memory_patients = cohort_sizes(args)
    as_json = getattr(args, "format", "text") == "json"
    cache = not getattr(args, "no_cache", False)
    text = None if as_json else out
    figures: dict[str, Any] = {
        "seed": args.seed, "cpus": os.cpu_count(), "workers": workers, "python": sys.version.split()[0],
        "as_of": AS_OF.isoformat(), "patients": args.patients, "memory_patients": args.memory_patients,
        "cache": cache,
    }
    if text is not None:
        print(f"matcher bench: seed {args.seed}, {os.cpu_count()} CPUs, Python {figures['python']}, "
              f"as of {AS_OF}{'' if cache else ', decision cache off'}", file=text, flush=True)
    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as scratch:
        _measure_throughput(Path(scratch), args, workers, cache, figures, text)
        _measure_startup(Path(scratch), args.seed, figures, text)
        code = _measure_memory(Path(scratch), args, workers, cache, figures, text)
    if code not in (0, 4):
        print(f"matcher bench: the memory run failed (exit {code})", file=sys.stderr if as_json else out)
        return 1
    if as_json:
        print(json.dumps(figures, indent=2), file=out, flush=True)
    return 0


def _measure_throughput(scratch: Path, args: argparse.Namespace, workers: int, cache: bool,
                        figures: dict[str, Any], text: TextIO | None) -> None:
    from matcher.tools.synthetic import write_jsonl

    cohort = scratch / "cohort.jsonl"
    write_jsonl(cohort, args.patients, args.seed, AS_OF)
    _heading(text, f"Throughput ({args.patients} synthetic patients x every trial):")
    outcomes = figures["outcomes_per_s_all_cores"] = _throughput(cohort, workers, False, cache)
    _line(text, f"evaluations/s, outcomes only (CSV, log), {workers} workers", f"{outcomes:,.0f}")
    explained = figures["explained_per_s_all_cores"] = _throughput(cohort, workers, True, cache)
    _line(text, f"evaluations/s with full explanations, {workers} workers", f"{explained:,.0f}")
    single = figures["explained_per_s_1_worker"] = _throughput(cohort, 1, True, cache)
    _line(text, "evaluations/s with full explanations, 1 worker", f"{single:,.0f}")
    bare, hit_rate = _bare_engine(cohort)
    figures["bare_engine_per_s_1_process"] = bare
    _line(text, "evaluations/s, bare engine step only, 1 process", f"{bare:,.0f}")
    figures["engine_overhead_ratio"] = bare / single
    _line(text, "everything around the engine costs (bare / full, 1 worker)", f"{bare / single:.1f}x")
    figures["cache_hit_rate"] = hit_rate
    _line(text, "facts answered by the decision cache, 1 process", f"{hit_rate:.1%}",
          "of those the evaluations ask the engine about")


def _measure_startup(scratch: Path, seed: int, figures: dict[str, Any], text: TextIO | None) -> None:
    from matcher.tools.synthetic import synthetic_patient

    _heading(text, "Start-up (median of 7 runs):")
    baseline = _median_wall([sys.executable, "-c", "import pydantic, yaml"])
    patient = scratch / "patient.json"  # a synthetic patient: the bench needs no checkout
    patient.write_text(json.dumps(synthetic_patient(seed, 0, AS_OF)), encoding="utf-8")
    check = _median_wall([*_matcher_command(), "check", str(patient), "--as-of", AS_OF.isoformat()])
    figures["python_startup_ms"] = baseline * 1000
    figures["check_startup_ms"] = check * 1000
    _line(text, 'python -c "import pydantic, yaml"', f"{baseline * 1000:.0f} ms")
    _line(text, "matcher check, one patient, every trial", f"{check * 1000:.0f} ms",
          f"{check / baseline:.1f}x the bare Python start-up")


def _measure_memory(scratch: Path, args: argparse.Namespace, workers: int, cache: bool,
                    figures: dict[str, Any], text: TextIO | None) -> int:
    """The peak-memory run; the exit code of its ``matcher screen``."""
    _heading(text, f"Memory (matcher screen of {args.memory_patients:,} patients streamed from a file, "
                   f"{workers} workers, CSV output):")
    big = scratch / "big.jsonl"
    written = time.perf_counter()
    _write_cohort(big, args.memory_patients, args.seed + 1, workers)
    _line(text, "cohort file written", f"{big.stat().st_size / 1e6:,.0f} MB",
          f"in {time.perf_counter() - written:.0f} s")
    peak, seconds, code = _peak_memory(big, scratch / "results.csv", workers, cache)
    big.unlink()
    if code not in (0, 4):
        return code
    figures["memory_peak_mb"] = peak / 1e6
    figures["memory_screen_s"] = seconds
    figures["memory_patients_per_s"] = args.memory_patients / seconds
    _line(text, "peak resident memory, all processes", f"{peak / 1e6:,.0f} MB")
    _line(text, "screening time", f"{seconds:,.0f} s", f"{args.memory_patients / seconds:,.0f} patients/s")
    return code


def _write_part(path: str, start: int, stop: int, seed: int) -> None:
    from matcher.tools.synthetic import synthetic_patient

    with open(path, "w", encoding="utf-8") as handle:
        for index in range(start, stop):
            handle.write(json.dumps(synthetic_patient(seed, index, AS_OF), separators=(",", ":")))
            handle.write("\n")


def _write_cohort(path: Path, patients: int, seed: int, workers: int) -> None:
    """The synthetic cohort as JSON Lines, written by ``workers`` processes in index ranges, then joined
    (each patient is seeded by its index, so the file is the same whatever the number of workers)."""
    import multiprocessing
    import shutil
    from concurrent.futures import ProcessPoolExecutor

    bounds = [patients * part // workers for part in range(workers + 1)]
    parts = [f"{path}.part{part}" for part in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        for done in [pool.submit(_write_part, parts[i], bounds[i], bounds[i + 1], seed) for i in range(workers)]:
            done.result()
    with open(path, "wb") as joined:
        for part in parts:
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, joined)
            os.unlink(part)


def _matcher_command() -> list[str]:
    script = Path(sys.executable).with_name("matcher")
    return [str(script)] if script.exists() else [sys.executable, "-m", "matcher"]


def _throughput(cohort: Path, workers: int, explained: bool, cache: bool = True) -> float:
    """Patient-trial evaluations per second through the screening pipeline (read, validate, evaluate; with
    ``explained``, each result explained and rendered to the JSON of ``matcher check``, else only the outcomes
    the CSV and the log read), from the first result on (worker start-up and the first batch are not counted)."""
    from matcher.intake.sources import iter_records
    from matcher.screening.screen import screen_records

    started: float | None = None
    evaluations = 0
    for record in screen_records(iter_records(cohort), as_of=AS_OF, workers=workers, render_json=explained,
                                 cache=cache):
        if record.problem is not None:
            raise RuntimeError(f"a synthetic record was not screened: {record.problem}")
        if started is None:  # timed from the first result: compiling the trials in each worker is left out
            started = time.perf_counter()
            continue
        evaluations += len(record.rows)
    if started is None or evaluations == 0:
        raise RuntimeError("the cohort is too small to time: give --patients 2 or more")
    return evaluations / (time.perf_counter() - started)


def _bare_engine(cohort: Path) -> tuple[float, float]:
    """Evaluations per second of the engine step alone, replaying every fact the evaluations asked the engine
    about (cache off: each one, as if every fact were new); and the share of those facts the decision cache
    answers when the same evaluations run with it, in one process."""
    from matcher import api
    from matcher.engine.adapter import Ruleset
    from matcher.engine.evaluate import Evaluator
    from matcher.intake.sources import iter_records, read_record
    from matcher.rules.compile import compile_trial

    recorded: list[tuple[Ruleset, dict[str, Any]]] = []
    original = Ruleset.fire

    def recording(self: Ruleset, fact: dict[str, Any]) -> list[str]:
        recorded.append((self, fact))
        return original(self, fact)

    compiled = [compile_trial(trial) for trial in api.load_trials()]
    profiles = [read_record(record).profile for record in iter_records(cohort)]
    evaluations = 0
    with Evaluator(compiled, cache=False) as evaluator:
        Ruleset.fire = recording  # type: ignore[method-assign]
        try:
            for profile in profiles:
                for trial in compiled:
                    evaluator.evaluate(profile, AS_OF, trial.trial.id)
                    evaluations += 1
        finally:
            Ruleset.fire = original  # type: ignore[method-assign]
        replay = [(ruleset, ruleset.encode(fact)) for ruleset, fact in recorded]
        started = time.perf_counter()
        for ruleset, encoded in replay:
            ruleset.fire_encoded(encoded)
        elapsed = time.perf_counter() - started
    with Evaluator(compiled, cache=True) as evaluator:
        for profile in profiles:
            for trial in compiled:
                evaluator.evaluate(profile, AS_OF, trial.trial.id)
        stats = evaluator.cache_stats()
    asked = stats.hits + stats.misses
    return evaluations / elapsed, stats.hits / asked if asked else 0.0


def _median_wall(command: list[str], runs: int = 7) -> float:
    """The median wall time of ``command``, after one untimed run. Both commands run as an installed tool does:
    from compiled bytecode (pip compiles a package when it installs it, and pydantic's was), so the untimed run
    may write it and PYTHONDONTWRITEBYTECODE is left out; otherwise each run would compile the matcher's source
    anew and time that instead of its start-up."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=environment)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=environment)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _peak_memory(source: Path, target: Path, workers: int, cache: bool = True) -> tuple[int, float, int]:
    """Peak of the summed resident memory of ``matcher screen`` and its workers, its wall time and exit code."""
    import psutil

    command = [*_matcher_command(), "screen", str(source), "--out", str(target), "--no-log",
               "--workers", str(workers), "--progress", "never", "--as-of", AS_OF.isoformat(),
               *([] if cache else ["--no-cache"])]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        total = 0
        try:
            for member in [watched, *watched.children(recursive=True)]:
                try:
                    total += member.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
        except psutil.NoSuchProcess:
            break
        peak = max(peak, total)
        time.sleep(0.05)
    return peak, time.perf_counter() - started, process.returncode
