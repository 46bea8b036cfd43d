"""Reading FHIR values: dates, codings, displays, the project's extensions, UCUM units."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from matcher.intake.fhir import codes
from matcher.model.units import UnitProblem

_UCUM_PER_COLLECTION = re.compile(r"/\((\d+(?:\.\d+)?)\.([A-Za-z]+)\)")
_UCUM_ANNOTATION = re.compile(r"\{[^}]*\}")


def ucum_to_text(code: str) -> str:
    """A UCUM unit code in a spelling the profile's unit reader accepts; raises UnitProblem.

    ``g/(24.h)`` -> ``g/24h``, ``mL/min/{1.73_m2}`` and ``mL/min/1.73.m2`` -> ``mL/min/1.73m2``,
    ``10*9/L`` -> ``x10^9/L``, ``[IU]/L`` -> ``IU/L``, ``mm[Hg]`` -> ``mmHg``; annotations such as
    ``{creat}`` or ``{cells}`` are dropped (they name what is counted, not a unit), and a count per
    volume (``/uL``) is written ``cells/uL``.
    """
    text = code.strip()
    if not text:
        raise UnitProblem("empty UCUM unit")
    text = re.sub(r"/\{?1\.73[._]m2\}?$", "/1.73m2", text)
    text = _UCUM_ANNOTATION.sub("", text)
    text = _UCUM_PER_COLLECTION.sub(r"/\1\2", text)
    text = text.replace("[IU]", "IU").replace("[iU]", "IU").replace("mm[Hg]", "mmHg")
    text = text.replace("[HPF]", "HPF").replace("[LPF]", "LPF")  # per microscope field (urine sediment)
    if "[" in text or "]" in text:
        raise UnitProblem(f"UCUM unit {code!r} uses a special unit the matcher does not convert")
    text = re.sub(r"^10\*(-?\d+)", r"x10^\1", text)
    text = re.sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", "*", text)
    if text.startswith("/"):  # a count per volume, e.g. /uL or {cells}/uL
        text = "cells" + text
    return text


def number_text(value: Decimal | float | int) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else f"{value:g}"


def as_date(value: Any) -> dt.date | None:
    """A FHIR date or dateTime as a calendar date; None for a partial date (year or year-month)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def code_text(concept: Any) -> str:
    """``system|code|display`` of each coding, or the text, for listing what was not used."""
    parts = [f"{c.system or '?'}|{c.code or '?'}|{c.display or ''}".rstrip("|") for c in codings(concept)]
    if not parts and concept is not None and getattr(concept, "text", None):
        parts.append(f"text {concept.text!r}")
    return "; ".join(parts)


def display(concept: Any, fallback: str) -> str:
    if concept is not None and getattr(concept, "text", None):
        return str(concept.text)
    for coding in codings(concept):
        if coding.display:
            return str(coding.display)
    return fallback


def extension(resource: Any, name: str) -> Any:
    """The value of the project's extension ``urn:trial-matcher:profile:<name>``, or None."""
    url = f"{codes.PROFILE}:{name}"
    for element in getattr(resource, "extension", None) or []:
        if element.url == url:
            for attr in ("valueCode", "valueBoolean", "valueString", "valueInteger"):
                value = getattr(element, attr, None)
                if value is not None:
                    return value
    return None


def yaml_scalar(value: Any) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in str(value))

