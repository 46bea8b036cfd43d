"""A FHIR bulk export (``$export``): a directory of NDJSON files, one resource per line, grouped by patient.

A bulk export writes one or more ``*.ndjson`` files per resource type (``Patient.ndjson``,
``Observation.ndjson``, ``MedicationStatement.ndjson``...); the file names do not matter here, each
line's ``resourceType`` does. Every resource is given to the patient it names: a Patient by its id,
any other resource by its ``subject``, ``patient`` or ``for`` reference to ``Patient/<id>``. Each
patient's resources become one FHIR Bundle (:func:`bundle_text`), which the ordinary importer
(:func:`matcher.intake.fhir.import_document`) reads as it reads any bundle. Each entry carries the
file and line it came from (the :data:`SOURCE_EXTENSION` extension), so an error in it names that line.

What cannot be given to a patient is a problem record at its file and line, never an exception and never a
guess: a line that is not a FHIR resource, a resource that names no patient (a shared ``Medication``
too: a MedicationStatement must name its drug itself), a patient that resources name but the export has
no Patient resource for, and a patient id that two Patient resources share.

The grouping is shared by ``matcher screen`` (:func:`matcher.intake.sources.iter_records`, an index of
line offsets built in one pass, so memory holds no resource text) and ``matcher spark`` (a Spark
``groupByKey`` over :func:`classify_line`, then :func:`group_record`): both give the same records.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from matcher.errors import MatcherError

#: the files of a bulk export
BULK_SUFFIX = ".ndjson"
#: the one other file a bulk export directory may hold: the export's manifest (not read)
MANIFEST_NAME = "manifest.json"
#: the Bundle.entry extension recording where the entry's resource was read: valueString ``file:line``
SOURCE_EXTENSION = "urn:trial-matcher:bulk-export-line"
#: the elements that name the patient a resource is about (the Patient compartment's usual ones)
PATIENT_ELEMENTS = ("subject", "patient", "for")

Role = Literal["patient", "resource", "problem"]
#: a bulk export's patient id -> [(role, file index, line, offset, length)] of the lines naming it
BulkIndex = dict[str, list[tuple[Role, int, int, int, int]]]


@dataclass(frozen=True, slots=True)
class Classified:
    """What one line of a bulk export is: a ``patient`` (its id), a ``resource`` of a patient (that patient's
    id), or a ``problem`` (why it belongs to no patient)."""

    role: Role
    patient: str | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Placed:
    """One line of a bulk export: its file's position in the export, the file, the line (from 1), its text."""

    file_index: int
    file: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """One record of a bulk export, placed at its patient's Patient line (or the first line of a problem): the
    patient's bundle as one line of JSON, or the problem."""

    file_index: int
    file: str
    line: int
    bundle: str | None
    problem: str | None


def is_bulk_export(directory: str | Path) -> bool:
    """Whether ``directory`` is a bulk export: it holds ``*.ndjson`` files (not counting its subdirectories)."""
    path = Path(directory)
    return path.is_dir() and any(p.suffix.lower() == BULK_SUFFIX and p.is_file() for p in path.iterdir())


def bulk_files(directory: str | Path) -> list[str]:
    """The NDJSON files of a bulk export directory, in sorted name order (see :func:`export_files`)."""
    path = Path(directory)
    return export_files(str(directory), [str(p) for p in path.iterdir() if p.is_file()])


def export_files(directory: str, files: Iterable[str]) -> list[str]:
    """The NDJSON files among the files of a bulk export directory, sorted. A patient file (.yaml, .yml, .json
    other than a manifest) beside them is refused: the directory would mean two different things."""
    names = sorted(files)
    others = [Path(name).name for name in names if Path(name).suffix.lower() in (".yaml", ".yml", ".json")
              and Path(name).name != MANIFEST_NAME]
    if others:
        raise MatcherError(f"holds both NDJSON files (a FHIR bulk export) and patient files ({', '.join(others[:3])}"
                           f"{'...' if len(others) > 3 else ''}): give a bulk export or a directory of patient "
                           "files, not both", file=directory)
    return [name for name in names if Path(name).suffix.lower() == BULK_SUFFIX]


def classify_line(text: str | bytes) -> Classified:
    """Which patient one NDJSON line belongs to (the line must not be blank)."""
    from matcher.intake.load import _reject_constant, _unique_keys

    try:  # decoded first, so bytes (matcher screen) and text (Spark) are read alike, a byte-order mark included
        line = text.decode("utf-8") if isinstance(text, bytes) else text
    except UnicodeDecodeError as exc:
        return Classified("problem", None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    try:
        resource = json.loads(line, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:  # a duplicate key is a ValueError too
        return Classified("problem", None, f"not a FHIR resource: invalid JSON ({exc})")
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return Classified("problem", None, "not a FHIR resource (a JSON object with a resourceType)")
    kind = resource["resourceType"]
    if kind == "Patient":
        patient_id = resource.get("id")
        if not isinstance(patient_id, str) or not patient_id:
            return Classified("problem", None, "a Patient resource without an id: no resource can name it")
        return Classified("patient", patient_id)
    if kind == "Bundle":
        return Classified("problem", None, "a Bundle in a bulk export: give bundles one per line in a .jsonl file")
    label = f"{kind}/{resource.get('id', '?')}"
    references = [_reference(resource.get(element)) for element in PATIENT_ELEMENTS]
    patients = {ref for ref in references if ref is not None}
    if len(patients) > 1:
        return Classified("problem", None, f"{label} names more than one patient ({', '.join(sorted(patients))})")
    if not patients:
        named = [str(resource[e].get("reference")) for e in PATIENT_ELEMENTS
                 if isinstance(resource.get(e), dict) and resource[e].get("reference")]
        why = (f" (it refers to {', '.join(named)})" if named else
               " (a shared resource: a MedicationStatement must name its drug itself)" if kind == "Medication"
               else "")
        return Classified("problem", None, f"{label} names no patient: no subject, patient or for reference to "
                                           f"Patient/<id>{why}")
    return Classified("resource", patients.pop())


def _reference(element: object) -> str | None:
    """The patient id of a Reference to ``Patient/<id>`` (relative, or absolute ending so; a version dropped)."""
    if not isinstance(element, dict) or not isinstance(element.get("reference"), str):
        return None
    parts = element["reference"].split("/")
    if "_history" in parts:
        parts = parts[:parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1]:
        return str(parts[-1])
    return None


def bundle_text(lines: Sequence[Placed]) -> str:
    """The Bundle of one patient's lines (the Patient first, then in export order), as one line of JSON. Each
    line's text is used as it is (it was checked to be one JSON object), with its place as an extension."""
    entries = []
    for placed in lines:
        where = json.dumps(f"{placed.file}:{placed.line}", ensure_ascii=False)
        entries.append(f'{{"extension":[{{"url":"{SOURCE_EXTENSION}","valueString":{where}}}],'
                       f'"resource":{placed.text.strip()}}}')
    return '{"resourceType":"Bundle","type":"collection","entry":[' + ",".join(entries) + "]}"


def group_record(patient: str, lines: Iterable[tuple[Role, Placed]]) -> GroupRecord:
    """The record of one patient id from every line naming it: its bundle, or the problem (no Patient resource,
    or more than one)."""
    patients: list[Placed] = []
    others: list[Placed] = []
    for role, placed in lines:
        (patients if role == "patient" else others).append(placed)
    order = sorted(others, key=lambda p: (p.file_index, p.line))
    if len(patients) == 1:
        first = patients[0]
        return GroupRecord(first.file_index, first.file, first.line, bundle_text([first, *order]), None)
    if not patients:
        first = order[0]
        return GroupRecord(first.file_index, first.file, first.line, None,
                           f"Patient/{patient}: {len(order)} resource{'s' if len(order) != 1 else ''} name this "
                           f"patient (the first here) and the export has no Patient resource with this id")
    patients.sort(key=lambda p: (p.file_index, p.line))
    first = patients[0]
    places = ", ".join(f"{p.file}:{p.line}" for p in patients[:5])
    return GroupRecord(first.file_index, first.file, first.line, None,
                       f"Patient/{patient}: {len(patients)} Patient resources have this id ({places}): which one "
                       f"its {len(order)} other resource{'s' if len(order) != 1 else ''} belong to is unknown")


def read_groups(files: Sequence[str]) -> Iterator[GroupRecord]:
    """The records of a bulk export's ``files``, in the order of their places: one pass indexes every line by the
    patient it names (offsets, not text, so memory holds no resource), then each patient's lines are read back
    when its record is reached. An unreadable file raises MatcherError before the first record."""
    members: BulkIndex = {}
    problems: list[GroupRecord] = []
    for index, file in enumerate(files):
        try:
            handle = open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise MatcherError(f"cannot read: {exc.strerror or exc}", file=file) from None
        with handle:
            offset = 0
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    classified = classify_line(line)
                    if classified.patient is None:
                        problems.append(GroupRecord(index, file, number, None, classified.problem))
                    else:
                        members.setdefault(classified.patient, []).append(
                            (classified.role, index, number, offset, len(line)))
                offset += len(line)
    return _groups(files, members, problems)


def _groups(files: Sequence[str], members: BulkIndex, problems: list[GroupRecord]) -> Iterator[GroupRecord]:
    def anchor(lines: list[tuple[Role, int, int, int, int]]) -> tuple[int, int]:  # where group_record places it
        patients = [(index, line) for role, index, line, _, _ in lines if role == "patient"]
        return min(patients or [(index, line) for _, index, line, _, _ in lines])

    order: list[tuple[tuple[int, int], str | GroupRecord]] = [(anchor(lines), patient)
                                                              for patient, lines in members.items()]
    order += [((problem.file_index, problem.line), problem) for problem in problems]
    order.sort(key=lambda item: item[0])
    handles: dict[int, typing.BinaryIO] = {}
    try:
        for _, patient in order:
            if isinstance(patient, GroupRecord):
                yield patient
                continue
            placed: list[tuple[Role, Placed]] = []
            for role, file_index, number, offset, length in members.pop(patient):
                if file_index not in handles:
                    handles[file_index] = open(files[file_index], "rb")  # noqa: SIM115 - closed below
                handle = handles[file_index]
                handle.seek(offset)
                placed.append((role, Placed(file_index, files[file_index], number,
                                            handle.read(length).decode("utf-8"))))
            yield group_record(patient, placed)
    finally:
        for handle in handles.values():
            handle.close()
