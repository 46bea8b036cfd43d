"""FHIR R4 Bundles: example bundles agree with their YAML twins; nothing is dropped silently; bad input fails."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fhir.resources", reason="reading FHIR bundles needs fhir.resources (see docs/FHIR.md)")

from matcher.api import Matcher
from matcher.cli import EXIT_BAD_INPUT
from matcher.errors import PatientFileError
from matcher.intake.fhir import import_bundle, is_bundle, read_bundle, to_yaml, ucum_to_text
from matcher.intake.validate import load_patient
from matcher.model.measurements import LAB_TESTS
from matcher.model.units import UnitProblem, convert

from .helpers import PATIENTS, cli

BUNDLES = sorted((PATIENTS / "fhir").glob("*.json"))


def test_there_are_example_bundles_of_three_trials_and_verdicts() -> None:
    names = [p.name.split("-") for p in BUNDLES]
    assert len({n[0] for n in names}) >= 3
    assert {"eligible", "ineligible", "undetermined"} <= {n[1] for n in names}
    for path in BUNDLES:
        assert (PATIENTS / f"{path.stem}.yaml").exists(), f"{path.name} has no YAML twin"


@pytest.mark.parametrize("bundle", BUNDLES, ids=[p.stem for p in BUNDLES])
def test_example_bundle_gives_the_verdicts_of_its_yaml_twin(engine: Matcher, bundle: Path) -> None:
    twin = load_patient(PATIENTS / f"{bundle.stem}.yaml")
    imported = load_patient(bundle)
    assert twin.screening_date == imported.screening_date
    from_yaml = {r.trial: (r.verdict, r.deciding) for r in engine.evaluate(twin)}
    from_fhir = {r.trial: (r.verdict, r.deciding) for r in engine.evaluate(imported)}
    assert from_fhir == from_yaml
    result = read_bundle(bundle)
    assert result.unused == [] and result.unknown == [], (result.unused, result.unknown)


@pytest.mark.parametrize("bundle", BUNDLES, ids=[p.stem for p in BUNDLES])
def test_import_writes_yaml_that_loads_back_to_the_same_profile(bundle: Path, tmp_path: Path) -> None:
    code, out, err = cli("import", str(bundle))
    assert (code, err) == (0, "")
    assert out.startswith("# Built by `matcher import` from the FHIR bundle")
    written = tmp_path / "patient.yaml"
    written.write_text(out, encoding="utf-8")
    assert load_patient(written) == read_bundle(bundle).profile


# ---------------------------------------------------------------- bundles built here
def bundle(*resources: dict[str, Any], timestamp: str = "2026-09-14T09:00:00Z") -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1988-04-02", "gender": "female"}
    return {"resourceType": "Bundle", "type": "collection", "timestamp": timestamp,
            "entry": [{"resource": r} for r in (patient, *resources)]}


def observation(id_: str, system: str, code: str, display: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": id_, "status": "final", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": system, "code": code, "display": display}]},
            "effectiveDateTime": "2026-09-08", **value}


def quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": "http://unitsofmeasure.org", "code": code}


def statement(id_: str, rxcui: str, display: str, **more: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "id": id_, "status": "active",
            "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": rxcui, "display": display}]},
            "effectivePeriod": {"start": "2026-03-01"}, **more}


LOINC = "http://loinc.org"


def test_a_bundle_built_from_the_loinc_and_rxnorm_code_lists_is_read_correctly() -> None:
    """Codes written here from LOINC and RxNorm, not taken from matcher.intake.fhir.codes."""
    obj = bundle(
        observation("upr", LOINC, "2889-4", "Protein [Mass/time] in 24 hour Urine",
                    valueQuantity=quantity(1800, "mg/(24.h)")),
        observation("cr", LOINC, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma",
                    valueQuantity=quantity(1.1, "mg/dL"),
                    referenceRange=[{"low": quantity(0.5, "mg/dL"), "high": quantity(1.0, "mg/dL")}]),
        observation("gfr", LOINC, "98979-8", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in "
                    "Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)",
                    valueQuantity=quantity(64, "mL/min/{1.73_m2}")),
        observation("alt", LOINC, "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
                    valueQuantity=quantity(35, "U/L"), referenceRange=[{"high": quantity(40, "U/L")}]),
        observation("ast", LOINC, "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or "
                    "Plasma", valueQuantity=quantity(30, "[IU]/L"), referenceRange=[{"high": quantity(35, "U/L")}]),
        observation("plt", LOINC, "777-3", "Platelets [#/volume] in Blood by Automated count",
                    valueQuantity=quantity(210, "10*3/uL")),
        observation("hb", LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood", valueQuantity=quantity(118, "g/L")),
        observation("ef", LOINC, "10230-1", "Left ventricular Ejection fraction", valueQuantity=quantity(58, "%")),
        observation("hcg", LOINC, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine",
                    valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "260385009",
                                                      "display": "Negative"}]}),
        statement("pred", "8640", "prednisone", dosage=[{
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]},
            "doseAndRate": [{"doseQuantity": quantity(15, "mg")}]}]),
        statement("mmf", "68149", "mycophenolate mofetil", dosage=[{
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": quantity(1, "g")}]}]),
        statement("rtx", "121191", "rituximab", status="completed",
                  effectivePeriod={"start": "2025-01-06", "end": "2025-01-20"},
                  dosage=[{"timing": {"repeat": {"frequency": 1, "period": 2, "periodUnit": "wk", "count": 2}},
                           "doseAndRate": [{"doseQuantity": quantity(1000, "mg")}]}]),
        statement("hcq", "5521", "hydroxychloroquine"),
        {"resourceType": "List", "id": "meds", "status": "current", "mode": "snapshot",
         "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "urn:trial-matcher:profile", "code": "medications"}]}},
    )
    result = import_bundle(obj, "built.json")
    profile = result.profile
    labs = {lab.test: lab for lab in profile.labs or []}
    assert labs["urine_protein_24h"].amount == pytest.approx(1.8)
    assert labs["serum_creatinine"].amount == pytest.approx(1.1)
    assert labs["serum_creatinine"].uln_amount == pytest.approx(1.0)
    assert labs["egfr"].amount == 64
    assert (labs["alt"].amount, labs["alt"].uln_amount) == (35, 40)
    assert labs["ast"].amount == 30
    assert labs["platelets"].amount == pytest.approx(210)
    assert labs["haemoglobin"].amount == pytest.approx(11.8)
    assert labs["lvef"].amount == 58
    assert profile.pregnancy is not None and profile.pregnancy.tests is not None
    assert [(t.result, t.specimen) for t in profile.pregnancy.tests] == [("negative", "urine")]
    meds = {m.drug: m for m in profile.medications or []}
    assert set(meds) == {"prednisone", "mycophenolate_mofetil", "rituximab", "hydroxychloroquine"}
    assert (meds["prednisone"].dose_amount, meds["prednisone"].frequency, meds["prednisone"].route) == (15, "daily",
                                                                                                        "oral")
    assert meds["prednisone"].ongoing is True
    assert (meds["mycophenolate_mofetil"].dose_amount, meds["mycophenolate_mofetil"].frequency) == (1000,
                                                                                                     "twice_daily")
    rtx = meds["rituximab"]
    assert (rtx.frequency, rtx.administrations, str(rtx.end), rtx.ongoing) == ("every_2_weeks", 2, "2025-01-20", None)
    assert meds["hydroxychloroquine"].dose is None  # no dosage given: unknown, not defaulted
    assert profile.demographics is not None and str(profile.demographics.birth_date) == "1988-04-02"
    assert str(profile.screening_date) == "2026-09-14"
    assert result.unused == [] and result.unknown == []
    assert profile.infections is None and profile.malignancies is None  # nothing said: unknown


def test_unmapped_codes_and_resources_are_listed_not_dropped(tmp_path: Path) -> None:
    obj = bundle(
        observation("spot", LOINC, "2888-6", "Protein [Mass/volume] in Urine", valueQuantity=quantity(0.5, "g/L")),
        observation("k", LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma",
                    valueQuantity=quantity(4.1, "mmol/L")),
        {"resourceType": "Condition", "id": "htn", "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003",
                              "display": "Hypertensive disorder"}]}},
        statement("ome", "7646", "omeprazole"),
        {"resourceType": "Encounter", "id": "enc", "status": "finished",
         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}},
    )
    result = import_bundle(obj, "b.json")
    unused = {u.resource: u for u in result.unused}
    assert set(unused) == {"Observation/spot (entry 1)", "Observation/k (entry 2)", "Condition/htn (entry 3)",
                           "MedicationStatement/ome (entry 4)", "Encounter/enc (entry 5)"}
    assert "http://loinc.org|2823-3|Potassium" in unused["Observation/k (entry 2)"].code
    assert "neither a 24-hour protein" in unused["Observation/spot (entry 1)"].reason
    assert "38341003" in unused["Condition/htn (entry 3)"].code
    # and they reach the user: check's text and JSON output, and the YAML's comments
    path = tmp_path / "b.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    _, text, err = cli("check", str(path), "--trial", "NCT00698191")
    assert err == ""
    assert "5 not used" in text and "not used: Observation/k (entry 2) http://loinc.org|2823-3" in text
    _, out, _ = cli("check", str(path), "--trial", "NCT00698191", "--format", "json")
    report = json.loads(out)["fhir_import"]
    assert {u["resource"] for u in report["unused"]} == set(unused)
    assert "#   - Observation/k (entry 2) http://loinc.org|2823-3" in to_yaml(result)


def test_ambiguous_codes_leave_the_field_unknown_with_the_reason() -> None:
    both = observation("upr", LOINC, "2889-4", "Protein [Mass/time] in 24 hour Urine",
                       valueQuantity=quantity(1.2, "g/(24.h)"))
    both["code"]["coding"].append({"system": LOINC, "code": "2890-2",
                                   "display": "Protein/Creatinine [Mass Ratio] in Urine"})
    below = observation("cr", LOINC, "2160-0", "Creatinine",
                        valueQuantity={**quantity(0.4, "mg/dL"), "comparator": "<"})
    mycophenolate = statement("myc", "x", "x")
    mycophenolate["medicationCodeableConcept"] = {"coding": [{"system": "http://www.whocc.no/atc", "code": "L04AA06",
                                                              "display": "mycophenolic acid"}]}
    zoster = {"resourceType": "Immunization", "id": "zos", "status": "completed",
              "patient": {"reference": "Patient/p1"},
              "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "188"}]},
              "occurrenceDateTime": "2026-01-10"}
    infection = {"resourceType": "Condition", "id": "tb", "subject": {"reference": "Patient/p1"},
                 "clinicalStatus": {"coding": [{"code": "active"}]},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "A15.0"}]}}
    drug_lupus = {"resourceType": "Condition", "id": "dil", "subject": {"reference": "Patient/p1"},
                  "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "M32.0"}]}}
    result = import_bundle(bundle(both, below, mycophenolate, zoster, infection, drug_lupus), "b.json")
    unknown = {u.field: u for u in result.unknown}
    assert "lab:urine_protein_24h, lab:urine_protein_creatinine_ratio" in unknown
    assert "a bound, not a result" in unknown["labs (serum_creatinine)"].reason
    assert "mycophenolate sodium" in unknown["medications"].reason
    assert "whether the vaccine is live" in unknown["immunizations"].reason
    assert "controlled" in unknown["infections"].reason
    assert "drug-induced" in unknown["diagnoses.sle.present"].reason
    profile = result.profile
    assert profile.labs is None and profile.medications is None and profile.immunizations is None
    assert profile.infections is None and profile.diagnoses is None


def test_a_list_says_a_section_is_complete_and_empty() -> None:
    empty = {"resourceType": "List", "id": "l", "status": "current", "mode": "snapshot",
             "code": {"coding": [{"system": "urn:trial-matcher:profile", "code": "infections"}]},
             "emptyReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                         "code": "nilknown"}]}}
    assert import_bundle(bundle(empty), "b.json").profile.infections == []
    assert import_bundle(bundle(), "b.json").profile.infections is None


@pytest.mark.parametrize(("ucum", "test", "amount"), [
    ("g/(24.h)", "urine_protein_24h", 1.5),
    ("g/d", "urine_protein_24h", 1.5),
    ("mg/(24.h)", "urine_protein_24h", 0.0015),
    ("umol/L", "serum_creatinine", 1.5 / 88.4),
    ("mL/min/{1.73_m2}", "egfr", 1.5),
    ("mL/min/1.73.m2", "egfr", 1.5),
    ("U/L", "alt", 1.5),
    ("[IU]/L", "ast", 1.5),
    ("10*9/L", "neutrophils", 1.5),
    ("10*3/uL", "platelets", 1.5),
    ("/uL", "cd4", 1.5),
    ("g/L", "haemoglobin", 0.15),
    ("%", "lvef", 1.5),
    ("mm[Hg]", "mean_pap", 1.5),
    ("mg/g{creat}", "urine_protein_creatinine_ratio", 0.0015),
    ("mL/(6.min)", "stimulated_saliva_flow", 0.25),
])
def test_ucum_units_convert_to_the_profile_units(ucum: str, test: str, amount: float) -> None:
    assert convert(f"1.5 {ucum_to_text(ucum)}", LAB_TESTS[test].measure) == pytest.approx(amount, rel=1e-3)


@pytest.mark.parametrize("ucum", ["[ppm]", "", "{score}"])
def test_ucum_units_that_cannot_be_converted_are_refused(ucum: str) -> None:
    with pytest.raises(UnitProblem):
        convert(f"1 {ucum_to_text(ucum)}", LAB_TESTS["alt"].measure)


def _write(tmp_path: Path, obj: Any, text: str | None = None) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(text if text is not None else json.dumps(obj, indent=1), encoding="utf-8")
    return str(path)


def _alt(**value: Any) -> dict[str, Any]:
    return observation("abc", LOINC, "1742-6", "ALT", **value)


@pytest.mark.parametrize(("case", "expected"), [
    ("json", "invalid JSON"),
    ("decimal", "Observation/abc (entry 1) valueQuantity.value: Decimal value string does not match"),
    ("element", "Observation/abc (entry 1) colour: unknown element for this resource type"),
    ("type", "entry 1 resourceType: unknown FHIR resource type 'Observatoin'"),
    ("unit", "Observation/abc (entry 1) valueQuantity: unit 'mg/dL' cannot be converted to U/L"),
    ("special", "Observation/abc (entry 1) valueQuantity.code: UCUM unit '[ppm]'"),
    ("no_unit", "Observation/abc (entry 1) valueQuantity: a Quantity without a unit"),
    ("impossible", "Observation/abc (entry 1) valueQuantity: ALT of 99999 U/L"),
    ("patients", "a bundle must describe one patient"),
    ("not_bundle", "expected a FHIR Bundle, found 'Patient'"),
])
def test_a_malformed_bundle_gives_one_clear_error_line(tmp_path: Path, case: str, expected: str) -> None:
    good = bundle(_alt(valueQuantity=quantity(30, "U/L")))
    obj = copy.deepcopy(good)
    text = None
    alt = obj["entry"][1]["resource"]
    if case == "json":
        text = json.dumps(good)[:-5]
    elif case == "decimal":
        alt["valueQuantity"]["value"] = "3,0"
    elif case == "element":
        alt["colour"] = "red"
    elif case == "type":
        alt["resourceType"] = "Observatoin"
    elif case == "unit":
        alt["valueQuantity"] = quantity(30, "mg/dL")
    elif case == "special":
        alt["valueQuantity"] = quantity(30, "[ppm]")
    elif case == "no_unit":
        alt["valueQuantity"] = {"value": 30}
    elif case == "impossible":
        alt["valueQuantity"] = quantity(99999, "U/L")
    elif case == "patients":
        obj["entry"].append({"resource": {"resourceType": "Patient", "id": "p2"}})
    elif case == "not_bundle":
        obj = obj["entry"][0]["resource"]
        obj["resourceType"] = "Patient"
    path = _write(tmp_path, obj, text)
    code, out, err = cli("check", path)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"matcher: error: {path}")
    assert expected in err
    code, out, err = cli("import", path)
    assert code == EXIT_BAD_INPUT and out == "" and expected in err


def test_import_bundle_for_one_ndjson_line_names_its_source() -> None:
    obj = bundle(_alt(valueQuantity=quantity(30, "mg/dL")))
    assert is_bundle(obj) and not is_bundle({"resourceType": "Patient"}) and not is_bundle([obj])
    with pytest.raises(PatientFileError) as caught:
        import_bundle(obj, "cohort.ndjson:3")
    assert str(caught.value).startswith("cohort.ndjson:3: Observation/abc (entry 1) valueQuantity:")
    assert import_bundle(bundle(_alt(valueQuantity=quantity(30, "U/L"))), "cohort.ndjson:4").profile.id == "p1"


def test_a_list_section_not_known_to_be_complete_is_recorded_as_partial(engine: Matcher) -> None:
    """Unknown is not false: medications found in a bundle do not say that no other was taken."""
    obj = bundle(statement("hcq", "5521", "hydroxychloroquine"))
    result = import_bundle(obj, "partial.json")
    assert [m.drug for m in result.profile.medications or []] == ["hydroxychloroquine"]
    assert result.profile.partial_lists == ["medications"]
    assert any("recorded as a partial list" in note for note in result.notes)
    assert "partial_lists:\n- medications" in to_yaml(result)
    results = engine.evaluate(result.profile)
    nct05631717 = next(r for r in results if r.trial == "NCT05631717")
    assert any("the recorded list may be incomplete" in item for item in nct05631717.to_collect)


# ---------------------------------------------------------------- clinician decisions as Task resources
DECIDED = PATIENTS / "fhir" / "NCT03562065-eligible-alt-decided-lupus-hepatitis.json"
SHA = "babf5b04748f526678cbd2e39d191ec65778c0a8dc4591dab25c0c3e33e4c587"


def decision_task(**changes: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "resourceType": "Task", "id": "d1", "status": "completed", "intent": "order",
        "identifier": [{"system": "urn:trial-matcher:rules-sha256", "value": SHA}],
        "code": {"coding": [{"system": "urn:trial-matcher:criterion", "code": "NCT03562065/exc-3"}]},
        "for": {"reference": "Patient/p1"}, "authoredOn": "2026-09-12T10:30:00Z",
        "owner": {"display": "Dr A. Martin (rheumatology)"},
        "note": [{"text": "lupus hepatitis"}],
        "output": [{"type": {"text": "outcome"}, "valueCodeableConcept": {
            "coding": [{"system": "urn:trial-matcher:decision-outcome", "code": "not_met"}]}}]}
    task.update(changes)
    return {key: value for key, value in task.items() if value is not None}


def test_a_completed_task_coded_with_a_criterion_is_read_as_a_clinician_decision() -> None:
    result = import_bundle(bundle(decision_task()), "b.json")
    assert result.unused == [] and result.unknown == []
    assert result.data["decisions"] == [{"trial": "NCT03562065", "criterion": "exc-3", "outcome": "not_met",
                                         "by": "Dr A. Martin (rheumatology)", "on": dt.date(2026, 9, 12),
                                         "rules_sha256": SHA, "note": "lupus hepatitis"}]
    assert result.profile.decisions is not None and result.profile.decisions[0].outcome == "not_met"


@pytest.mark.parametrize(("changes", "reason"), [
    ({"identifier": None}, "no rule-file sha256"),
    ({"identifier": [{"system": "urn:other", "value": SHA}]}, "no rule-file sha256"),
    ({"output": None}, "no outcome"),
    ({"output": [{"type": {"text": "outcome"}, "valueCodeableConcept": {
        "coding": [{"system": "urn:trial-matcher:decision-outcome", "code": "maybe"}]}}]}, "neither met nor not_met"),
    ({"output": [{"type": {"text": "outcome"}, "valueCodeableConcept": {"coding": [
        {"system": "urn:trial-matcher:decision-outcome", "code": "met"},
        {"system": "urn:trial-matcher:decision-outcome", "code": "not_met"}]}}]}, "outcomes that disagree"),
    ({"owner": None}, "no one named as deciding"),
    ({"authoredOn": "2026-09"}, "no full date"),
    ({"status": "in-progress"}, "only a completed Task"),
    ({"code": {"text": "call the patient back"}}, "only a Task coded urn:trial-matcher:criterion"),
    ({"for": {"reference": "Patient/other"}}, "about another patient"),
], ids=["no-sha", "sha-other-system", "no-outcome", "odd-outcome", "two-outcomes", "no-owner", "partial-date",
        "in-progress", "not-a-decision", "other-patient"])
def test_a_task_that_cannot_be_checked_is_listed_as_unused_never_completed(changes: dict[str, Any],
                                                                            reason: str) -> None:
    result = import_bundle(bundle(decision_task(**changes)), "b.json")
    assert "decisions" not in result.data and result.profile.decisions is None
    assert [u.resource for u in result.unused] == ["Task/d1 (entry 1)"]
    assert reason in result.unused[0].reason


@pytest.mark.parametrize(("changes", "element", "message"), [
    ({"identifier": [{"system": "urn:trial-matcher:rules-sha256", "value": "4a2c01"}]}, "identifier",
     "urn:trial-matcher:rules-sha256 '4a2c01' is not a sha256 (64 hex digits"),
    ({"code": {"coding": [{"system": "urn:trial-matcher:criterion", "code": "NCT03562065"}]}}, "code",
     "urn:trial-matcher:criterion code 'NCT03562065' is not <NCT id>/<criterion id>"),
    ({"code": {"coding": [{"system": "urn:trial-matcher:criterion", "code": "trial-1/exc-3"}]}}, "code",
     "urn:trial-matcher:criterion code 'trial-1/exc-3' is not <NCT id>/<criterion id>"),
], ids=["short-sha", "no-criterion", "not-an-nct-id"])
def test_a_malformed_value_in_a_decision_task_is_an_error_naming_the_element(changes: dict[str, Any],
                                                                             element: str, message: str) -> None:
    with pytest.raises(PatientFileError) as error:
        import_bundle(bundle(decision_task(**changes)), "b.json")
    assert f"Task/d1 (entry 1) {element}: {message}" in str(error.value)


def test_the_decision_task_settles_the_criterion_and_without_it_the_patient_is_back_to_review(
        engine: Matcher) -> None:
    obj = json.loads(DECIDED.read_text(encoding="utf-8"))
    decided = {r.trial: r for r in engine.evaluate(import_bundle(obj, "b.json").profile)}["NCT03562065"]
    assert decided.verdict == "eligible"
    assert [c.id for c in decided.criteria if c.decision] == ["exc-3"]
    obj["entry"] = [e for e in obj["entry"] if e["resource"]["resourceType"] != "Task"]
    undecided = {r.trial: r for r in engine.evaluate(import_bundle(obj, "b.json").profile)}["NCT03562065"]
    assert undecided.verdict == "review"


def test_the_slicc_2012_classification_is_read_from_the_project_code_and_left_unknown_without_it() -> None:
    """SLICC 2012 has no standard code: a project-coded Observation gives it; a bundle without one leaves it
    unrecorded (never false)."""
    fact = observation("slicc", "urn:trial-matcher:profile", "diagnoses.sle.slicc2012_fulfilled",
                       "SLICC 2012 classification criteria fulfilled", valueBoolean=True)
    result = import_bundle(bundle(fact), "slicc.json")
    assert result.profile.diagnoses is not None and result.profile.diagnoses.sle is not None
    assert result.profile.diagnoses.sle.slicc2012_fulfilled is True
    assert result.unused == [] and result.unknown == []
    without = import_bundle(bundle(), "none.json").profile
    assert without.diagnoses is None or without.diagnoses.sle is None \
        or without.diagnoses.sle.slicc2012_fulfilled is None


def test_a_bilag_2004_assessment_is_read_with_its_date_and_a_bad_grade_is_an_error() -> None:
    """BILAG-2004 has no standard code: the project code carries the highest grade (valueString) and its date."""
    def assessment(id_: str, grade: str, day: str) -> dict[str, Any]:
        found = observation(id_, "urn:trial-matcher:profile", "bilag_2004.highest_grade",
                            "BILAG-2004 highest organ grade", valueString=grade)
        return {**found, "effectiveDateTime": day}

    result = import_bundle(bundle(assessment("b1", "B", "2026-09-01"), assessment("b2", "c", "2026-06-01")),
                           "bilag.json")
    assert [(str(a.date), a.highest_grade) for a in result.profile.bilag_2004 or []] == [
        ("2026-09-01", "B"), ("2026-06-01", "C")]
    assert result.unused == [] and result.unknown == []
    undated = assessment("b3", "A", "2026-09-01")
    del undated["effectiveDateTime"]
    assert import_bundle(bundle(undated), "undated.json").profile.bilag_2004 is None
    with pytest.raises(PatientFileError, match=r"highest_grade|valueString"):
        import_bundle(bundle(assessment("b4", "F", "2026-09-01")), "bad.json")
