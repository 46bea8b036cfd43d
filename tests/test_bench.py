"""`matcher bench` runs end to end on a tiny cohort and prints every figure (speeds are not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

from .helpers import ROOT

FIGURES = (
    "evaluations/s with full explanations, 1 worker",
    "evaluations/s with full explanations, 2 workers",
    "evaluations/s, bare engine step only, 1 process",
    "everything around the engine costs",
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
    assert done.stdout.count("the target") == 3
