"""The drugs a patient file may name, their classes, and prednisone equivalents.

A drug name that is not here is an error with a suggestion, never a silent
"unknown drug": a misspelt "predisone" must not quietly fail to count as a
glucocorticoid. Add a drug here (with its classes) to accept it.

Prednisone-equivalent doses (mg of the drug equal to 5 mg prednisone) are the
usual equivalence table (as in standard pharmacology references): prednisolone 5,
methylprednisolone 4, triamcinolone 4, hydrocortisone 20, dexamethasone 0.75.
"""

from __future__ import annotations

from dataclasses import dataclass

CLASSES = (
    "glucocorticoid",
    "immunosuppressant",
    "antimalarial",
    "b_cell_depleting",
    "biologic",
    "jak_inhibitor",
    "calcineurin_inhibitor",
    "nsaid",
    "immunoglobulin",
    "other",
)


@dataclass(frozen=True)
class Drug:
    name: str
    classes: frozenset[str]
    #: mg of this drug equivalent to 5 mg of prednisone (glucocorticoids only)
    mg_per_5mg_prednisone: float | None = None


def _drug(name: str, *classes: str, pred5: float | None = None) -> Drug:
    return Drug(name, frozenset(classes), pred5)


_DRUGS = [
    _drug("prednisone", "glucocorticoid", pred5=5),
    _drug("prednisolone", "glucocorticoid", pred5=5),
    _drug("methylprednisolone", "glucocorticoid", pred5=4),
    _drug("triamcinolone", "glucocorticoid", pred5=4),
    _drug("hydrocortisone", "glucocorticoid", pred5=20),
    _drug("dexamethasone", "glucocorticoid", pred5=0.75),
    _drug("cyclophosphamide", "immunosuppressant"),
    _drug("mycophenolate_mofetil", "immunosuppressant"),
    _drug("mycophenolate_sodium", "immunosuppressant"),
    _drug("azathioprine", "immunosuppressant"),
    _drug("methotrexate", "immunosuppressant"),
    _drug("leflunomide", "immunosuppressant"),
    _drug("cyclosporine", "immunosuppressant", "calcineurin_inhibitor"),
    _drug("tacrolimus", "immunosuppressant", "calcineurin_inhibitor"),
    _drug("voclosporin", "immunosuppressant", "calcineurin_inhibitor"),
    _drug("tripterygium_wilfordii", "immunosuppressant"),
    _drug("iguratimod", "immunosuppressant"),
    _drug("hydroxychloroquine", "antimalarial"),
    _drug("chloroquine", "antimalarial"),
    _drug("rituximab", "biologic", "b_cell_depleting"),
    _drug("obinutuzumab", "biologic", "b_cell_depleting"),
    _drug("belimumab", "biologic"),
    _drug("anifrolumab", "biologic"),
    # a TACI-Fc fusion protein blocking BLyS and APRIL: targets B cells without depleting them (approved for
    # SLE in China)
    _drug("telitacicept", "biologic"),
    _drug("etanercept", "biologic"),
    _drug("infliximab", "biologic"),
    _drug("adalimumab", "biologic"),
    _drug("golimumab", "biologic"),
    _drug("tocilizumab", "biologic"),
    _drug("tofacitinib", "jak_inhibitor"),
    _drug("baricitinib", "jak_inhibitor"),
    _drug("upadacitinib", "jak_inhibitor"),
    _drug("ibuprofen", "nsaid"),
    _drug("naproxen", "nsaid"),
    _drug("intravenous_immunoglobulin", "immunoglobulin"),
    _drug("pilocarpine", "other"),
    _drug("cevimeline", "other"),
]

DRUGS: dict[str, Drug] = {drug.name: drug for drug in _DRUGS}

#: Drugs given in doses above matcher.model.profile.DOSE_LIMITS (which catch typing errors for the others):
#: immunoglobulin is dosed in grams per kg, up to 2 g/kg in one infusion (mg, mg/kg per administration).
DOSE_LIMITS_OF_DRUG: dict[str, dict[str, float]] = {
    "intravenous_immunoglobulin": {"mass": 250000.0, "per_kg": 2000.0},
}

#: Other spellings a clinician may write, mapped to the names above.
ALIASES: dict[str, str] = {
    "mmf": "mycophenolate_mofetil",
    "mycophenolate": "mycophenolate_mofetil",
    "cellcept": "mycophenolate_mofetil",
    "mycophenolic_acid": "mycophenolate_sodium",
    "myfortic": "mycophenolate_sodium",
    "cyc": "cyclophosphamide",
    "ciclosporin": "cyclosporine",
    "cyclosporin": "cyclosporine",
    "hcq": "hydroxychloroquine",
    "aza": "azathioprine",
    "mtx": "methotrexate",
    "tacrolimus_fk506": "tacrolimus",
    "ivig": "intravenous_immunoglobulin",
}


def canonical_drug_name(written: str) -> str | None:
    """The table's name for ``written`` (case, spaces and hyphens ignored), or None."""
    key = written.strip().lower().replace("-", "_").replace(" ", "_")
    if key in DRUGS:
        return key
    return ALIASES.get(key)


def known_drug_names() -> list[str]:
    return sorted(set(DRUGS) | set(ALIASES))


# ------------------------------------------------------------------ adequate therapeutic trials
@dataclass(frozen=True)
class AdequateTrial:
    """The least dose and duration at which a failed course shows the drug failed, not an untested dose."""

    #: the medication field the minimum is read on (matcher.model.fields): daily_dose, weekly_dose, ...
    dose_field: str
    minimum: float
    unit: str
    #: the least treatment duration in days (merged courses, first and last day counted)
    days: int


#: The one table of adequate therapeutic trials, by drug (or ``glucocorticoid`` for the class): usual
#: lowest therapeutic doses in lupus and the time a drug needs to act. A failed course below its row is
#: left to the clinician (the rule file says where), never counted as "failed" outright; a drug
#: without a row is left to the clinician too. Rows are read on the merged treatment (dose changes and
#: tapers of one drug count as one treatment, at the lowest dose they held).
ADEQUATE_TRIALS: dict[str, AdequateTrial] = {
    "glucocorticoid": AdequateTrial("prednisone_equivalent_daily_dose", 7.5, "mg/day prednisone-equivalent", 28),
    "azathioprine": AdequateTrial("daily_dose_per_kg", 1.5, "mg/kg/day", 90),
    "mycophenolate_mofetil": AdequateTrial("daily_dose", 2000, "mg/day", 90),
    "mycophenolate_sodium": AdequateTrial("daily_dose", 1440, "mg/day", 90),
    "methotrexate": AdequateTrial("weekly_dose", 15, "mg/week", 90),
    "leflunomide": AdequateTrial("daily_dose", 20, "mg/day", 90),
    "cyclosporine": AdequateTrial("daily_dose_per_kg", 2.5, "mg/kg/day", 90),
    "tacrolimus": AdequateTrial("daily_dose_per_kg", 0.05, "mg/kg/day", 90),
}


def adequate_trial(drug: str) -> tuple[str, AdequateTrial] | None:
    """The row of :data:`ADEQUATE_TRIALS` that applies to ``drug`` (its own, else its class's), with its key."""
    if drug in ADEQUATE_TRIALS:
        return drug, ADEQUATE_TRIALS[drug]
    if "glucocorticoid" in DRUGS[drug].classes:
        return "glucocorticoid", ADEQUATE_TRIALS["glucocorticoid"]
    return None
