"""The field catalogue (matcher/model/fields/fields.yaml) is the one declaration of the fields: the registries,
the currency windows and lint's ranges are built from its rows, a lab declared in LAB_TESTS is a field, and a
malformed row stops the import with a message naming it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import yaml

import matcher
from matcher.model import drugs
from matcher.model.currency import FIELD_KINDS
from matcher.model.fields import LISTS, PATIENT_FIELDS, entries, medications, patient, pregnancy, rows
from matcher.model.fields.rows import PATIENT, CatalogueError
from matcher.model.measurements import ACTIVITY_INDICES, LAB_TESTS, LabTest
from matcher.model.units import Measure
from matcher.results.render import to_json
from matcher.rules.lint import possible_range

from .helpers import BASE_PATIENT, ROOT

CATALOGUE = ROOT / "matcher" / "model" / "fields" / "fields.yaml"


def _written() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    return document


def test_every_field_is_one_row_of_the_catalogue_in_its_order() -> None:
    """The file's rows, with a ``rows_from`` line standing for the labs or scores, are the registries, in order."""
    expected: list[str] = []
    for raw in _written()["patient"]:
        if raw.get("rows_from") == "LAB_TESTS":
            for test, spec in LAB_TESTS.items():
                expected += [test, *([f"{test}_x_uln"] if spec.needs_uln else [])]
        elif raw.get("rows_from") == "ACTIVITY_INDICES":
            expected += [index.lower().replace("-", "_") for index in ACTIVITY_INDICES]
        else:
            expected.append(raw["name"])
    assert list(PATIENT_FIELDS) == expected
    written_lists = _written()["lists"]
    assert list(LISTS) == list(written_lists)
    for name, listed in LISTS.items():
        assert list(listed.fields) == [raw["name"] for raw in written_lists[name]["fields"]]
        assert (listed.label, listed.collect) == (written_lists[name]["label"], written_lists[name]["reads"])


def test_each_spec_is_what_its_row_says() -> None:
    for raw in _written()["patient"]:
        if "name" not in raw:
            continue
        spec = PATIENT_FIELDS[raw["name"]]
        assert (spec.type, spec.label, spec.collect, spec.derive) == (raw["type"], raw["label"], raw["reads"],
                                                                       raw["derive"])
        assert spec.window == raw.get("window") and spec.suffix == raw.get("counts", "")
        assert (spec.measure.display if spec.measure else None) == raw.get("unit")


def test_the_currency_windows_are_the_rows_windows() -> None:
    assert {name: spec.window for name, spec in PATIENT_FIELDS.items() if spec.window} == FIELD_KINDS
    assert FIELD_KINDS["lvef"] == FIELD_KINDS["mean_pap"] == "imaging"
    assert FIELD_KINDS["serum_creatinine"] == FIELD_KINDS["alt_x_uln"] == FIELD_KINDS["egfr_ckd_epi_2021"] == "lab"
    assert FIELD_KINDS["sledai_2k"] == "activity_score" and FIELD_KINDS["pregnancy_test"] == "pregnancy_test"
    assert "pregnancy_test_days_ago" not in FIELD_KINDS and "age_years" not in FIELD_KINDS


def test_lint_reads_the_possible_ranges_from_the_rows() -> None:
    assert possible_range("age_years") == (0, 120)
    assert possible_range("weight") == (1, 400)
    assert possible_range("sledai_2k") == ACTIVITY_INDICES["SLEDAI-2K"]
    assert possible_range("platelets") == (LAB_TESTS["platelets"].low, LAB_TESTS["platelets"].high)
    assert possible_range("alt_x_uln") == (0, float("inf"))


def test_a_lab_declared_in_lab_tests_becomes_a_field_with_its_unit_and_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a lab is one entry in LAB_TESTS: the catalogue makes its field (and its ULN multiple)."""
    monkeypatch.setitem(LAB_TESTS, "anti_dsdna", LabTest(Measure("IU/mL", "IU/mL"), 0, 10000, "anti-dsDNA",
                                                         needs_uln=True))
    made = {row.name: row for row in rows._rows([{"rows_from": "LAB_TESTS"}], PATIENT)}
    assert made["anti_dsdna"].unit == Measure("IU/mL", "IU/mL") and made["anti_dsdna"].window == "lab"
    assert (made["anti_dsdna"].derive, made["anti_dsdna"].possible) == ("lab anti_dsdna", (0, 10000))
    assert made["anti_dsdna_x_uln"].derive == "lab_x_uln anti_dsdna"


@pytest.mark.parametrize(("raw", "problem"), [
    ({"name": "x", "type": "number", "label": "x", "reads": "x", "derive": "lab alt", "colour": "red"},
     "unknown keys ['colour']"),
    ({"name": "x", "type": "integer", "label": "x", "reads": "x", "derive": "lab alt"}, "type 'integer'"),
    ({"name": "x", "type": "number", "label": "x", "reads": "x", "derive": "lab alt", "window": "weekly"},
     "window 'weekly'"),
    ({"name": "x", "type": "enum", "label": "x", "reads": "x", "derive": "lab alt", "values": "from Nowhere"},
     "values 'from Nowhere'"),
    ({"name": "x", "type": "number", "label": "x", "derive": "lab alt"}, "missing keys ['reads']"),
])
def test_a_malformed_row_is_refused_naming_it(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(CatalogueError, match="patient field x") as caught:
        rows._rows([raw], PATIENT)
    assert problem in str(caught.value)


def test_a_field_declared_twice_or_an_unknown_kind_or_function_is_refused() -> None:
    row = {"name": "alt", "type": "number", "label": "x", "reads": "x", "derive": "lab alt"}
    with pytest.raises(CatalogueError, match=r"declared twice: \['alt'\]"):
        rows._rows([row, {"rows_from": "LAB_TESTS"}], PATIENT)
    from matcher.model import fields

    made = rows._row({**row, "derive": "labs alt"}, PATIENT)
    with pytest.raises(CatalogueError, match="unknown kind 'labs'"):
        fields._spec(made, fields._PATIENT_KINDS, fields._PATIENT_FUNCTIONS)
    made = rows._row({**row, "derive": "function no_such_function"}, PATIENT)
    with pytest.raises(CatalogueError, match="no extractor function 'no_such_function'"):
        fields._spec(made, fields._PATIENT_KINDS, fields._PATIENT_FUNCTIONS)


def test_every_drug_class_has_its_row_and_every_function_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher.model import fields

    monkeypatch.setattr(drugs, "CLASSES", (*drugs.CLASSES, "antifibrotic"))
    with pytest.raises(CatalogueError, match="drug_class rows"):
        fields._check_drug_classes(LISTS["medications"].fields)
    derived = {spec.derive for spec in PATIENT_FIELDS.values()}
    derived |= {spec.derive for listed in LISTS.values() for spec in listed.fields.values()}
    functions = {**patient.FUNCTIONS, **pregnancy.FUNCTIONS, **medications.FUNCTIONS, **entries.FUNCTIONS}
    assert {f"function {name}" for name in functions} <= derived
    kinds = {*patient.KINDS, *pregnancy.KINDS, *medications.KINDS, *entries.KINDS}
    assert kinds == {text.split(" ")[0] for text in derived} - {"function"}


def test_the_units_the_rows_give_are_the_units_extraction_converts_to() -> None:
    assert PATIENT_FIELDS["weight"].measure == patient.WEIGHT
    assert PATIENT_FIELDS["height"].measure == patient.HEIGHT
    for test, spec in LAB_TESTS.items():
        assert PATIENT_FIELDS[test].measure == spec.measure


def test_drug_class_labels_read_as_english() -> None:
    """They once read "drug is a nsaid", "drug is an other", "drug is a b cell depleting"."""
    labels = {name: spec.label for name, spec in LISTS["medications"].fields.items() if spec.derive.startswith("drug_")}
    assert labels["is_nsaid"] == "drug is an NSAID"
    assert labels["is_jak_inhibitor"] == "drug is a JAK inhibitor"
    for name, label in labels.items():
        assert "_" not in label and not label.endswith(("depleting", "other")), (name, label)
    profile = matcher.load_patient(BASE_PATIENT)
    text = json.dumps(json.loads(to_json(matcher.evaluate(profile, as_of=dt.date(2026, 11, 2)), "p",
                                         dt.date(2026, 11, 2), "given")))
    assert "drug is an NSAID: no" in text and "drug is a nsaid" not in text

