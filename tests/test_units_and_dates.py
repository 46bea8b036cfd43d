"""Unit conversion (through pint, with the traps normalised away) and calendar arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.model.dates import add_months, completed_years, months_between
from matcher.model.measurements import LAB_TESTS
from matcher.model.units import UnitProblem, convert


@pytest.mark.parametrize(("test", "written", "expected"), [
    ("urine_protein_24h", "1.2 g/24h", 1.2),      # pint alone reads g/24h as g*h/24
    ("urine_protein_24h", "1200 mg/24 h", 1.2),
    ("urine_protein_24h", "1000 mg/24h", 1.0),    # exact at a >= 1 g boundary, no binary noise
    ("urine_protein_24h", "1.2 g/d", 1.2),
    ("serum_creatinine", "88.4 umol/L", 1.0),     # CLINICAL.md: umol/L = mg/dL x 88.4
    ("serum_creatinine", "88.4 µmol/L", 1.0),
    ("serum_creatinine", "1.2 mg/dl", 1.2),
    ("urine_protein_creatinine_ratio", "113.12 mg/mmol", 1.0),  # 1 g/g = 1000 mg / 8.84 mmol (CLINICAL.md)
    ("urine_protein_creatinine_ratio", "1000 mg/g", 1.0),
    ("urine_protein_creatinine_ratio", "1 mg/mg", 1.0),
    ("neutrophils", "0.5 x10^9/L", 0.5),
    ("neutrophils", "500 /uL", 0.5),
    ("platelets", "30 ×10^9/L", 30.0),
    ("cd4", "200 cells/uL", 200.0),               # CLINICAL.md: 10^6/L = cells/uL
    ("cd4", "350 cells/mm3", 350.0),              # 1 mm3 = 1 uL: how many labs write CD4 counts
    ("cd4", "350 /mm³", 350.0),
    ("neutrophils", "1500 cells/mm3", 1.5),       # 1500 /mm3 = 1.5 x10^9/L
    ("cd4", "350 cells/mm^3", 350.0),
    ("haemoglobin", "80 g/L", 8.0),
    ("alt", "45 IU/L", 45.0),
    ("alt", "0.75 ukat/L", 45.0),
    ("egfr", "60 mL/min/1.73m2", 60.0),
    ("egfr", "60 mL/min/1.73 m²", 60.0),
    ("lvef", "55 %", 55.0),
    ("stimulated_saliva_flow", "6 mL/6 min", 1.0),
])
def test_lab_units(test: str, written: str, expected: float) -> None:
    assert convert(written, LAB_TESTS[test].measure) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(("test", "written", "problem"), [
    ("urine_protein_24h", "1.2", "a unit is required"),
    ("urine_protein_24h", "1.2 g", "cannot be converted"),
    ("urine_protein_creatinine_ratio", "45 %", "is not accepted here"),
    ("egfr", "60 mL/min", "must be per 1.73 m2"),
    ("alt", "45 bananas/L", "cannot read unit"),
    ("alt", "high", "is not a number followed by a unit"),
    ("alt", "1e999 U/L", "is not a finite number"),
])
def test_lab_unit_problems(test: str, written: str, problem: str) -> None:
    with pytest.raises(UnitProblem, match=problem):
        convert(written, LAB_TESTS[test].measure)


def test_a_bare_number_is_never_given_a_unit() -> None:
    with pytest.raises(UnitProblem, match="a unit is required"):
        convert(2.4, LAB_TESTS["urine_protein_24h"].measure)


@pytest.mark.parametrize(("born", "on", "years"), [
    ("2000-02-29", "2026-02-28", 25),
    ("2000-02-29", "2026-03-01", 26),
    ("2011-11-02", "2026-11-02", 15),
    ("2011-11-03", "2026-11-02", 14),
])
def test_completed_years(born: str, on: str, years: int) -> None:
    assert completed_years(dt.date.fromisoformat(born), dt.date.fromisoformat(on)) == years


@pytest.mark.parametrize(("start", "end", "months"), [
    ("2024-09-15", "2025-03-15", 6.0),
    ("2025-01-31", "2025-02-28", 1.0),     # end of month: 31 Jan + 1 month = 28 Feb
    ("2025-01-01", "2025-02-15", 1 + 14 / 28),
    ("2025-01-10", "2025-04-09", 2 + 30 / 31),
    ("2025-01-10", "2025-01-10", 0.0),
])
def test_months_between(start: str, end: str, months: float) -> None:
    assert months_between(dt.date.fromisoformat(start), dt.date.fromisoformat(end)) == pytest.approx(months)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)


def test_the_kept_factors_are_what_pint_gives() -> None:
    """matcher/model/unit_factors.py (the usual spellings, read without pint) is exactly pint's answer for every entry,
    and holds every usual spelling for every measure: regenerate it with write_factor_table() if this fails."""
    from matcher.model.unit_factors import FACTORS
    from matcher.tools.factor_table import factor_table

    assert factor_table() == FACTORS


@pytest.mark.parametrize(("test", "written", "problem"), [
    ("urine_protein_24h", "1.2 g", "cannot be converted"),
    ("urine_protein_creatinine_ratio", "45 %", "is not accepted here"),
    ("alt", "45 bananas/L", "cannot read unit"),
])
def test_refusals_are_the_same_with_or_without_the_kept_factors(test: str, written: str, problem: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.model.units

    monkeypatch.setattr(matcher.model.units, "FACTORS", {})
    with pytest.raises(UnitProblem, match=problem):
        convert(written, LAB_TESTS[test].measure)


@pytest.mark.parametrize("written", ["88.4 umol/L", "1.2 mg/dl", "0.5 mmol/L", "1 mg/L"])
def test_conversions_are_the_same_with_or_without_the_kept_factors(written: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import matcher.model.units

    measure = LAB_TESTS["serum_creatinine"].measure
    kept = convert(written, measure)
    monkeypatch.setattr(matcher.model.units, "FACTORS", {})
    assert convert(written, measure) == kept


def test_checking_the_example_patients_needs_no_pint() -> None:
    """Start-up: pint (about a third of a second to load) is imported only for unusual unit spellings."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    script = (
        "import io, sys\n"
        "from matcher.cli import main\n"
        "for path in sys.argv[1:]:\n"
        "    main(['check', path, '--format', 'json'], io.StringIO(), io.StringIO())\n"
        "assert 'pint' not in sys.modules, 'pint was imported'\n"
    )
    examples = sorted(str(p) for p in (root / "patients").iterdir())
    done = subprocess.run([sys.executable, "-c", script, *examples], capture_output=True, text=True, cwd=root,
                          check=False)
    assert done.returncode == 0, done.stderr
