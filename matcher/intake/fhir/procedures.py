"""Procedure, Immunization and List resources: procedures, vaccines, and which history lists are complete."""

from __future__ import annotations

from typing import Any

from matcher.intake.fhir import codes
from matcher.intake.fhir.state import ImportState
from matcher.intake.fhir.values import as_date, codings, display
from matcher.model.profile import Immunization, Procedure


class ProcedureReader(ImportState):
    def read_procedure(self, index: int, label: str, procedure: Any) -> None:
        found = {codes.PROCEDURES[(str(c.system), str(c.code))] for c in codings(procedure.code)
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
            when = as_date(procedure.performedDateTime)
        elif procedure.performedPeriod is not None and procedure.performedPeriod.start is not None:
            when = as_date(procedure.performedPeriod.start)
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
        found = [codes.CVX_VACCINES[str(c.code)] for c in codings(concept)
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
        item: dict[str, Any] = {"vaccine": display(concept, vaccine.display), "live": vaccine.live,
                                "herpes_zoster": vaccine.herpes_zoster}
        when = as_date(immunization.occurrenceDateTime) if immunization.occurrenceDateTime is not None else None
        if when:
            item["date"] = when
        self.sections["immunizations"].append(self.checked(Immunization, item, label, index,
                                                           {"date": "occurrenceDateTime"}))

    def read_list(self, index: int, label: str, resource: Any) -> None:
        sections = [str(c.code) for c in codings(resource.code)
                    if c.system == codes.PROFILE and str(c.code) in codes.LIST_SECTIONS]
        if len(sections) != 1 or resource.status != "current":
            self.skip(label, resource.code, "only a current List coded with one profile section "
                                            f"({', '.join(codes.LIST_SECTIONS)}) is read")
            return
        self.complete[sections[0]] = label

