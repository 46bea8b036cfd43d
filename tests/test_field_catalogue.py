"""``matcher fields`` and the field table in docs/rule-files.md list every field a rule may test, with
its type, unit, allowed values and what it reads; the page is never older than the field registry and
every field the encoded trials use is in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from matcher.model.catalogue import BEGIN, END, PATIENT, catalogue, replace_generated
from matcher.model.fields import LISTS, PATIENT_FIELDS

from .helpers import ROOT, RULES, cli

PAGE = ROOT / "docs" / "rule-files.md"


def fields_in(node: Any) -> Iterator[str]:
    """Every ``field:`` named anywhere in a condition or a query's ``where``, read from the YAML itself."""
    if isinstance(node, dict):
        if isinstance(node.get("field"), str):
            yield node["field"]
        for value in node.values():
            yield from fields_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from fields_in(value)


def fields_used_by_the_rules() -> set[tuple[str, str]]:
    """(scope, field) for every field the rule files test: ``patient`` in criteria, the list in queries."""
    used: set[tuple[str, str]] = set()
    for path in sorted(RULES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for query in (document.get("queries") or {}).values():
            used |= {(query["over"], name) for name in fields_in(query["where"])}
        for criterion in document["criteria"]:
            used |= {(PATIENT, name) for name in fields_in(criterion.get("condition"))}
    return used


def json_entries(*argv: str) -> list[dict[str, Any]]:
    code, out, err = cli("fields", "--format", "json", *argv)
    assert code == 0 and err == ""
    entries: list[dict[str, Any]] = json.loads(out)
    return entries


def test_every_field_of_the_registry_is_listed_once_with_its_type() -> None:
    listed = {(entry["scope"], entry["name"]): entry for entry in json_entries()}
    registry = {(PATIENT, name): spec for name, spec in PATIENT_FIELDS.items()}
    registry |= {(list_name, name): spec for list_name, spec_list in LISTS.items()
                 for name, spec in spec_list.fields.items()}
    assert set(listed) == set(registry)
    assert len(catalogue()) == len(registry)
    for key, spec in registry.items():
        entry = listed[key]
        assert entry["type"] == spec.type and entry["label"] == spec.label and entry["reads"].startswith(spec.collect)
        assert entry["unit"] == spec.unit_display and entry["derived"] == spec.derive and spec.derive
        if spec.type == "enum":
            assert entry["values"] == list(spec.choices) and entry["values"], key
        if spec.type == "bool":
            assert entry["values"] == ["true", "false"]


def test_every_field_the_rule_files_use_is_in_the_catalogue_with_its_type() -> None:
    used = fields_used_by_the_rules()
    assert len(used) > 20 and any(scope == "medications" for scope, _ in used)
    listed = {(entry["scope"], entry["name"]): entry for entry in json_entries()}
    for key in used:
        assert key in listed, key
        assert listed[key]["type"] in ("number", "bool", "enum")
    code, out, _ = cli("fields")
    assert code == 0
    for _, name in used:
        assert f"  {name} " in out, name


@pytest.mark.parametrize(("scope", "name", "type_"), [
    (PATIENT, "lupus_nephritis.biopsy_class", "enum"),
    ("medications", "is_nsaid", "bool"),
    ("medications", "is_calcineurin_inhibitor", "bool"),
])
def test_the_fields_once_found_in_no_table_are_listed(scope: str, name: str, type_: str) -> None:
    [entry] = [e for e in json_entries("--grep", name) if e["name"] == name]
    assert (entry["scope"], entry["type"]) == (scope, type_)
    generated = PAGE.read_text(encoding="utf-8").split(BEGIN)[1].split(END)[0]
    assert f"\n| `{name}` | {type_} |" in generated


def test_the_text_output_shows_units_values_windows_and_class_members() -> None:
    code, out, _ = cli("fields")
    assert code == 0
    assert "Patient fields" in out and "medications: item fields" in out and "over: infections" in out
    line = next(line for line in out.splitlines() if line.strip().startswith("urine_protein_24h "))
    assert "g/day" in line
    assert "III+V" in out
    assert "lab, default 90 days" in out and "pregnancy_test, default 7 days" in out
    assert "true for ibuprofen, naproxen" in out
    assert "true for cyclosporine, tacrolimus, voclosporin" in out
    assert "derived by: attribute diagnoses.lupus_nephritis.biopsy_class" in out
    assert "derived by: function egfr_ckd_epi_2021" in out and "derived by: lab urine_protein_24h" in out


def test_grep_filters_and_says_when_nothing_matches() -> None:
    names = {entry["name"] for entry in json_entries("--grep", "PREGNANCY")}
    assert "pregnant" in names and "urine_pregnancy_test" in names and "age_years" not in names
    code, out, _ = cli("fields", "--grep", "no-such-field-anywhere")
    assert code == 0 and out == "no field matches\n"


def test_the_field_table_in_the_rule_file_page_is_as_new_as_the_registry() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert replace_generated(text) == text, (
        "docs/rule-files.md is older than the field registry: python -m matcher.model.catalogue docs/rule-files.md")
    generated = text.split(BEGIN)[1].split(END)[0]
    for entry in catalogue():
        assert f"\n| `{entry.name}` |" in generated, entry.name
