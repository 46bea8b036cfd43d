"""Read a patient from a FHIR R4 Bundle (JSON) into the profile, listing everything not used.

The bundle is parsed by ``fhir.resources`` (its R4B models, which read R4 JSON for every
resource used here), then mapped with the code tables of :mod:`matcher.intake.fhir.codes`; the
mapping and every interpretation are described in docs/FHIR.md. The result is a
:class:`FhirImport`: the profile as plain data (what a patient YAML file would hold), the
resources and codes that were not used, the fields left unknown because a code or value
was ambiguous, and the readings made. Bad input is one :class:`PatientFileError` naming
the bundle file, the resource (``Observation/abc (entry 3)``, entries counted from 0 as in
``Bundle.entry[3]``) and the element.

One module per resource type: :mod:`.patient`, :mod:`.observations`, :mod:`.conditions`,
:mod:`.medications`, :mod:`.procedures` (procedures, immunizations, lists); :mod:`.bundle` reads
the entries and assembles the profile; :mod:`.state` is what the readers share, :mod:`.values`
reads dates, codings and UCUM units, :mod:`.result` is the import and how it is shown.
"""

from matcher.intake.fhir.bundle import import_bundle, import_document, is_bundle, read_bundle
from matcher.intake.fhir.result import FhirImport, Unknown, Unused, text_report, to_yaml
from matcher.intake.fhir.values import ucum_to_text

__all__ = ["FhirImport", "Unknown", "Unused", "import_bundle", "import_document", "is_bundle", "read_bundle",
           "text_report", "to_yaml", "ucum_to_text"]
