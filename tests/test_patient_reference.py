"""The patient-file reference (docs/patient-files.md), ``matcher schema`` and ``matcher template`` are
made from the model: each names every field, the page is never older than the model, the template
validates as written and the schema accepts every example patient."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher.cli import EXIT_BAD_INPUT, EXIT_UNDETERMINED
from matcher.intake.load import read_document
from matcher.model.profile import PatientProfile
from matcher.model.reference import BEGIN, END, replace_generated, sections

from .helpers import PATIENTS, ROOT, cli

PAGE = ROOT / "docs" / "patient-files.md"


def every_field_path() -> list[str]:
    """``labs[].uln``, ``diagnoses.sle.present``, ...: every field of the model, found by walking it."""
    return [field.path for section in sections() for field in section.fields]


def test_the_walk_reaches_every_section_of_the_model() -> None:
    paths = every_field_path()
    for expected in ("administrative.in_other_trial", "procedures[].type", "immunizations[].live",
                     "infections[].agent", "malignancies[].category", "medications[].administrations",
                     "pregnancy.tests[].specimen", "diagnoses.lupus_nephritis.biopsy_class"):
        assert expected in paths
    assert len(paths) == len(set(paths))


def test_the_reference_page_is_as_new_as_the_model() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert replace_generated(text) == text, (
        "docs/patient-files.md is older than the model: python -m matcher.model.reference docs/patient-files.md")


def test_the_reference_page_has_a_row_for_every_field_under_its_section() -> None:
    generated = PAGE.read_text(encoding="utf-8").split(BEGIN)[1].split(END)[0]
    tables = {block.split("\n", 1)[0].strip("` "): block for block in generated.split("\n### ")[1:]}
    for section in sections():
        title = "Top level" if section.path == "top level" else section.path
        for field in section.fields:
            assert f"\n| `{field.key}` |" in tables[title], field.path


def test_the_template_names_every_field_and_validates_as_written(tmp_path: Path) -> None:
    code, text, _ = cli("template")
    assert code == 0
    for path in every_field_path():
        key = path.rsplit(".", 1)[-1].removesuffix("[]")
        assert f" {key}:" in text or text.startswith(f"{key}:") or f"\n{key}:" in text, path
    target = tmp_path / "new.yaml"
    code, out, err = cli("template", "--out", str(target))
    assert code == 0 and str(target) in out, err
    assert target.read_text(encoding="utf-8") == text
    code, _, err = cli("check", str(target), "--as-of", "2026-11-02")
    assert code == EXIT_UNDETERMINED and err == ""  # nothing filled in: nothing decided, nothing guessed
    code, _, err = cli("template", "--out", str(target))
    assert code == EXIT_BAD_INPUT and "never overwrites" in err


def test_the_template_with_its_comments_removed_is_the_smallest_valid_file() -> None:
    _, text, _ = cli("template")
    data = yaml.safe_load(text)
    assert set(data) == {name for name, info in PatientProfile.model_fields.items() if info.is_required()}
    PatientProfile.model_validate(data)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _accepts(schema: dict[str, Any], value: Any, root: dict[str, Any]) -> bool:
    """A small JSON Schema check of what the patient-file schema uses: $ref, anyOf, type, enum, properties,
    additionalProperties, required, items, format date."""
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return any(_accepts(option, value, root) for option in schema["anyOf"])
    if "enum" in schema and value not in schema["enum"]:
        return False
    kinds = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "array": list,
             "object": dict, "null": type(None)}
    kind = schema.get("type")
    if kind is not None:
        if isinstance(value, bool) and kind in ("number", "integer"):
            return False
        if not isinstance(value, kinds[kind]):
            return False
    if schema.get("format") == "date":
        try:
            dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return False
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False and set(value) - set(properties):
            return False
        if set(schema.get("required", [])) - set(value):
            return False
        return all(_accepts(properties[key], item, root) for key, item in value.items() if key in properties)
    if isinstance(value, list) and "items" in schema:
        return all(_accepts(schema["items"], item, root) for item in value)
    return True


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    code, out, _ = cli("schema")
    assert code == 0
    document: dict[str, Any] = json.loads(out)
    return document


def test_the_schema_accepts_every_example_patient(schema: dict[str, Any]) -> None:
    examples = [p for p in sorted(PATIENTS.glob("*")) if p.suffix in (".yaml", ".json")]
    assert examples
    for path in examples:
        data = json.loads(json.dumps(read_document(path).data, default=str))  # dates as YAML gave them, as text
        assert _accepts(schema, data, schema), path.name


@pytest.mark.parametrize("change", [
    {"demographics": {"gender": "female"}},              # an unknown key
    {"demographics": {"sex": "f"}},                      # a value not allowed
    {"infections": [{"name": "flu", "status": "resolved", "agent": "flu virus"}]},
    {"procedures": [{"date": "2026-01-01"}]},            # a required field missing
    {"screening_date": "2026/11/10"},                    # a date not written YYYY-MM-DD
    {"renal": {"dialysis": "no"}},
])
def test_the_schema_refuses_what_the_model_refuses(schema: dict[str, Any], change: dict[str, Any]) -> None:
    data = {"id": "x", **change}
    assert not _accepts(schema, data, schema)
    with pytest.raises(ValueError):
        PatientProfile.model_validate(data)
