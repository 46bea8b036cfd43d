"""A synthetic patient's medication courses, drawn from regimens in common use."""

from __future__ import annotations

from typing import NamedTuple

from matcher.tools.synthetic.draw import SJOGREN, THOROUGH_RECORDED, Draw, Record


class Regimen(NamedTuple):
    """How a drug is commonly given: the names and doses a record may use, and for pulses how many."""

    drug_spellings: tuple[str, ...]
    doses: tuple[str, ...]
    frequency: str
    route: str
    #: doses in one course of pulses or infusions (0: taken continuously until stopped)
    administrations: int = 0


INDUCTION_GLUCOCORTICOIDS = (
    Regimen(("prednisone",), ("20 mg", "30 mg", "40 mg", "60 mg", "1 mg/kg"), "daily", "oral"),
    Regimen(("prednisone",), ("10 mg", "15 mg", "25 mg"), "daily", "oral"),
    Regimen(("prednisolone",), ("20 mg", "30 mg", "40 mg"), "daily", "oral"),
    Regimen(("methylprednisolone",), ("16 mg", "24 mg", "32 mg"), "daily", "oral"),
    Regimen(("methylprednisolone",), ("500 mg", "1 g", "250 mg"), "daily", "iv", 3),
    Regimen(("dexamethasone",), ("4 mg", "8 mg"), "daily", "oral"),
)
MAINTENANCE_GLUCOCORTICOIDS = (
    Regimen(("prednisone",), ("5 mg", "7.5 mg", "10 mg", "15 mg"), "daily", "oral"),
    Regimen(("prednisolone",), ("5 mg", "10 mg"), "daily", "oral"),
    Regimen(("hydrocortisone",), ("10 mg", "20 mg"), "twice_daily", "oral"),
    Regimen(("triamcinolone",), ("40 mg", "80 mg"), "once", "im", 1),
    Regimen(("triamcinolone",), ("20 mg", "40 mg"), "once", "other", 1),  # intra-articular
)
IMMUNOSUPPRESSANTS = (
    Regimen(("mycophenolate_mofetil", "MMF", "mycophenolate mofetil", "CellCept"),
            ("500 mg", "750 mg", "1000 mg", "1 g", "1500 mg", "1.5 g"), "twice_daily", "oral"),
    Regimen(("mycophenolate_sodium", "Myfortic"), ("360 mg", "540 mg", "720 mg"), "twice_daily", "oral"),
    Regimen(("cyclophosphamide", "CYC"), ("500 mg",), "every_2_weeks", "iv", 6),
    Regimen(("cyclophosphamide",), ("0.5 g/m2", "500 mg/m2", "400 mg/m2", "600 mg/m2", "700 mg/m2"),
            "every_2_weeks", "iv", 14),
    Regimen(("cyclophosphamide",), ("750 mg/m2", "1 g/m2", "0.5 g/m2"), "monthly", "iv", 6),
    Regimen(("cyclophosphamide",), ("50 mg", "100 mg"), "daily", "oral"),
    Regimen(("azathioprine", "AZA"), ("50 mg", "100 mg", "150 mg", "2 mg/kg", "2.5 mg/kg"), "daily", "oral"),
    Regimen(("methotrexate", "MTX"), ("10 mg", "15 mg", "20 mg", "25 mg"), "weekly", "oral"),
    Regimen(("methotrexate",), ("15 mg", "25 mg"), "weekly", "sc"),
    Regimen(("leflunomide",), ("10 mg", "20 mg"), "daily", "oral"),
    Regimen(("cyclosporine", "ciclosporin"), ("100 mg", "150 mg", "1.5 mg/kg", "2 mg/kg", "3 mg/kg"),
            "twice_daily", "oral"),
    Regimen(("tacrolimus",), ("1 mg", "2 mg", "3 mg"), "twice_daily", "oral"),
    Regimen(("voclosporin",), ("23.7 mg",), "twice_daily", "oral"),
    Regimen(("tripterygium_wilfordii",), ("20 mg",), "three_times_daily", "oral"),
    Regimen(("iguratimod",), ("25 mg",), "twice_daily", "oral"),
)
BIOLOGICS = (
    Regimen(("rituximab",), ("375 mg/m2",), "weekly", "iv", 4),
    Regimen(("rituximab",), ("1000 mg", "1 g", "500 mg"), "every_2_weeks", "iv", 2),
    Regimen(("obinutuzumab",), ("1000 mg",), "every_2_weeks", "iv", 2),
    Regimen(("belimumab",), ("10 mg/kg",), "every_4_weeks", "iv"),
    Regimen(("belimumab",), ("10 mg/kg",), "monthly", "iv"),
    Regimen(("belimumab",), ("200 mg",), "weekly", "sc"),
    Regimen(("anifrolumab",), ("300 mg",), "every_4_weeks", "iv"),
    Regimen(("tocilizumab",), ("8 mg/kg",), "every_4_weeks", "iv"),
    Regimen(("etanercept",), ("50 mg",), "weekly", "sc"),
    Regimen(("adalimumab",), ("40 mg",), "every_2_weeks", "sc"),
    Regimen(("infliximab",), ("5 mg/kg",), "every_4_weeks", "iv"),
    Regimen(("golimumab",), ("50 mg",), "monthly", "sc"),
    Regimen(("tofacitinib",), ("5 mg",), "twice_daily", "oral"),
    Regimen(("baricitinib",), ("2 mg", "4 mg"), "daily", "oral"),
    Regimen(("upadacitinib",), ("15 mg",), "daily", "oral"),
)
BACKGROUND = (
    Regimen(("hydroxychloroquine", "HCQ"), ("200 mg",), "twice_daily", "oral"),
    Regimen(("hydroxychloroquine",), ("400 mg", "300 mg"), "daily", "oral"),
    Regimen(("chloroquine",), ("250 mg",), "daily", "oral"),
    Regimen(("ibuprofen",), ("400 mg",), "three_times_daily", "oral"),
    Regimen(("naproxen",), ("500 mg",), "twice_daily", "oral"),
)
SECRETAGOGUES = (
    Regimen(("pilocarpine",), ("5 mg",), "three_times_daily", "oral"),
    Regimen(("cevimeline",), ("30 mg",), "three_times_daily", "oral"),
)
_INTERVAL_DAYS = {"once": 0, "daily": 1, "twice_daily": 1, "three_times_daily": 1, "weekly": 7,
                  "every_2_weeks": 14, "every_4_weeks": 28, "monthly": 30}
_PAST_RESPONSES = ("failed", "failed", "failed", "failed", "failed", "failed", "failed", "responded", "responded",
                   "responded", "not_tolerated", "not_tolerated")
_NOTES = {"not_tolerated": "stopped for side effects", "failed": "no renal or clinical response",
          "responded": "tapered after remission"}


def _course(draw: Draw, regimen: Regimen, current: bool) -> Record:
    """One course of ``regimen``: current (ongoing) or past (ended, with a response)."""
    course: Record = {"drug": draw.pick(regimen.drug_spellings)}
    keep = THOROUGH_RECORDED if draw.thorough else 0.92
    chance = draw.random.random
    if chance() < keep:
        course["dose"] = draw.pick(regimen.doses)
    if chance() < keep:
        course["frequency"] = regimen.frequency
    if chance() < keep:
        course["route"] = regimen.route
    interval = _INTERVAL_DAYS[regimen.frequency]
    if regimen.administrations:
        given = regimen.administrations if chance() < 0.7 else draw.integer(1, regimen.administrations)
        length = (given - 1) * interval
    elif current:
        given, length = 0, draw.integer(3, 1500)
    else:
        given, length = 0, draw.integer(14, 500)
    if given and chance() < keep:
        course["administrations"] = given
    if current:
        start, end = length, (0 if regimen.administrations else None)
    else:
        end = draw.integer(1, 1800)
        start = end + length
    if chance() < keep:
        course["start"] = draw.iso(start)
    if end is None:
        if chance() < keep:
            course["ongoing"] = True
    elif chance() < keep:
        course["end"] = draw.iso(end)
        if chance() < 0.3:
            course["ongoing"] = False
    elif chance() < 0.5:
        course["ongoing"] = False
    response = (draw.pick(_PAST_RESPONSES) if not current
                else "responded" if chance() < 0.5 else "failed" if chance() < 0.2 else None)
    if response is not None and chance() < keep:
        course["response"] = response
        if chance() < 0.08:
            course["note"] = _NOTES[response]
    return course


def draw_medications(draw: Draw, condition: str) -> list[Record] | None:
    size = draw.list_size(absent=0.08, empty=0.05)
    if size is None:
        return None
    if size and (draw.thorough or draw.chance(0.4)):  # a lupus clinic's histories are long
        size = max(size, 3)
    pick = draw.pick
    if condition == SJOGREN:
        plan = [(pick(SECRETAGOGUES), True), (BACKGROUND[0], True), (pick(MAINTENANCE_GLUCOCORTICOIDS[:2]), True),
                (pick((IMMUNOSUPPRESSANTS[7], BIOLOGICS[1], BACKGROUND[3])), draw.chance(0.4))]
    else:
        current = pick(MAINTENANCE_GLUCOCORTICOIDS + IMMUNOSUPPRESSANTS[:2] + IMMUNOSUPPRESSANTS[6:8]
                       if draw.chance(0.85) else BIOLOGICS)
        induction = pick(IMMUNOSUPPRESSANTS[:7] if draw.chance(0.7) else IMMUNOSUPPRESSANTS + BIOLOGICS[:2])
        plan = [(current, True), (induction, False),
                (pick(INDUCTION_GLUCOCORTICOIDS), False),
                (pick(BACKGROUND if draw.chance(0.8) else BIOLOGICS), draw.chance(0.6))]
    return [_course(draw, regimen, current) for regimen, current in plan[:size]]

