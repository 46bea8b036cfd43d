"""Observation resources: lab results, activity scores, pregnancy tests, body measures and profile facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from matcher.intake.fhir import codes
from matcher.intake.fhir.state import ImportState
from matcher.intake.fhir.values import as_date, code_text, codings, display, number_text
from matcher.model.measurements import LAB_TESTS, ActivityScore, BilagAssessment, LabResult, PregnancyTest

_ACCEPTED_OBSERVATION = ("final", "amended", "corrected")


class ObservationReader(ImportState):
    def read_observation(self, index: int, label: str, obs: Any) -> None:
        targets: dict[str, tuple[str, Any]] = {}
        skipped_reason = None
        for coding in codings(obs.code):
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
            self.skip(label, obs.code, f"no value ({display(obs.dataAbsentReason, 'dataAbsentReason')})")
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
        elif kind == "bilag":
            self.read_bilag(index, label, obs, when, when_problem)
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
            from matcher.model.measurements import ACTIVITY_INDICES

            if code.startswith("labs.") and code[5:] in LAB_TESTS:
                return (f"lab:{code[5:]}", code[5:])
            if code.startswith("disease_activity.") and code[17:] in ACTIVITY_INDICES:
                return (f"score:{code[17:]}", code[17:])
            if code == codes.BILAG_2004:
                return ("bilag:bilag_2004", code)
            if code in codes.PROFILE_FACTS:
                return (f"fact:{code}", code)
        return None

    def effective(self, obs: Any) -> tuple[dt.date | None, str | None]:
        if obs.effectiveDateTime is not None:
            day = as_date(obs.effectiveDateTime)
            return (day, None if day else f"effectiveDateTime {obs.effectiveDateTime} is not a full date")
        if obs.effectivePeriod is not None:
            end = obs.effectivePeriod.end or obs.effectivePeriod.start
            day = as_date(end)
            return (day, None if day else "effectivePeriod has no full date")
        if obs.effectiveInstant is not None:
            return (as_date(obs.effectiveInstant), None)
        return (None, "no effective date")

    def read_lab(self, index: int, label: str, obs: Any, test: str, when: dt.date | None,
                 when_problem: str | None) -> None:
        field_name = f"labs ({test})"
        if when is None:
            self.leave_unknown(field_name, label, f"{when_problem}: a result is only used with its date")
            return
        if LAB_TESTS[test].measure.titre:
            self.read_titre(index, label, obs, test, when)
            return
        quantity = obs.valueQuantity
        if quantity is None:
            self.skip(label, obs.code, "no valueQuantity: the matcher reads this test as a number with a unit")
            return
        if quantity.comparator is not None:
            self.leave_unknown(field_name, label, f"the value is {quantity.comparator}{number_text(quantity.value)}: "
                                                  "a bound, not a result")
            return
        item: dict[str, Any] = {"test": test, "value": self.quantity(quantity, index, label, "valueQuantity"),
                                "date": when}
        highs = [r for r in (obs.referenceRange or []) if r.high is not None and not r.appliesTo
                 and (r.type is None or any(c.code == "normal" for c in codings(r.type)))]
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

    def read_titre(self, index: int, label: str, obs: Any, test: str, when: dt.date) -> None:
        """A titre is a ratio, 1:N: a valueRatio of 1 to N, or a valueString such as "1:160"."""
        ratio = obs.valueRatio
        if ratio is not None and ratio.numerator is not None and ratio.denominator is not None \
                and ratio.numerator.value is not None and ratio.denominator.value is not None:
            if ratio.numerator.comparator is not None or ratio.denominator.comparator is not None:
                self.leave_unknown(f"labs ({test})", label, "the titre is a bound (a comparator), not a result")
                return
            written = f"{number_text(ratio.numerator.value)}:{number_text(ratio.denominator.value)}"
        elif obs.valueString is not None:
            written = str(obs.valueString)
        else:
            self.skip(label, obs.code, "no valueRatio or valueString: the matcher reads a titre written 1:N")
            return
        item = {"test": test, "value": written, "date": when}
        self.labs.append(self.checked(LabResult, item, label, index,
                                      {"value": "valueRatio" if ratio is not None else "valueString",
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

    def read_bilag(self, index: int, label: str, obs: Any, when: dt.date | None, when_problem: str | None) -> None:
        if when is None:
            self.leave_unknown("bilag_2004", label, f"{when_problem}: an assessment is only used with its date")
            return
        if obs.valueString is None:
            self.skip(label, obs.code, "no valueString: the matcher reads the highest BILAG-2004 grade, A to E")
            return
        item = {"date": when, "highest_grade": str(obs.valueString).strip().upper()}
        self.bilag.append(self.checked(BilagAssessment, item, label, index,
                                       {"highest_grade": "valueString", "date": "effectiveDateTime"}))

    def read_hcg(self, label: str, obs: Any, specimen: str, when: dt.date | None, when_problem: str | None) -> None:
        if when is None:
            self.leave_unknown("pregnancy.tests", label, f"{when_problem}: a test is only used with its date")
            return
        result = None
        concept = obs.valueCodeableConcept
        for coding in codings(concept):
            result = result or codes.POSITIVE_NEGATIVE.get((str(coding.system), str(coding.code)))
        if result is None and obs.valueString is not None and obs.valueString.strip().lower() in ("positive",
                                                                                                  "negative"):
            result = obs.valueString.strip().lower()
        if result is None:
            shown = code_text(concept) or repr(obs.valueString)
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
                       for c in codings(obs.valueCodeableConcept)} - {"?"}
            if len(answers) != 1 or None in answers:
                self.leave_unknown(path, label, f"pregnancy status {code_text(obs.valueCodeableConcept)} is not "
                                                "'Pregnant' or 'Not pregnant'")
                return
            value = answers.pop()
        elif kind == "boolean":
            value = obs.valueBoolean
            if value is None and obs.valueCodeableConcept is not None:
                answers_yes_no = {codes.YES_NO.get((str(c.system), str(c.code)))
                                  for c in codings(obs.valueCodeableConcept)} - {None}
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

