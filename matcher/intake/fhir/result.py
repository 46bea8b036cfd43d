"""What an import gives (:class:`FhirImport`) and how it is shown: YAML for a coordinator, ``matcher check`` lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from matcher.intake.fhir.values import yaml_scalar
from matcher.model.profile import PatientProfile


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


def to_yaml(imported: FhirImport) -> str:
    """The profile as patient YAML, headed by comments on where it came from and what was not used."""
    lines = [f"# Built by `matcher import` from the FHIR bundle {yaml_scalar(imported.source)} "
             f"({imported.resources} resources). Check it and correct it: see docs/FHIR.md."]
    if imported.notes:
        lines.append("# Read as:")
        lines += [f"#   - {yaml_scalar(note)}" for note in imported.notes]
    if imported.unknown:
        lines.append("# Left unknown (ambiguous):")
        lines += [f"#   - {yaml_scalar(item)}" for item in imported.unknown]
    if imported.unused:
        lines.append("# Not used:")
        lines += [f"#   - {yaml_scalar(item)}" for item in imported.unused]
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

