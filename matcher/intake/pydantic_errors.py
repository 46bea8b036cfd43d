"""A pydantic ValidationError as one of our located errors: file, line, column, field path, did-you-mean.

Shared by the patient-file validator and the FHIR importer (which validates the profile it builds).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from matcher.errors import PatientFileError, did_you_mean
from matcher.intake.load import Document, dotted_path


def pydantic_to_error(
    exc: ValidationError, document: Document, root: type[BaseModel], error_type: type[PatientFileError] | Any
) -> Any:
    """Every problem of ``exc`` as one of our errors, located in ``document``: the one that comes first in
    the file is raised, the others are in its ``also`` list in file order, so a file is fixed in one run."""
    problems = _distinct(exc.errors(include_url=False), root)

    def place(problem: Any) -> tuple[int, int]:
        line, column = document.position(tuple(problem["loc"]), key=problem["type"] == "extra_forbidden")
        return (line or 0, column or 0)

    def located(problem: Any) -> Any:
        loc = tuple(problem["loc"])
        line, column = place(problem)
        return error_type(_message(problem, loc, root), file=document.path, line=line or None,
                          column=column or None, field=dotted_path(loc) or None)

    first, *others = sorted(problems, key=place)
    error = located(first)
    error.also = [located(problem) for problem in others]
    return error


def _distinct(problems: list[Any], root: type[BaseModel]) -> list[Any]:
    """Problems with pydantic's union-member names dropped from their paths, one per path.

    A value that fails ``str | int | float`` comes back as three problems at ``value.str``,
    ``value.int`` ... ; the user wrote one wrong value.
    """
    by_path: dict[tuple[Any, ...], Any] = {}
    for problem in problems:
        written = tuple(problem["loc"])
        # for an unknown key the last part is the key as the user wrote it, whatever it looks like
        extra = problem["type"] == "extra_forbidden"
        loc = _field_path(written[:-1], root) + written[-1:] if extra else _field_path(written, root)
        if loc not in by_path:
            by_path[loc] = {**problem, "loc": loc}
    return list(by_path.values())


def _field_path(loc: tuple[Any, ...], root: type[BaseModel]) -> tuple[Any, ...]:
    """``loc`` without the parts that are not fields, list indexes or dictionary keys of the data."""
    kept: list[Any] = []
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            kept.append(part)
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            if part in model.model_fields:
                kept.append(part)
                model = _inner_model(model.model_fields[part].annotation)
            elif not _looks_like_type(part):
                kept.append(part)  # an unknown key the user wrote: keep it
                model = None
            continue
        if not _looks_like_type(part):
            kept.append(part)
    return tuple(kept)


def _looks_like_type(part: str) -> bool:
    return part in ("str", "int", "float", "bool", "date", "list", "dict", "none") or "[" in part or "-" in part


def _message(problem: Any, loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        known = list(model.model_fields) if model else []
        hint = did_you_mean(str(loc[-1]), known)
        return f"unknown field{hint}" + ("" if hint else f"; known fields here: {', '.join(known)}")
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        expected = problem.get("ctx", {}).get("expected", "")
        got = problem.get("input")
        options = [part.strip().strip("'") for part in str(expected).replace(" or ", ",").split(",") if part.strip()]
        hint = did_you_mean(str(got), options) if isinstance(got, str) else ""
        return f"{got!r} is not allowed{hint}; expected one of {expected}"
    if problem.get("input", "") is None and kind.endswith("_type"):
        return "empty (null) value: leave the key out when the value is not known"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {problem.get('input')!r}"
    if kind.startswith(("date_", "datetime_")) and isinstance(problem.get("input"), str):
        return f"{problem['input']!r} is not a date: write dates as YYYY-MM-DD (e.g. 2026-11-02)"
    text = str(problem["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    got = problem.get("input")
    if kind not in ("value_error", "assertion_error") and not isinstance(got, (dict, list)):
        text += f" (got {got!r})"
    return text


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        model = _inner_model(model.model_fields[part].annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``X | None`` or ``list[X] | None``, else the annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        for arg in typing.get_args(annotation):
            inner = _inner_model(arg)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return annotation
