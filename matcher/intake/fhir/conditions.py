"""Condition resources: the diagnoses of the trials (SLE, Sjögren, lupus nephritis), infections and malignancies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from matcher.intake.fhir import codes
from matcher.intake.fhir.state import ImportState
from matcher.intake.fhir.values import as_date, codings, display, extension
from matcher.model.profile import Infection, Malignancy


class ConditionReader(ImportState):
    def read_condition(self, index: int, label: str, condition: Any) -> None:
        mapped: list[codes.ConditionCode] = []
        for coding in codings(condition.code):
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
        verification = {str(c.code) for c in codings(condition.verificationStatus)}
        clinical = {str(c.code) for c in codings(condition.clinicalStatus)}
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
        if ambiguous and not extension(condition, "category" if kind == "malignancy" else "agent"):
            self.section_unknown(section, label, ambiguous)
            return
        name = display(condition.code, mapped[0].display)
        onset = as_date(condition.onsetDateTime) if condition.onsetDateTime is not None else None
        abatement = as_date(condition.abatementDateTime) if condition.abatementDateTime is not None else None
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
        status = extension(condition, "status")
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
        agent = extension(condition, "agent") or spec.agent
        if agent:
            item["agent"] = agent
        severities = {str(c.code) for c in codings(condition.severity)}
        if "24484000" in severities:
            item["severe"] = True
        elif severities & {"6736007", "255604002"}:
            item["severe"] = False
        for flag in ("severe", "recurrent", "hospitalized", "iv_antibiotics", "treated"):
            value = extension(condition, flag)
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
        status = extension(condition, "status")
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
        category = extension(condition, "category") or spec.category
        if category:
            item["category"] = category
        excised = extension(condition, "excised")
        if excised is not None:
            item["excised"] = excised
        if onset:
            item["diagnosed"] = onset
        self.sections["malignancies"].append(self.checked(Malignancy, item, label, index, {
            "status": "clinicalStatus", "diagnosed": "onsetDateTime"}))

