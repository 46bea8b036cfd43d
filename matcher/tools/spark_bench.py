"""``matcher bench --spark``: evaluations per CPU-second of ``matcher spark`` against ``matcher screen --workers N``
on the same synthetic cohort, in the same run, and the cores a nightly screening would need.

Both commands run as child processes; their CPU time is that of the whole process tree (for Spark: the
driver, the JVM and its Python workers), sampled every 100 ms and summed per process. Each also runs on a
one-patient cohort: the difference between the two runs is the cost of the evaluations alone, which the
projection scales (a night pays start-up once). Not run by the tests (Spark starts four times): check by hand.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from matcher.tools.bench import AS_OF, _line, _matcher_command

#: the projection's workload: patients screened every night, within this many hours
NIGHTLY_PATIENTS = 10_000_000
NIGHT_HOURS = 8


def tree_cpu_seconds(command: list[str]) -> tuple[float, float, int]:
    """Run ``command``; the user+system CPU seconds of it and every process it started, its wall time and exit
    code. Each process's last sampled CPU time counts (a process that ends between samples loses at most
    its last 100 ms)."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(process.pid)
    seen: dict[tuple[int, float], float] = {}
    while process.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for member in members:
            try:
                times = member.cpu_times()
                seen[(member.pid, member.create_time())] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.1)
    wall = time.perf_counter() - started
    return sum(seen.values()), wall, process.returncode


def run_spark_bench(args: argparse.Namespace, out: TextIO) -> int:
    from matcher.api import load_trials
    from matcher.tools.synthetic import write_jsonl

    trials = len(load_trials())
    workers = args.workers or os.cpu_count() or 1
    evaluations = args.patients * trials
    print(f"\nSpark against matcher screen ({args.patients} synthetic patients x {trials} trials = "
          f"{evaluations:,} evaluations, {workers} workers): evaluations per CPU-second, the CPU time of every "
          "process counted. Each command also runs on 1 patient: the difference is the cost of the evaluations "
          "without start-up.", file=out, flush=True)
    marginal: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="matcher-bench-spark-") as scratch:
        for size in (1, args.patients):
            write_jsonl(Path(scratch) / f"cohort-{size}.jsonl", size, args.seed, AS_OF)
        for label, command in _commands(Path(scratch), workers).items():
            (start_cpu, _, code_one), (cpu, wall, code) = (tree_cpu_seconds(command(size)) for size in
                                                           (1, args.patients))
            if code_one or code:
                print(f"matcher bench: {label} failed (exit {code_one or code})", file=out)
                return 1
            _line(out, f"{label}, whole run", f"{evaluations / cpu:,.0f}",
                  f"{cpu:,.1f} CPU-s, {wall:,.1f} s wall")
            if cpu <= start_cpu:
                print(f"matcher bench: {label} cost no more for {args.patients} patients than for 1: give more "
                      "--patients", file=out)
                return 1
            rate = (evaluations - trials) / (cpu - start_cpu)
            marginal[label] = (rate, start_cpu)
            _line(out, f"{label}, start-up left out", f"{rate:,.0f}",
                  f"start-up {start_cpu:,.1f} CPU-s" + ("; uncertain: the evaluations cost less than the start-up, "
                                                        "give more --patients" if cpu - start_cpu < start_cpu else ""))
    (screen_rate, _), (spark_rate, spark_start) = marginal.values()
    _line(out, "Spark / matcher screen (start-up left out)", f"{spark_rate / screen_rate:.2f}x")
    cpu_seconds = NIGHTLY_PATIENTS * trials / spark_rate + spark_start
    needed = cpu_seconds / (NIGHT_HOURS * 3600)
    print(f"\nProjection: {NIGHTLY_PATIENTS:,} patients x {trials} trials in {NIGHT_HOURS} hours on Spark needs "
          f"~{math.ceil(needed)} cores ({needed:.1f}).", file=out)
    print("  Assumptions: the rate measured here without start-up (this machine and its load, this synthetic "
          "cohort, no explanations stored), one start-up for the whole night; every core busy all night; "
          "patients as complex as the synthetic ones; cost linear in patients x trials; reading the source and "
          "writing Parquet are not the bottleneck. More --patients gives a steadier figure.", file=out)
    return 0


def _commands(scratch: Path, workers: int) -> dict[str, Callable[[int], list[str]]]:
    as_of = AS_OF.isoformat()
    return {
        f"matcher screen --workers {workers}": lambda size: [
            *_matcher_command(), "screen", str(scratch / f"cohort-{size}.jsonl"), "--out",
            str(scratch / "screen.csv"), "--no-log", "--workers", str(workers), "--progress", "never",
            "--as-of", as_of],
        f"matcher spark --master local[{workers}]": lambda size: [
            *_matcher_command(), "spark", str(scratch / f"cohort-{size}.jsonl"), "--out", str(scratch / "table"),
            "--master", f"local[{workers}]", "--partitions", str(workers), "--as-of", as_of],
    }
