"""A seeded synthetic cohort of lupus / Sjogren's clinic patients, for benchmarking only.

Nothing here is clinical data or a clinical estimate: the proportions below are
rough shapes chosen so that a cohort exercises every field of
:mod:`matcher.model.profile` and lands on both sides of the thresholds in ``rules/``.
Figures computed from a synthetic cohort (eligibility rates, verdict mixes)
describe this generator, not any population.

Determinism: patient ``index`` of cohort ``seed`` is drawn from its own
``random.Random(f"{seed}:{index}")``, so it is the same whatever else is
generated, and a cohort of any size streams in bounded memory.

What a patient looks like:

* **Condition**: 45% SLE without nephritis, 35% SLE with lupus nephritis, 15%
  primary Sjogren's syndrome, 5% referred without a recorded diagnosis.
* **Completeness**: 35% of patients are "thoroughly worked up" (almost every
  item recorded); for the others each item is recorded with its own
  probability (common labs ~80%, echocardiography ~40%, blood gases ~30%).
  Missing data is normal: a missing item is left out, never written as false.
* **Demographics**: 90% women (93% in Sjogren's); age mostly 15-70 (triangular,
  mode 32 for SLE, 52 for Sjogren's), 8% drawn from 10-85; birth date (80%),
  age only (12%) or neither; weight and height in kg/lb and cm/m.
* **Activity**: SLEDAI-2K 0-30 (mode 10 with nephritis, 6 without), SELENA-SLEDAI
  close to it; SSDAI 0-21 and ESSDAI 0-60 in Sjogren's. 1-3 dated scores. A BILAG-2004
  assessment (highest organ grade A-E, 1-3 visits) for under half of SLE patients; the SLICC
  2012 classification recorded for under half.
* **Labs**: 24-hour proteinuria 0-6 g/24h with nephritis (mode 1.8), small
  otherwise; protein/creatinine ratio alike; creatinine around 0.8 mg/dL (to
  10 mg/dL on dialysis); eGFR from creatinine; transaminases raised in ~8%;
  cytopenias, low LVEF, raised PAP and abnormal blood gases in a few percent.
  Each test is written in one of its accepted spellings (g/24h, mg/24h, g/day;
  g/g, mg/mmol; mg/dL, umol/L; U/L, IU/L; x10^9/L, /nL; mmHg, kPa; mL/min,
  mL/6 min ...), with the lab's upper limit of normal for ALT, AST and creatinine
  in most results.
* **Medications**: 1-4 courses from regimens in common use (prednisone,
  methylprednisolone pulses, mycophenolate, Euro-Lupus and NIH cyclophosphamide,
  azathioprine, methotrexate, rituximab, belimumab, hydroxychloroquine,
  pilocarpine, ...), past courses ended with a response (failed 45%), current
  ones ongoing; every optional detail is occasionally unrecorded.
* **History lists** (infections, malignancies, procedures, immunizations,
  pregnancy tests): absent (not assessed), empty (assessed: none) or 1-4
  entries; a minority are current, uncontrolled or recent.
* **Clinician decisions**: absent (60%), empty or 1-4, all on a rule-file version
  that does not exist (``cohort.SYNTHETIC_RULES_SHA256``), so the matcher shows
  them as not used and decides as without them.

Modules: :mod:`.draw` (the random source and the shares), :mod:`.person` (condition, demographics,
diagnoses, activity), :mod:`.labs`, :mod:`.medications`, :mod:`.history` (pregnancy and the history
lists) and :mod:`.cohort` (the patient put together; cohorts written as JSON lines or CSV).
"""

from matcher.tools.synthetic.cohort import iter_cohort, synthetic_patient, write_csv, write_jsonl
from matcher.tools.synthetic.draw import DEFAULT_AS_OF

__all__ = ["DEFAULT_AS_OF", "iter_cohort", "synthetic_patient", "write_csv", "write_jsonl"]
