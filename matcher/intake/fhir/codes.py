"""The code tables that map FHIR R4 resources to the patient profile (see docs/FHIR.md).

Every table is data: a code system URI, a code, the code's display as its
publisher writes it, and what the matcher reads it as. A code that is not in a
table is never guessed from: the resource is listed as unused. ``verified=False``
marks codes the author is least sure of; docs/FHIR.md says which codes were
checked against a published listing and which come from memory only.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
CPT = "http://www.ama-assn.org/go/cpt"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
LIST_EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
V2_YES_NO = "http://terminology.hl7.org/CodeSystem/v2-0136"
#: The project's own code system, for profile facts that have no standard code (an activity
#: score, the ACR 1997 count, "in another trial"...): the code is the profile's field path.
PROFILE = "urn:trial-matcher:profile"
#: Clinician decisions (``decisions[]``) carried as Task resources: the question is ``Task.code`` coded
#: ``<NCT id>/<criterion id>`` in CRITERION, the answer ``Task.output.valueCodeableConcept`` coded met or
#: not_met in DECISION_OUTCOME, the rule file's sha256 a ``Task.identifier`` in RULES_SHA256.
CRITERION = "urn:trial-matcher:criterion"
DECISION_OUTCOME = "urn:trial-matcher:decision-outcome"
DECISION_OUTCOMES = ("met", "not_met")
RULES_SHA256 = "urn:trial-matcher:rules-sha256"

ICD10_SYSTEMS = (ICD10, ICD10CM)


@dataclass(frozen=True)
class LabCode:
    test: str
    display: str
    verified: bool = True


#: LOINC -> a test of matcher.model.profile.LAB_TESTS. The value's UCUM unit is converted by
#: matcher.intake.fhir.ucum_to_text and checked by the profile like any written unit.
LOINC_LABS: dict[str, LabCode] = {
    "2889-4": LabCode("urine_protein_24h", "Protein [Mass/time] in 24 hour Urine"),
    "2890-2": LabCode("urine_protein_creatinine_ratio", "Protein/Creatinine [Mass Ratio] in Urine"),
    "2160-0": LabCode("serum_creatinine", "Creatinine [Mass/volume] in Serum or Plasma"),
    "14682-9": LabCode("serum_creatinine", "Creatinine [Moles/volume] in Serum or Plasma"),
    "33914-3": LabCode("egfr", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or "
                               "Plasma by Creatinine-based formula (MDRD)"),
    "62238-1": LabCode("egfr", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
                               "Plasma or Blood by Creatinine-based formula (CKD-EPI)"),
    "98979-8": LabCode("egfr", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
                               "Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)"),
    "1742-6": LabCode("alt", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "1920-8": LabCode("ast", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "751-8": LabCode("neutrophils", "Neutrophils [#/volume] in Blood by Automated count"),
    "26499-4": LabCode("neutrophils", "Neutrophils [#/volume] in Blood"),
    "6690-2": LabCode("wbc", "Leukocytes [#/volume] in Blood by Automated count"),
    "731-0": LabCode("lymphocytes", "Lymphocytes [#/volume] in Blood by Automated count"),
    "26474-7": LabCode("lymphocytes", "Lymphocytes [#/volume] in Blood"),
    "777-3": LabCode("platelets", "Platelets [#/volume] in Blood by Automated count"),
    "26515-7": LabCode("platelets", "Platelets [#/volume] in Blood"),
    "718-7": LabCode("haemoglobin", "Hemoglobin [Mass/volume] in Blood"),
    "24467-3": LabCode("cd4", "CD3+CD4+ (T4 helper) cells [#/volume] in Blood", verified=False),
    "10230-1": LabCode("lvef", "Left ventricular Ejection fraction"),
    "2703-7": LabCode("pao2", "Oxygen [Partial pressure] in Arterial blood", verified=False),
    "2019-8": LabCode("paco2", "Carbon dioxide [Partial pressure] in Arterial blood", verified=False),
    "5130-0": LabCode("anti_dsdna", "DNA double strand Ab [Units/volume] in Serum"),
    "5048-4": LabCode("ana_titre", "Nuclear Ab [Titer] in Serum by Immunofluorescence"),
    "13945-1": LabCode("urine_rbc_per_hpf", "Erythrocytes [#/area] in Urine sediment by Microscopy high power field"),
    "5821-4": LabCode("urine_wbc_per_hpf", "Leukocytes [#/area] in Urine sediment by Microscopy high power field"),
}

#: LOINC codes that look close to a mapped test but are not it: read as unused, with this reason.
LOINC_NOT_MAPPED: dict[str, str] = {
    "2888-6": "urine protein concentration (mass/volume) of a spot sample is neither a 24-hour protein nor a "
              "protein/creatinine ratio",
    "48642-3": "race-specific MDRD eGFR (non-Black): the profile takes one eGFR per day and the matcher does not "
               "choose between race-specific estimates",
    "48643-1": "race-specific MDRD eGFR (Black): the profile takes one eGFR per day and the matcher does not "
               "choose between race-specific estimates",
    "2164-2": "a measured creatinine clearance has no field in the profile; NCT03562065's clearance is computed "
              "(Cockcroft-Gault) from serum creatinine, age, sex and weight",
}

#: Body measurements -> demographics (the most recent one is used).
LOINC_BODY: dict[str, tuple[str, str]] = {
    "29463-7": ("weight", "Body weight"),
    "8302-2": ("height", "Body height"),
}

#: hCG pregnancy tests (qualitative) -> pregnancy.tests with their specimen.
LOINC_HCG: dict[str, tuple[str, str]] = {
    "2106-3": ("urine", "Choriogonadotropin (pregnancy test) [Presence] in Urine"),
    "2118-8": ("serum", "Choriogonadotropin (pregnancy test) [Presence] in Serum or Plasma"),
}

PREGNANCY_STATUS = "82810-3"  # Pregnancy status
BREASTFEEDING_STATUS = "63895-7"  # Breastfeeding status

#: Answers of the qualitative results read: (system, code) -> meaning. Anything else stays unknown.
POSITIVE_NEGATIVE: dict[tuple[str, str], str] = {
    (SNOMED, "10828004"): "positive",  # Positive
    (SNOMED, "260385009"): "negative",  # Negative
    (LOINC, "LA6576-8"): "positive",  # Positive
    (LOINC, "LA6577-6"): "negative",  # Negative
}
PREGNANT_ANSWERS: dict[tuple[str, str], bool | None] = {
    (LOINC, "LA15173-0"): True,  # Pregnant
    (LOINC, "LA26683-5"): False,  # Not pregnant
    (LOINC, "LA4489-6"): None,  # Unknown
    (SNOMED, "77386006"): True,  # Pregnant
    (SNOMED, "60001007"): False,  # Not pregnant
}
YES_NO: dict[tuple[str, str], bool] = {
    (SNOMED, "373066001"): True,  # Yes
    (SNOMED, "373067005"): False,  # No
    (V2_YES_NO, "Y"): True,
    (V2_YES_NO, "N"): False,
}


@dataclass(frozen=True)
class ConditionCode:
    """What a Condition code says: a diagnosis, an infection or a malignancy."""

    display: str
    #: "sle", "lupus_nephritis", "primary_sjogren", "infection", "malignancy"
    kind: str
    #: sle codes that also say lupus nephritis (ICD-10 M32.14)
    also: tuple[str, ...] = ()
    agent: str | None = None
    category: str | None = None
    #: why the code cannot decide the field (then the field stays unknown with this reason)
    ambiguous: str | None = None
    verified: bool = True


SNOMED_CONDITIONS: dict[str, ConditionCode] = {
    "55464009": ConditionCode("Systemic lupus erythematosus", "sle"),
    "68815009": ConditionCode("Systemic lupus erythematosus glomerulonephritis syndrome", "sle",
                              also=("lupus_nephritis",)),
    "83901003": ConditionCode("Sjögren's syndrome", "primary_sjogren"),
    "233604007": ConditionCode("Pneumonia", "infection", agent=None, verified=False),
    "38822007": ConditionCode("Cystitis", "infection", ambiguous="cystitis is not always infectious",
                              verified=False),
    "68566005": ConditionCode("Urinary tract infectious disease", "infection", agent="bacterial", verified=False),
    "56717001": ConditionCode("Tuberculosis", "infection", agent="tuberculosis"),
    "66071002": ConditionCode("Viral hepatitis type B", "infection", agent="hepatitis_b", verified=False),
    "50711007": ConditionCode("Viral hepatitis type C", "infection", agent="hepatitis_c", verified=False),
    "86406008": ConditionCode("Human immunodeficiency virus infection", "infection", agent="hiv"),
    "4740000": ConditionCode("Herpes zoster", "infection", agent="herpes_zoster"),
    "91302008": ConditionCode("Sepsis", "infection", verified=False),
    "363346000": ConditionCode("Malignant neoplastic disease", "malignancy"),
}


def icd10_condition(code: str) -> ConditionCode | None:
    """An ICD-10 (WHO or -CM) code read by its chapter ranges; None when not mapped."""
    code = code.upper().strip()
    dotless = code.replace(".", "")
    if dotless.startswith("M320"):
        return ConditionCode("Drug-induced systemic lupus erythematosus", "sle",
                             ambiguous="drug-induced lupus (M32.0) is not the SLE the trials ask for")
    if dotless.startswith("M3214"):
        return ConditionCode("Glomerular disease in systemic lupus erythematosus", "sle", also=("lupus_nephritis",))
    if dotless.startswith("M3215"):
        return ConditionCode("Tubulo-interstitial nephropathy in systemic lupus erythematosus", "sle",
                             also=("lupus_nephritis?",))
    if dotless.startswith("M32"):
        return ConditionCode("Systemic lupus erythematosus", "sle")
    if dotless.startswith("M350"):
        return ConditionCode("Sicca syndrome [Sjögren]", "primary_sjogren")
    if dotless[:3] in ("A15", "A16", "A17", "A18", "A19"):
        return ConditionCode("Tuberculosis", "infection", agent="tuberculosis")
    if dotless.startswith("A31"):
        return ConditionCode("Infection due to other mycobacteria", "infection", agent="atypical_mycobacteria")
    if dotless.startswith("B181") or dotless.startswith("B16"):
        return ConditionCode("Hepatitis B", "infection", agent="hepatitis_b")
    if dotless.startswith("B182") or dotless.startswith("B171"):
        return ConditionCode("Hepatitis C", "infection", agent="hepatitis_c")
    if dotless.startswith("B20") or dotless.startswith("Z21"):
        return ConditionCode("HIV disease", "infection", agent="hiv")
    if dotless.startswith("B02"):
        return ConditionCode("Zoster [herpes zoster]", "infection", agent="herpes_zoster")
    if dotless.startswith("B351"):
        return ConditionCode("Tinea unguium (onychomycosis)", "infection", agent="fungal")
    if dotless.startswith("J15"):
        return ConditionCode("Bacterial pneumonia, not elsewhere classified", "infection", agent="bacterial")
    if dotless.startswith("J18"):
        return ConditionCode("Pneumonia, organism unspecified", "infection")
    if dotless.startswith("N300"):
        return ConditionCode("Acute cystitis", "infection", agent="bacterial")
    if dotless.startswith("N390"):
        return ConditionCode("Urinary tract infection, site not specified", "infection")
    if dotless.startswith("A41"):
        return ConditionCode("Other sepsis", "infection")
    if dotless.startswith("D46"):
        return ConditionCode("Myelodysplastic syndromes", "malignancy", category="myelodysplasia")
    if dotless.startswith("D06"):
        return ConditionCode("Carcinoma in situ of cervix uteri", "malignancy", category="cervical_carcinoma_in_situ")
    if dotless.startswith("C44"):
        return ConditionCode("Other malignant neoplasm of skin", "malignancy",
                             ambiguous="C44 does not say basal or squamous cell carcinoma in every edition")
    if dotless[:1] == "C" and dotless[1:3].isdigit():
        number = int(dotless[1:3])
        if 81 <= number <= 96:
            return ConditionCode("Malignant neoplasm of lymphoid, haematopoietic and related tissue", "malignancy",
                                 category="haematological")
        return ConditionCode("Malignant neoplasm", "malignancy", category="solid_tumour")
    return None


#: RxNorm ingredient (IN) CUIs -> matcher/model/drugs.py names.
RXNORM_DRUGS: dict[str, tuple[str, str]] = {
    "8640": ("prednisone", "prednisone"),
    "8638": ("prednisolone", "prednisolone"),
    "6902": ("methylprednisolone", "methylprednisolone"),
    "5492": ("hydrocortisone", "hydrocortisone"),
    "3264": ("dexamethasone", "dexamethasone"),
    "10759": ("triamcinolone", "triamcinolone"),
    "3002": ("cyclophosphamide", "cyclophosphamide"),
    "68149": ("mycophenolate_mofetil", "mycophenolate mofetil"),
    "1256": ("azathioprine", "azathioprine"),
    "6851": ("methotrexate", "methotrexate"),
    "27169": ("leflunomide", "leflunomide"),
    "3008": ("cyclosporine", "cyclosporine"),
    "42316": ("tacrolimus", "tacrolimus"),
    "5521": ("hydroxychloroquine", "hydroxychloroquine"),
    "2393": ("chloroquine", "chloroquine"),
    "121191": ("rituximab", "rituximab"),
    "1093285": ("belimumab", "belimumab"),
    "214555": ("etanercept", "etanercept"),
    "191831": ("infliximab", "infliximab"),
    "327361": ("adalimumab", "adalimumab"),
    "612865": ("tocilizumab", "tocilizumab"),
    "1357536": ("tofacitinib", "tofacitinib"),
    "5640": ("ibuprofen", "ibuprofen"),
    "7258": ("naproxen", "naproxen"),
    "8328": ("pilocarpine", "pilocarpine"),
}
#: RxNorm CUIs above that were not checked against RxNorm itself (see docs/FHIR.md).
RXNORM_UNVERIFIED = frozenset({"8638", "5492", "3264", "10759", "27169", "3008", "2393", "1093285", "214555",
                               "191831", "327361", "612865", "1357536", "5640", "7258", "8328"})

#: ATC codes (WHO) -> drug names. L04AA06 is mycophenolic acid, which covers both the
#: mofetil ester and the sodium salt the profile tells apart: it is ambiguous.
ATC_DRUGS: dict[str, tuple[str | None, str]] = {
    "H02AB07": ("prednisone", "prednisone"),
    "H02AB06": ("prednisolone", "prednisolone"),
    "H02AB04": ("methylprednisolone", "methylprednisolone"),
    "H02AB09": ("hydrocortisone", "hydrocortisone"),
    "H02AB02": ("dexamethasone", "dexamethasone"),
    "H02AB08": ("triamcinolone", "triamcinolone"),
    "L01AA01": ("cyclophosphamide", "cyclophosphamide"),
    "L04AA06": (None, "mycophenolic acid"),
    "L04AX01": ("azathioprine", "azathioprine"),
    "L04AX03": ("methotrexate", "methotrexate"),
    "L01BA01": ("methotrexate", "methotrexate"),
    "L04AA13": ("leflunomide", "leflunomide"),
    "L04AD01": ("cyclosporine", "ciclosporin"),
    "L04AD02": ("tacrolimus", "tacrolimus"),
    "P01BA02": ("hydroxychloroquine", "hydroxychloroquine"),
    "P01BA01": ("chloroquine", "chloroquine"),
    "L01XC02": ("rituximab", "rituximab"),
    "L01FA01": ("rituximab", "rituximab"),
    "L04AA26": ("belimumab", "belimumab"),
    "L04AG04": ("belimumab", "belimumab"),
}
ATC_AMBIGUOUS: dict[str, str] = {
    "L04AA06": "ATC L04AA06 (mycophenolic acid) covers mycophenolate mofetil and mycophenolate sodium, which the "
               "profile tells apart",
}

#: Routes (SNOMED CT route of administration) -> profile routes.
SNOMED_ROUTES: dict[str, str] = {
    "26643006": "oral",  # Oral route
    "47625008": "iv",  # Intravenous route
    "34206005": "sc",  # Subcutaneous route
    "78421000": "im",  # Intramuscular route
}

#: Procedure codes -> ("dialysis" | "kidney_transplant" | a profile procedure type, display, verified).
PROCEDURES: dict[tuple[str, str], tuple[str, str, bool]] = {
    (SNOMED, "265764009"): ("dialysis", "Renal dialysis", True),
    (SNOMED, "302497006"): ("dialysis", "Hemodialysis", False),
    (SNOMED, "71192002"): ("dialysis", "Peritoneal dialysis", False),
    (SNOMED, "70536003"): ("kidney_transplant", "Transplantation of kidney", False),
    (CPT, "36514"): ("plasmapheresis", "Therapeutic apheresis; for plasma pheresis", False),
    (PROFILE, "procedures.plasmapheresis"): ("plasmapheresis", "plasmapheresis", True),
    (PROFILE, "procedures.immunoadsorption"): ("immunoadsorption", "immunoadsorption", True),
    (PROFILE, "procedures.major_surgery"): ("major_surgery", "major surgery", True),
}


@dataclass(frozen=True)
class VaccineCode:
    display: str
    #: None: the code does not say whether the vaccine is live (the field stays unknown)
    live: bool | None
    herpes_zoster: bool = False


#: CVX vaccine codes (CDC) -> live or not.
CVX_VACCINES: dict[str, VaccineCode] = {
    "03": VaccineCode("measles, mumps and rubella virus vaccine", True),
    "94": VaccineCode("measles, mumps, rubella, and varicella virus vaccine", True),
    "21": VaccineCode("varicella virus vaccine", True),
    "121": VaccineCode("zoster vaccine, live", True, herpes_zoster=True),
    "187": VaccineCode("zoster vaccine recombinant", False, herpes_zoster=True),
    "188": VaccineCode("zoster vaccine, unspecified formulation", None, herpes_zoster=True),
    "37": VaccineCode("yellow fever vaccine", True),
    "19": VaccineCode("Bacillus Calmette-Guerin vaccine", True),
    "25": VaccineCode("typhoid vaccine, live, oral", True),
    "111": VaccineCode("influenza virus vaccine, live, attenuated, for intranasal use", True),
    "149": VaccineCode("influenza, live, intranasal, quadrivalent", True),
    "140": VaccineCode("Influenza, seasonal, injectable, preservative free", False),
    "141": VaccineCode("Influenza, seasonal, injectable", False),
    "150": VaccineCode("Influenza, injectable, quadrivalent, preservative free", False),
    "88": VaccineCode("influenza virus vaccine, unspecified formulation", None),
    "33": VaccineCode("pneumococcal polysaccharide vaccine, 23 valent", False),
    "133": VaccineCode("pneumococcal conjugate vaccine, 13 valent", False),
    "208": VaccineCode("COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose", False),
}
CVX_UNVERIFIED = frozenset({"149", "150", "88", "208", "25"})

#: The sections of the profile a FHIR List (with this code in the project's system) may declare
#: complete ("assessed"); an empty such List (emptyReason nilknown) gives an empty list.
LIST_SECTIONS = ("medications", "infections", "malignancies", "procedures", "immunizations")

#: The project code of a BILAG-2004 assessment (no LOINC or SNOMED CT code records it): valueString, the
#: highest organ-domain grade A to E, with effectiveDateTime; one Observation per assessment.
BILAG_2004 = "bilag_2004.highest_grade"

#: Profile facts that have no standard code, carried as Observations coded in PROFILE with the
#: field path as code, and the value type they take.
PROFILE_FACTS: dict[str, str] = {
    "diagnoses.sle.present": "boolean",
    "diagnoses.sle.acr1997_criteria_met": "integer",
    "diagnoses.sle.acr1997_criteria": "list",
    "diagnoses.sle.slicc2012_fulfilled": "boolean",
    "diagnoses.sle.ana_positive": "boolean",
    "diagnoses.lupus_nephritis.present": "boolean",
    "diagnoses.lupus_nephritis.biopsy_class": "string",
    "diagnoses.primary_sjogren.present": "boolean",
    "diagnoses.primary_sjogren.aecg2002_fulfilled": "boolean",
    "pregnancy.pregnant": "boolean",
    "pregnancy.breastfeeding": "boolean",
    "pregnancy.planning_pregnancy": "boolean",
    "pregnancy.childbearing_potential": "boolean",
    "renal.dialysis": "boolean",
    "renal.kidney_transplant": "boolean",
    "consent.signed": "boolean",
    "administrative.in_other_trial": "boolean",
    "administrative.social_security_affiliation": "boolean",
    "administrative.legal_protection": "boolean",
}
