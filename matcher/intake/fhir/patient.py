"""The Patient resource: the id, birth date and sex, and the references that point to this patient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matcher.intake.fhir.state import ImportState
from matcher.intake.fhir.values import as_date


class PatientReader(ImportState):
    def read_patient(self, bundle: Any) -> None:
        patients = [(i, label, r) for i, label, r in self.resources if r.get_resource_type() == "Patient"]
        if len(patients) > 1:
            index, label, _ = patients[1]
            raise self.error("a bundle must describe one patient: it has more than one Patient resource",
                             ("entry", index, "resource"), label)
        timestamp = as_date(bundle.timestamp) if bundle.timestamp is not None else None
        if timestamp is not None:
            self.data["screening_date"] = timestamp
            self.notes.append(f"screening_date {timestamp} is the date of Bundle.timestamp (the moment the bundle "
                              "was assembled); --as-of overrides it")
        if not patients:
            self.data["id"] = bundle.id or Path(self.source).stem
            self.notes.append("the bundle has no Patient resource: id taken from "
                              + ("Bundle.id" if bundle.id else "the file name") + "; birth date and sex unknown")
            return
        index, label, patient = patients[0]
        self.data["id"] = patient.id or bundle.id or Path(self.source).stem
        for entry_index, entry in enumerate(self.document.data.get("entry") or []):
            if entry_index == index and isinstance(entry, dict) and entry.get("fullUrl"):
                self.patient_refs.add(str(entry["fullUrl"]))
        if patient.id:
            self.patient_refs.add(f"Patient/{patient.id}")
        demographics: dict[str, Any] = {}
        if patient.birthDate is not None:
            birth = as_date(patient.birthDate)
            if birth is None:
                self.leave_unknown("demographics.birth_date", label,
                                   f"birthDate {patient.birthDate} is not a full date (the age cannot be computed "
                                   "exactly)")
            else:
                demographics["birth_date"] = birth
        if patient.gender in ("female", "male"):
            demographics["sex"] = patient.gender
        elif patient.gender is not None:
            self.leave_unknown("demographics.sex", label, f"gender {patient.gender!r} is neither female nor male")
        if demographics:
            self.data["demographics"] = demographics

