"""Field writers found in the profile model: a bool/enum patient field or list-entry field that reads one
attribute (``renal.dialysis``, an infection's ``severe``, a malignancy's ``excised``...), found by name
and checked by reading it back.
"""
from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from matcher.intake.pydantic_errors import _inner_model
from matcher.model.fields import FieldSpec, Observation
from matcher.model.profile import PatientProfile

from .trials import PATIENT
from .writers import Ctx, Token, Writer, set_path


# ------------------------------------------------------------------ plain attributes, found in the profile model
def _model_paths(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, annotation) of every scalar attribute reachable through nested models (not lists)."""
    for name, info in model.model_fields.items():
        inner = _inner_model(info.annotation)
        path = f"{prefix}{name}"
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            if typing.get_origin(strip_optional(info.annotation)) is not list:
                yield from _model_paths(inner, path + ".")
        else:
            yield path, info.annotation

def strip_optional(annotation: Any) -> Any:
    """``X`` for ``X | None``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return args[0] if union and len(args) == 1 else annotation

def attribute_writer(name: str, spec: FieldSpec) -> Writer | None:
    """A bool/enum patient field that reads one attribute of the profile (``renal.dialysis``...): find the
    attribute by name and check that writing it is read back."""
    candidates = [path for path, _ in _model_paths(PatientProfile)
                  if path.endswith("." + name) or path == name or path.replace(".", "_").endswith(name)]
    choices: tuple[Any, ...] = (True, False) if spec.type == "bool" else spec.choices
    for path in candidates:
        try:
            readings = []
            for value in choices:
                data: dict[str, Any] = {"id": "probe"}
                set_path(data, path, value)
                readings.append(spec.extract(PatientProfile.model_validate(data), dt.date(2026, 1, 1)))
        except Exception:  # not this path
            continue
        if all(isinstance(r, Observation) and r.value == v for r, v in zip(readings, choices, strict=True)):

            def write(ctx: Ctx, data: dict[str, Any], token: Token, path: str = path) -> None:
                set_path(data, path, token.value)

            return Writer(name, PATIENT, write, choices=choices)
    return None

def entry_model(list_name: str) -> type[BaseModel]:
    model = _inner_model(PatientProfile.model_fields[list_name].annotation)
    assert isinstance(model, type) and issubclass(model, BaseModel), list_name
    return model


def item_attribute_writer(scope: str, name: str, spec: FieldSpec) -> Writer | None:
    """An item field that reads the entry's attribute of the same name (infection status, excised...)."""
    model = entry_model(scope)
    if name not in model.model_fields or spec.type not in ("bool", "enum"):
        return None
    choices: tuple[Any, ...] = (True, False) if spec.type == "bool" else spec.choices

    def write(ctx: Ctx, entry: dict[str, Any], token: Token) -> None:
        entry[name] = token.value

    return Writer(name, scope, write, choices=choices)
