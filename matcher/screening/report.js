(() => {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const readJson = (node) => JSON.parse(node.textContent);

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
  // the verdicts, in the order the report declares them: letter -> name, and the rank used to sort
  const VERDICT = { "-": "not screened" };
  const RANK = {};
  head.verdicts.forEach(([letter, name], rank) => { VERDICT[letter] = name; RANK[letter] = rank; });
  RANK["-"] = head.verdicts.length;
  const LETTERS = head.verdicts.map(([letter]) => letter);
  const definitions = {};
  for (const node of document.querySelectorAll("script.trial-definition")) {
    const definition = readJson(node);
    definitions[definition.trial] = definition;
  }
  const ids = [];
  const verdicts = [];
  const blockStarts = [];
  // data to collect: one list of item numbers per patient and trial, the items' text numbered once
  const items = [];
  const itemNumber = new Map();
  const missing = [];
  // near misses: per patient, one character per trial, "1" where a single criterion makes it ineligible
  const near = [];
  for (const node of document.querySelectorAll("script.patients")) {
    const block = readJson(node);
    blockStarts.push(ids.length);
    const numbers = block.items.map((item) => {
      if (!itemNumber.has(item)) { itemNumber.set(item, items.length); items.push(item); }
      return itemNumber.get(item);
    });
    for (let i = 0; i < block.ids.length; i++) {
      ids.push(block.ids[i]);
      verdicts.push(block.verdicts[i]);
      missing.push(block.missing[i].map((list) => list.map((k) => numbers[k])));
      near.push(block.near ? block.near[i] : "");
    }
  }
  const unreadable = [];
  for (const node of document.querySelectorAll("script.unreadable")) unreadable.push(...readJson(node));

  // ------------------------------------------------------------------ title, metadata and trials
  byId("subtitle").textContent = `${number(summary.patients)} patients`
    + (head.source ? ` from ${head.source}` : "") + ` screened against ${number(trials.length)} trials`
    + (head.as_of ? `, as of ${head.as_of}` : "") + ".";
  const meta = byId("meta");
  for (const [label, value] of head.meta) meta.append(el("div", {}, el("dt", {}, label), el("dd", {}, value)));
  meta.append(el("div", {}, el("dt", {}, "Patients screened"), el("dd", {}, number(summary.patients))),
              el("div", {}, el("dt", {}, "Records that could not be read"), el("dd", {}, number(summary.unreadable))));
  const verdictNames = head.verdicts.map(([, name]) => name);
  byId("trials-table").tHead.append(el("tr", {}, el("th", { scope: "col" }, "Trial"),
    el("th", { scope: "col" }, "Title"),
    [...verdictNames, "not screened"].map((name) => el("th", { scope: "col", class: "number" },
      name[0].toUpperCase() + name.slice(1)))));
  const trialRows = byId("trials-table").tBodies[0];
  const ruleRows = byId("rule-files-table").tBodies[0];
  for (const trial of trials) {
    const counts = summary.trials[trial.id];
    trialRows.append(el("tr", {},
      el("th", { scope: "row" }, trial.id),
      el("td", {}, trial.title),
      verdictNames.map((name) => el("td", { class: "number" }, number(counts.verdicts[name] || 0))),
      el("td", { class: "number" }, number(counts.not_screened))));
    const rules = definitions[trial.id] ? definitions[trial.id].rules : null;
    ruleRows.append(el("tr", {}, el("th", { scope: "row" }, trial.id),
      el("td", {}, rules ? el("code", {}, rules.file) : "—"),
      el("td", {}, rules ? el("span", { class: "sha" }, rules.sha256) : "—")));
  }
  const legend = byId("legend");
  legend.append("Legend: ");
  const HINT = Object.fromEntries(head.verdicts.map(([letter, , hint]) => [letter, hint]));
  for (const letter of [...LETTERS, "-"]) {
    legend.append(el("span", { class: `cell ${cellClass(letter)}`, "aria-hidden": "true" }, letter === "-" ? "–" : letter),
      ` ${VERDICT[letter]}${HINT[letter] ? ` (${HINT[letter]})` : ""} `);
  }
  legend.append("· Select a cell (click, or Enter) for its criterion-by-criterion explanation; "
    + "a column heading sorts by it.");

  function cellClass(letter) { return letter === "-" ? "v-none" : `v-${letter}`; }

  // ------------------------------------------------------------------ matrix, sorting, filters, pages
  const matrix = byId("matrix");
  // sortBy: null (the order of the source), "patient", or a trial's column number
  let sortBy = null;
  let direction = 1;
  const headings = [el("th", { scope: "col", "data-sort": "patient" },
    el("button", { type: "button", class: "sort" }, "Patient"))];
  trials.forEach((trial, t) => headings.push(el("th", { scope: "col", title: trial.title, "data-sort": String(t) },
    el("button", { type: "button", class: "sort" }, trial.id))));
  matrix.tHead.append(el("tr", {}, headings));
  matrix.tHead.addEventListener("click", (event) => {
    const heading = event.target.closest("th[data-sort]");
    if (!heading) return;
    const key = heading.dataset.sort === "patient" ? "patient" : Number(heading.dataset.sort);
    direction = sortBy === key ? -direction : 1;
    sortBy = key;
    for (const th of headings) th.removeAttribute("aria-sort");
    heading.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
    applyFilters();
  });

  const view = byId("view");
  for (const letter of LETTERS) view.append(el("option", { value: letter }, `${VERDICT[letter]} for at least one trial`));
  const verdictFilters = trials.map((trial) => el("select", { "aria-label": `Verdict for ${trial.id}` },
    el("option", { value: "" }, "any"),
    [...LETTERS, "-"].map((letter) => el("option", { value: letter }, VERDICT[letter]))));
  const filterBox = byId("verdict-filters");
  trials.forEach((trial, t) => filterBox.append(el("label", {}, `${trial.id}: `, verdictFilters[t])));
  const missingFilter = byId("missing-filter");
  const lacking = items.map(() => 0);  // patients lacking each item (for any trial)
  for (const lists of missing) for (const k of new Set(lists.flat())) lacking[k] += 1;
  items.map((item, k) => k).sort((a, b) => lacking[b] - lacking[a] || items[a].localeCompare(items[b]))
    .forEach((k) => missingFilter.append(el("option", { value: String(k) },
      `${items[k]} (${number(lacking[k])} patients)`)));
  const search = byId("search");
  const pageSize = byId("page-size");
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  let visible = [];
  let page = 0;

  function applyFilters() {
    const needle = search.value.trim().toLowerCase();
    const wanted = verdictFilters.map((select) => select.value);
    const anyTrial = view.value;
    const item = missingFilter.value === "" ? null : Number(missingFilter.value);
    const nearOnly = byId("near-miss-filter").checked;
    visible = [];
    for (let p = 0; p < ids.length; p++) {
      if (needle && !ids[p].toLowerCase().includes(needle)) continue;
      const row = verdicts[p];
      if (anyTrial && !row.includes(anyTrial)) continue;
      if (item !== null && !missing[p].some((list) => list.includes(item))) continue;
      if (nearOnly && !near[p].includes("1")) continue;
      if (wanted.every((letter, t) => !letter || row[t] === letter)) visible.push(p);
    }
    if (sortBy === "patient") {
      visible.sort((a, b) => direction * collator.compare(ids[a], ids[b]) || a - b);
    } else if (sortBy !== null) {
      visible.sort((a, b) => direction * (RANK[verdicts[a][sortBy]] - RANK[verdicts[b][sortBy]]) || a - b);
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
          type: "button", class: `cell ${cellClass(letter)}`, "data-patient": p, "data-trial": t,
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
    byId("export-csv").disabled = visible.length === 0;
  }

  // ------------------------------------------------------------------ export of the filtered list
  /** A CSV field: quoted, and a leading = + - @ made inert so a spreadsheet does not run it as a formula. */
  function csvField(value) {
    let text = String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return `"${text.replace(/"/g, '""')}"`;
  }

  function filteredCsv() {
    const lines = [["patient", ...trials.map((trial) => trial.id), ...trials.map((trial) => `${trial.id} to collect`)]];
    for (const p of visible) {
      lines.push([ids[p], ...trials.map((trial, t) => VERDICT[verdicts[p][t]]),
        ...trials.map((trial, t) => missing[p][t].map((k) => items[k]).join("; "))]);
    }
    return lines.map((fields) => fields.map(csvField).join(",")).join("\r\n") + "\r\n";
  }

  byId("export-csv").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob(["\ufeff", filteredCsv()], { type: "text/csv;charset=utf-8" }));
    const link = el("a", { href: url, download: "screening-patients.csv", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });

  search.addEventListener("input", applyFilters);
  for (const select of [...verdictFilters, view, missingFilter]) select.addEventListener("change", applyFilters);
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

  // a criterion id with its short label from the rule file: "inc-2 (lupus nephritis, proteinuria ≥ 1 g/24h)"
  function named(definition, id) {
    const criterion = definition.criteria.find((c) => c.id === id);
    return criterion && criterion.label ? `${id} (${criterion.label})` : id;
  }

  function explanation(trial, letter, columns, row) {
    const definition = columns.definition[row] || definitions[trial.id];
    const parts = [
      el("p", {}, el("span", { class: `cell ${cellClass(letter)}` }, letter), " ", el("strong", {}, VERDICT[letter]),
        ` for ${trial.id}: ${definition.title}`),
      el("p", {}, columns.summary[row]),
      el("p", { class: "notes" }, "Rule file ", el("code", {}, definition.rules.file), ", SHA-256 ",
        el("span", { class: "sha" }, definition.rules.sha256)),
    ];
    const deciding = columns.deciding[row];
    if (deciding.length) {
      parts.push(el("p", {}, `Deciding criteria: ${deciding.map((id) => named(definition, id)).join(", ")}`));
    }
    const toCollect = columns.to_collect[row];
    if (toCollect.length) {
      parts.push(el("h3", {}, "Data to collect"), el("ul", {}, toCollect.map((item) => el("li", {}, item))));
    }
    const clinician = [["to_decide", "Clinician to decide (the record points against eligibility)"],
      ["decided", "Decided by the clinician"], ["decisions_not_used", "Recorded decisions not used"],
      ["clinical_pending", "Clinical questions (nothing recorded against)"],
      ["routine_pending", "Routine confirmations"]];
    const ids = new Set(["clinical_pending", "routine_pending"]);  // lists of criterion ids: name them
    for (const [key, heading] of clinician) {
      const items = ids.has(key) ? columns[key][row].map((id) => named(definition, id)) : columns[key][row];
      if (items.length) parts.push(el("h3", {}, heading), el("ul", {}, items.map((item) => el("li", {}, item))));
    }
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

  function criterionView(criterion, [status, outcome, reason, details, values, missing, question, decision,
    decisionIgnored]) {
    const view = el("section", { class: `criterion s-${status}`, "data-criterion": criterion.id },
      el("h4", {}, el("span", { class: `status s-${status}` }, status), " ", criterion.id,
        criterion.label ? ` — ${criterion.label}` : "", ` (${criterion.kind}): `,
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
    if (question) view.append(el("p", {}, el("strong", {}, "Clinician to decide: "), question));
    if (decision) view.append(el("p", {}, el("strong", {}, decision)));
    if (decisionIgnored) view.append(el("p", {}, el("strong", {}, "Recorded decision not used: "), decisionIgnored));
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
      el("colgroup", {}, el("col", { class: "label-column" }), el("col", { class: "bar-column" }),
        el("col", { class: "number-column" })),
      el("thead", { class: "visually-hidden" }, el("tr", {},
        el("th", { scope: "col" }, "Item"), el("th", { scope: "col" }, "Bar"), el("th", { scope: "col" }, "Patients"))),
      el("tbody", {}, rows.map(([key, count]) => {
        const [name, text] = labelOf(key);
        const bar = el("div", { class: `bar ${barClass}`, role: "presentation" });
        bar.style.width = `${(100 * count) / largest}%`;
        return el("tr", { "data-key": key },
          el("th", { scope: "row", class: "label", title: text ? `${name}: ${text}` : name },
            el("span", { class: "label-text" }, text ? [el("strong", {}, name), ` ${text}`] : name)),
          el("td", { class: "bar-cell" }, bar),
          el("td", { class: "number", title: `${count} of ${total}` }, number(count)));
      }))));
  }

  const charts = el("div", { class: "charts" });
  for (const trial of trials) {
    const counts = summary.trials[trial.id];
    const definition = definitions[trial.id];
    const texts = {};
    const labels = {};
    if (definition) {
      for (const c of definition.criteria) {
        texts[c.id] = c.text.replace(/\s+/g, " ");
        if (c.label) labels[c.id] = c.label;
      }
    }
    const excluding = barChart(
      `Commonest criteria failed by the ${number(counts.verdicts.ineligible)} ineligible patients`
        + (counts.excluding_distinct > counts.excluding.length ? ` (top ${counts.excluding.length})` : ""),
      counts.excluding, counts.verdicts.ineligible,
      (id) => [labels[id] ? `${id} (${labels[id]})` : id, texts[id] || ""], "");
    let missingCaption = `Commonest missing data among the ${number(counts.verdicts.undetermined)} `
      + "undetermined patients";
    if (counts.missing_distinct > counts.missing.length) missingCaption += ` (top ${counts.missing.length})`;
    if (counts.missing_other) missingCaption += `; ${number(counts.missing_other)} mentions of rarer items not counted`;
    const missing = barChart(missingCaption, counts.missing, counts.verdicts.undetermined,
      (item) => [item, ""], "missing");
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
