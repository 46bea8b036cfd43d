"""FHIR bulk export (a directory of NDJSON files, one resource per line): grouped by patient into one Bundle each,
read by the ordinary importer. The grouped bundles give what the bundles they were cut from give; what belongs to
no patient is a problem record at its file and line, never an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.errors import MatcherError, PatientFileError
from matcher.intake.fhir import read_bundle
from matcher.intake.fhir.bulk import classify_line
from matcher.intake.sources import iter_records, read_record, source_kind

from .helpers import PATIENTS

BUNDLES = sorted((PATIENTS / "fhir").glob("*.json"))
EXAMPLE = PATIENTS / "fhir-bulk"


def bulk_export_of(bundles: list[Path]) -> dict[str, list[str]]:
    """The NDJSON files (name -> lines) a server's $export would write for these patients: one file per resource
    type, every resource id made unique across patients (prefixed with its patient's id), no Bundle."""
    files: dict[str, list[str]] = {}
    for path in bundles:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        resources = [entry["resource"] for entry in bundle["entry"]]
        patient = next(r["id"] for r in resources if r["resourceType"] == "Patient")
        for original in resources:
            resource = original if original["resourceType"] == "Patient" else \
                {**original, "id": f"{patient}-{original['id']}"}
            files.setdefault(f"{resource['resourceType']}.ndjson", []).append(
                json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
    return files


def write_export(directory: Path, files: dict[str, list[str]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (directory / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return directory


def test_the_example_export_is_the_example_bundles_cut_by_resource_type() -> None:
    expected = bulk_export_of(BUNDLES)
    assert sorted(p.name for p in EXAMPLE.iterdir()) == sorted(expected)
    for name, lines in expected.items():
        assert (EXAMPLE / name).read_text(encoding="utf-8").splitlines() == lines, (
            f"{name}: the example export is older than patients/fhir/ (a rule file's sha256 in a Task, a new bundle):"
            " rewrite it with python -c 'from tests.test_fhir_bulk import *; import shutil; "
            "shutil.rmtree(EXAMPLE); write_export(EXAMPLE, bulk_export_of(BUNDLES))'")


def _without_ids(text: str, patient: str) -> str:
    return text.replace(f"{patient}-", "")


def test_each_grouped_patient_imports_as_the_bundle_it_came_from() -> None:
    assert source_kind(EXAMPLE) == "bulk"
    records = list(iter_records(EXAMPLE))
    assert [r.location for r in records] == [f"{EXAMPLE / 'Patient.ndjson'}:{n}" for n in range(1, len(BUNDLES) + 1)]
    for record, path in zip(records, BUNDLES, strict=True):
        grouped = read_record(record)
        direct = read_bundle(path)
        assert grouped.fhir is not None
        # a bulk export has no Bundle.timestamp: the screening date is --as-of (or today), not the bundle's
        expected = direct.profile.model_copy(update={"screening_date": None})
        assert grouped.profile == expected, path.name
        patient = grouped.profile.id

        def report(imported: Any, patient: str = patient) -> list[tuple[str, ...]]:
            unused = sorted((_without_ids(u.resource.split(" (entry")[0], patient), u.code, u.reason)
                            for u in imported.unused)
            unknown = sorted((u.field, _without_ids(u.resource, patient).split(" (entry")[0], u.reason)
                             for u in imported.unknown)
            return [*unused, ("--",), *unknown]

        assert report(grouped.fhir) == report(direct), path.name
        assert grouped.fhir.resources == direct.resources


def test_a_directory_mixing_ndjson_and_patient_files_is_refused(tmp_path: Path) -> None:
    write_export(tmp_path, bulk_export_of(BUNDLES[:1]))
    (tmp_path / "someone.yaml").write_text("id: x\n", encoding="utf-8")
    with pytest.raises(MatcherError, match="both NDJSON files"):
        iter_records(tmp_path)  # before the first record: matcher screen writes nothing


def _problems(directory: Path) -> dict[str, str]:
    problems = {}
    for record in iter_records(directory):
        try:
            read_record(record)
        except PatientFileError as exc:
            problems[record.location] = str(exc)
    return problems


def with_problems(files: dict[str, list[str]]) -> dict[str, list[str]]:
    """``files`` with lines that belong to no patient: an Observation naming none, a line that is not JSON, two
    Conditions of a patient without a Patient resource, a shared Medication, the first Patient's id again, and an
    invalid Observation of the last patient."""
    files = {name: list(lines) for name, lines in files.items()}
    first = json.loads(files["Patient.ndjson"][0])["id"]
    last = json.loads(files["Patient.ndjson"][-1])["id"]
    files["Observation.ndjson"].insert(1, json.dumps({"resourceType": "Observation", "id": "orphan",
                                                      "status": "final", "code": {"text": "x"}}))
    files["Observation.ndjson"].insert(2, "{not json")
    files["Observation.ndjson"].append(json.dumps({"resourceType": "Observation", "id": "bad", "status": "final",
                                                   "code": {"text": "x"}, "subject": {"reference": f"Patient/{last}"},
                                                   "effectiveDateTime": "yesterday"}))
    files["Condition.ndjson"].append(json.dumps({"resourceType": "Condition", "id": "c-ghost",
                                                 "subject": {"reference": "Patient/ghost"}}))
    files["Condition.ndjson"].append(json.dumps({"resourceType": "Condition", "id": "c-ghost-2",
                                                 "subject": {"reference": "Patient/ghost"}}))
    files["Medication.ndjson"] = [json.dumps({"resourceType": "Medication", "id": "m1"})]
    files["Patient.ndjson"].append(json.dumps({"resourceType": "Patient", "id": first}))  # the id again
    return files


def test_what_belongs_to_no_patient_is_a_problem_record_at_its_line(tmp_path: Path) -> None:
    files = with_problems(bulk_export_of(BUNDLES[:2]))
    first = json.loads(files["Patient.ndjson"][0])["id"]
    directory = write_export(tmp_path / "export", files)
    ghost_line = len(files["Condition.ndjson"]) - 1
    problems = _problems(directory)
    observations, conditions, patients = (str(directory / n) for n in
                                          ("Observation.ndjson", "Condition.ndjson", "Patient.ndjson"))
    assert set(problems) == {f"{observations}:2", f"{observations}:3", f"{conditions}:{ghost_line}",
                             f"{directory / 'Medication.ndjson'}:1", f"{patients}:1", f"{patients}:2"}
    last = len(files["Observation.ndjson"])
    assert problems[f"{patients}:2"].startswith(f"{observations}:{last}: Observation/bad (entry ")
    assert "Observation/orphan names no patient" in problems[f"{observations}:2"]
    assert problems[f"{observations}:3"].startswith(f"{observations}:3: not a FHIR resource: invalid JSON")
    assert "Patient/ghost: 2 resources name this patient" in problems[f"{conditions}:{ghost_line}"]
    assert "shared resource" in problems[str(directory / "Medication.ndjson") + ":1"]
    assert f"Patient/{first}: 2 Patient resources have this id ({patients}:1, {patients}:3)" in \
        problems[f"{patients}:1"]
    assert list(problems).index(f"{observations}:2") < list(problems).index(f"{patients}:1")  # in export order


def test_an_invalid_resource_is_reported_at_its_own_file_and_line(tmp_path: Path) -> None:
    files = bulk_export_of(BUNDLES[:1])
    bad = json.loads(files["Observation.ndjson"][3])
    bad["effectiveDateTime"] = "yesterday"
    files["Observation.ndjson"][3] = json.dumps(bad)
    directory = write_export(tmp_path / "export", files)
    (record,) = list(iter_records(directory))
    with pytest.raises(PatientFileError) as caught:
        read_record(record)
    assert caught.value.file == str(directory / "Observation.ndjson")
    assert caught.value.line == 4
    assert record.location == f"{directory / 'Patient.ndjson'}:1"


@pytest.mark.parametrize(("line", "role", "patient"), [
    ('{"resourceType": "Patient", "id": "p1"}', "patient", "p1"),
    ('{"resourceType": "Observation", "subject": {"reference": "Patient/p1"}}', "resource", "p1"),
    ('{"resourceType": "Observation", "subject": {"reference": "https://ehr.example/fhir/Patient/p1/_history/2"}}',
     "resource", "p1"),
    ('{"resourceType": "Task", "for": {"reference": "Patient/p1"}}', "resource", "p1"),
    ('{"resourceType": "Immunization", "patient": {"reference": "Patient/p1"}}', "resource", "p1"),
    ('{"resourceType": "Observation", "subject": {"reference": "Group/g"}}', "problem", None),
    ('{"resourceType": "Observation", "subject": {"reference": "Patient/a"}, "patient": {"reference": "Patient/b"}}',
     "problem", None),
    ('{"resourceType": "Patient"}', "problem", None),
    ('{"resourceType": "Bundle", "entry": []}', "problem", None),
    ('[1, 2]', "problem", None),
    ('{"resourceType": "Patient", "id": "p", "id": "q"}', "problem", None),
])
def test_each_line_is_given_to_the_patient_it_names(line: str, role: str, patient: str | None) -> None:
    classified = classify_line(line)
    assert (classified.role, classified.patient) == (role, patient)
    assert (classified.problem is None) == (role != "problem")
    assert classify_line(line.encode("utf-8")) == classified  # matcher screen reads bytes, Spark text


def test_bytes_and_text_are_classified_alike_even_with_a_byte_order_mark() -> None:
    line = '\ufeff{"resourceType": "Patient", "id": "p1"}'
    assert classify_line(line.encode("utf-8")) == classify_line(line)
    assert classify_line(line).role == "problem"
    assert classify_line(b'{"resourceType": "Patient", "id": "\xff"}').problem == \
        "not UTF-8 text (invalid start byte at byte 35)"
