"""The bundle: entries parsed by ``fhir.resources``, each resource given to its type's reader, the profile assembled.

``fhir.resources`` is imported only when a bundle is read, so a run without bundles does not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matcher.errors import MatcherError, PatientFileError
from matcher.intake.fhir import codes
from matcher.intake.fhir.conditions import ConditionReader
from matcher.intake.fhir.medications import MedicationReader
from matcher.intake.fhir.observations import ObservationReader
from matcher.intake.fhir.patient import PatientReader
from matcher.intake.fhir.procedures import ProcedureReader
from matcher.intake.fhir.result import FhirImport, Unused
from matcher.intake.fhir.tasks import TaskReader
from matcher.intake.fhir.values import code_text
from matcher.intake.load import Document, dotted_path, read_document
from matcher.model.profile import PatientProfile


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def read_bundle(path: str | Path) -> FhirImport:
    """Read a bundle file (JSON) or raise PatientFileError."""
    document = read_document(path, PatientFileError)
    return import_document(document)


def import_document(document: Document) -> FhirImport:
    return BundleImporter(document).run()


def import_bundle(obj: Any, source: str) -> FhirImport:
    """Import one bundle given as parsed JSON (e.g. one line of an NDJSON file); ``source`` names it in errors."""
    return import_document(Document(source, obj))



class BundleImporter(PatientReader, ObservationReader, ConditionReader, MedicationReader, ProcedureReader,
                     TaskReader):
    """Reads one bundle into a :class:`FhirImport`; each resource type is read by the class named after it."""

    def run(self) -> FhirImport:
        obj = self.document.data
        if not is_bundle(obj):
            found = obj.get("resourceType") if isinstance(obj, dict) else type(obj).__name__
            raise self.error(f"expected a FHIR Bundle, found {found!r}", (), None, "resourceType")
        try:
            from fhir.resources.R4B import get_fhir_model_class
            from fhir.resources.R4B.bundle import Bundle
        except ImportError:  # pragma: no cover - depends on the installation
            raise self.error("reading FHIR bundles needs the fhir.resources package (pip install "
                             "'fhir.resources>=8,<9')") from None
        entries = obj.get("entry") or []
        if not isinstance(entries, list):
            raise self.error("Bundle.entry must be a list", ("entry",), "Bundle", "entry")
        shell = {key: value for key, value in obj.items() if key != "entry"}
        bundle: Any = self.validate(Bundle, {**shell, "entry": [
            {k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e for e in entries]},
            (), "Bundle")
        for index, entry in enumerate(entries):
            raw = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(raw, dict):
                self.unused.append(Unused(f"entry {index}", "", "no resource in this entry"))
                continue
            kind = raw.get("resourceType")
            label = f"{kind}/{raw.get('id', '?')} (entry {index})"
            try:
                model = get_fhir_model_class(str(kind))
            except (KeyError, ValueError):
                raise self.error(f"unknown FHIR resource type {kind!r}", ("entry", index, "resource", "resourceType"),
                                 f"entry {index}", "resourceType") from None
            resource = self.validate(model, raw, ("entry", index, "resource"), label)
            self.resources.append((index, label, resource))
            full_url = entry.get("fullUrl") if isinstance(entry, dict) else None
            for ref in (full_url, f"{kind}/{raw.get('id')}" if raw.get("id") else None):
                if ref:
                    self.by_reference[str(ref)] = resource
        self.read_patient(bundle)
        handlers = {
            "Observation": self.read_observation,
            "Condition": self.read_condition,
            "MedicationStatement": self.read_medication,
            "MedicationRequest": self.read_medication,
            "Procedure": self.read_procedure,
            "Immunization": self.read_immunization,
            "List": self.read_list,
            "Task": self.read_task,
        }
        for index, label, resource in self.resources:
            kind = resource.get_resource_type()
            if kind in ("Patient", "Medication"):
                continue
            if not self.about_patient(resource):
                self.unused.append(Unused(label, "", "about another patient than the bundle's Patient"))
                continue
            handler = handlers.get(kind)
            if handler is None:
                self.unused.append(Unused(label, "", f"{kind} resources are not read (see docs/FHIR.md)"))
                continue
            handler(index, label, resource)
        for _, label, resource in self.resources:
            if resource.get_resource_type() == "Medication" and not any(
                    u.resource == label for u in self.unused) and label not in self.used_medications:
                self.unused.append(Unused(label, code_text(resource.code), "no MedicationStatement or "
                                          "MedicationRequest of this patient refers to it"))
        self.assemble()
        profile = self.final_profile()
        return FhirImport(self.source, self.data, profile, self.unused, self.unknown, self.notes, len(self.resources))

    def validate(self, model: Any, raw: Any, at: tuple[Any, ...], label: str) -> Any:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            loc = tuple(problem["loc"])
            if label == "Bundle" and loc[:1] == ("entry",) and len(loc) > 1:
                label = f"entry {loc[1]}"
                loc = loc[2:]
            message = str(problem["msg"]).removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                message = "unknown element for this resource type"
            elif problem["type"] == "missing":
                message = "required element is missing"
            got = problem.get("input")
            if problem["type"] not in ("extra_forbidden", "missing") and not isinstance(got, (dict, list)):
                message += f" (got {got!r})"
            raise self.error(message, at + loc, label, dotted_path(loc)) from None
        except (KeyError, ValueError, TypeError) as exc:  # fhir.resources raises these for some malformed input
            raise self.error(f"not a valid {getattr(model, '__name__', 'resource')}: {exc}", at, label) from None

    def about_patient(self, resource: Any) -> bool:
        subject = (getattr(resource, "subject", None) or getattr(resource, "patient", None)
                   or getattr(resource, "for_fhir", None))
        reference = getattr(subject, "reference", None) if subject is not None else None
        if not reference or not self.patient_refs:
            return True
        return str(reference) in self.patient_refs

    def fact(self, path: str) -> Any:
        """The value of a fact: the most recent one; the same value repeated is fine; a conflict is unknown."""
        readings = self.facts.get(path)
        if not readings:
            return None
        dated = [r for r in readings if r[0] is not None]
        if dated:
            latest = max(r[0] for r in dated if r[0] is not None)
            readings = [r for r in dated if r[0] == latest]
        values = {repr(r[1]) for r in readings}
        if len(values) > 1:
            self.leave_unknown(path, ", ".join(r[2] for r in readings), "resources of the same date disagree")
            return None
        return readings[0][1]

    def assemble(self) -> None:
        data = self.data
        for path in sorted(self.facts):
            if any(u.field == path for u in self.unknown):
                continue
            value = self.fact(path)
            if value is None:
                continue
            parts = path.split(".")
            target = data
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
            if path == "consent.signed":
                dates = [r[0] for r in self.facts[path] if r[0] is not None]
                if dates:
                    target["date"] = max(dates)
            if path == "diagnoses.lupus_nephritis.biopsy_class":
                dates = [r[0] for r in self.facts[path] if r[0] is not None]
                if dates:
                    target["biopsy_date"] = max(dates)
        sjogren = data.get("diagnoses", {}).get("primary_sjogren", {})
        if sjogren.get("present") and data.get("diagnoses", {}).get("sle", {}).get("present"):
            del sjogren["present"]
            self.leave_unknown("diagnoses.primary_sjogren.present", "Condition", "the bundle records SLE as well: "
                               "Sjögren's syndrome with SLE may be secondary, and the code does not say primary")
        if self.scores:
            data["disease_activity"] = self.scores
        if self.bilag:
            data["bilag_2004"] = self.bilag
        if self.labs:
            data["labs"] = self.labs
        if self.tests:
            data.setdefault("pregnancy", {})["tests"] = self.tests
        if self.decisions:
            data["decisions"] = self.decisions
        for section in codes.LIST_SECTIONS:
            items = self.sections[section]
            if section in self.unknown_sections:
                continue
            if items and section not in self.complete:
                # Unknown is not false: resources found do not say that the history is complete. Recorded as a
                # partial list, a matching entry still answers the trials' "any ...?", but "none" stays unknown.
                data[section] = items
                data.setdefault("partial_lists", []).append(section)
                self.notes.append(f"{section}: the {len(items)} resource(s) found are recorded as a partial list "
                                  f"(partial_lists): no current List coded {codes.PROFILE}|{section} says the "
                                  f"{section} history is complete, so an entry that matches counts but 'none "
                                  "matches' stays unknown")
            elif items:
                data[section] = items
            elif section in self.complete:
                data[section] = []
                self.notes.append(f"{section}: none, as {self.complete[section]} says the list is complete")
        ordered = ["id", "screening_date", "demographics", "diagnoses", "disease_activity", "bilag_2004", "labs",
                   "medications", "pregnancy", "infections", "malignancies", "procedures", "immunizations", "renal",
                   "consent", "administrative", "partial_lists", "decisions"]
        self.data = {key: data[key] for key in ordered if key in data}

    def final_profile(self) -> PatientProfile:
        from matcher.intake.pydantic_errors import pydantic_to_error

        try:
            return PatientProfile.model_validate(self.data)
        except ValidationError as exc:
            error: MatcherError = pydantic_to_error(exc, Document(self.source, self.data), PatientProfile,
                                                    PatientFileError)
            error.message = f"the profile built from the bundle: {error.message}"
            raise error from None

