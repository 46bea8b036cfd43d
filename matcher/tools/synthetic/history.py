"""A synthetic patient's pregnancy status and tests, and the entries of the history lists (infections,
malignancies, procedures, immunizations)."""

from __future__ import annotations

from matcher.tools.synthetic.draw import Draw, Record


def draw_pregnancy(draw: Draw, sex: str | None, age: int) -> Record:
    pregnancy: Record = {}
    if sex == "male":
        if draw.chance(0.5):
            pregnancy["pregnant"] = False
        if draw.chance(0.5):
            pregnancy["breastfeeding"] = False
        if draw.recorded(0.6):
            pregnancy["planning_pregnancy"] = draw.chance(0.05)
        return pregnancy
    fertile = 12 <= age < 50 and draw.chance(0.92)
    pregnant = fertile and draw.chance(0.03)
    if draw.recorded(0.8):
        pregnancy["pregnant"] = pregnant
    if draw.recorded(0.75):
        pregnancy["breastfeeding"] = fertile and not pregnant and draw.chance(0.03)
    if draw.recorded(0.6):
        pregnancy["planning_pregnancy"] = fertile and draw.chance(0.06)
    if draw.recorded(0.7):
        pregnancy["childbearing_potential"] = fertile
    size = draw.list_size(absent=0.35, empty=0.15, most=2)
    if size is not None:
        result = "positive" if pregnant else "negative"
        day = draw.integer(0, 5) if draw.chance(0.8) else draw.integer(8, 60)
        tests = [{"date": draw.iso(day), "result": result, "specimen": specimen}
                 for specimen in ("urine", "serum")[:size]]
        if tests and draw.chance(0.1):
            del tests[0]["specimen"]
        pregnancy["tests"] = tests
    return pregnancy


INFECTIONS = (
    ("cystitis", "bacterial"), ("pneumonia", "bacterial"), ("cellulitis", "bacterial"), ("influenza", "viral"),
    ("herpes zoster", "herpes_zoster"), ("oral candidiasis", "fungal"), ("onychomycosis", "onychomycosis"),
    ("latent tuberculosis", "tuberculosis"), ("Mycobacterium avium infection", "atypical_mycobacteria"),
    ("chronic hepatitis B", "hepatitis_b"), ("hepatitis C", "hepatitis_c"), ("HIV-1 infection", "hiv"),
    ("HTLV-1 infection", "htlv"), ("strongyloidiasis", "parasitic"), ("infected leg ulcer", "other"),
)


def draw_infection(draw: Draw) -> Record:
    name, agent = draw.pick(INFECTIONS)
    roll = draw.random.random()
    status = "resolved" if roll < 0.85 else "controlled" if roll < 0.94 else "uncontrolled"
    severe = draw.chance(0.15)
    infection: Record = {"name": name, "status": status}
    optional: Record = {
        "agent": agent, "severe": severe, "recurrent": draw.chance(0.1), "hospitalized": severe and draw.chance(0.8),
        "iv_antibiotics": severe and agent == "bacterial", "treated": agent != "onychomycosis" or draw.chance(0.5),
    }
    for key, value in optional.items():
        if draw.recorded(0.85):
            infection[key] = value
    start = draw.integer(2, 700)
    if draw.recorded(0.85):
        infection["start"] = draw.iso(start)
    if status == "resolved" and draw.recorded(0.8):
        infection["end"] = draw.iso(max(0, start - draw.integer(3, 40)))
    return infection


MALIGNANCIES = (
    ("breast carcinoma", "solid_tumour"), ("papillary thyroid carcinoma", "solid_tumour"),
    ("diffuse large B-cell lymphoma", "haematological"), ("MALT lymphoma", "haematological"),
    ("myelodysplastic syndrome", "myelodysplasia"), ("basal cell carcinoma", "basal_cell_carcinoma"),
    ("squamous cell carcinoma of the skin", "cutaneous_squamous_cell_carcinoma"),
    ("cervical carcinoma in situ", "cervical_carcinoma_in_situ"), ("melanoma", "other"),
)


def draw_malignancy(draw: Draw) -> Record:
    kind, category = draw.pick(MALIGNANCIES)
    roll = draw.random.random()
    status = "cured" if roll < 0.45 else "in_remission" if roll < 0.75 else "active"
    malignancy: Record = {"type": kind, "status": status}
    if draw.recorded(0.85):
        malignancy["category"] = category
    if draw.recorded(0.6):
        malignancy["excised"] = category not in {"haematological", "myelodysplasia"} and status != "active"
    if draw.recorded(0.75):
        malignancy["diagnosed"] = draw.iso(draw.integer(30, 5000))
    return malignancy


PROCEDURES = (("plasmapheresis", None), ("immunoadsorption", None), ("major_surgery", "cholecystectomy"),
              ("major_surgery", "hip replacement"), ("other", "renal biopsy"), ("other", "dental extraction"))


def draw_procedure(draw: Draw) -> Record:
    kind, note = draw.pick(PROCEDURES)
    procedure: Record = {"type": kind}
    planned = draw.chance(0.15)
    if planned:
        if draw.chance(0.5):
            procedure["date"] = draw.iso(-draw.integer(1, 90))
        procedure["planned"] = True
    else:
        if draw.recorded(0.85):
            procedure["date"] = draw.iso(draw.integer(1, 700))
        if draw.chance(0.3):
            procedure["planned"] = False
    if note is not None and draw.chance(0.5):
        procedure["note"] = note
    return procedure


VACCINES = (
    ("influenza (inactivated)", False, False), ("pneumococcal conjugate", False, False),
    ("COVID-19 mRNA", False, False), ("hepatitis B", False, False), ("recombinant zoster", False, True),
    ("live attenuated zoster", True, True), ("MMR", True, False), ("yellow fever", True, False),
    ("varicella", True, False),
)


def draw_immunization(draw: Draw) -> Record:
    vaccine, live, zoster = draw.pick(VACCINES)
    immunization: Record = {"vaccine": vaccine, "live": live}
    if draw.recorded(0.8):
        immunization["herpes_zoster"] = zoster
    if draw.chance(0.1):
        immunization["planned"] = True
        if draw.chance(0.5):
            immunization["date"] = draw.iso(-draw.integer(1, 60))
    else:
        if draw.recorded(0.85):
            immunization["date"] = draw.iso(draw.integer(1, 900))
        if draw.chance(0.2):
            immunization["planned"] = False
    return immunization

