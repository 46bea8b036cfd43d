"""The state an import builds up while reading a bundle, and the means every resource reader shares.

:class:`ImportState` holds what was read so far (the profile data, its lists, dated facts) and
what was not used or left unknown; each resource type is read by a class of its own module that
extends it (:mod:`.patient`, :mod:`.observations`, :mod:`.conditions`, :mod:`.medications`,
:mod:`.procedures`, :mod:`.tasks`), and :class:`matcher.intake.fhir.bundle.BundleImporter` combines them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ValidationError

from matcher.errors import MatcherError, PatientFileError
from matcher.intake.fhir import codes
from matcher.intake.fhir.result import Unknown, Unused
from matcher.intake.fhir.values import code_text, number_text, ucum_to_text
from matcher.intake.load import Document
from matcher.model.units import UnitProblem


class ImportState:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.source = document.path
        self.unused: list[Unused] = []
        self.unknown: list[Unknown] = []
        self.notes: list[str] = []
        self.data: dict[str, Any] = {}
        self.labs: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []
        self.bilag: list[dict[str, Any]] = []
        self.tests: list[dict[str, Any]] = []
        self.sections: dict[str, list[dict[str, Any]]] = {name: [] for name in codes.LIST_SECTIONS}
        self.complete: dict[str, str] = {}
        self.unknown_sections: set[str] = set()
        #: (dotted profile path) -> list of (date or None, value, label)
        self.facts: dict[str, list[tuple[dt.date | None, Any, str]]] = {}
        self.resources: list[tuple[int, str, Any]] = []
        self.by_reference: dict[str, Any] = {}
        self.patient_refs: set[str] = set()
        self.used_medications: set[str] = set()
        self.decisions: list[dict[str, Any]] = []

    # -------------------------------------------------- errors and lists
    def error(self, message: str, at: tuple[Any, ...] = (), label: str | None = None,
              element: str = "") -> MatcherError:
        line, column = self.document.position(at) if at else (None, None)
        where = " ".join(part for part in (label, element) if part) or None
        placed = self.entry_source(at)
        if placed is not None:  # an entry assembled from a bulk export: the error is at the line it came from
            return PatientFileError(message, file=placed[0], line=placed[1], field=where)
        return PatientFileError(message, file=self.source, line=line, column=column, field=where)

    def entry_source(self, at: tuple[Any, ...]) -> tuple[str, int] | None:
        """The file and line a bulk export's entry ``at`` points into was read from (its source extension)."""
        from matcher.intake.fhir.bulk import SOURCE_EXTENSION

        if len(at) < 2 or at[0] != "entry" or not isinstance(at[1], int) or not isinstance(self.document.data, dict):
            return None
        entries = self.document.data.get("entry")
        entry = entries[at[1]] if isinstance(entries, list) and 0 <= at[1] < len(entries) else None
        extensions = entry.get("extension") if isinstance(entry, dict) else None
        for extension in extensions if isinstance(extensions, list) else []:
            if isinstance(extension, dict) and extension.get("url") == SOURCE_EXTENSION:
                file, _, line = str(extension.get("valueString", "")).rpartition(":")
                if file and line.isdigit():
                    return file, int(line)
        return None

    def skip(self, label: str, concept: Any, reason: str) -> None:
        self.unused.append(Unused(label, code_text(concept), reason))

    def leave_unknown(self, field_name: str, label: str, reason: str) -> None:
        self.unknown.append(Unknown(field_name, label, reason))

    def section_unknown(self, section: str, label: str, reason: str) -> None:
        self.unknown_sections.add(section)
        self.leave_unknown(section, label, reason)

    def checked(self, model: type[BaseModel], item: dict[str, Any], label: str, index: int,
                elements: dict[str, str]) -> dict[str, Any]:
        """``item`` validated as one entry of the profile, or the error at the resource's element."""
        try:
            model.model_validate(item)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            key = str(problem["loc"][0]) if problem["loc"] else ""
            message = str(problem["msg"]).removeprefix("Value error, ")
            element = elements.get(key, key)
            raise self.error(message, ("entry", index, "resource", *element.split(".")[:1]), label, element) from None
        return item


    def note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


    def quantity(self, quantity: Any, index: int, label: str, element: str) -> str:
        """A FHIR Quantity as the profile's ``"<number> <unit>"`` text; raises on a unit it cannot read."""
        at = ("entry", index, "resource", element.split(".", maxsplit=1)[0])
        if quantity.value is None:
            raise self.error("a Quantity without a value", at, label, element)
        if quantity.code and quantity.system in (codes.UCUM, None):
            try:
                unit = ucum_to_text(str(quantity.code))
            except UnitProblem as exc:
                raise self.error(str(exc), at, label, element + ".code") from None
        elif quantity.unit:
            unit = str(quantity.unit)
        else:
            raise self.error("a Quantity without a unit (the matcher never guesses one)", at, label, element)
        return f"{number_text(quantity.value)} {unit}"

