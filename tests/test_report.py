"""The HTML screening report (matcher/screening/report.py): the file it writes, then the page in a real browser.

Over 500 lines on purpose: the file tests and the browser tests share one screened cohort and the report
built from it (module fixtures), so a reader sees what the page shows next to what the file holds.

The unit tests read the file back with Python alone (html.parser, gzip, base64) and rebuild every
patient's results from it. The browser tests (marker ``browser``: ``pytest -m browser``, or
``-m "not browser"`` to leave them out) open the file in Debian's Chromium through Playwright.
Without Chromium or Playwright they are skipped, except in CI (``CI`` set), where they fail: CI
must really run them.
"""

from __future__ import annotations

import base64
import copy
import csv
import gzip
import io
import json
import math
import os
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.api import Matcher
from matcher.errors import PatientFileError
from matcher.results.render import status_of, trial_json
from matcher.screening.collect_items import patient_item, plain_item
from matcher.screening.report import (
    CLINICIAN_LISTS,
    NOT_SCREENED,
    VERDICT_HINTS,
    VERDICT_LETTERS,
    HtmlReport,
    script_json,
)

from .helpers import EXAMPLE_FILES, PATIENTS

#: a patient id that would break out of a <script> element and add markup, were it not escaped
HOSTILE_ID = "</script><b>x & <!-- y"
PARTIAL_ID = "screened-for-one-trial-only"
BLOCK_SIZE = 10  # small, so the examples fill several blocks
META = {"as_of": "each patient's screening_date", "matcher_version": "0.1.0", "engine": "durable-rules 2.0.28",
        "source": "patients/", "generated": "2026-11-02T10:00:00Z"}
LETTER_VERDICT = {letter: verdict for verdict, letter in VERDICT_LETTERS.items()}

Screened = list[tuple[str, list[dict[str, Any]]]]


# ================================================================== building a report
@pytest.fixture(scope="module")
def screened(engine: Matcher) -> Screened:
    """Every example patient's results as ``matcher check --format json`` gives them, plus two made-up ones."""
    cohort = []
    for path in EXAMPLE_FILES:
        patient = matcher.load_patient(path)
        cohort.append((patient.id, [trial_json(result) for result in engine.evaluate(patient)]))
    cohort.append((HOSTILE_ID, copy.deepcopy(cohort[0][1])))
    cohort.append((PARTIAL_ID, copy.deepcopy(cohort[1][1][:1])))
    return cohort


@pytest.fixture(scope="module")
def unreadable(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A real reading error, with markup in its location as a patient file name might have."""
    path = tmp_path_factory.mktemp("bad") / "<i>bad&.yaml"
    path.write_text("id: broken\ndemographics: {birth_date: 1990-02-30, sex: female}\n", encoding="utf-8")
    with pytest.raises(PatientFileError) as caught:
        matcher.load_patient(path)
    return f"{path.name}:2", str(caught.value)


def trial_columns(trials: list[matcher.Trial]) -> list[dict[str, str]]:
    return [{"id": trial.id, "title": trial.title} for trial in trials]


def build(path: Path, trials: list[matcher.Trial], cohort: Screened, errors: Sequence[tuple[str, str]] = (),
          block_size: int = BLOCK_SIZE) -> HtmlReport:
    report = HtmlReport(path, trial_columns(trials), META, block_size=block_size)
    for patient_id, results in cohort:
        report.add(patient_id, results)
    for location, message in errors:
        report.add_error(location, message)
    report.close()
    return report


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory, trials: list[matcher.Trial], screened: Screened,
                unreadable: tuple[str, str]) -> Path:
    path = tmp_path_factory.mktemp("report") / "screening.html"
    build(path, trials, screened, [unreadable])
    return path


# ================================================================== reading it back without a browser
@dataclass
class ReadReport:
    meta: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    #: per patient, per declared trial: the data to collect as the matrix index lists it
    to_collect: list[list[list[str]]] = field(default_factory=list)
    #: per patient (in order): trial id -> the trial_json dict rebuilt from the file
    results: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[list[str]] = field(default_factory=list)
    #: (type, class, id) of every <script> element, in order
    scripts: list[tuple[str, str, str]] = field(default_factory=list)
    #: characters of the per-patient elements (patients and details blocks)
    patient_bytes: int = 0


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[dict[str, str], str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = {name: value or "" for name, value in attrs}
            self.found.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.found[-1]
            self.found[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def read_report(path: Path) -> ReadReport:
    """Everything the file holds, with each patient's explanations rebuilt as ``trial_json`` dicts."""
    parser = _Scripts()
    parser.feed(path.read_text(encoding="utf-8"))
    read = ReadReport()
    for attrs, text in parser.found:
        kind, css, ident = attrs.get("type", ""), attrs.get("class", ""), attrs.get("id", "")
        read.scripts.append((kind, css, ident))
        if ident == "report-meta":
            read.meta = json.loads(text)
        elif ident == "report-summary":
            read.summary = json.loads(text)
        elif css == "trial-definition":
            definition = json.loads(text)
            read.definitions[definition["trial"]] = definition
        elif css == "patients":
            index = json.loads(text)
            read.ids += index["ids"]
            read.verdicts += index["verdicts"]
            read.to_collect += [[[index["items"][k] for k in numbers] for numbers in per_trial]
                                for per_trial in index["missing"]]
            read.patient_bytes += len(text.encode())
        elif ident.startswith("details-"):
            read.patient_bytes += len(text.encode())
            block = json.loads(gzip.decompress(base64.b64decode(text)))
            read.results += _rebuild(block, len(read.ids) - len(read.results), read.definitions)
        elif css == "unreadable":
            read.errors += json.loads(text)
    trial_ids = [trial["id"] for trial in read.meta["trials"]]
    for letters, results in zip(read.verdicts, read.results, strict=True):
        for trial_id, letter in zip(trial_ids, letters, strict=True):
            if letter != NOT_SCREENED:
                results[trial_id]["verdict"] = LETTER_VERDICT[letter]
    return read


def _rebuild(block: dict[str, Any], size: int, definitions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    patients: list[dict[str, Any]] = [{} for _ in range(size)]
    for trial_id, columns in block["trials"].items():
        for row, position in enumerate(columns["rows"]):
            definition = columns["definition"][row] or definitions[trial_id]
            criteria = []
            for criterion in definition["criteria"]:
                entry = columns["criteria"].get(criterion["id"], [None] * (row + 1))[row]
                if entry is None:
                    continue
                _status, outcome, reason, details, values, missing = entry[:6]
                question, decision, decision_ignored = entry[6:] or (None, None, None)
                criteria.append({
                    "id": criterion["id"], "kind": criterion["kind"], "text": criterion["text"], "outcome": outcome,
                    "reason": "; ".join(details) if reason is None else reason, "details": details,
                    "values": [dict(zip(("field", "label", "value", "source", "date", "derivation"), value,
                                        strict=True)) for value in values],
                    "missing": missing, "notes": criterion["notes"], "question": question,
                    "routine": criterion["routine"], "decision": decision, "decision_ignored": decision_ignored,
                    "label": criterion["label"],
                })
            summary = columns["summary"][row]
            patients[position][trial_id] = {
                "trial": trial_id, "title": definition["title"], "verdict": None,  # from the index
                "summary": summary, "deciding": columns["deciding"][row], "to_collect": columns["to_collect"][row],
                "pending_manual": columns["pending_manual"][row], "rules": definition["rules"],
                "notes": definition["notes"], "criteria": criteria,
                **{key: columns[key][row] for key in CLINICIAN_LISTS},
            }
    return patients


def expected_letters(results: list[dict[str, Any]], trials: list[matcher.Trial]) -> str:
    by_trial = {result["trial"]: result["verdict"] for result in results}
    return "".join(VERDICT_LETTERS[by_trial[t.id]] if t.id in by_trial else NOT_SCREENED for t in trials)


def excluding_counts(cohort: Screened, trial_id: str) -> Counter[str]:
    """Criteria with status FAIL among the patients ineligible for ``trial_id``, counted independently."""
    counts: Counter[str] = Counter()
    for _, results in cohort:
        for result in results:
            if result["trial"] == trial_id and result["verdict"] == "ineligible":
                counts.update(c["id"] for c in result["criteria"] if status_of(c["kind"], c["outcome"]) == "FAIL")
    return counts


def missing_counts(cohort: Screened, trial_id: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _, results in cohort:
        for result in results:
            if result["trial"] == trial_id and result["verdict"] == "undetermined":
                counts.update(list(dict.fromkeys(plain_item(item).name for item in result["to_collect"])))
    return counts


# ================================================================== unit tests (no browser)
def test_script_json_cannot_end_its_script_element() -> None:
    data = {"id": "</script><script>alert(1)</script>", "note": "<!-- & -->", "line": "\u2028"}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_every_patient_is_rebuilt_exactly_from_the_file(report_path: Path, screened: Screened,
                                                        trials: list[matcher.Trial]) -> None:
    read = read_report(report_path)
    assert read.ids == [patient_id for patient_id, _ in screened]
    assert read.verdicts == [expected_letters(results, trials) for _, results in screened]
    assert read.meta["verdicts"] == [[letter, verdict, VERDICT_HINTS.get(verdict, "")]
                                     for verdict, letter in VERDICT_LETTERS.items()]
    for (patient_id, results), lists in zip(screened, read.to_collect, strict=True):  # what the page filters on
        by_trial = {result["trial"]: result for result in results}
        assert lists == [list(dict.fromkeys(plain_item(item).name for item in by_trial[t.id]["to_collect"]))
                         if t.id in by_trial else [] for t in trials], patient_id
    for (patient_id, results), rebuilt in zip(screened, read.results, strict=True):
        # the explanation names data to collect in plain words, keeping which entry of the patient file
        shown = [{**result, "to_collect": list(dict.fromkeys(map(patient_item, result["to_collect"])))}
                 for result in results]
        assert rebuilt == {result["trial"]: result for result in shown}, patient_id


def test_file_structure(report_path: Path, screened: Screened, trials: list[matcher.Trial]) -> None:
    read = read_report(report_path)
    blocks = math.ceil(len(screened) / BLOCK_SIZE)
    assert [s for s in read.scripts if s[1] == "patients"] == [("application/json", "patients", "")] * blocks
    assert [s[2] for s in read.scripts if s[2].startswith("details-")] == [f"details-{n}" for n in range(blocks)]
    assert set(read.definitions) == {t.id for t in trials}  # once per trial, not per patient
    assert len([s for s in read.scripts if s[1] == "trial-definition"]) == len(trials)
    assert read.scripts[0][2] == "report-meta"
    assert [s[2] for s in read.scripts[-2:]] == ["report-summary", ""]  # the totals, then the page's script
    assert read.meta["meta"][0] == ["As-of date", META["as_of"]]
    assert read.meta["trials"] == trial_columns(trials)
    for trial in trials:
        assert read.definitions[trial.id]["rules"]["sha256"] == next(
            r["rules"]["sha256"] for _, results in screened for r in results if r["trial"] == trial.id)
    text = report_path.read_text(encoding="utf-8")
    assert text.count("</script>") == len(read.scripts)  # no patient data closed an element early
    assert "<b>" not in text and "<i>bad" not in text
    assert "http://" not in text and "https://" not in text and "@import" not in text and "url(" not in text


def test_counters(report_path: Path, screened: Screened, trials: list[matcher.Trial],
                  unreadable: tuple[str, str]) -> None:
    read = read_report(report_path)
    assert read.summary["patients"] == len(screened)
    assert read.summary["unreadable"] == 1
    assert read.errors == [list(unreadable)]
    for trial in trials:
        counts = read.summary["trials"][trial.id]
        verdicts = Counter(r["verdict"] for _, results in screened for r in results if r["trial"] == trial.id)
        assert counts["verdicts"] == {v: verdicts[v] for v in VERDICT_LETTERS}
        assert counts["not_screened"] == sum(trial.id not in {r["trial"] for r in results} for _, results in screened)
        excluding = excluding_counts(screened, trial.id)
        assert dict(counts["excluding"]) == dict(sorted(excluding.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
        assert counts["excluding_distinct"] == len(excluding)
        missing = missing_counts(screened, trial.id)
        assert counts["missing"][0][1] == max(missing.values())
        assert all(missing[item] == n for item, n in counts["missing"])
        assert [n for _, n in counts["missing"]] == sorted((n for _, n in counts["missing"]), reverse=True)


def test_blocks_are_written_as_they_fill(tmp_path: Path, screened: Screened, trials: list[matcher.Trial]) -> None:
    path = tmp_path / "report.html"
    report = HtmlReport(path, trial_columns(trials), META, block_size=3)
    for patient_id, results in screened[:3]:
        report.add(patient_id, results)
    assert path.read_text(encoding="utf-8").count('class="patients"') == 1  # in the file, not held in memory
    report.add(*screened[3])
    assert path.read_text(encoding="utf-8").count('class="patients"') == 1
    report.close()
    report.close()  # a second close does nothing
    assert read_report(path).ids == [patient_id for patient_id, _ in screened[:4]]


def test_memory_does_not_grow_with_the_patients(tmp_path: Path, screened: Screened,
                                               trials: list[matcher.Trial]) -> None:
    report = HtmlReport(tmp_path / "many.html", trial_columns(trials), META, block_size=10)
    tracemalloc.start()
    try:
        for n in range(300):
            patient_id, results = screened[n % len(EXAMPLE_FILES)]
            report.add(f"{patient_id}-{n}", results)
            report.add_error(f"cohort.jsonl:{n}", "unreadable")
            if n == 99:
                after_100 = tracemalloc.get_traced_memory()[0]
        after_300 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    report.close()
    assert after_300 - after_100 < 200_000, (after_100, after_300)


def test_a_changed_definition_is_kept_with_its_patient(tmp_path: Path, screened: Screened,
                                                      trials: list[matcher.Trial]) -> None:
    changed = copy.deepcopy(screened[0][1])
    changed[0]["criteria"][0]["text"] = "a revised criterion text"
    changed[0]["rules"]["sha256"] = "0" * 64
    cohort = [screened[0], ("revised", changed), screened[1]]
    path = tmp_path / "report.html"
    build(path, trials, cohort)
    read = read_report(path)
    assert [{r["trial"]: r for r in results} for _, results in cohort] == read.results


def test_bad_calls_are_refused(tmp_path: Path, screened: Screened, trials: list[matcher.Trial]) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        HtmlReport(tmp_path / "a.html", trial_columns(trials) * 2, META)
    report = HtmlReport(tmp_path / "b.html", trial_columns(trials)[:1], META)
    with pytest.raises(ValueError, match="was not declared"):
        report.add("p", screened[0][1])
    with pytest.raises(ValueError, match="two results"):
        report.add("p", [screened[0][1][0]] * 2)
    report.close()
    with pytest.raises(ValueError, match="closed"):
        report.add("p", screened[0][1][:1])


def test_an_empty_report_is_complete(tmp_path: Path, trials: list[matcher.Trial]) -> None:
    path = tmp_path / "empty.html"
    HtmlReport(path, trial_columns(trials), {}).close()
    read = read_report(path)
    assert read.ids == [] and read.summary["patients"] == 0
    assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")


def test_bytes_per_patient(tmp_path: Path, screened: Screened, trials: list[matcher.Trial]) -> None:
    """The examples are all different patients; a real cohort's blocks repeat more, and compress better."""
    examples = screened[:len(EXAMPLE_FILES)]
    path = tmp_path / "size.html"
    build(path, trials, examples, block_size=len(examples))
    per_patient = read_report(path).patient_bytes / len(examples)
    as_json = sum(len(json.dumps(results, ensure_ascii=False).encode()) for _, results in examples) / len(examples)
    print(f"\n{per_patient:.0f} bytes per patient in the report ({len(trials)} trials); "
          f"{as_json:.0f} as matcher check --format json")
    assert per_patient < 3500
    assert per_patient < as_json / 20


# ================================================================== in a real browser
CHROMIUM = Path(os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (a fresh temporary profile per launch)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright==1.65.2)")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set MATCHER_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Page:
    """The report open in a browser tab, with every request it made and every error it logged."""

    page: Any
    url: str
    requests: list[str]
    problems: list[str]

    def assert_clean(self) -> None:
        assert self.problems == []
        assert self.requests == [self.url]

    def rows(self) -> list[tuple[str, list[str]]]:
        """The matrix rows shown: patient id, and per trial the cell's letter and colour class."""
        return [(row[0], row[1]) for row in self.page.evaluate("""() =>
            [...document.querySelectorAll('#matrix tbody tr')].map((tr) => [
                tr.querySelector('th').textContent,
                [...tr.querySelectorAll('td')].map((td) => `${td.textContent} ${td.firstElementChild.className}`)])""")]

    def row_ids(self) -> list[str]:
        return [patient_id for patient_id, _ in self.rows()]

    def open_cell(self, patient: int, trial: int) -> Any:
        self.page.click(f'#matrix button[data-patient="{patient}"][data-trial="{trial}"]')
        self.page.wait_for_selector("#explanation[open] section.criterion")
        return self.page.locator("#explanation")


def open_report(browser: Any, path: Path) -> tuple[Any, Page]:
    """A new browser context with the report open (every request but the file's refused) and drawn."""
    context = browser.new_context()
    page = context.new_page()
    url = path.as_uri()
    opened = Page(page, url, [], [])
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("console", lambda message: opened.problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: opened.problems.append(f"page error: {error}"))
    context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    page.set_default_timeout(10_000)
    page.goto(url)
    try:
        page.wait_for_selector("body[data-ready=true]")
    except Exception as exc:  # the script did not finish: say why, not only that it timed out
        context.close()
        raise AssertionError(f"the page did not finish drawing: {opened.problems}") from exc
    page.select_option("#page-size", "100")
    return context, opened


@pytest.fixture
def opened(browser: Any, report_path: Path) -> Iterator[Page]:
    context, page = open_report(browser, report_path)
    yield page
    context.close()


browser_test = pytest.mark.browser


@browser_test
def test_page_loads_cleanly_and_offline(opened: Page, screened: Screened, trials: list[matcher.Trial]) -> None:
    page = opened.page
    assert page.inner_text("h1") == "Trial eligibility screening"
    assert page.title() == f"Trial eligibility screening: {META['source']}"
    assert page.inner_text("#subtitle") == (f"{len(screened)} patients from {META['source']} screened against "
                                            f"{len(trials)} trials, as of {META['as_of']}.")
    meta = page.inner_text("#meta")
    assert META["matcher_version"] in meta and META["engine"] in meta and META["as_of"] in meta
    assert f"Patients screened\n{len(screened)}" in meta.replace("\t", "\n")
    table = page.inner_text("#trials-table")
    rule_files = page.text_content("#rule-files-table") or ""
    for trial in trials:
        assert trial.id in table and trial.title in table
        sha256 = next(r["rules"]["sha256"] for _, results in screened for r in results if r["trial"] == trial.id)
        assert sha256 not in table and sha256 in rule_files  # the digests sit in the footer, not the top table
    assert page.evaluate("document.querySelector('#rule-files').closest('footer') !== null")
    opened.open_cell(0, 0)
    opened.assert_clean()


@browser_test
def test_matrix_has_one_cell_per_patient_and_trial(opened: Page, screened: Screened,
                                                   trials: list[matcher.Trial]) -> None:
    rows = opened.rows()
    assert [patient_id for patient_id, _ in rows] == [patient_id for patient_id, _ in screened]
    for (patient_id, cells), (_, results) in zip(rows, screened, strict=True):
        assert len(cells) == len(trials)
        for cell, letter in zip(cells, expected_letters(results, trials), strict=True):
            assert cell == ("– cell v-none" if letter == NOT_SCREENED else f"{letter} cell v-{letter}"), patient_id
    assert opened.page.locator("#matrix tbody td").count() == len(screened) * len(trials)
    assert "not screened" in opened.page.inner_text("#legend")
    opened.assert_clean()


@browser_test
def test_a_cell_opens_its_explanation(opened: Page, screened: Screened) -> None:
    position = next(i for i, (patient_id, _) in enumerate(screened) if patient_id == "example-ineligible-proteinuria")
    result = screened[position][1][0]
    dialog = opened.open_cell(position, 0)
    assert "example-ineligible-proteinuria" in dialog.locator("#explanation-title").inner_text()
    assert result["summary"] in dialog.inner_text()
    for criterion in result["criteria"]:
        section = dialog.locator(f'section[data-criterion="{criterion["id"]}"]')
        assert section.locator("blockquote").text_content() == criterion["text"]
        assert section.locator(".status").inner_text() == status_of(criterion["kind"], criterion["outcome"])
        assert criterion["kind"] in section.locator("h4").inner_text()
        assert criterion["label"] and criterion["label"] in section.locator("h4").inner_text()  # beside the id
        for note in criterion["notes"]:
            assert note in section.inner_text()
    protein = dialog.locator('section[data-criterion="inc-2"]')
    assert "FAIL" in protein.locator(".status").inner_text()
    values = protein.locator("table").inner_text()
    assert "24-hour urine protein" in values and "650 mg/24h" in values and "2026-10-28" in values
    assert "Deciding criteria: inc-2 (lupus nephritis, proteinuria ≥ 1 g/24h)" in dialog.inner_text()
    assert "most recent result on or before the as-of date" in values
    opened.page.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open")
    opened.assert_clean()


@browser_test
def test_keyboard_opens_an_explanation_in_a_later_block(opened: Page, screened: Screened) -> None:
    position = len(screened) - 2  # the hostile id: in the last block
    button = opened.page.locator(f'#matrix button[data-patient="{position}"][data-trial="1"]')
    button.focus()
    opened.page.keyboard.press("Enter")
    opened.page.wait_for_selector("#explanation[open] section.criterion")
    result = screened[position][1][1]
    assert opened.page.locator("#explanation-title").inner_text() == f"{HOSTILE_ID} — {result['trial']}"
    shown = opened.page.inner_text("#explanation")
    assert result["to_collect"] and all(patient_item(item) in shown for item in result["to_collect"])
    opened.page.click("#close-explanation")
    assert opened.page.evaluate("document.activeElement.dataset.patient") == str(position)  # focus returns
    opened.assert_clean()


@browser_test
def test_filters_and_search(opened: Page, screened: Screened, trials: list[matcher.Trial]) -> None:
    page = opened.page
    first = trials[0].id
    page.select_option(f'select[aria-label="Verdict for {first}"]', "E")
    eligible = [pid for pid, results in screened if any(r["trial"] == first and r["verdict"] == "eligible"
                                                        for r in results)]
    assert opened.row_ids() == eligible and len(eligible) >= 2
    page.select_option(f'select[aria-label="Verdict for {first}"]', "U")
    page.select_option(f'select[aria-label="Verdict for {trials[1].id}"]', "-")
    assert opened.row_ids() == []
    assert "No patient matches" in page.inner_text("#page-status")
    page.select_option(f'select[aria-label="Verdict for {trials[1].id}"]', "")
    page.select_option(f'select[aria-label="Verdict for {first}"]', "I")
    page.fill("#search", "PROTEINURIA")
    assert opened.row_ids() == [pid for pid in [p for p, _ in screened] if "proteinuria" in pid
                                and expected_letters(dict(screened)[pid], trials)[0] == "I"]
    page.fill("#search", "")
    page.select_option(f'select[aria-label="Verdict for {first}"]', "")
    assert len(opened.row_ids()) == len(screened)
    opened.assert_clean()


@browser_test
def test_pages_of_patients(opened: Page, screened: Screened) -> None:
    page = opened.page
    page.select_option("#page-size", "25")
    pages = -(-len(screened) // 25)  # the examples of patients/: more than one page, however many trials there are
    assert pages >= 2
    assert opened.row_ids() == [pid for pid, _ in screened[:25]]
    assert page.inner_text("#page-status") == f"Patients 1–25 of {len(screened)}; page 1 of {pages}"
    assert page.is_disabled("#previous-page")
    for number in range(2, pages + 1):
        page.click("#next-page")
        assert opened.row_ids() == [pid for pid, _ in screened[25 * (number - 1):25 * number]]
    assert page.is_disabled("#next-page")
    opened.assert_clean()


@browser_test
def test_charts_show_the_commonest_reasons(opened: Page, screened: Screened, trials: list[matcher.Trial]) -> None:
    for trial in trials:
        chart = opened.page.locator(f'section.chart[data-trial="{trial.id}"]')
        for figure, expected in zip(chart.locator("figure").all(),
                                    (excluding_counts(screened, trial.id), missing_counts(screened, trial.id)),
                                    strict=True):
            shown = figure.evaluate("""f => [...f.querySelectorAll('tbody tr')].map(
                tr => [tr.dataset.key, tr.querySelector('td.number').textContent])""")
            assert len(shown) == min(10, len(expected)), trial.id
            top_count = max(expected.values())
            assert shown[0][1] == str(top_count)
            assert expected[shown[0][0]] == top_count
            assert all(expected[key] == int(count) for key, count in shown)
        named = chart.locator("figure").first.evaluate("""f => [...f.querySelectorAll('tbody tr')].map(
            tr => [tr.dataset.key, tr.querySelector('th.label strong').textContent])""")
        assert all(name == f"{key} ({trial.criterion(key).label})" for key, name in named), named  # id and label
    opened.assert_clean()


@browser_test
@pytest.mark.parametrize("width", [1400, 1920])
def test_bars_are_proportional_to_their_counts(opened: Page, width: int, tmp_path: Path) -> None:
    """Measured in the drawn page at common screen widths: each bar's width over its count is the same in a
    chart, the longest bar is long enough to compare, and a label has room (the old page drew 2 px bars)."""
    page = opened.page
    page.set_viewport_size({"width": width, "height": 1000})
    shot = tmp_path / f"charts-{width}.png"
    page.locator("#charts").screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")
    figures = page.evaluate("""() => [...document.querySelectorAll('#charts figure')].map((figure) =>
        [...figure.querySelectorAll('tbody tr')].map((tr) => {
            const label = tr.querySelector('th.label').getBoundingClientRect();
            return [Number(tr.querySelector('td.number').textContent.replace(/,/g, '')),
                    tr.querySelector('.bar').getBoundingClientRect().width, label.width, label.right,
                    tr.querySelector('.bar').getBoundingClientRect().left];
        }))""")
    assert figures and all(figures)
    for rows in figures:
        largest = max(count for count, *_ in rows)
        pixels_per_patient = max(bar for _, bar, *_ in rows) / largest
        assert pixels_per_patient * largest >= 150, rows  # the longest bar
        for count, bar, label_width, label_right, bar_left in rows:
            assert bar == pytest.approx(count * pixels_per_patient, abs=1.5), rows
            assert label_width >= 200 and label_right <= bar_left, rows  # the label beside its bar, not cut to nothing
    # a short label (a data item) is shown whole
    cut = page.evaluate("""() => [...document.querySelectorAll('#charts .label-text')]
        .filter((span) => span.textContent.length < 30 && span.scrollHeight > span.clientHeight + 1).length""")
    assert cut == 0
    opened.assert_clean()


@browser_test
def test_the_matrix_header_stays_in_view_when_scrolled(opened: Page, screened: Screened) -> None:
    page = opened.page
    page.set_viewport_size({"width": 1400, "height": 600})
    page.select_option("#page-size", "500")
    page.locator("#matrix-scroll").scroll_into_view_if_needed()
    page.evaluate("() => { const box = document.getElementById('matrix-scroll'); box.scrollTop = box.scrollHeight; }")
    # a header out of view sideways (the box scrolls sideways too when the trials' columns are wider than the
    # page) is brought into view first: the sticky patient column and header row must then still be on top
    state = page.evaluate("""() => {
        const scroller = document.getElementById('matrix-scroll');
        const box = scroller.getBoundingClientRect();
        return [...document.querySelectorAll('#matrix thead th')].map((th) => {
            let r = th.getBoundingClientRect();
            if (r.right > box.left + scroller.clientWidth) {
                scroller.scrollLeft += r.right - (box.left + scroller.clientWidth) + 2;
                r = th.getBoundingClientRect();
            }
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return [th.textContent, hit && hit.closest('th') === th, r.top - box.top,
                    document.getElementById('matrix-scroll').scrollTop];
        });
    }""")
    assert state[0][3] > 200  # the rows did scroll
    for text, on_top, offset, _ in state:
        assert on_top and abs(offset) <= 2, (text, state)
    last = page.locator("#matrix tbody tr").last.locator("th")
    assert last.inner_text() == screened[-1][0] and last.is_visible()
    opened.assert_clean()


def to_collect(results: list[dict[str, Any]]) -> set[str]:
    """The data to collect as the page's filter names them: in plain words, one name whichever entry lacks it."""
    return {plain_item(item).name for result in results for item in result["to_collect"]}


@browser_test
def test_view_of_patients_eligible_for_any_trial(opened: Page, screened: Screened) -> None:
    page = opened.page
    page.select_option("#view", "E")
    assert opened.row_ids() == [pid for pid, results in screened if any(r["verdict"] == "eligible" for r in results)]
    assert "eligible for at least one trial" in page.inner_text("#view")
    page.select_option("#view", "")
    assert len(opened.row_ids()) == len(screened)
    opened.assert_clean()


@browser_test
def test_sorting_by_patient_and_by_a_trials_verdict(opened: Page, screened: Screened,
                                                    trials: list[matcher.Trial]) -> None:
    page = opened.page
    order = [*VERDICT_LETTERS.values(), NOT_SCREENED]
    page.click('#matrix thead th[data-sort="1"] button')
    letters = {pid: expected_letters(results, trials)[1] for pid, results in screened}
    assert opened.row_ids() == sorted(letters, key=lambda pid: order.index(letters[pid]))  # stable: input order
    assert page.get_attribute('#matrix thead th[data-sort="1"]', "aria-sort") == "ascending"
    page.click('#matrix thead th[data-sort="1"] button')
    rows = opened.row_ids()
    assert [order.index(letters[pid]) for pid in rows] == sorted((order.index(v) for v in letters.values()),
                                                               reverse=True)
    page.click('#matrix thead th[data-sort="patient"] button')
    assert opened.row_ids() == sorted(letters, key=str.lower)
    assert page.get_attribute('#matrix thead th[data-sort="1"]', "aria-sort") is None
    page.click('#matrix thead th[data-sort="patient"] button')
    assert opened.row_ids() == sorted(letters, key=str.lower, reverse=True)
    opened.assert_clean()


@browser_test
def test_filter_by_data_to_collect_and_export_to_csv(opened: Page, screened: Screened,
                                                     trials: list[matcher.Trial]) -> None:
    page = opened.page
    lacking = Counter(item for _, results in screened for item in to_collect(results))
    item = sorted(lacking, key=lambda i: (-lacking[i], i))[1]
    options = page.evaluate("[...document.querySelectorAll('#missing-filter option')].map(o => o.textContent)")
    assert len(options) == len(lacking) + 1 and f"{item} ({lacking[item]} patients)" in options
    value = page.evaluate("item => [...document.querySelectorAll('#missing-filter option')]"
                          ".find(o => o.textContent.startsWith(item + ' (')).value", item)
    page.select_option("#missing-filter", value)
    expected = [pid for pid, results in screened if item in to_collect(results)]
    assert opened.row_ids() == expected and 0 < len(expected) < len(screened)
    page.click('#matrix thead th[data-sort="patient"] button')
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename == "screening-patients.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["patient", *(t.id for t in trials), *(f"{t.id} to collect" for t in trials)]
    by_id = dict(screened)
    assert [row[0] for row in rows[1:]] == sorted(expected, key=str.lower)
    for row in rows[1:]:
        results = {r["trial"]: r for r in by_id[row[0]]}
        assert row[1:1 + len(trials)] == [results[t.id]["verdict"] if t.id in results else "not screened"
                                          for t in trials]
        assert row[1 + len(trials):] == ["; ".join(dict.fromkeys(plain_item(i).name
                                                              for i in results[t.id]["to_collect"]))
                                         if t.id in results else "" for t in trials]
    opened.assert_clean()


@browser_test
def test_csv_export_defuses_spreadsheet_formulas(browser: Any, tmp_path: Path, screened: Screened,
                                                 trials: list[matcher.Trial]) -> None:
    formula = '=HYPERLINK("http://example.org","x")'
    path = tmp_path / "formula.html"
    build(path, trials, [(formula, screened[0][1])])
    context, opened = open_report(browser, path)
    try:
        with opened.page.expect_download() as download_info:
            opened.page.click("#export-csv")
        rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
        assert rows[1][0] == "'" + formula
        opened.assert_clean()
    finally:
        context.close()


@browser_test
def test_a_new_verdict_shows_without_a_change_to_the_page(browser: Any, tmp_path: Path, screened: Screened,
                                                          trials: list[matcher.Trial],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The legend, the per-trial counts, the filters and the sort order come from the report's verdict list."""
    monkeypatch.setitem(VERDICT_LETTERS, "deferred", "D")
    monkeypatch.setitem(VERDICT_HINTS, "deferred", "to be seen again")
    results = copy.deepcopy(screened[0][1])
    results[0]["verdict"] = "deferred"
    path = tmp_path / "new-verdict.html"
    build(path, trials, [("with-a-new-verdict", results), *screened[1:3]])
    context, opened = open_report(browser, path)
    page = opened.page
    try:
        assert "deferred (to be seen again)" in page.inner_text("#legend")
        assert "undetermined (data to collect)" in page.inner_text("#legend")
        assert "Deferred" in page.inner_text("#trials-table thead")
        assert opened.rows()[0][1][0] == "D cell v-D"
        assert page.evaluate("getComputedStyle(document.querySelector('#matrix .v-D')).backgroundColor") \
            not in ("rgba(0, 0, 0, 0)", "transparent")
        page.select_option("#view", "D")
        assert opened.row_ids() == ["with-a-new-verdict"]
        page.select_option("#view", "")
        page.select_option(f'select[aria-label="Verdict for {trials[0].id}"]', "D")
        assert opened.row_ids() == ["with-a-new-verdict"]
        opened.assert_clean()
    finally:
        context.close()


@browser_test
def test_unreadable_records_are_listed(opened: Page, unreadable: tuple[str, str]) -> None:
    table = opened.page.locator("#unreadable-table tbody tr")
    assert table.count() == 1
    assert table.locator("td").all_text_contents() == list(unreadable)
    opened.assert_clean()


@browser_test
def test_patient_data_is_shown_as_text(opened: Page) -> None:
    page = opened.page
    page.fill("#search", "</script>")
    assert opened.row_ids() == [HOSTILE_ID]
    assert page.locator("b").count() == 0 and page.locator("#unreadable i").count() == 0
    assert page.locator("#matrix tbody th").inner_text() == HOSTILE_ID
    opened.assert_clean()


@browser_test
def test_the_report_of_matcher_screen_opens_in_chromium(browser: Any, tmp_path: Path,
                                                        trials: list[matcher.Trial]) -> None:
    """End to end: `matcher screen` over patients/ (with one unreadable record) to .html and .jsonl; the page
    loads offline without errors, shows one cell per patient and trial with the verdicts of the .jsonl, and
    opening a cell shows that evaluation's criteria."""
    import shutil

    from matcher.cli import main

    cohort = tmp_path / "cohort"
    shutil.copytree(PATIENTS, cohort)
    (cohort / "broken.yaml").write_text("id: broken\ndemographics: {sex: femal}\n", encoding="utf-8")
    report, results = tmp_path / "report.html", tmp_path / "results.jsonl"
    code = main(["screen", str(cohort), "--out", str(report), "--out", str(results), "--no-log"],
                io.StringIO(), io.StringIO())
    assert code == 4
    lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    verdicts: dict[str, list[str]] = {}
    for line in lines:
        if "problem" not in line:
            verdicts.setdefault(line["location"], []).append(line["verdict"][0].upper())
    context, opened = open_report(browser, report)
    page = opened.page
    try:
        rows = opened.rows()
        assert len(rows) == len(verdicts)
        assert page.locator("#matrix tbody td").count() == len(verdicts) * len(trials)
        assert [[cell.split()[0] for cell in cells] for _, cells in rows] == list(verdicts.values())
        first = next(line for line in lines if "problem" not in line)
        dialog = opened.open_cell(0, 0)
        assert first["patient"] in dialog.locator("#explanation-title").inner_text()
        for criterion in first["criteria"]:
            assert criterion["text"] in dialog.inner_text()
        assert "broken.yaml" in page.inner_text("body")
        opened.assert_clean()
    finally:
        context.close()
