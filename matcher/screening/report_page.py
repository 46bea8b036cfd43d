"""The CSS and JavaScript inlined in the HTML screening report (see :mod:`matcher.screening.report`).

The script runs once the whole file is parsed (it is the last element of the body). It puts
data into the page only with ``textContent`` and DOM properties, never as markup, so anything
in a patient record is shown as text. It makes no network request; the page's
Content-Security-Policy forbids them anyway.
"""

PAGE_STYLE = """
:root { --eligible: #1a7f37; --ineligible: #c62828; --undetermined: #9a5b00; --none: #6b7280;
  --line: #d0d7de; --soft: #f6f8fa; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0 auto; max-width: 1400px; padding: 0 1rem 3rem; color: #1f2328; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 1rem 0 .5rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
dl#meta { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: 0; }
dl#meta dt { font-weight: 600; }
dl#meta dd { margin: 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: .2rem .45rem; text-align: left; vertical-align: top; }
thead th { background: var(--soft); }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
code, .sha { font-family: ui-monospace, "Cascadia Mono", Menlo, monospace; font-size: .85em; }
.sha { overflow-wrap: anywhere; }
.cell { display: inline-block; min-width: 1.8em; padding: .1rem .3rem; border-radius: 4px; color: #fff;
  font-weight: 700; text-align: center; border: 2px solid transparent; font: inherit; font-weight: 700; }
button.cell { cursor: pointer; }
button.cell:focus-visible { outline: 3px solid #0969da; outline-offset: 1px; }
.v-E { background: var(--eligible); }
.v-I { background: var(--ineligible); }
.v-U { background: var(--undetermined); }
.v-none { background: var(--none); }
#matrix td { text-align: center; padding: .1rem .3rem; }
#matrix th[scope=row] { font-family: ui-monospace, Menlo, monospace; font-size: .9em; white-space: nowrap; }
#filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: .5rem 0; }
#verdict-filters { display: contents; }
.pager { display: flex; gap: 1rem; align-items: center; margin: .5rem 0; }
.legend .cell { min-width: 1.4em; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1rem; }
.chart { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.chart table { width: 100%; }
.chart td, .chart th { border: 0; padding: .15rem .3rem; }
.chart .label { max-width: 18rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.chart .bar-cell { width: 40%; }
.bar { height: .9rem; background: var(--ineligible); border-radius: 2px; min-width: 2px; }
.bar.missing { background: var(--undetermined); }
.empty { color: var(--none); font-style: italic; }
dialog { width: min(1100px, 95vw); max-height: 90vh; padding: 0 1rem 1rem; border: 1px solid var(--line);
  border-radius: 8px; }
dialog::backdrop { background: rgba(0, 0, 0, .35); }
.dialog-bar { position: sticky; top: 0; background: #fff; display: flex; justify-content: space-between;
  align-items: center; gap: 1rem; border-bottom: 1px solid var(--line); padding: .5rem 0; }
.dialog-bar h2 { margin: 0; }
.criterion { border: 1px solid var(--line); border-left-width: 6px; border-radius: 4px; padding: .3rem .75rem;
  margin: .5rem 0; }
.criterion.s-pass { border-left-color: var(--eligible); }
.criterion.s-FAIL { border-left-color: var(--ineligible); }
.criterion.s-unknown { border-left-color: var(--undetermined); }
.criterion.s-clinician { border-left-color: #0969da; }
.status { font-weight: 700; padding: 0 .35rem; border-radius: 3px; color: #fff; }
.status.s-pass { background: var(--eligible); }
.status.s-FAIL { background: var(--ineligible); }
.status.s-unknown { background: var(--undetermined); }
.status.s-clinician { background: #0969da; }
blockquote { margin: .3rem 0; padding: .2rem .6rem; background: var(--soft); white-space: pre-line; }
.criterion table { font-size: .9em; margin: .3rem 0; }
.notes { color: #57606a; font-size: .9em; }
"""

PAGE_SCRIPT = r"""
(() => {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const readJson = (node) => JSON.parse(node.textContent);
  const VERDICT = { E: "eligible", I: "ineligible", U: "undetermined", "-": "not screened" };

  /** An element with properties and children; strings become text nodes, never markup. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key in node && !key.startsWith("aria") && !key.startsWith("data")) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  const number = (n) => n.toLocaleString("en");

  // ------------------------------------------------------------------ data
  const head = readJson(byId("report-meta"));
  const summary = readJson(byId("report-summary"));
  const trials = head.trials;
  const definitions = {};
  for (const node of document.querySelectorAll("script.trial-definition")) {
    const definition = readJson(node);
    definitions[definition.trial] = definition;
  }
  const ids = [];
  const verdicts = [];
  const blockStarts = [];
  for (const node of document.querySelectorAll("script.patients")) {
    const block = readJson(node);
    blockStarts.push(ids.length);
    for (let i = 0; i < block.ids.length; i++) {
      ids.push(block.ids[i]);
      verdicts.push(block.verdicts[i]);
    }
  }
  const unreadable = [];
  for (const node of document.querySelectorAll("script.unreadable")) unreadable.push(...readJson(node));

  // ------------------------------------------------------------------ metadata and trials
  const meta = byId("meta");
  for (const [label, value] of head.meta) meta.append(el("dt", {}, label), el("dd", {}, value));
  meta.append(el("dt", {}, "Patients screened"), el("dd", {}, number(summary.patients)),
              el("dt", {}, "Records that could not be read"), el("dd", {}, number(summary.unreadable)));
  const trialRows = byId("trials-table").tBodies[0];
  for (const trial of trials) {
    const counts = summary.trials[trial.id];
    const rules = definitions[trial.id] ? definitions[trial.id].rules : null;
    trialRows.append(el("tr", {},
      el("th", { scope: "row" }, trial.id),
      el("td", {}, trial.title),
      el("td", {}, rules ? [el("code", {}, rules.file), " ", el("span", { class: "sha" }, rules.sha256)] : "—"),
      el("td", { class: "number" }, number(counts.verdicts.eligible)),
      el("td", { class: "number" }, number(counts.verdicts.ineligible)),
      el("td", { class: "number" }, number(counts.verdicts.undetermined)),
      el("td", { class: "number" }, number(counts.not_screened))));
  }

  // ------------------------------------------------------------------ matrix, filters, pages
  const matrix = byId("matrix");
  matrix.tHead.append(el("tr", {}, el("th", { scope: "col" }, "Patient"),
    trials.map((trial) => el("th", { scope: "col", title: trial.title }, trial.id))));
  const verdictFilters = trials.map((trial) => el("select", { "aria-label": `Verdict for ${trial.id}` },
    el("option", { value: "" }, "any"),
    ["E", "I", "U", "-"].map((letter) => el("option", { value: letter }, VERDICT[letter]))));
  const filterBox = byId("verdict-filters");
  trials.forEach((trial, t) => filterBox.append(el("label", {}, `${trial.id}: `, verdictFilters[t])));
  const search = byId("search");
  const pageSize = byId("page-size");
  let visible = [];
  let page = 0;

  function applyFilters() {
    const needle = search.value.trim().toLowerCase();
    const wanted = verdictFilters.map((select) => select.value);
    visible = [];
    for (let p = 0; p < ids.length; p++) {
      if (needle && !ids[p].toLowerCase().includes(needle)) continue;
      const row = verdicts[p];
      if (wanted.every((letter, t) => !letter || row[t] === letter)) visible.push(p);
    }
    page = 0;
    drawPage();
  }

  function drawPage() {
    const size = Number(pageSize.value);
    const pages = Math.max(1, Math.ceil(visible.length / size));
    page = Math.min(page, pages - 1);
    const first = page * size;
    const shown = visible.slice(first, first + size);
    const body = el("tbody");
    for (const p of shown) {
      body.append(el("tr", {}, el("th", { scope: "row" }, ids[p]), trials.map((trial, t) => {
        const letter = verdicts[p][t];
        if (letter === "-") return el("td", {}, el("span", { class: "cell v-none", title: "not screened" }, "–"));
        return el("td", {}, el("button", {
          type: "button", class: `cell v-${letter}`, "data-patient": p, "data-trial": t,
          "aria-label": `${ids[p]}, ${trial.id}: ${VERDICT[letter]}`, title: VERDICT[letter],
        }, letter));
      })));
    }
    matrix.tBodies[0].replaceWith(body);
    const filtered = visible.length === ids.length ? "" : ` (filtered from ${number(ids.length)})`;
    byId("page-status").textContent = visible.length
      ? `Patients ${number(first + 1)}–${number(first + shown.length)} of ${number(visible.length)}${filtered}; `
        + `page ${number(page + 1)} of ${number(pages)}`
      : `No patient matches${filtered}`;
    byId("previous-page").disabled = page === 0;
    byId("next-page").disabled = page >= pages - 1;
  }

  search.addEventListener("input", applyFilters);
  for (const select of verdictFilters) select.addEventListener("change", applyFilters);
  pageSize.addEventListener("change", drawPage);
  byId("filters").addEventListener("submit", (event) => event.preventDefault());
  byId("previous-page").addEventListener("click", () => { page -= 1; drawPage(); });
  byId("next-page").addEventListener("click", () => { page += 1; drawPage(); });
  matrix.addEventListener("click", (event) => {
    const cell = event.target.closest("button.cell");
    if (cell) explain(Number(cell.dataset.patient), Number(cell.dataset.trial), cell);
  });

  // ------------------------------------------------------------------ explanations
  const blockCache = new Map();
  const CACHED_BLOCKS = 4;

  async function loadBlock(blockNumber) {
    if (blockCache.has(blockNumber)) return blockCache.get(blockNumber);
    const bytes = Uint8Array.from(atob(byId(`details-${blockNumber}`).textContent), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const block = JSON.parse(await new Response(stream).text());
    blockCache.set(blockNumber, block);
    if (blockCache.size > CACHED_BLOCKS) blockCache.delete(blockCache.keys().next().value);
    return block;
  }

  function blockOf(p) {
    let low = 0;
    let high = blockStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (blockStarts[middle] <= p) low = middle; else high = middle - 1;
    }
    return low;
  }

  const dialog = byId("explanation");
  const dialogBody = byId("explanation-body");
  let openedFrom = null;
  byId("close-explanation").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => { if (openedFrom) openedFrom.focus(); });

  async function explain(p, t, cell) {
    openedFrom = cell;
    const trial = trials[t];
    byId("explanation-title").textContent = `${ids[p]} — ${trial.id}`;
    dialogBody.replaceChildren(el("p", {}, "Loading…"));
    if (!dialog.open) dialog.showModal();
    try {
      if (typeof DecompressionStream === "undefined") {
        throw new Error("this browser cannot read the compressed explanations (no DecompressionStream)");
      }
      const b = blockOf(p);
      const columns = (await loadBlock(b)).trials[trial.id];
      const row = columns.rows.indexOf(p - blockStarts[b]);
      dialogBody.replaceChildren(...explanation(trial, verdicts[p][t], columns, row));
    } catch (error) {
      dialogBody.replaceChildren(el("p", { role: "alert" }, `The explanation could not be shown: ${error.message}`));
    }
  }

  function explanation(trial, letter, columns, row) {
    const definition = columns.definition[row] || definitions[trial.id];
    const parts = [
      el("p", {}, el("span", { class: `cell v-${letter}` }, letter), " ", el("strong", {}, VERDICT[letter]),
        ` for ${trial.id}: ${definition.title}`),
      el("p", {}, columns.summary[row]),
      el("p", { class: "notes" }, "Rule file ", el("code", {}, definition.rules.file), ", sha256 ",
        el("span", { class: "sha" }, definition.rules.sha256)),
    ];
    const deciding = columns.deciding[row];
    if (deciding.length) parts.push(el("p", {}, `Deciding criteria: ${deciding.join(", ")}`));
    const toCollect = columns.to_collect[row];
    if (toCollect.length) {
      parts.push(el("h3", {}, "Data to collect"), el("ul", {}, toCollect.map((item) => el("li", {}, item))));
    }
    const manual = columns.pending_manual[row];
    if (manual.length) parts.push(el("p", {}, `Left to the clinician: ${manual.join(", ")}`));
    if (definition.notes.length) {
      parts.push(el("p", { class: "notes" }, "How the trial's text was read:"),
        el("ul", { class: "notes" }, definition.notes.map((note) => el("li", {}, note))));
    }
    for (const kind of ["inclusion", "exclusion"]) {
      const criteria = definition.criteria.filter((c) => c.kind === kind);
      if (!criteria.length) continue;
      parts.push(el("h3", {}, kind === "inclusion" ? "Inclusion criteria" : "Exclusion criteria"));
      for (const criterion of criteria) {
        const entries = columns.criteria[criterion.id];
        const entry = entries ? entries[row] : null;
        if (entry) parts.push(criterionView(criterion, entry));
      }
    }
    return parts;
  }

  function criterionView(criterion, [status, outcome, reason, details, values, missing]) {
    const view = el("section", { class: `criterion s-${status}`, "data-criterion": criterion.id },
      el("h4", {}, el("span", { class: `status s-${status}` }, status), " ", criterion.id, ` (${criterion.kind}): `,
        outcome.replace("_", " ")),
      el("blockquote", {}, criterion.text));
    // a null reason is the details joined: show them once, as a list
    if (reason !== null) view.append(el("p", { class: "reason" }, reason));
    if (details.length) view.append(el("ul", { class: "details" }, details.map((detail) => el("li", {}, detail))));
    if (values.length) {
      view.append(el("table", {},
        el("caption", { class: "visually-hidden" }, `Values used for ${criterion.id}`),
        el("thead", {}, el("tr", {}, ["Value used", "Value", "Date", "Source", "Derivation"].map(
          (name) => el("th", { scope: "col" }, name)))),
        el("tbody", {}, values.map(([field, label, value, source, date, derivation]) => el("tr", {},
          el("th", { scope: "row", title: field }, label), el("td", {}, value), el("td", {}, date || "—"),
          el("td", {}, el("code", {}, source)), el("td", {}, derivation || "—"))))));
    }
    if (missing.length) view.append(el("p", {}, el("strong", {}, "Missing: "), missing.join("; ")));
    if (criterion.notes.length) {
      view.append(el("p", { class: "notes" }, "How the registry text was read:"),
        el("ul", { class: "notes" }, criterion.notes.map((note) => el("li", {}, note))));
    }
    return view;
  }

  // ------------------------------------------------------------------ charts
  function barChart(caption, rows, total, labelOf, barClass) {
    const largest = Math.max(1, ...rows.map(([, count]) => count));
    if (!rows.length) return el("figure", { class: "chart-part" }, el("figcaption", {}, caption),
      el("p", { class: "empty" }, "none"));
    return el("figure", { class: "chart-part" }, el("figcaption", {}, caption), el("table", {},
      el("thead", { class: "visually-hidden" }, el("tr", {},
        el("th", { scope: "col" }, "Item"), el("th", { scope: "col" }, "Bar"), el("th", { scope: "col" }, "Patients"))),
      el("tbody", {}, rows.map(([key, count]) => {
        const [label, full] = labelOf(key);
        const bar = el("div", { class: `bar ${barClass}`, role: "presentation" });
        bar.style.width = `${(100 * count) / largest}%`;
        return el("tr", { "data-key": key },
          el("th", { scope: "row", class: "label", title: full }, label),
          el("td", { class: "bar-cell" }, bar),
          el("td", { class: "number", title: `${count} of ${total}` }, number(count)));
      }))));
  }

  const charts = el("div", { class: "charts" });
  for (const trial of trials) {
    const counts = summary.trials[trial.id];
    const definition = definitions[trial.id];
    const texts = {};
    if (definition) for (const c of definition.criteria) texts[c.id] = c.text.replace(/\s+/g, " ");
    const excluding = barChart(
      `Commonest criteria failed by the ${number(counts.verdicts.ineligible)} ineligible patients`
        + (counts.excluding_distinct > counts.excluding.length ? ` (top ${counts.excluding.length})` : ""),
      counts.excluding, counts.verdicts.ineligible,
      (id) => [texts[id] ? `${id}: ${texts[id]}` : id, texts[id] || id], "");
    let missingCaption = `Commonest missing data among the ${number(counts.verdicts.undetermined)} `
      + "undetermined patients";
    if (counts.missing_distinct > counts.missing.length) missingCaption += ` (top ${counts.missing.length})`;
    if (counts.missing_other) missingCaption += `; ${number(counts.missing_other)} mentions of rarer items not counted`;
    const missing = barChart(missingCaption, counts.missing, counts.verdicts.undetermined,
      (item) => [item, item], "missing");
    charts.append(el("section", { class: "chart", "data-trial": trial.id, "aria-label": `Charts for ${trial.id}` },
      el("h3", {}, `${trial.id}: ${trial.title}`), excluding, missing));
  }
  byId("charts").append(charts);

  // ------------------------------------------------------------------ unreadable records
  const unreadableBox = byId("unreadable");
  if (!unreadable.length) {
    unreadableBox.append(el("p", { class: "empty" }, "none"));
  } else {
    const rows = el("tbody");
    const more = el("button", { type: "button" }, "Show more");
    let shownErrors = 0;
    const showMore = () => {
      for (const [location, message] of unreadable.slice(shownErrors, shownErrors + 200)) {
        rows.append(el("tr", {}, el("td", {}, el("code", {}, location)), el("td", {}, message)));
      }
      shownErrors = Math.min(unreadable.length, shownErrors + 200);
      more.hidden = shownErrors >= unreadable.length;
      more.textContent = `Show more (${number(unreadable.length - shownErrors)} not shown)`;
    };
    more.addEventListener("click", showMore);
    unreadableBox.append(el("table", { id: "unreadable-table" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Location"), el("th", { scope: "col" }, "Message"))),
      rows), more);
    showMore();
  }

  applyFilters();
  document.body.dataset.ready = "true";
})();
"""
