"""Stage 2: turn loaded data into a validated :class:`PatientProfile`, or one clear error.

A pydantic error becomes a :class:`PatientFileError` that names the file, the
line and column, the field path and the problem, with a did-you-mean
suggestion for an unknown key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from matcher.errors import PatientFileError
from matcher.intake.load import Document, read_document
from matcher.intake.pydantic_errors import pydantic_to_error
from matcher.model.profile import PatientProfile

if TYPE_CHECKING:
    from matcher.intake.fhir import FhirImport


def load_patient(path: str | Path) -> PatientProfile:
    """Read and validate a patient file (.yaml, .yml or .json, or a FHIR R4 Bundle in .json)."""
    return read_patient(path).profile


@dataclass(frozen=True)
class LoadedPatient:
    """A validated profile and, when the file was a FHIR Bundle, what the import used and did not use."""

    profile: PatientProfile
    fhir: FhirImport | None = None


def read_patient(path: str | Path) -> LoadedPatient:
    """Like :func:`load_patient`, keeping the FHIR import's lists of unused resources and unknown fields."""
    document = read_document(path, PatientFileError)
    if isinstance(document.data, dict) and "resourceType" in document.data:  # FHIR: a Bundle, or an error saying so
        from matcher.intake.fhir import import_document  # fhir.resources is imported only when a bundle is read

        imported = import_document(document)
        return LoadedPatient(imported.profile, imported)
    return LoadedPatient(validate_patient(document))


def validate_patient(document: Document) -> PatientProfile:
    if not isinstance(document.data, dict):
        kind = "empty" if document.data is None else type(document.data).__name__
        raise PatientFileError(f"a patient file must be a mapping of fields, found {kind}", file=document.path,
                               line=1, column=1)
    try:
        return PatientProfile.model_validate(document.data)
    except ValidationError as exc:
        raise pydantic_to_error(exc, document, PatientProfile, PatientFileError) from None
