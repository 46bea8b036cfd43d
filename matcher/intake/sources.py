"""Stage 1 for cohorts: read patient records one at a time from a directory, a JSON Lines file or a CSV.

A source is streamed: :func:`iter_records` yields cheap, picklable
:class:`RawRecord` objects (a file name, or one line of text, or one CSV row),
and :func:`read_record` turns one of them into a validated
:class:`~matcher.model.profile.PatientProfile` or raises a :class:`PatientFileError`
that names the file, the line and the field. Reading and validating happen
where :func:`read_record` is called (a worker process when screening in
parallel), so memory stays bounded however large the source.

Formats (README, "Cohort input formats"):

* a **directory**: every ``*.yaml``, ``*.yml`` and ``*.json`` patient file in
  it and its subdirectories, in sorted path order;
* a **FHIR bulk export**: a directory holding ``*.ndjson`` files, one FHIR
  resource per line (``Patient.ndjson``, ``Observation.ndjson``...), grouped
  into one Bundle per patient (:mod:`matcher.intake.fhir.bulk`); a record is
  placed at its patient's Patient line;
* **JSON Lines** (``.jsonl``, ``.ndjson``): one patient object per line, as in
  a ``.json`` patient file, or one FHIR R4 Bundle per line; blank lines are skipped;
* **CSV** (``.csv``, UTF-8, header row): one row per patient, one column per
  field, named by its dotted path (``demographics.birth_date``,
  ``diagnoses.sle.present``). Repeated items are numbered from 1:
  ``medications.1.drug``, ``medications.1.dose``, ``medications.2.drug``...
  An empty cell is an absent value. A column named after a list
  (``medications``, ``infections``...) holding ``none`` records that the list
  is empty (the patient has none), which is not the same as not recorded.
  Cells are typed as in a YAML file: ``true``/``false``, numbers, dates
  ``YYYY-MM-DD``, anything else text (``58 kg``).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from matcher.errors import MatcherError, PatientFileError, did_you_mean, shown
from matcher.intake.load import (
    Document,
    _reject_constant,
    _StrictLoader,
    _unique_keys,
    check_limits,
    check_size,
    dotted_path,
    limit_problem,
    parse_json,
)
from matcher.intake.validate import LoadedPatient, read_patient, refuse_impossible_dates, validate_patient
from matcher.model.profile import PatientProfile

PATIENT_SUFFIXES = (".yaml", ".yml", ".json")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
#: the cell that records an empty list in a CSV
EMPTY_LIST_CELL = "none"

RecordKind = Literal["file", "jsonl", "csv", "bulk"]


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One patient record as read from the source, not yet parsed."""

    kind: RecordKind
    #: the file it came from
    file: str
    #: its line in that file (0 for a whole file)
    line: int
    #: one JSON line (jsonl), or the row's {column: cell} (csv), or a patient's bundle as one JSON line or
    #: ``{"__error__": problem}`` (bulk); None for a whole file
    payload: Any = None

    @property
    def location(self) -> str:
        return self.file if self.kind == "file" else f"{self.file}:{self.line}"


def source_kind(source: str | Path) -> str:
    """``directory``, ``bulk`` (a FHIR bulk export), ``jsonl``, ``csv`` or ``file``; a MatcherError for anything
    else."""
    from matcher.intake.fhir.bulk import is_bulk_export

    path = Path(source)
    if path.is_dir():
        return "bulk" if is_bulk_export(path) else "directory"
    if not path.exists():
        raise MatcherError("no such file or directory", file=str(source))
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix in PATIENT_SUFFIXES:
        return "file"
    raise MatcherError(f"unsupported source type {suffix!r}: give a directory of patient files, a .jsonl, "
                       "a .csv, or one patient file (.yaml, .yml, .json)", file=str(source))


def iter_records(source: str | Path) -> Iterator[RawRecord]:
    """The records of ``source`` in order. Problems with the source itself (missing, unreadable, a CSV header
    naming an unknown field) raise MatcherError before the first record; a bad record is only found when it is
    read by :func:`read_record`."""
    kind = source_kind(source)
    name = str(source)
    if kind == "directory":
        files = sorted(p for p in Path(source).rglob("*") if p.suffix.lower() in PATIENT_SUFFIXES and p.is_file())
        if not files:
            raise MatcherError("no patient files (*.yaml, *.yml, *.json) in this directory", file=name)
        return (RawRecord("file", str(path), 0) for path in files)
    if kind == "file":
        return iter([RawRecord("file", name, 0)])
    if kind == "jsonl":
        return _jsonl_records(name)
    if kind == "bulk":
        return _bulk_records(name)
    return _csv_records(name)


def count_records(source: str | Path) -> int | None:
    """How many records ``source`` holds, for a progress bar's total (a fast scan; None if it is not cheap)."""
    kind = source_kind(source)
    if kind == "directory":
        return sum(1 for p in Path(source).rglob("*") if p.suffix.lower() in PATIENT_SUFFIXES and p.is_file())
    if kind == "file":
        return 1
    if kind in ("csv", "bulk"):
        return None  # quoted cells may hold newlines: lines are not rows; a bulk export needs grouping first
    count = 0
    with open(source, "rb") as handle:
        for line in handle:
            count += bool(line.strip())
    return count


def _open_error(name: str, exc: OSError) -> MatcherError:
    return MatcherError(f"cannot read: {exc.strerror or exc}", file=name)


def _jsonl_records(name: str) -> Iterator[RawRecord]:
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed by the generator
    except OSError as exc:
        raise _open_error(name, exc) from None
    return _jsonl_lines(name, handle)


def _jsonl_lines(name: str, handle: typing.BinaryIO) -> Iterator[RawRecord]:
    with handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield RawRecord("jsonl", name, number, line)


def _bulk_records(name: str) -> Iterator[RawRecord]:
    from matcher.intake.fhir.bulk import bulk_files, read_groups

    groups = read_groups(bulk_files(name))  # the export is indexed (and a bad one refused) before the first record
    return (RawRecord("bulk", group.file, group.line, group.bundle.encode("utf-8") if group.bundle is not None
                      else {"__error__": group.problem}) for group in groups)


def _csv_records(name: str) -> Iterator[RawRecord]:
    try:
        handle = open(name, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the generator
        reader = csv.reader(handle)
        header = next(reader, None)
    except OSError as exc:
        raise _open_error(name, exc) from None
    except UnicodeDecodeError as exc:
        raise MatcherError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=name) from None
    except csv.Error as exc:
        raise MatcherError(f"invalid CSV: {exc}", file=name, line=1) from None
    if not header:
        handle.close()
        raise MatcherError("empty CSV: the first row must name the columns", file=name, line=1)
    try:
        columns = [csv_column(cell, name, index) for index, cell in enumerate(header, start=1)]
    except MatcherError:
        handle.close()
        raise
    seen: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        if column.header in seen:
            handle.close()
            raise MatcherError(f"column {column.header!r} appears twice (columns {seen[column.header]} and "
                               f"{index})", file=name, line=1, column=index)
        seen[column.header] = index
    return _csv_rows(name, handle, reader, header)


def _csv_rows(name: str, handle: typing.TextIO, reader: Any, header: list[str]) -> Iterator[RawRecord]:
    with handle:
        line = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield RawRecord("csv", name, reader.line_num, {"__error__": f"unreadable CSV row: {exc}"})
                line = reader.line_num
                continue
            line, start = reader.line_num, line + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield RawRecord("csv", name, start, {"__error__": f"the row has {len(row)} cells, the header "
                                                                  f"{len(header)}"})
                continue
            yield RawRecord("csv", name, start, dict(zip(header, row, strict=True)))


# ------------------------------------------------------------------ reading one record
def read_record(record: RawRecord) -> LoadedPatient:
    """The validated profile of one record (with the FHIR import's report when it was a Bundle), or a
    PatientFileError naming its file, line and field."""
    if record.kind == "file":
        return read_patient(record.file)
    if record.kind == "jsonl":
        return _read_json_line(record)
    if record.kind == "bulk":
        if isinstance(record.payload, dict):
            raise PatientFileError(record.payload["__error__"], file=record.file, line=record.line)
        return _read_json_line(record)
    return LoadedPatient(_read_csv_row(record))


def _read_json_line(record: RawRecord) -> LoadedPatient:
    raw: bytes = record.payload
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PatientFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=record.file,
                               line=record.line) from None
    check_size(text, record.file, PatientFileError)
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        if isinstance(data, dict) and "resourceType" not in data and check_limits(data) is None:
            profile = PatientProfile.model_validate(data)
            refuse_impossible_dates(profile, Document(record.file, data), dt.date.today())
            return LoadedPatient(profile)
    except (ValueError, ValidationError, RecursionError, PatientFileError):  # a duplicate key is a ValueError
        pass  # fall through: the slow path below finds the place and words the message
    try:
        document = parse_json(text, record.file, PatientFileError)
        if isinstance(document.data, dict) and "resourceType" in document.data:
            from matcher.intake.fhir import import_document  # fhir.resources is imported only when a bundle is read

            imported = import_document(document)
            return LoadedPatient(imported.profile, imported)
        validate_patient(document)
    except PatientFileError as exc:
        if exc.file == record.file and exc.line in (None, 1):  # not an entry placed at its bulk export line
            exc.line = record.line  # the document is one line: its line 1 is this line of the file
            exc.column = exc.column if record.kind == "jsonl" else None
        raise
    raise PatientFileError("cannot read this line", file=record.file, line=record.line)  # pragma: no cover


# ------------------------------------------------------------------ CSV columns
@dataclass(frozen=True, slots=True)
class CsvColumn:
    header: str
    #: the path into the profile: names and 0-based list indexes
    path: tuple[str | int, ...]
    #: True for a bare list column (``medications``), whose only accepted cell is ``none``
    list_marker: bool


def csv_column(header: str, file: str, index: int) -> CsvColumn:
    """Check a CSV header against the profile's fields, with did-you-mean on a misspelling."""
    parts = header.strip().split(".")
    path: list[str | int] = []
    model: Any = PatientProfile
    expect_index = False
    for position, part in enumerate(parts):
        where = ".".join(parts[:position + 1])
        if expect_index:
            if not part.isdigit() or int(part) < 1:
                raise MatcherError(f"column {header!r}: {'.'.join(parts[:position])} is a list; number its "
                                   f"items from 1 ({'.'.join(parts[:position])}.1.<field>)",
                                   file=file, line=1, column=index)
            path.append(int(part) - 1)
            expect_index = False
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            known = list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
            problem = f"no field {where!r} in a patient profile" if known else \
                f"{'.'.join(parts[:position])} has no sub-fields"
            raise MatcherError(f"column {header!r}: {problem}{did_you_mean(part, known)}",
                               file=file, line=1, column=index)
        path.append(part)
        annotation = model.model_fields[part].annotation
        inner, is_list = _unwrap(annotation)
        model = inner
        expect_index = is_list
    return CsvColumn(header, tuple(path), list_marker=expect_index)


@functools.lru_cache(maxsize=4096)
def _column(header: str, file: str, index: int) -> CsvColumn:
    return csv_column(header, file, index)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The model (or plain type) inside an annotation, and whether it is a list of it."""
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
            lists = [a for a in members if typing.get_origin(a) is list]
            annotation = (lists or models or members)[0]
            continue
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin is list:
            is_list = True
            annotation = typing.get_args(annotation)[0]
            continue
        return annotation, is_list


def cell_value(text: str) -> Any:
    """A CSV cell typed as the same text would be in a YAML patient file (only plain scalars)."""
    stripped = text.strip()
    for tag, pattern in _StrictLoader.yaml_implicit_resolvers.get(stripped[:1], []):
        if pattern.match(stripped):
            if tag == "tag:yaml.org,2002:null":
                return None
            return yaml.load(stripped, Loader=_StrictLoader)
    return stripped


def _read_csv_row(record: RawRecord) -> PatientProfile:
    row: dict[str, str] = record.payload
    if "__error__" in row:
        raise PatientFileError(row["__error__"], file=record.file, line=record.line)
    data: dict[str, Any] = {}
    positions: dict[tuple[Any, ...], tuple[int, int]] = {}
    headers: dict[str, str] = {}
    empty_lists: dict[tuple[Any, ...], str] = {}
    for index, (header, cell) in enumerate(row.items(), start=1):
        if not cell.strip():
            continue
        column = _column(header, record.file, index)
        place = (record.line, index)
        if column.list_marker:
            if cell.strip().lower() != EMPTY_LIST_CELL:
                raise PatientFileError(f"a list column takes only {EMPTY_LIST_CELL!r} (the patient has none); "
                                       f"give items in {header}.1.<field> columns", file=record.file,
                                       line=record.line, column=index, field=f"column {header}")
            empty_lists[column.path] = header
            _put(data, column.path, [], record, header, index)
            continue
        try:
            value = cell_value(cell)
        except (yaml.YAMLError, ValueError) as exc:
            raise PatientFileError(f"cannot read {shown(cell)}: {exc}", file=record.file, line=record.line,
                                   column=index, field=f"column {header}") from None
        problem = limit_problem(value)
        if problem is not None:
            raise PatientFileError(problem, file=record.file, line=record.line, column=index,
                                   field=f"column {header}")
        _put(data, column.path, value, record, header, index)
        positions[column.path] = place
        headers[dotted_path(column.path)] = header
    for path, header in empty_lists.items():
        if _get(data, path):
            raise PatientFileError(f"says {EMPTY_LIST_CELL!r} but the row also has items for that list",
                                   file=record.file, line=record.line, field=f"column {header}")
    data = _lists_from_indexes(data)
    try:  # a gap in item numbers closes up, so the index an error names may be one lower than the column's
        return validate_patient(Document(record.file, data, positions))
    except PatientFileError as exc:
        if exc.field in headers:
            exc.field = f"column {headers[exc.field]}"
        raise


def _put(data: dict[str, Any], path: tuple[Any, ...], value: Any, record: RawRecord, header: str,
         index: int) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.setdefault(part, {})  # list items are dicts keyed by index until _lists_from_indexes
        if not isinstance(node, dict):
            raise PatientFileError("has both a list marker and items", file=record.file, line=record.line,
                                   column=index, field=f"column {header}")
    node[path[-1]] = value


def _get(data: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part, {})
    return node.get(path[-1]) if isinstance(node, dict) else None


def _lists_from_indexes(node: Any) -> Any:
    """Dicts keyed by 0-based item numbers become lists, in number order (a gap closes up)."""
    if isinstance(node, dict):
        converted = {key: _lists_from_indexes(value) for key, value in node.items()}
        if converted and all(isinstance(key, int) for key in converted):
            return [converted[key] for key in sorted(converted)]
        return converted
    return node


# ------------------------------------------------------------------ writing a CSV (for exports and tests)
def csv_cells(data: dict[str, Any]) -> dict[str, str]:
    """The CSV columns and cells of one patient's data, in the format :func:`iter_records` reads."""
    cells: dict[str, str] = {}

    def visit(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, list):
            if not node:
                cells[prefix] = EMPTY_LIST_CELL
            for number, item in enumerate(node, start=1):
                visit(item, f"{prefix}.{number}")
        elif node is None:
            return
        elif isinstance(node, bool):
            cells[prefix] = "true" if node else "false"
        elif isinstance(node, (dt.date, int, float)):
            cells[prefix] = node.isoformat() if isinstance(node, dt.date) else repr(node)
        else:
            cells[prefix] = str(node)

    visit(data, "")
    return cells


def write_csv(rows: list[dict[str, Any]], handle: io.TextIOBase | typing.TextIO) -> None:
    """Write patients' data as a cohort CSV (the columns of all rows, in first-seen order)."""
    flattened = [csv_cells(row) for row in rows]
    header = list(dict.fromkeys(column for cells in flattened for column in cells))
    writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flattened)
