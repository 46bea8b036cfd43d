"""Stage 2: turn loaded data into a validated :class:`PatientProfile`, or one clear error.

A pydantic error becomes a :class:`PatientFileError` that names the file, the
line and column, the field path and the problem, with a did-you-mean
suggestion for an unknown key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from matcher.errors import PatientFileError
from matcher.intake.load import Document, dotted_path, read_document
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
        refuse_impossible_dates(imported.profile, Document(document.path, None), dt.date.today())
        return LoadedPatient(imported.profile, imported)
    return LoadedPatient(validate_patient(document))


def validate_patient(document: Document, *, check_dates: bool = True, today: dt.date | None = None) -> PatientProfile:
    """The validated profile. With ``check_dates`` (the default) its dates are also checked against the patient's
    life: nothing that has happened is dated after ``today`` (default: the wall clock) or before the birth
    date (:func:`refuse_impossible_dates`)."""
    if not isinstance(document.data, dict):
        kind = "empty" if document.data is None else type(document.data).__name__
        raise PatientFileError(f"a patient file must be a mapping of fields, found {kind}", file=document.path,
                               line=1, column=1)
    try:
        profile = PatientProfile.model_validate(document.data)
    except ValidationError as exc:
        raise pydantic_to_error(exc, document, PatientProfile, PatientFileError) from None
    if check_dates:
        refuse_impossible_dates(profile, document, today or dt.date.today())
    return profile


def dated_entries(profile: PatientProfile) -> Iterator[tuple[tuple[str | int, ...], dt.date, str, bool]]:
    """(path, date, what, happened) of every date in a profile; ``happened`` is False for what may lie ahead:
    a planned procedure or vaccination, and the end of a course or an infection (a planned end)."""
    demo = profile.demographics
    if demo and demo.birth_date:
        yield ("demographics", "birth_date"), demo.birth_date, "birth date", True
    for i, score in enumerate(profile.disease_activity or []):
        yield ("disease_activity", i, "date"), score.date, f"{score.index} score", True
    for i, assessment in enumerate(profile.bilag_2004 or []):
        yield ("bilag_2004", i, "date"), assessment.date, "BILAG-2004 assessment", True
    for i, result in enumerate(profile.labs or []):
        yield ("labs", i, "date"), result.date, f"{result.test} result", True
    for i, test in enumerate((profile.pregnancy.tests if profile.pregnancy else None) or []):
        yield ("pregnancy", "tests", i, "date"), test.date, "pregnancy test", True
    for i, course in enumerate(profile.medications or []):
        if course.start:
            yield ("medications", i, "start"), course.start, f"start of {course.drug}", True
        if course.end:
            yield ("medications", i, "end"), course.end, f"end of {course.drug}", False
    for i, infection in enumerate(profile.infections or []):
        if infection.start:
            yield ("infections", i, "start"), infection.start, f"start of {infection.name}", True
        if infection.end:
            yield ("infections", i, "end"), infection.end, f"end of {infection.name}", False
    for i, malignancy in enumerate(profile.malignancies or []):
        if malignancy.diagnosed:
            yield ("malignancies", i, "diagnosed"), malignancy.diagnosed, f"diagnosis of {malignancy.type}", True
    for listed in ("procedures", "immunizations"):
        for i, entry in enumerate(getattr(profile, listed) or []):
            if entry.date:
                yield (listed, i, "date"), entry.date, listed.removesuffix("s"), not entry.planned
    if profile.diagnoses and profile.diagnoses.lupus_nephritis and profile.diagnoses.lupus_nephritis.biopsy_date:
        yield (("diagnoses", "lupus_nephritis", "biopsy_date"), profile.diagnoses.lupus_nephritis.biopsy_date,
               "renal biopsy", True)
    if profile.consent and profile.consent.date:
        yield ("consent", "date"), profile.consent.date, "consent", True


def refuse_impossible_dates(profile: PatientProfile, document: Document, today: dt.date) -> None:
    """Bad input, with file, line and field: a date after ``today`` on something that has happened (a
    procedure or vaccination marked ``planned: true`` may lie ahead), and any date before the birth date."""
    demo = profile.demographics
    born = demo.birth_date if demo else None
    for path, day, what, happened in dated_entries(profile):
        problem = None
        if happened and day > today:
            problem = f"{what} dated {day}, after today ({today}): a date that has not come yet"
            if path[0] in ("procedures", "immunizations"):
                problem += " (mark it planned: true if it is planned)"
        elif born is not None and day < born and path != ("demographics", "birth_date"):
            problem = f"{what} dated {day}, before the birth date {born}"
        if problem is not None:
            line, column = document.position(path)
            raise PatientFileError(problem, file=document.path, line=line, column=column,
                                   field=dotted_path(path))
