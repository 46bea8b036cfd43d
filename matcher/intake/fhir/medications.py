"""MedicationStatement and MedicationRequest resources, and the Medication resources they refer to: drug courses."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from matcher.intake.fhir import codes
from matcher.intake.fhir.state import ImportState
from matcher.intake.fhir.values import as_date, codings, extension
from matcher.model import drugs
from matcher.model.profile import MedicationExposure


class MedicationReader(ImportState):
    def medication_concept(self, resource: Any) -> tuple[Any, str | None]:
        if resource.medicationCodeableConcept is not None:
            return resource.medicationCodeableConcept, None
        reference = resource.medicationReference.reference if resource.medicationReference is not None else None
        target = self.by_reference.get(str(reference)) if reference else None
        if target is None:
            return None, f"medicationReference {reference!r} is not in the bundle"
        for _, label, candidate in self.resources:
            if candidate is target:
                self.used_medications.add(label)
        return target.code, None

    def drug_of(self, concept: Any) -> tuple[str | None, str | None]:
        """(drug name, None), (None, why ambiguous) or (None, None) when the codes say nothing known."""
        names: set[str] = set()
        ambiguous = None
        for coding in codings(concept):
            code = str(coding.code or "")
            if coding.system == codes.RXNORM and code in codes.RXNORM_DRUGS:
                names.add(codes.RXNORM_DRUGS[code][0])
            elif coding.system == codes.ATC and code in codes.ATC_DRUGS:
                name = codes.ATC_DRUGS[code][0]
                if name is None:
                    ambiguous = codes.ATC_AMBIGUOUS[code]
                else:
                    names.add(name)
        if len(names) > 1:
            return None, f"its codings name different drugs ({', '.join(sorted(names))})"
        if names:
            return names.pop(), None
        if ambiguous:
            return None, ambiguous
        words = " ".join([str(concept.text or "")] + [str(c.display or "") for c in codings(concept)]).lower()
        found = {drugs.canonical_drug_name(known) for known in drugs.known_drug_names()
                 if re.search(rf"\b{re.escape(known.replace('_', ' '))}\b", words.replace("_", " "))}
        found.discard(None)
        if len(found) > 1:
            return None, f"its name mentions several drugs ({', '.join(sorted(str(f) for f in found))})"
        if found:
            self.note_once("a medication whose code is not in the tables is matched by the drug name in its "
                           "display or text when exactly one known drug is named (listed in the YAML notes)")
            return str(found.pop()), None
        return None, None

    def read_medication(self, index: int, label: str, resource: Any) -> None:
        kind = resource.get_resource_type()
        concept, problem = self.medication_concept(resource)
        if problem:
            self.skip(label, None, problem)
            return
        status = str(resource.status)
        if kind == "MedicationRequest" and resource.intent not in ("order", "original-order", "reflex-order",
                                                                   "filler-order", "instance-order"):
            self.skip(label, concept, f"intent {resource.intent!r}: a plan or proposal, not a course given")
            return
        if status not in ("active", "completed", "stopped"):
            self.skip(label, concept, f"status {status!r}: only active, completed or stopped courses are read")
            return
        drug, ambiguous = self.drug_of(concept)
        if ambiguous:
            self.section_unknown("medications", label, ambiguous)
            return
        if drug is None:
            self.skip(label, concept, "not a drug of matcher/model/drugs.py (no mapping for this code)")
            return
        item: dict[str, Any] = {"drug": drug}
        dosages = list(resource.dosage or []) if kind == "MedicationStatement" else list(
            resource.dosageInstruction or [])
        element = "dosage" if kind == "MedicationStatement" else "dosageInstruction"
        bounds = None
        if len(dosages) > 1:
            self.leave_unknown(f"medications ({drug}).dose", label, f"{len(dosages)} {element} entries: the dose of "
                                                                   "one course is ambiguous (write one resource per "
                                                                   "dose)")
        elif dosages:
            bounds = self.read_dosage(index, label, drug, dosages[0], element, item)
        start, end = self.medication_period(resource, kind, bounds)
        if start:
            item["start"] = start
        if end:
            item["end"] = end
        if status == "active" and end is None:
            item["ongoing"] = True
        elif status in ("completed", "stopped") and end is None:
            item["ongoing"] = False
        response = extension(resource, "response")
        if response is not None:
            item["response"] = response
        self.sections["medications"].append(self.checked(MedicationExposure, item, label, index, {
            "dose": f"{element}.doseAndRate.doseQuantity", "frequency": f"{element}.timing.repeat",
            "administrations": f"{element}.timing.repeat.count", "start": "effectivePeriod.start",
            "end": "effectivePeriod.end", "drug": "medicationCodeableConcept", "response": "extension"}))

    def read_dosage(self, index: int, label: str, drug: str, dosage: Any, element: str,
                    item: dict[str, Any]) -> Any:
        doses = [d.doseQuantity for d in (dosage.doseAndRate or []) if d.doseQuantity is not None]
        if len(doses) == 1:
            item["dose"] = self.quantity(doses[0], index, label, f"{element}.doseAndRate.doseQuantity")
        elif len(doses) > 1:
            self.leave_unknown(f"medications ({drug}).dose", label, "several doseQuantity: the dose is ambiguous")
        repeat = dosage.timing.repeat if dosage.timing is not None else None
        if repeat is not None:
            frequency = profile_frequency(repeat)
            if frequency:
                item["frequency"] = frequency
            elif repeat.frequency is not None or repeat.period is not None:
                self.leave_unknown(f"medications ({drug}).frequency", label,
                                   f"timing {repeat.frequency}/{repeat.period} {repeat.periodUnit} is not one of the "
                                   "profile's frequencies")
            if repeat.count is not None:
                item["administrations"] = int(repeat.count)
        for coding in codings(dosage.route):
            if coding.system == codes.SNOMED and str(coding.code) in codes.SNOMED_ROUTES:
                item["route"] = codes.SNOMED_ROUTES[str(coding.code)]
        return repeat.boundsPeriod if repeat is not None else None

    def medication_period(self, resource: Any, kind: str, bounds: Any) -> tuple[dt.date | None, dt.date | None]:
        if kind == "MedicationStatement":
            if resource.effectivePeriod is not None:
                period = resource.effectivePeriod
                return (as_date(period.start) if period.start else None, as_date(period.end) if period.end else None)
            if resource.effectiveDateTime is not None:
                return (as_date(resource.effectiveDateTime), None)
            return (None, None)
        if bounds is not None:
            return (as_date(bounds.start) if bounds.start else None, as_date(bounds.end) if bounds.end else None)
        if resource.authoredOn is not None:
            self.note_once("a MedicationRequest without timing.repeat.boundsPeriod starts on its authoredOn date")
            return (as_date(resource.authoredOn), None)
        return (None, None)


def profile_frequency(repeat: Any) -> str | None:
    """The profile's frequency for a Timing.repeat, or None when it is not one of them."""
    if repeat.frequency is None and repeat.period is None:
        return None
    count = int(repeat.frequency or 1)
    period = float(repeat.period or 1)
    unit = str(repeat.periodUnit or "")
    table = {
        (1, 1.0, "d"): "daily", (2, 1.0, "d"): "twice_daily", (3, 1.0, "d"): "three_times_daily",
        (1, 1.0, "wk"): "weekly", (1, 7.0, "d"): "weekly", (1, 2.0, "wk"): "every_2_weeks",
        (1, 14.0, "d"): "every_2_weeks", (1, 4.0, "wk"): "every_4_weeks", (1, 28.0, "d"): "every_4_weeks",
        (1, 1.0, "mo"): "monthly",
    }
    return table.get((count, period, unit))

