"""Quantities with units, converted by pint (never by a hand-made table).

pint parses most clinical notation, but a few common spellings parse into a
*different* quantity without any error, so unit text is normalised first:

* ``g/24h`` would be read as ``g/24*h`` (gram-hours divided by 24); it becomes
  ``g/(24 h)``, which pint then converts to ``g/day`` correctly. The same holds
  for any ``/<number><unit>``, e.g. saliva ``mL/6 min``.
* ``m2`` is not a pint unit: ``g/m2`` becomes ``g/m**2``; ``²`` becomes ``**2``; likewise
  ``mm3`` and ``³`` (CD4 counts in cells/mm3) become ``**3``.
* ``x10^9``, ``×10^9`` and ``*10^9`` become ``* 10**9``.
* ``cells/uL`` drops the word ``cells`` (a count is dimensionless); ``µ`` is ``u``.
* ``IU`` (for enzyme activities) is the same as ``U``.

Dimensionless targets (ratios such as g/g) are a trap of their own: pint would
convert ``55 %`` into ``0.55 g/g`` without complaint, so for those the written
unit must be one of a short list of spellings.

Creatinine is the one analyte written both in mass and in molar units; its molar
mass (113.12 g/mol, so 1 mg/dL = 88.4 umol/L) is applied through pint as well.

Building pint's unit registry is slow (a third of a second), so the factors pint
gives for the usual spellings are kept in :mod:`matcher.model.unit_factors`, generated
from pint by :func:`matcher.tools.factor_table.write_factor_table` (a test checks the file against pint):
pint is imported only for a spelling that is not there. What is accepted or
refused, and every message, is the same either way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from matcher.model.unit_factors import FACTORS  # generated: see matcher.tools.factor_table

CREATININE_MOLAR_MASS = "113.12 g/mol"

_PER_NUMBER = re.compile(r"/\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)")
_TIMES_TEN = re.compile(r"\s*[x×*]\s*10\s*\^\s*(-?\d+)")
_SQUARE = re.compile(r"(?<=[A-Za-z])(?:2|²|\^2)\b|²")
_CUBE = re.compile(r"(?<=[A-Za-z])(?:3|³|\^3)\b|³")
_CELLS = re.compile(r"\bcells?\b", re.IGNORECASE)
_IU = re.compile(r"\bIU\b")
_BSA_SUFFIX = re.compile(r"/\s*1\.73\s*m(?:2|²|\^2|\*\*2)?\s*$")
_NUMBER_AND_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
#: the only places a unit may contain digits: per-collection (/24h, /6 min), powers of ten,
#: squares, cubes (cells/mm3), and the /1.73 m2 of eGFR; any other digit in a unit is refused (pint would read
#: "1 500 mg" or "1,0 g" as a product and silently change the value)
_DIGITS_ALLOWED = re.compile(
    r"/\s*1\.73\s*m(?:2|²|\^2|\*\*2)?"
    r"|/\s*\d+(?:\.\d+)?\s*[A-Za-z]+"
    r"|(?:[x×*]\s*)?10\s*(?:\^|\*\*)\s*-?\d+"
    r"|(?<=[A-Za-z])(?:[23²³]|\^[23]|\*\*[23])\b"
)


class UnitProblem(ValueError):
    """A value's unit is missing, unknown, or of the wrong kind; the message says which."""


@lru_cache(maxsize=1)
def registry() -> Any:
    """The one unit registry (cached on disk by pint: building it is the slow part)."""
    import pint

    reg: Any
    try:
        reg = pint.UnitRegistry(cache_folder=":auto:")
    except Exception:  # pragma: no cover - an unwritable cache folder must not stop the matcher
        reg = pint.UnitRegistry()
    return reg


@lru_cache(maxsize=4096)
def normalise_unit_text(unit: str) -> str:
    """Rewrite clinical unit spellings that pint would misread (see module docstring). Kept per spelling: the
    same few spellings recur in every patient, and this is most of a conversion's cost."""
    text = unit.strip().replace("µ", "u").replace("μ", "u")
    text = _TIMES_TEN.sub(r" * 10**\1 ", text)
    text = _CELLS.sub("", text)
    text = _IU.sub("U", text)
    text = _SQUARE.sub("**2", text)
    text = _CUBE.sub("**3", text)
    text = _PER_NUMBER.sub(r"/(\1 \2)", text)
    text = text.strip().lstrip("*").strip()
    text = re.sub(r"^/", "1/", text)
    return text


@dataclass(frozen=True)
class Measure:
    """What a quantity is measured in: its canonical unit and how it may be written."""

    canonical: str
    display: str
    #: For dimensionless canonical units: the only spellings accepted (normalised, lower case).
    spellings: tuple[str, ...] = ()
    #: Convert molar concentrations with this molar mass (creatinine).
    molar_mass: str | None = None
    #: eGFR is written per 1.73 m2 of body surface; that suffix is part of the unit.
    per_bsa: bool = False
    #: A count read as written, never converted (cells per high-power field): its unit must be one of
    #: ``spellings`` and pint is not asked (it knows no microscope fields).
    plain_count: bool = False
    #: A titre, written ``1:N`` and read as its reciprocal N (ANA 1:160 is 160).
    titre: bool = False


def split_number_and_unit(text: str) -> tuple[float, str]:
    if "," in text:
        raise UnitProblem(f"{text!r} has a comma: write decimals with a point and no thousands separator")
    match = _NUMBER_AND_UNIT.match(text)
    if not match:
        raise UnitProblem(f"{text!r} is not a number followed by a unit")
    unit = match.group(2)
    if any(ch.isdigit() for ch in _DIGITS_ALLOWED.sub("", unit)):
        raise UnitProblem(f"{text!r} has a number inside its unit {unit!r}; write one number and its unit, "
                          "e.g. '1.5 g/24h'")
    return float(match.group(1)), unit


def convert(value: Any, measure: Measure) -> float:
    """``value`` (text like ``"88 umol/L"``) in ``measure.canonical``; raises UnitProblem.

    A bare number is refused: the matcher never guesses a unit.
    """
    if measure.titre:
        return _reciprocal_titre(value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnitProblem(f"expected a number with a unit such as '{_example(measure)}', got {value!r}")
    if not isinstance(value, str):
        raise UnitProblem(f"a unit is required: write e.g. '{value} {measure.display}', not a bare number")
    number, unit = split_number_and_unit(value)
    if not math.isfinite(number):
        raise UnitProblem(f"{value!r} is not a finite number")
    if not unit:
        raise UnitProblem(f"a unit is required: write e.g. '{number:g} {measure.display}', not a bare number")
    if measure.per_bsa:
        stripped = _BSA_SUFFIX.sub("", unit)
        if stripped == unit:
            raise UnitProblem(f"unit {unit!r} must be per 1.73 m2 of body surface, e.g. '{_example(measure)}'")
        unit = stripped
    normalised = normalise_unit_text(unit)
    if measure.spellings and normalised.replace(" ", "").lower() not in measure.spellings:
        accepted = measure.display if measure.plain_count else ", ".join(measure.spellings)
        raise UnitProblem(f"unit {unit!r} is not accepted here; use one of: {accepted}")
    if measure.plain_count:
        return number
    # Round away binary noise (1000 mg/24h must be exactly 1 g/day at a ">= 1 g" boundary).
    return float(f"{number * conversion_factor(unit, normalised, measure):.12g}")


_TITRE = re.compile(r"^\s*1\s*:\s*(\d+)\s*$")


def _reciprocal_titre(value: Any) -> float:
    """``"1:160"`` as 160. Only the written ratio is accepted: a bare 160 could be a titre or a count."""
    match = _TITRE.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) == 0:
        raise UnitProblem(f"write a titre as 1:N (the dilution), e.g. '1:160', not {value!r}")
    return float(match.group(1))


def conversion_factor(unit: str, normalised: str, measure: Measure) -> float:
    """How many ``measure.canonical`` one ``unit`` is (all units here are linear)."""
    known = FACTORS.get((normalised, measure.canonical, measure.molar_mass or ""))
    return known if known is not None else pint_factor(unit, normalised, measure)


@lru_cache(maxsize=4096)
def pint_factor(unit: str, normalised: str, measure: Measure) -> float:
    """:func:`conversion_factor` worked out by pint."""
    import pint

    quantity = parse_unit(unit, normalised)
    target = parse_unit(measure.canonical, normalise_unit_text(measure.canonical))
    candidates = [quantity]
    if measure.molar_mass:
        molar_mass = registry().Quantity(measure.molar_mass)
        candidates += [quantity * molar_mass, quantity / molar_mass]
    for candidate in candidates:
        try:
            return float((candidate / target).to("dimensionless").magnitude)
        except pint.errors.DimensionalityError:
            continue
    raise UnitProblem(f"unit {unit!r} cannot be converted to {measure.display}")


def parse_unit(written: str, normalised: str) -> Any:
    """The unit text as a pint quantity (it may carry a factor, as in ``10**9/L``)."""
    import pint

    if not normalised:
        return registry().Quantity(1)
    try:
        parsed = registry().parse_expression(normalised)
    except Exception as exc:  # pint raises several unrelated types for bad text
        raise UnitProblem(f"cannot read unit {written!r}: {exc}") from None
    if not isinstance(parsed, pint.Quantity):
        raise UnitProblem(f"cannot read unit {written!r}: it is a number, not a unit")
    return parsed


def _example(measure: Measure) -> str:
    return "1:160" if measure.titre else f"1 {measure.display}"


def check_unit_text(unit: str) -> None:
    """Raise UnitProblem if ``unit`` is not a unit pint can read (used when loading rule files)."""
    parse_unit(unit, normalise_unit_text(_BSA_SUFFIX.sub("", unit)))


#: unit spellings whose factors are kept in matcher/model/unit_factors.py, for every measure that accepts them
USUAL_SPELLINGS = (
    "mg", "g", "ug", "µg", "mcg", "kg", "lb", "cm", "m", "mm", "in", "m2", "m²", "cm2",
    "g/day", "g/d", "g/24h", "g/24 h", "mg/day", "mg/d", "mg/24h", "mg/24 h", "mg/week", "g/week",
    "mg/kg/day", "g/kg/day", "mg/kg", "g/kg", "ug/kg", "mcg/kg", "mg/m2", "g/m2", "mg/m^2", "mg/m²",
    "g/g", "mg/mg", "mg/g", "mg/mmol", "g/mol", "mg/umol", "g/mmol",
    "mg/dL", "mg/dl", "mg/L", "g/L", "g/dL", "g/dl", "umol/L", "µmol/L", "μmol/L", "mmol/L",
    "U/L", "IU/L", "mU/mL", "ukat/L", "IU/mL", "U/mL",
    "x10^9/L", "10^9/L", "×10^9/L", "*10^9/L", "/uL", "/µL", "cells/uL", "cells/µL", "x10^3/uL", "x10^6/L",
    "10^6/L", "cells/mm3", "/mm3", "cells/mm³",
    "mL/min", "ml/min", "mL/s", "mL/6 min", "mL/6min", "mL/5 min", "mL/15 min", "mmHg", "kPa", "%", "percent",
)
