"""`matcher bench` runs end to end on a tiny cohort and prints every figure (speeds are not asserted)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

from .helpers import ROOT, RULES, cli

FIGURES = (
    "evaluations/s, outcomes only (CSV, log), 2 workers",
    "evaluations/s with full explanations, 1 worker",
    "evaluations/s with full explanations, 2 workers",
    "evaluations/s, bare engine step only, 1 process",
    "everything around the engine costs",
    "facts answered by the decision cache, 1 process",
    'python -c "import pydantic, yaml"',
    "matcher check, one patient, every trial",
    "peak resident memory, all processes",
    "screening time",
)


def test_bench_prints_every_figure_with_a_positive_value() -> None:
    done = subprocess.run([sys.executable, "-m", "matcher", "bench", "--patients", "40", "--memory-patients", "300",
                           "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for figure in FIGURES:
        (line,) = [line for line in done.stdout.splitlines() if figure in line]
        numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\.?\d*", line.split(figure, 1)[1])]
        assert numbers and numbers[0] > 0, line
    assert "target" not in done.stdout.lower()  # figures for users, not the project's development targets


def test_bench_json_gives_every_figure_of_one_run_as_numbers() -> None:
    from matcher.tools.bench import JSON_FIGURES

    done = subprocess.run([sys.executable, "-m", "matcher", "bench", "--quick", "--format", "json", "--patients", "30",
                           "--memory-patients", "60", "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)  # the JSON object and nothing else
    for name in ("outcomes_per_s_all_cores", "explained_per_s_all_cores", "bare_engine_per_s_1_process",
                 "cache_hit_rate"):
        assert name in JSON_FIGURES
    for name in JSON_FIGURES:
        assert isinstance(figures[name], (int, float)) and not isinstance(figures[name], bool), name
        assert figures[name] > 0, name
    assert 0 < figures["cache_hit_rate"] < 1
    assert (figures["patients"], figures["memory_patients"], figures["workers"], figures["cache"]) == (30, 60, 2, True)


def test_quick_and_full_exclude_each_other_and_quick_is_the_default() -> None:
    from matcher.cli import build_parser
    from matcher.tools.bench import QUICK_SIZES, cohort_sizes

    parse = build_parser().parse_args
    assert cohort_sizes(parse(["bench", "--quick"])) == cohort_sizes(parse(["bench"])) == QUICK_SIZES
    assert parse(["bench", "--no-cache"]).no_cache and not parse(["bench"]).no_cache
    code, _, err = cli("bench", "--quick", "--full")
    assert code == 2 and "not allowed with" in err


def test_the_default_bench_is_the_quick_one_and_full_is_the_long_run() -> None:
    from matcher.cli import build_parser
    from matcher.tools.bench import FULL_SIZES, QUICK_SIZES, cohort_sizes

    parse = build_parser().parse_args
    assert cohort_sizes(parse(["bench"])) == QUICK_SIZES
    assert cohort_sizes(parse(["bench", "--full"])) == FULL_SIZES == (2_000, 1_000_000)
    assert cohort_sizes(parse(["bench", "--full", "--memory-patients", "300"])) == (2_000, 300)
    patients, memory_patients = QUICK_SIZES
    trials = len(list(RULES.glob("*.yaml")))
    # the quick run's work at the slowest speed measured (369 evaluations/s per worker, docs/bench.md): throughput
    # twice (1 worker, then 2) and the memory run on 2 workers
    assert patients * trials / 369 * 1.5 + memory_patients * trials / (2 * 369) < 100


def test_the_spark_bench_prints_its_rates_and_a_projection_with_its_assumptions(monkeypatch: Any) -> None:
    """`matcher bench --spark` without starting Spark: each command's CPU time is given (start-up 10 CPU-s for
    screen, 40 for Spark, plus 1 CPU-s per 100 evaluations for screen and per 80 for Spark); the rates, their ratio
    and the cores projected for 10^7 patients x the trials in 8 hours follow from them."""
    import io
    import math

    from matcher.cli import build_parser
    from matcher.tools import spark_bench

    trials = len(list(RULES.glob("*.yaml")))

    def cpu_seconds(command: list[str]) -> tuple[float, float, int]:
        patients = int(next(part for part in command if part.endswith(".jsonl")).rsplit("-", 1)[1].split(".")[0])
        spark = "spark" in command
        start, per_evaluation = (40.0, 1 / 80) if spark else (10.0, 1 / 100)
        return start + patients * trials * per_evaluation, 1.0, 0

    monkeypatch.setattr(spark_bench, "tree_cpu_seconds", cpu_seconds)
    out = io.StringIO()
    assert spark_bench.run_spark_bench(build_parser().parse_args(["bench", "--spark", "--patients", "200",
                                                                  "--workers", "2"]), out) == 0
    text = out.getvalue()
    assert "Spark / matcher screen (start-up left out)" in text and "0.80x" in text
    cores = (10_000_000 * trials / 80 + 40 + trials / 80) / (8 * 3600)
    assert f"~{math.ceil(cores)} cores ({cores:.1f})" in text
    assert "Assumptions: the rate measured here without start-up" in text
