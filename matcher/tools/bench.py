"""``matcher bench``: speed and memory, measured on the machine it runs on, on a seeded synthetic cohort.

Quick by default (about a minute on two cores: 1,000 patients for throughput, 5,000 streamed for
memory); ``--full`` is the long run (2,000 and 1,000,000: about two hours). Prints:

* patient-trial evaluations per second with full explanations (each result
  rendered to the JSON of ``matcher check``), with 1 worker and with all cores,
  in steady state (timed from the first result, so starting the workers and
  compiling the trials in each is left out);
* the bare engine step alone (assert, fire and retract of the very facts
  those evaluations asserted, pre-encoded; no field extraction, no
  explanation), so the cost of everything around the engine shows as a ratio;
* ``matcher check`` wall time for one patient against every trial, against
  the start-up time of ``python -c "import pydantic, yaml"`` (medians of 7);
* peak memory (resident, the main process and its workers together, sampled
  every 50 ms) while ``matcher screen`` streams a large synthetic cohort from
  a JSON Lines file to a CSV.

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


def cohort_sizes(args: argparse.Namespace) -> tuple[int, int]:
    """Patients for the throughput figures and for the memory run: as given, else the quick or full default."""
    patients, memory_patients = FULL_SIZES if args.full else QUICK_SIZES
    return args.patients or patients, args.memory_patients or memory_patients


def _line(out: TextIO, label: str, value: str, remark: str = "") -> None:
    print(f"  {label:<58} {value:>16}  {remark}".rstrip(), file=out, flush=True)


def run_bench(args: argparse.Namespace, out: TextIO) -> int:
    from matcher.tools.synthetic import synthetic_patient, write_jsonl

    workers = args.workers or os.cpu_count() or 1
    args.patients, args.memory_patients = cohort_sizes(args)
    print(f"matcher bench: seed {args.seed}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"as of {AS_OF}", file=out, flush=True)
    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as scratch:
        cohort = Path(scratch) / "cohort.jsonl"
        write_jsonl(cohort, args.patients, args.seed, AS_OF)
        print(f"\nThroughput ({args.patients} synthetic patients x every trial):", file=out, flush=True)
        single = _throughput(cohort, 1)
        _line(out, "evaluations/s with full explanations, 1 worker", f"{single:,.0f}")
        parallel = _throughput(cohort, workers)
        _line(out, f"evaluations/s with full explanations, {workers} workers", f"{parallel:,.0f}")
        bare = _bare_engine(cohort)
        _line(out, "evaluations/s, bare engine step only, 1 process", f"{bare:,.0f}")
        _line(out, "everything around the engine costs (bare / full, 1 worker)", f"{bare / single:.1f}x")

        print("\nStart-up (median of 7 runs):", file=out, flush=True)
        baseline = _median_wall([sys.executable, "-c", "import pydantic, yaml"])
        patient = Path(scratch) / "patient.json"  # a synthetic patient: the bench needs no checkout
        patient.write_text(json.dumps(synthetic_patient(args.seed, 0, AS_OF)), encoding="utf-8")
        check = _median_wall([*_matcher_command(), "check", str(patient), "--as-of", AS_OF.isoformat()])
        _line(out, 'python -c "import pydantic, yaml"', f"{baseline * 1000:.0f} ms")
        _line(out, "matcher check, one patient, every trial", f"{check * 1000:.0f} ms",
              f"{check / baseline:.1f}x the bare Python start-up")

        print(f"\nMemory (matcher screen of {args.memory_patients:,} patients streamed from a file, "
              f"{workers} workers, CSV output):", file=out, flush=True)
        big = Path(scratch) / "big.jsonl"
        written = time.perf_counter()
        _write_cohort(big, args.memory_patients, args.seed + 1, workers)
        _line(out, "cohort file written", f"{big.stat().st_size / 1e6:,.0f} MB",
              f"in {time.perf_counter() - written:.0f} s")
        peak, seconds, code = _peak_memory(big, Path(scratch) / "results.csv", workers)
        big.unlink()
        if code not in (0, 4):
            print(f"matcher bench: the memory run failed (exit {code})", file=out)
            return 1
        _line(out, "peak resident memory, all processes", f"{peak / 1e6:,.0f} MB")
        _line(out, "screening time", f"{seconds:,.0f} s",
              f"{args.memory_patients / seconds:,.0f} patients/s")
    return 0


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


def _throughput(cohort: Path, workers: int) -> float:
    """Patient-trial evaluations per second through the screening pipeline (read, validate, evaluate, explain,
    render to JSON), from the first result on (worker start-up and the first batch are not counted)."""
    from matcher.intake.sources import iter_records
    from matcher.screening.screen import screen_records

    started: float | None = None
    evaluations = 0
    for record in screen_records(iter_records(cohort), as_of=AS_OF, workers=workers):
        if record.problem is not None:
            raise RuntimeError(f"a synthetic record was not screened: {record.problem}")
        if started is None:  # timed from the first result: compiling the trials in each worker is left out
            started = time.perf_counter()
            continue
        evaluations += len(record.rows)
    if started is None or evaluations == 0:
        raise RuntimeError("the cohort is too small to time: give --patients 2 or more")
    return evaluations / (time.perf_counter() - started)


def _bare_engine(cohort: Path) -> float:
    """Evaluations per second of the engine step alone, replaying the facts the evaluations asserted."""
    from matcher import api
    from matcher.engine.adapter import Ruleset
    from matcher.intake.sources import iter_records, read_record

    recorded: list[tuple[Ruleset, dict[str, Any]]] = []
    original = Ruleset.fire

    def recording(self: Ruleset, fact: dict[str, Any]) -> list[str]:
        recorded.append((self, fact))
        return original(self, fact)

    evaluations = 0
    with api.Matcher(api.load_trials()) as matcher:
        profiles = [read_record(record).profile for record in iter_records(cohort)]
        Ruleset.fire = recording  # type: ignore[method-assign]
        try:
            for profile in profiles:
                evaluations += len(matcher.evaluate(profile, AS_OF))
        finally:
            Ruleset.fire = original  # type: ignore[method-assign]
        replay = [(ruleset, ruleset.encode(fact)) for ruleset, fact in recorded]
        started = time.perf_counter()
        for ruleset, encoded in replay:
            ruleset.fire_encoded(encoded)
        elapsed = time.perf_counter() - started
    return evaluations / elapsed


def _median_wall(command: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _peak_memory(source: Path, target: Path, workers: int) -> tuple[int, float, int]:
    """Peak of the summed resident memory of ``matcher screen`` and its workers, its wall time and exit code."""
    import psutil

    command = [*_matcher_command(), "screen", str(source), "--out", str(target), "--no-log",
               "--workers", str(workers), "--progress", "never", "--as-of", AS_OF.isoformat()]
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
