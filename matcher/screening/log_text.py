"""The screening log's summary (matcher.screening.log.summarise) as ``matcher log summary`` prints it: text, or
one JSON object (``--format json``)."""

from __future__ import annotations

from typing import Any

from matcher.screening.collect_items import CollectNext, PlainItem
from matcher.screening.log import LogSummary, TrialFlow

#: data items shown per trial unless every one is asked for
TOP_ITEMS = 10


def render_summary(summary: LogSummary, top: int | None = TOP_ITEMS) -> str:
    """The summary as text; ``top`` data items to collect per trial (None: all of them)."""
    lines = [f"{summary.runs} run{'s' if summary.runs != 1 else ''}, {summary.evaluations} evaluations, "
             f"{summary.not_screened} records not screened. Counts use each patient's latest evaluation per trial"
             " in the runs that completed."]
    for run in summary.unfinished:
        state = "still running or killed" if run.status == "running" else run.status
        lines.append(f"NOT FINISHED: run {run.run_id} of {run.source} (started {run.started_at}, {state}): "
                     f"{run.evaluations} evaluations not counted; continue it with matcher screen {run.source} "
                     "--resume")
    for flow in summary.flows:
        versions = ", ".join(f"{sha[:12]} ({n})" for sha, n in flow.rule_versions.most_common())
        lines += ["", f"{flow.trial}  (rule file sha256: {versions})",
                  f"  screened      {flow.screened:>7}",
                  f"  eligible      {flow.verdicts['eligible']:>7}",
                  f"  review        {flow.verdicts['review']:>7}   clinician to decide (the record points against)",
                  f"  ineligible    {flow.verdicts['ineligible']:>7}   by criterion not met "
                  "(a patient may fail several):"]
        lines += [f"      {criterion:<12}{count:>7}  {flow.labels.get(criterion, '')}".rstrip()
                  for criterion, count in flow.not_met.most_common()]
        lines.append(f"  undetermined  {flow.verdicts['undetermined']:>7}   data to collect:")
        lines += _render_items(flow, top)
    return "\n".join(lines + _render_collect_next(summary.collect_next, top))


def summary_json(summary: LogSummary, top: int | None = TOP_ITEMS) -> dict[str, Any]:
    """The summary as ``matcher log summary --format json`` prints it; ``top`` data items per trial and in the
    collect-next ranking (None: all of them)."""
    ranked_next = summary.collect_next.ranked()
    return {
        "runs": summary.runs, "evaluations": summary.evaluations, "not_screened": summary.not_screened,
        "unfinished": [{"run_id": run.run_id, "status": run.status, "source": run.source,
                        "started_at": run.started_at, "evaluations": run.evaluations} for run in summary.unfinished],
        "trials": [{
            "trial": flow.trial, "screened": flow.screened,
            "verdicts": {verdict: flow.verdicts[verdict]
                         for verdict in ("eligible", "review", "ineligible", "undetermined")},
            "rule_versions": dict(flow.rule_versions.most_common()),
            "not_met": [{"criterion": criterion, "label": flow.labels.get(criterion), "patients": count}
                        for criterion, count in flow.not_met.most_common()],
            "to_collect": [{"item": item.name, "group": item.group, "settles": flow.only_missing[item],
                            "lacking": flow.to_collect[item]} for item in flow.ranked_items()[:top]],
            "to_collect_distinct": len(flow.to_collect),
        } for flow in summary.flows],
        "collect_next": {
            "undetermined_pairs": summary.collect_next.undetermined,
            "computed_pairs": summary.collect_next.computed,
            "items_distinct": len(ranked_next),
            "items": [{"item": item.name, "group": item.group, "decides": decides, "could_make_eligible": eligible}
                      for item, decides, eligible in ranked_next[:top]],
        },
    }


def _render_collect_next(collect: CollectNext, top: int | None) -> list[str]:
    """The cohort's "collect next" ranking, when some run computed it (matcher screen --collect-next)."""
    if not collect.computed:
        return []
    ranked = collect.ranked()
    shown = ranked if top is None else ranked[:top]
    count = (f"the top {len(shown)} of {len(ranked)} items (--all lists every one)" if len(shown) < len(ranked)
             else f"all {len(ranked)} item{'s' if len(ranked) != 1 else ''}")
    partly = (f" (the other {collect.undetermined - collect.computed} are not counted)"
              if collect.computed < collect.undetermined else "")
    lines = ["", f"Collect next, over every trial: {collect.undetermined} undetermined patient-trial pairs, "
                 f"{collect.computed} screened with --collect-next{partly}",
             "  ranked by the pairs a value of the item alone would decide (the engine, on both sides of the rules'",
             f"  thresholds), then by the pairs it could make eligible; {count}",
             "   decides  could make eligible"]
    lines += [f"  {decides:>8}  {eligible:>19}  {item.name} ({item.group})" for item, decides, eligible in shown]
    if not ranked:
        lines.append("  no single item decides any of them: each lacks more than one item that matters")
    return lines


def _render_items(flow: TrialFlow, top: int | None) -> list[str]:
    """The trial's data items, best first, under their groups (a group listed where its best item ranks)."""
    ranked = flow.ranked_items()
    if not ranked:
        return []
    shown = ranked if top is None else ranked[:top]
    settled_by_one = sum(flow.only_missing.values())
    count = (f"the top {len(shown)} of {len(ranked)} items (--all lists every one)" if len(shown) < len(ranked)
             else f"all {len(ranked)} item{'s' if len(ranked) != 1 else ''}")
    lines = ["      ranked by the patients each item alone would settle (the only item they lack), then by the",
             f"      patients lacking it; {count}; {settled_by_one} of {flow.verdicts['undetermined']} patients "
             "lack a single item",
             "        settles  lacking"]
    groups: dict[str, list[PlainItem]] = {}
    for item in shown:
        groups.setdefault(item.group, []).append(item)
    for group, items in groups.items():
        lines.append(f"      {group}")
        lines += [f"        {flow.only_missing[item]:>7}  {flow.to_collect[item]:>7}  {item.name}" for item in items]
    return lines
