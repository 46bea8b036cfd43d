"""Task resources: a clinician's recorded decision on a criterion left to the clinician (``decisions[]``).

Only a completed Task coded in :data:`codes.CRITERION` is a decision. One without the rule file's
sha256, the outcome, who decided or the date is listed as unused with the reason, never completed
from a guess: a decision that cannot be checked against the rule-file version must not be used.
"""

from __future__ import annotations

import re
from typing import Any

from matcher.intake.fhir import codes
from matcher.intake.fhir.state import ImportState
from matcher.intake.fhir.values import as_date, codings
from matcher.model.profile import ClinicianDecision


class TaskReader(ImportState):
    def read_task(self, index: int, label: str, task: Any) -> None:
        questions = [str(c.code) for c in codings(task.code) if c.system == codes.CRITERION and c.code]
        if not questions:
            self.skip(label, task.code, f"only a Task coded {codes.CRITERION}|<NCT id>/<criterion id> is read "
                                        "(a clinician decision)")
            return
        if len(questions) > 1:
            self.skip(label, task.code, "codes more than one criterion: a decision answers one question")
            return
        if task.status != "completed":
            self.skip(label, task.code, f"status {task.status!r}: only a completed Task is a decision")
            return
        trial, _, criterion = questions[0].partition("/")
        if not re.fullmatch(r"NCT\d{8}", trial) or not criterion:
            raise self.error(f"{codes.CRITERION} code {questions[0]!r} is not <NCT id>/<criterion id> "
                             "(NCT03562065/exc-3)", ("entry", index, "resource", "code"), label, "code")
        outcomes = {str(c.code) for output in task.output or []
                    for c in codings(getattr(output, "valueCodeableConcept", None))
                    if c.system == codes.DECISION_OUTCOME}
        hashes = {str(i.value) for i in task.identifier or [] if i.system == codes.RULES_SHA256 and i.value}
        by = getattr(task.owner, "display", None) or getattr(task.requester, "display", None)
        on = as_date(task.authoredOn) if task.authoredOn is not None else None
        missing = [why for why, absent in (
            (f"no rule-file sha256 (identifier {codes.RULES_SHA256}): it cannot be checked against the rule "
             "file it was made on", not hashes),
            (f"no outcome (output valueCodeableConcept {codes.DECISION_OUTCOME}|met or not_met)", not outcomes),
            ("no one named as deciding (owner.display or requester.display)", not by),
            ("no full date (authoredOn)", on is None),
        ) if absent]
        if len(hashes) > 1:
            missing.append("more than one rule-file sha256")
        if len(outcomes) > 1:
            missing.append(f"outcomes that disagree ({', '.join(sorted(outcomes))})")
        unknown_outcomes = outcomes - set(codes.DECISION_OUTCOMES)
        if unknown_outcomes:
            missing.append(f"an outcome that is neither met nor not_met ({', '.join(sorted(unknown_outcomes))})")
        if missing:
            self.skip(label, task.code, "a clinician decision not used: " + "; ".join(missing))
            return
        sha256 = hashes.pop()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise self.error(f"{codes.RULES_SHA256} {sha256!r} is not a sha256 (64 hex digits, lower case, as "
                             "`matcher check --format json` prints it)", ("entry", index, "resource", "identifier"),
                             label, "identifier")
        notes = [str(n.text) for n in task.note or [] if n.text]
        item: dict[str, Any] = {"trial": trial, "criterion": criterion, "outcome": outcomes.pop(), "by": str(by),
                                "on": on, "rules_sha256": sha256}
        if notes:
            item["note"] = " ".join(notes)
        self.decisions.append(self.checked(ClinicianDecision, item, label, index, {
            "trial": "code", "criterion": "code", "outcome": "output", "by": "owner", "on": "authoredOn",
            "rules_sha256": "identifier", "note": "note"}))
