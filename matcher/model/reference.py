"""The patient file described from the model itself: the reference in docs/patient-files.md, the JSON
Schema (``matcher schema``) and the commented starting file (``matcher template``).

All three walk :class:`~matcher.model.profile.PatientProfile`, so a field added to the model appears in
each of them; tests/test_patient_reference.py fails when the page is older than the model. Rewrite the
page with ``python -m matcher.model.reference docs/patient-files.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from matcher.model import drugs
from matcher.model.measurements import LAB_TESTS, Quantity
from matcher.model.profile import PatientProfile

BEGIN = "<!-- generated from the model (python -m matcher.model.reference docs/patient-files.md): do not edit -->"
END = "<!-- end of the generated reference -->"

#: how a quantity is written, by field path (the model checks the unit; these give the reader an example)
_QUANTITY_EXAMPLES = {
    "demographics.weight": '`"62 kg"`, `"137 lb"`',
    "demographics.height": '`"165 cm"`, `"1.65 m"`',
    "labs[].value": 'in a unit of the test (table below), e.g. `"2.4 g/24h"`, `"97 umol/L"`',
    "labs[].uln": "in a unit of the test, as the reporting lab gives it",
    "medications[].dose": 'per administration: `"30 mg"`, `"0.5 g/m2"`, `"10 mg/kg"`',
}
#: text fields that take a name from a list the model checks
_NAMED = {"medications[].drug": "a drug name (list below)"}


@dataclass(frozen=True)
class FieldDoc:
    """One field of one section: its key, how it is written, whether it is required, what it means."""

    key: str
    path: str
    kind: str
    required: bool
    meaning: str


@dataclass(frozen=True)
class SectionDoc:
    """A mapping of the patient file (``demographics``) or an entry of a list of them (``labs[]``)."""

    path: str
    model: type[BaseModel]
    fields: list[FieldDoc]


def _non_null(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


def _bare(annotation: Any) -> Any:
    """``Annotated[X, ...]`` as X."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The section model inside ``X | None`` or ``list[X] | None``, and whether it is a list of them."""
    for written in _non_null(annotation):
        arg = _bare(written)
        if typing.get_origin(arg) is list:
            inner = _bare(typing.get_args(arg)[0])
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner, True
        elif isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg, False
    return None, False


def _bounds(info: FieldInfo, annotation: Any) -> str:
    limits = [*info.metadata]
    if typing.get_origin(annotation) is typing.Annotated:
        for extra in typing.get_args(annotation)[1:]:
            limits += extra.metadata if isinstance(extra, FieldInfo) else [extra]
    low = next((m.ge for m in limits if isinstance(m, annotated_types.Ge)), None)
    high = next((m.le for m in limits if isinstance(m, annotated_types.Le)), None)
    return f" {low}-{high}" if low is not None and high is not None else ""


def _kind(annotation: Any, info: FieldInfo, path: str) -> str:
    """How a value is written, in words: ``true or false``, ``date YYYY-MM-DD``, ``one of `a`, `b```."""
    if annotation == Quantity or (set(_non_null(annotation)) >= {str, int, float}):
        example = _QUANTITY_EXAMPLES.get(path)
        return "quantity with its unit" + (f": {example}" if example else "")
    kinds = []
    for arg in _non_null(annotation):
        bounds = _bounds(info, arg)
        bare = _bare(arg)
        if typing.get_origin(bare) is list:
            inner = _bare(typing.get_args(bare)[0])
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                kinds.append(f"list of entries (`{path}[]` below)")
            else:
                kinds.append(f"list, each {_kind(inner, FieldInfo(), path)}")
        elif isinstance(bare, type) and issubclass(bare, BaseModel):
            kinds.append(f"mapping (`{path}` below)")
        elif typing.get_origin(bare) is Literal:
            kinds.append("one of " + ", ".join(f"`{value}`" for value in typing.get_args(bare)))
        elif bare is bool:
            kinds.append("`true` or `false`")
        elif bare is dt.date:
            kinds.append("date YYYY-MM-DD")
        elif bare is int:
            kinds.append(f"whole number{bounds}")
        elif bare is float:
            kinds.append(f"number{bounds}")
        elif bare is str:
            kinds.append(_NAMED.get(path, "text"))
        else:  # a new kind of value: the reference must say how to write it
            raise TypeError(f"{path}: no wording for {bare!r} in matcher.model.reference")
    return " or ".join(kinds)


def sections(model: type[BaseModel] = PatientProfile, path: str = "") -> Iterator[SectionDoc]:
    """Every section of the patient file, depth first in the model's order, the top level first."""
    fields: list[FieldDoc] = []
    nested: list[tuple[type[BaseModel], str]] = []
    for key, info in model.model_fields.items():
        field_path = f"{path}.{key}" if path else key
        inner, is_list = _model_of(info.annotation)
        if inner is not None:
            nested.append((inner, field_path + ("[]" if is_list else "")))
        fields.append(FieldDoc(key, field_path, _kind(info.annotation, info, field_path), info.is_required(),
                               info.description or ""))
    yield SectionDoc(path or "top level", model, fields)
    for inner, inner_path in nested:
        yield from sections(inner, inner_path)


def _docstring(model: type[BaseModel]) -> str:
    """The first paragraph of the section model's docstring, in Markdown (the top level's says no more than
    the conventions above the reference)."""
    if model is PatientProfile or not model.__doc__:
        return ""
    return " ".join(model.__doc__.strip().split("\n\n")[0].split()).replace("``", "`")


def markdown() -> str:
    """The reference: one table per section, then the lab tests and the drug names the model accepts."""
    lines = [BEGIN, ""]
    for section in sections():
        title = "Top level" if section.path == "top level" else f"`{section.path}`"
        lines += [f"### {title}", ""]
        about = _docstring(section.model)
        if about:
            lines += [about, ""]
        lines += ["| field | written as | required | meaning |", "| --- | --- | --- | --- |"]
        for field in section.fields:
            lines.append(f"| `{field.key}` | {field.kind} | {'yes' if field.required else ''} | {field.meaning} |")
        lines.append("")
    lines += ["### Lab tests (`labs[].test`)", "",
              "| test | what | canonical unit | possible range | needs `uln` |", "| --- | --- | --- | --- | --- |"]
    for name, test in LAB_TESTS.items():
        lines.append(f"| `{name}` | {test.label} | {test.measure.display} | {test.low:g}-{test.high:g} | "
                     f"{'yes' if test.needs_uln else ''} |")
    lines += ["", "### Drugs (`medications[].drug`)", "",
              "Written by name (any case); common aliases are accepted too ("
              + ", ".join(f"`{alias}` for `{name}`" for alias, name in sorted(drugs.ALIASES.items())[:4])
              + ", ...).", "",
              ", ".join(f"`{name}`" for name in drugs.known_drug_names() if name in drugs.DRUGS), "", END]
    return "\n".join(lines)


def replace_between(text: str, begin: str, end: str, generated: str) -> str:
    """``text`` with the part from ``begin`` to ``end`` (the markers included) replaced by ``generated``."""
    if begin not in text or end not in text:
        raise ValueError(f"the page has no {begin} ... {end} markers")
    before, rest = text.split(begin, 1)
    return before + generated + rest.split(end, 1)[1]


def replace_generated(text: str) -> str:
    """``text`` with the part between the markers replaced by the current reference."""
    return replace_between(text, BEGIN, END, markdown())


def json_schema() -> str:
    """The JSON Schema of a patient file (``matcher schema``): editors validate YAML and JSON with it."""
    schema = PatientProfile.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": "trial-matcher patient file", **{k: v for k, v in schema.items() if k != "title"}}
    return json.dumps(schema, indent=2, ensure_ascii=False)


def template() -> str:
    """A starting patient file (``matcher template``): the required fields, and every other field as a
    comment saying how it is written. It validates as it is; uncomment only what is known (absent is
    unknown: nothing is filled in for you)."""
    lines = ["# A patient file for trial-matcher (docs/patient-files.md is the full reference).",
             "# Uncomment and fill in only what is known: a field left out is unknown, never assumed.",
             "# false, a negative test and an empty list ([]) are known answers.", ""]
    lines += _template_lines(PatientProfile, "", 0)
    return "\n".join(lines) + "\n"


def _template_lines(model: type[BaseModel], path: str, depth: int) -> list[str]:
    pad = "  " * depth
    lines: list[str] = []
    for key, info in model.model_fields.items():
        field_path = f"{path}.{key}" if path else key
        inner, is_list = _model_of(info.annotation)
        if info.is_required() and depth == 0:
            value = "patient-1" if key == "id" else "..."
            lines.append(f"{pad}{key}: {value}  # required: {_kind(info.annotation, info, field_path)}")
            continue
        if inner is None:
            kind = _kind(info.annotation, info, field_path).replace("`", "")
            required = "required; " if info.is_required() else ""
            lines.append(f"{pad}# {key}:  # {required}{kind}")
            continue
        lines.append(f"{pad}# {key}:" + ("  # a list of entries like this one" if is_list else ""))
        entry = _template_lines(inner, field_path + ("[]" if is_list else ""), depth + 1)
        if is_list:
            first = entry[0].lstrip()
            entry[0] = f"{pad}#   - {first.removeprefix('# ')}"
            entry[1:] = [f"{pad}#     {line.lstrip().removeprefix('# ')}" if line.lstrip().startswith("#")
                         else line for line in entry[1:]]
        else:
            entry = [f"{pad}#   {line.lstrip().removeprefix('# ')}" for line in entry]
        lines += entry
    return lines


def rewrite_page(argv: list[str], generate: Callable[[], str], replace: Callable[[str], str]) -> int:
    """``python -m MODULE [PAGE]``: rewrite the generated part of PAGE with ``replace``, or print ``generate()``."""
    if not argv:
        print(generate())
        return 0
    page = Path(argv[0])
    page.write_text(replace(page.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    """``python -m matcher.model.reference [PAGE]``: rewrite the generated part of PAGE, or print it."""
    return rewrite_page(argv, markdown, replace_generated)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
