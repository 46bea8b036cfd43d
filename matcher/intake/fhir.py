"""Read a patient from a FHIR R4 Bundle (JSON) into the profile, listing everything not used.

The bundle is parsed by ``fhir.resources`` (its R4B models, which read R4 JSON for every
resource used here), then mapped with the code tables of :mod:`matcher.intake.fhir_codes`; the
mapping and every interpretation are described in docs/FHIR.md. The result is a
:class:`FhirImport`: the profile as plain data (what a patient YAML file would hold), the
resources and codes that were not used, the fields left unknown because a code or value
was ambiguous, and the readings made. Bad input is one :class:`PatientFileError` naming
the bundle file, the resource (``Observation/abc (entry 3)``, entries counted from 0 as in
``Bundle.entry[3]``) and the element.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from matcher.errors import MatcherError, PatientFileError
from matcher.intake import fhir_codes as codes
from matcher.intake.load import Document, dotted_path, read_document
from matcher.model import drugs
from matcher.model.profile import (
    ActivityScore,
    Immunization,
    Infection,
    LabResult,
    Malignancy,
    MedicationExposure,
    PatientProfile,
    PregnancyTest,
    Procedure,
)
from matcher.model.units import UnitProblem


@dataclass(frozen=True)
class Unused:
    """A resource, or a code in it, that gave nothing to the profile, and why."""

    resource: str
    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.resource}{' ' + self.code if self.code else ''}: {self.reason}"


@dataclass(frozen=True)
class Unknown:
    """A profile field left unknown because what the bundle says about it is ambiguous."""

    field: str
    resource: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.resource}: {self.reason}"


@dataclass
class FhirImport:
    """What a bundle gave: the profile data, what was not used, what was left unknown, how it was read."""

    source: str
    data: dict[str, Any]
    profile: PatientProfile
    unused: list[Unused] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    resources: int = 0

    def report(self) -> dict[str, Any]:
        """The import as JSON-ready data (for ``matcher check --format json``)."""
        return {
            "source": self.source,
            "resources": self.resources,
            "unused": [{"resource": u.resource, "code": u.code, "reason": u.reason} for u in self.unused],
            "unknown": [{"field": u.field, "resource": u.resource, "reason": u.reason} for u in self.unknown],
            "notes": list(self.notes),
        }


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def read_bundle(path: str | Path) -> FhirImport:
    """Read a bundle file (JSON) or raise PatientFileError."""
    document = read_document(path, PatientFileError)
    return import_document(document)


def import_document(document: Document) -> FhirImport:
    return _Importer(document).run()


def import_bundle(obj: Any, source: str) -> FhirImport:
    """Import one bundle given as parsed JSON (e.g. one line of an NDJSON file); ``source`` names it in errors."""
    return import_document(Document(source, obj))


# ---------------------------------------------------------------- helpers
_ACCEPTED_OBSERVATION = ("final", "amended", "corrected")
_UCUM_PER_COLLECTION = re.compile(r"/\((\d+(?:\.\d+)?)\.([A-Za-z]+)\)")
_UCUM_ANNOTATION = re.compile(r"\{[^}]*\}")


def ucum_to_text(code: str) -> str:
    """A UCUM unit code in a spelling the profile's unit reader accepts; raises UnitProblem.

    ``g/(24.h)`` -> ``g/24h``, ``mL/min/{1.73_m2}`` and ``mL/min/1.73.m2`` -> ``mL/min/1.73m2``,
    ``10*9/L`` -> ``x10^9/L``, ``[IU]/L`` -> ``IU/L``, ``mm[Hg]`` -> ``mmHg``; annotations such as
    ``{creat}`` or ``{cells}`` are dropped (they name what is counted, not a unit), and a count per
    volume (``/uL``) is written ``cells/uL``.
    """
    text = code.strip()
    if not text:
        raise UnitProblem("empty UCUM unit")
    text = re.sub(r"/\{?1\.73[._]m2\}?$", "/1.73m2", text)
    text = _UCUM_ANNOTATION.sub("", text)
    text = _UCUM_PER_COLLECTION.sub(r"/\1\2", text)
    text = text.replace("[IU]", "IU").replace("[iU]", "IU").replace("mm[Hg]", "mmHg")
    if "[" in text or "]" in text:
        raise UnitProblem(f"UCUM unit {code!r} uses a special unit the matcher does not convert")
    text = re.sub(r"^10\*(-?\d+)", r"x10^\1", text)
    text = re.sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", "*", text)
    if text.startswith("/"):  # a count per volume, e.g. /uL or {cells}/uL
        text = "cells" + text
    return text


def _number(value: Decimal | float | int) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else f"{value:g}"


def _as_date(value: Any) -> dt.date | None:
    """A FHIR date or dateTime as a calendar date; None for a partial date (year or year-month)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _codings(concept: Any) -> list[Any]:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _code_text(concept: Any) -> str:
    """``system|code|display`` of each coding, or the text, for listing what was not used."""
    parts = [f"{c.system or '?'}|{c.code or '?'}|{c.display or ''}".rstrip("|") for c in _codings(concept)]
    if not parts and concept is not None and getattr(concept, "text", None):
        parts.append(f"text {concept.text!r}")
    return "; ".join(parts)


def _display(concept: Any, fallback: str) -> str:
    if concept is not None and getattr(concept, "text", None):
        return str(concept.text)
    for coding in _codings(concept):
        if coding.display:
            return str(coding.display)
    return fallback


def _extension(resource: Any, name: str) -> Any:
    """The value of the project's extension ``urn:trial-matcher:profile:<name>``, or None."""
    url = f"{codes.PROFILE}:{name}"
    for extension in getattr(resource, "extension", None) or []:
        if extension.url == url:
            for attr in ("valueCode", "valueBoolean", "valueString", "valueInteger"):
                value = getattr(extension, attr, None)
                if value is not None:
                    return value
    return None


def _yaml_scalar(value: Any) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in str(value))


# ---------------------------------------------------------------- the importer
class _Importer:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.source = document.path
        self.unused: list[Unused] = []
        self.unknown: list[Unknown] = []
        self.notes: list[str] = []
        self.data: dict[str, Any] = {}
        self.labs: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []
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

    # -------------------------------------------------- errors and lists
    def error(self, message: str, at: tuple[Any, ...] = (), label: str | None = None,
              element: str = "") -> MatcherError:
        line, column = self.document.position(at) if at else (None, None)
        where = " ".join(part for part in (label, element) if part) or None
        return PatientFileError(message, file=self.source, line=line, column=column, field=where)

    def skip(self, label: str, concept: Any, reason: str) -> None:
        self.unused.append(Unused(label, _code_text(concept), reason))

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

    # -------------------------------------------------- main
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
                self.unused.append(Unused(label, _code_text(resource.code), "no MedicationStatement or "
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
        subject = getattr(resource, "subject", None) or getattr(resource, "patient", None)
        reference = getattr(subject, "reference", None) if subject is not None else None
        if not reference or not self.patient_refs:
            return True
        return str(reference) in self.patient_refs

    # -------------------------------------------------- Patient
    def read_patient(self, bundle: Any) -> None:
        patients = [(i, label, r) for i, label, r in self.resources if r.get_resource_type() == "Patient"]
        if len(patients) > 1:
            index, label, _ = patients[1]
            raise self.error("a bundle must describe one patient: it has more than one Patient resource",
                             ("entry", index, "resource"), label)
        timestamp = _as_date(bundle.timestamp) if bundle.timestamp is not None else None
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
            birth = _as_date(patient.birthDate)
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

    # -------------------------------------------------- Observation
    def read_observation(self, index: int, label: str, obs: Any) -> None:
        targets: dict[str, tuple[str, Any]] = {}
        skipped_reason = None
        for coding in _codings(obs.code):
            found = self.observation_target(coding)
            if found is not None:
                targets[found[0]] = found
            elif coding.system == codes.LOINC and coding.code in codes.LOINC_NOT_MAPPED:
                skipped_reason = codes.LOINC_NOT_MAPPED[str(coding.code)]
        if not targets:
            self.skip(label, obs.code, skipped_reason or "no mapping for this code (see docs/FHIR.md)")
            return
        if len(targets) > 1:
            fields = sorted(targets)
            self.leave_unknown(", ".join(fields), label,
                               f"its codings map to different fields ({', '.join(fields)}): which one it measures is "
                               "ambiguous")
            return
        ((target, spec),) = targets.values()
        if obs.status not in _ACCEPTED_OBSERVATION:
            self.skip(label, obs.code, f"status {obs.status!r}: only final, amended or corrected results are read")
            return
        if obs.dataAbsentReason is not None:
            self.skip(label, obs.code, f"no value ({_display(obs.dataAbsentReason, 'dataAbsentReason')})")
            return
        when, when_problem = self.effective(obs)
        kind = target.split(":", 1)[0]
        if kind == "lab":
            self.read_lab(index, label, obs, spec, when, when_problem)
        elif kind == "score":
            self.read_score(index, label, obs, spec, when, when_problem)
        elif kind == "hcg":
            self.read_hcg(label, obs, spec, when, when_problem)
        elif kind == "body":
            self.read_body(index, label, obs, spec, when)
        else:  # a fact: pregnancy status, breastfeeding or a field of the project's code system
            self.read_fact(label, obs, spec, when)

    def observation_target(self, coding: Any) -> tuple[str, Any] | None:
        system, code = coding.system, str(coding.code or "")
        if system == codes.LOINC:
            if code in codes.LOINC_LABS:
                test = codes.LOINC_LABS[code].test
                return (f"lab:{test}", test)
            if code in codes.LOINC_HCG:
                return ("hcg", codes.LOINC_HCG[code][0])
            if code in codes.LOINC_BODY:
                name = codes.LOINC_BODY[code][0]
                return (f"body:{name}", name)
            if code == codes.PREGNANCY_STATUS:
                return ("fact:pregnancy.pregnant", "pregnancy.pregnant")
            if code == codes.BREASTFEEDING_STATUS:
                return ("fact:pregnancy.breastfeeding", "pregnancy.breastfeeding")
        if system == codes.PROFILE:
            from matcher.model.profile import ACTIVITY_INDICES, LAB_TESTS

            if code.startswith("labs.") and code[5:] in LAB_TESTS:
                return (f"lab:{code[5:]}", code[5:])
            if code.startswith("disease_activity.") and code[17:] in ACTIVITY_INDICES:
                return (f"score:{code[17:]}", code[17:])
            if code in codes.PROFILE_FACTS:
                return (f"fact:{code}", code)
        return None

    def effective(self, obs: Any) -> tuple[dt.date | None, str | None]:
        if obs.effectiveDateTime is not None:
            day = _as_date(obs.effectiveDateTime)
            return (day, None if day else f"effectiveDateTime {obs.effectiveDateTime} is not a full date")
        if obs.effectivePeriod is not None:
            end = obs.effectivePeriod.end or obs.effectivePeriod.start
            day = _as_date(end)
            return (day, None if day else "effectivePeriod has no full date")
        if obs.effectiveInstant is not None:
            return (_as_date(obs.effectiveInstant), None)
        return (None, "no effective date")

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
        return f"{_number(quantity.value)} {unit}"

    def read_lab(self, index: int, label: str, obs: Any, test: str, when: dt.date | None,
                 when_problem: str | None) -> None:
        field_name = f"labs ({test})"
        if when is None:
            self.leave_unknown(field_name, label, f"{when_problem}: a result is only used with its date")
            return
        quantity = obs.valueQuantity
        if quantity is None:
            self.skip(label, obs.code, "no valueQuantity: the matcher reads this test as a number with a unit")
            return
        if quantity.comparator is not None:
            self.leave_unknown(field_name, label, f"the value is {quantity.comparator}{_number(quantity.value)}: "
                                                  "a bound, not a result")
            return
        item: dict[str, Any] = {"test": test, "value": self.quantity(quantity, index, label, "valueQuantity"),
                                "date": when}
        highs = [r for r in (obs.referenceRange or []) if r.high is not None and not r.appliesTo
                 and (r.type is None or any(c.code == "normal" for c in _codings(r.type)))]
        if len(highs) == 1:
            item["uln"] = self.quantity(highs[0].high, index, label, "referenceRange.high")
            self.note_once("a lab's upper limit of normal (uln) is its referenceRange.high (a range without "
                           "appliesTo, of type normal or untyped)")
        elif len(highs) > 1:
            self.leave_unknown(f"labs ({test}).uln", label, f"{len(highs)} reference ranges with an upper limit: "
                                                             "which one is the ULN is ambiguous")
        self.labs.append(self.checked(LabResult, item, label, index,
                                      {"value": "valueQuantity", "uln": "referenceRange.high",
                                       "date": "effectiveDateTime", "test": "code"}))

    def read_score(self, index: int, label: str, obs: Any, index_name: str, when: dt.date | None,
                   when_problem: str | None) -> None:
        if when is None:
            self.leave_unknown(f"disease_activity ({index_name})", label, f"{when_problem}: a score is only used "
                                                                          "with its date")
            return
        value = obs.valueInteger
        if value is None and obs.valueQuantity is not None and obs.valueQuantity.value is not None:
            number = obs.valueQuantity.value
            value = int(number) if number == int(number) else float(number)
        if value is None:
            self.skip(label, obs.code, "no valueInteger or valueQuantity")
            return
        item = {"index": index_name, "score": value, "date": when}
        self.scores.append(self.checked(ActivityScore, item, label, index,
                                        {"score": "valueInteger", "date": "effectiveDateTime"}))

    def read_hcg(self, label: str, obs: Any, specimen: str, when: dt.date | None, when_problem: str | None) -> None:
        if when is None:
            self.leave_unknown("pregnancy.tests", label, f"{when_problem}: a test is only used with its date")
            return
        result = None
        concept = obs.valueCodeableConcept
        for coding in _codings(concept):
            result = result or codes.POSITIVE_NEGATIVE.get((str(coding.system), str(coding.code)))
        if result is None and obs.valueString is not None and obs.valueString.strip().lower() in ("positive",
                                                                                                  "negative"):
            result = obs.valueString.strip().lower()
        if result is None:
            shown = _code_text(concept) or repr(obs.valueString)
            self.leave_unknown("pregnancy.tests", label,
                               f"result {shown or '(none)'} is neither positive nor negative")
            return
        self.tests.append(PregnancyTest.model_validate({"date": when, "result": result, "specimen": specimen})
                          .model_dump(exclude_none=True))

    def read_body(self, index: int, label: str, obs: Any, name: str, when: dt.date | None) -> None:
        if obs.valueQuantity is None:
            self.skip(label, obs.code, "no valueQuantity")
            return
        text = self.quantity(obs.valueQuantity, index, label, "valueQuantity")
        self.facts.setdefault(f"demographics.{name}", []).append((when, text, label))

    def read_fact(self, label: str, obs: Any, path: str, when: dt.date | None) -> None:
        kind = codes.PROFILE_FACTS.get(path, "boolean")
        value: Any = None
        if path == "pregnancy.pregnant" and obs.valueCodeableConcept is not None:
            answers = {codes.PREGNANT_ANSWERS.get((str(c.system), str(c.code)), "?")
                       for c in _codings(obs.valueCodeableConcept)} - {"?"}
            if len(answers) != 1 or None in answers:
                self.leave_unknown(path, label, f"pregnancy status {_code_text(obs.valueCodeableConcept)} is not "
                                                "'Pregnant' or 'Not pregnant'")
                return
            value = answers.pop()
        elif kind == "boolean":
            value = obs.valueBoolean
            if value is None and obs.valueCodeableConcept is not None:
                answers_yes_no = {codes.YES_NO.get((str(c.system), str(c.code)))
                                  for c in _codings(obs.valueCodeableConcept)} - {None}
                value = answers_yes_no.pop() if len(answers_yes_no) == 1 else None
        elif kind == "integer":
            value = obs.valueInteger
        elif kind == "string":
            value = obs.valueString
        elif kind == "list" and obs.valueString is not None:
            value = [part.strip() for part in obs.valueString.split(",") if part.strip()]
        if value is None:
            self.leave_unknown(path, label, f"no {kind} value this field can take")
            return
        self.facts.setdefault(path, []).append((when, value, label))

    # -------------------------------------------------- Condition
    def read_condition(self, index: int, label: str, condition: Any) -> None:
        mapped: list[codes.ConditionCode] = []
        for coding in _codings(condition.code):
            code = str(coding.code or "")
            if coding.system == codes.SNOMED and code in codes.SNOMED_CONDITIONS:
                mapped.append(codes.SNOMED_CONDITIONS[code])
            elif coding.system in codes.ICD10_SYSTEMS:
                found = codes.icd10_condition(code)
                if found is not None:
                    mapped.append(found)
        if not mapped:
            self.skip(label, condition.code, "no mapping for this code (see docs/FHIR.md)")
            return
        kinds = {c.kind for c in mapped}
        if len(kinds) > 1:
            self.leave_unknown(", ".join(sorted(kinds)), label, "its codings map to different conditions "
                                                                f"({', '.join(sorted(kinds))})")
            return
        kind = kinds.pop()
        verification = {str(c.code) for c in _codings(condition.verificationStatus)}
        clinical = {str(c.code) for c in _codings(condition.clinicalStatus)}
        if "entered-in-error" in verification:
            self.skip(label, condition.code, "verificationStatus entered-in-error")
            return
        ambiguous = next((c.ambiguous for c in mapped if c.ambiguous), None)
        if kind in ("sle", "primary_sjogren", "lupus_nephritis"):
            self.read_diagnosis(label, condition, kind, mapped, verification, ambiguous)
            return
        section = "infections" if kind == "infection" else "malignancies"
        if "refuted" in verification:
            self.skip(label, condition.code, "verificationStatus refuted")
            return
        if verification & {"unconfirmed", "provisional", "differential"}:
            self.section_unknown(section, label, f"verificationStatus {', '.join(sorted(verification))}: not "
                                                 "confirmed")
            return
        if ambiguous and not _extension(condition, "category" if kind == "malignancy" else "agent"):
            self.section_unknown(section, label, ambiguous)
            return
        name = _display(condition.code, mapped[0].display)
        onset = _as_date(condition.onsetDateTime) if condition.onsetDateTime is not None else None
        abatement = _as_date(condition.abatementDateTime) if condition.abatementDateTime is not None else None
        if kind == "infection":
            self.read_infection(index, label, condition, name, mapped[0], clinical, onset, abatement)
        else:
            self.read_malignancy(index, label, condition, name, mapped[0], clinical, onset)

    def read_diagnosis(self, label: str, condition: Any, kind: str, mapped: list[codes.ConditionCode],
                       verification: set[str], ambiguous: str | None) -> None:
        paths = {f"diagnoses.{kind}.present"} | {f"diagnoses.{also}.present" for c in mapped for also in c.also
                                                 if not also.endswith("?")}
        if ambiguous:
            for path in sorted(paths):
                self.leave_unknown(path, label, ambiguous)
            return
        if "refuted" in verification:
            value: bool | None = False
        elif verification & {"unconfirmed", "provisional", "differential"}:
            for path in sorted(paths):
                self.leave_unknown(path, label, f"verificationStatus {', '.join(sorted(verification))}: not "
                                                "confirmed")
            return
        else:
            value = True
            if not verification:
                self.note_once("a Condition without verificationStatus is read as confirmed")
        for path in sorted(paths):
            self.facts.setdefault(path, []).append((None, value, label))
        for c in mapped:
            for also in c.also:
                if also.endswith("?"):
                    self.leave_unknown(f"diagnoses.{also[:-1]}.present", label,
                                       f"{c.display} does not say whether it is lupus nephritis as the trials mean it")
        if kind == "primary_sjogren" and value:
            self.note_once("a Sjögren's syndrome code is read as primary Sjögren's unless the bundle also records "
                           "SLE (then it may be secondary and is left unknown)")

    def read_infection(self, index: int, label: str, condition: Any, name: str, spec: codes.ConditionCode,
                       clinical: set[str], onset: dt.date | None, abatement: dt.date | None) -> None:
        status = _extension(condition, "status")
        if status is None:
            if clinical & {"resolved", "inactive", "remission"}:
                status = "resolved"
            elif clinical & {"active", "recurrence", "relapse"}:
                self.section_unknown("infections", label, f"clinicalStatus {', '.join(sorted(clinical))}: FHIR "
                                     "does not say whether an active infection is controlled (record it with the "
                                     f"extension {codes.PROFILE}:status)")
                return
            else:
                self.section_unknown("infections", label, "no clinicalStatus: whether the infection is active, "
                                                          "controlled or resolved is unknown")
                return
        item: dict[str, Any] = {"name": name, "status": status}
        agent = _extension(condition, "agent") or spec.agent
        if agent:
            item["agent"] = agent
        severities = {str(c.code) for c in _codings(condition.severity)}
        if "24484000" in severities:
            item["severe"] = True
        elif severities & {"6736007", "255604002"}:
            item["severe"] = False
        for flag in ("severe", "recurrent", "hospitalized", "iv_antibiotics", "treated"):
            value = _extension(condition, flag)
            if value is not None:
                item[flag] = value
        if onset:
            item["start"] = onset
        if abatement:
            item["end"] = abatement
        self.sections["infections"].append(self.checked(Infection, item, label, index, {
            "status": "clinicalStatus", "start": "onsetDateTime", "end": "abatementDateTime"}))

    def read_malignancy(self, index: int, label: str, condition: Any, name: str, spec: codes.ConditionCode,
                        clinical: set[str], onset: dt.date | None) -> None:
        status = _extension(condition, "status")
        if status is None:
            readings = {"active": "active", "recurrence": "active", "relapse": "active", "remission": "in_remission",
                        "resolved": "cured"}
            found = {readings[c] for c in clinical if c in readings}
            if len(found) != 1:
                self.section_unknown("malignancies", label, f"clinicalStatus {', '.join(sorted(clinical)) or 'absent'}"
                                     " does not say active, in remission or cured")
                return
            status = found.pop()
            if status == "cured":
                self.note_once("a malignancy whose clinicalStatus is resolved is read as cured")
        item: dict[str, Any] = {"type": name, "status": status}
        category = _extension(condition, "category") or spec.category
        if category:
            item["category"] = category
        excised = _extension(condition, "excised")
        if excised is not None:
            item["excised"] = excised
        if onset:
            item["diagnosed"] = onset
        self.sections["malignancies"].append(self.checked(Malignancy, item, label, index, {
            "status": "clinicalStatus", "diagnosed": "onsetDateTime"}))

    # -------------------------------------------------- medications
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
        for coding in _codings(concept):
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
        words = " ".join([str(concept.text or "")] + [str(c.display or "") for c in _codings(concept)]).lower()
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
        response = _extension(resource, "response")
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
            frequency = _frequency(repeat)
            if frequency:
                item["frequency"] = frequency
            elif repeat.frequency is not None or repeat.period is not None:
                self.leave_unknown(f"medications ({drug}).frequency", label,
                                   f"timing {repeat.frequency}/{repeat.period} {repeat.periodUnit} is not one of the "
                                   "profile's frequencies")
            if repeat.count is not None:
                item["administrations"] = int(repeat.count)
        for coding in _codings(dosage.route):
            if coding.system == codes.SNOMED and str(coding.code) in codes.SNOMED_ROUTES:
                item["route"] = codes.SNOMED_ROUTES[str(coding.code)]
        return repeat.boundsPeriod if repeat is not None else None

    def medication_period(self, resource: Any, kind: str, bounds: Any) -> tuple[dt.date | None, dt.date | None]:
        if kind == "MedicationStatement":
            if resource.effectivePeriod is not None:
                period = resource.effectivePeriod
                return (_as_date(period.start) if period.start else None, _as_date(period.end) if period.end else None)
            if resource.effectiveDateTime is not None:
                return (_as_date(resource.effectiveDateTime), None)
            return (None, None)
        if bounds is not None:
            return (_as_date(bounds.start) if bounds.start else None, _as_date(bounds.end) if bounds.end else None)
        if resource.authoredOn is not None:
            self.note_once("a MedicationRequest without timing.repeat.boundsPeriod starts on its authoredOn date")
            return (_as_date(resource.authoredOn), None)
        return (None, None)

    # -------------------------------------------------- Procedure, Immunization, List
    def read_procedure(self, index: int, label: str, procedure: Any) -> None:
        found = {codes.PROCEDURES[(str(c.system), str(c.code))] for c in _codings(procedure.code)
                 if (str(c.system), str(c.code)) in codes.PROCEDURES}
        if not found:
            self.skip(label, procedure.code, "no mapping for this code")
            self.section_unknown("procedures", label, "a procedure the tables do not know: whether it is major "
                                                      "surgery, plasmapheresis or immunoadsorption is unknown")
            return
        kinds = {f[0] for f in found}
        if len(kinds) > 1:
            self.section_unknown("procedures", label, f"its codings map to different procedures "
                                                      f"({', '.join(sorted(kinds))})")
            return
        kind = kinds.pop()
        status = str(procedure.status)
        if status in ("not-done", "entered-in-error", "unknown"):
            self.skip(label, procedure.code, f"status {status!r}")
            return
        when = None
        if procedure.performedDateTime is not None:
            when = _as_date(procedure.performedDateTime)
        elif procedure.performedPeriod is not None and procedure.performedPeriod.start is not None:
            when = _as_date(procedure.performedPeriod.start)
        if kind in ("dialysis", "kidney_transplant"):
            path = "renal.dialysis" if kind == "dialysis" else "renal.kidney_transplant"
            ongoing = status == "in-progress" or (procedure.performedPeriod is not None
                                                  and procedure.performedPeriod.end is None)
            if (kind == "kidney_transplant" and status == "completed") or (kind == "dialysis" and ongoing):
                self.facts.setdefault(path, []).append((when, True, label))
            else:
                self.leave_unknown(path, label, f"a {kind.replace('_', ' ')} procedure with status {status!r}: "
                                                "whether it is current is not said")
            return
        item: dict[str, Any] = {"type": kind}
        if when:
            item["date"] = when
        if status == "preparation":
            item["planned"] = True
        self.sections["procedures"].append(self.checked(Procedure, item, label, index,
                                                        {"date": "performedDateTime", "type": "code"}))

    def read_immunization(self, index: int, label: str, immunization: Any) -> None:
        concept = immunization.vaccineCode
        found = [codes.CVX_VACCINES[str(c.code)] for c in _codings(concept)
                 if c.system == codes.CVX and str(c.code) in codes.CVX_VACCINES]
        if immunization.status != "completed":
            self.skip(label, concept, f"status {immunization.status!r}: only given vaccines are read")
            return
        if not found:
            self.skip(label, concept, "no mapping for this vaccine code")
            self.section_unknown("immunizations", label, "a vaccine the tables do not know: whether it is live is "
                                                         "unknown")
            return
        vaccine = found[0]
        if vaccine.live is None:
            self.section_unknown("immunizations", label, f"{vaccine.display}: the code does not say whether the "
                                                         "vaccine is live")
            return
        item: dict[str, Any] = {"vaccine": _display(concept, vaccine.display), "live": vaccine.live,
                                "herpes_zoster": vaccine.herpes_zoster}
        when = _as_date(immunization.occurrenceDateTime) if immunization.occurrenceDateTime is not None else None
        if when:
            item["date"] = when
        self.sections["immunizations"].append(self.checked(Immunization, item, label, index,
                                                           {"date": "occurrenceDateTime"}))

    def read_list(self, index: int, label: str, resource: Any) -> None:
        sections = [str(c.code) for c in _codings(resource.code)
                    if c.system == codes.PROFILE and str(c.code) in codes.LIST_SECTIONS]
        if len(sections) != 1 or resource.status != "current":
            self.skip(label, resource.code, "only a current List coded with one profile section "
                                            f"({', '.join(codes.LIST_SECTIONS)}) is read")
            return
        self.complete[sections[0]] = label

    # -------------------------------------------------- assembling
    def note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

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
        if self.labs:
            data["labs"] = self.labs
        if self.tests:
            data.setdefault("pregnancy", {})["tests"] = self.tests
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
        ordered = ["id", "screening_date", "demographics", "diagnoses", "disease_activity", "labs", "medications",
                   "pregnancy", "infections", "malignancies", "procedures", "immunizations", "renal", "consent",
                   "administrative", "partial_lists"]
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


def _frequency(repeat: Any) -> str | None:
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


# ---------------------------------------------------------------- YAML for a coordinator
def to_yaml(imported: FhirImport) -> str:
    """The profile as patient YAML, headed by comments on where it came from and what was not used."""
    lines = [f"# Built by `matcher import` from the FHIR bundle {_yaml_scalar(imported.source)} "
             f"({imported.resources} resources). Check it and correct it: see docs/FHIR.md."]
    if imported.notes:
        lines.append("# Read as:")
        lines += [f"#   - {_yaml_scalar(note)}" for note in imported.notes]
    if imported.unknown:
        lines.append("# Left unknown (ambiguous):")
        lines += [f"#   - {_yaml_scalar(item)}" for item in imported.unknown]
    if imported.unused:
        lines.append("# Not used:")
        lines += [f"#   - {_yaml_scalar(item)}" for item in imported.unused]
    body = yaml.safe_dump(imported.data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)
    return "\n".join(lines) + "\n" + body


def text_report(imported: FhirImport) -> list[str]:
    """Lines for ``matcher check`` text output: what the bundle gave and did not give."""
    lines = [f"FHIR bundle {imported.source}: {imported.resources} resources; "
             f"{len(imported.unused)} not used, {len(imported.unknown)} left unknown "
             "(`matcher import` writes the profile read)"]
    lines += [f"  not used: {item}" for item in imported.unused]
    lines += [f"  unknown: {item}" for item in imported.unknown]
    lines += [f"  read as: {note}" for note in imported.notes]
    return lines

