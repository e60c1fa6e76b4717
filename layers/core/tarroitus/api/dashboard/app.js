// Tarroitus operator dashboard: plain JavaScript, no build step, no third-party code, no network beyond this API.
// Every panel reads one endpoint; a 404 from it means this backend does not serve that endpoint yet.

const KEY_STORAGE = "tarroitus.adminKey"; // sessionStorage only: the key is gone when the tab closes
const LANGUAGE_STORAGE = "tarroitus.language";
const REFRESH_MILLIS = 60_000;
const CHART_DAYS = 30;
const ONLINE_MINUTES = 15;
const STALE_HOURS = 24;
const DEAD_LETTER_LIMIT = 100;
const REPRINT_LIMIT = 100;

const state = {
  strings: {},
  language: "fi",
  outcomes: {}, // panel id -> {data} | {error}, kept so a language change re-renders without refetching
  notice: null, // {key, values, kind}: the last retry's outcome, re-rendered in a new language
  timer: null,
  loading: false,
};

class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message);
    this.status = status;
    this.code = code;
    this.path = path;
  }
}

// ---- text -------------------------------------------------------------------------------------------------

function t(key, values = {}) {
  const template = state.strings[state.language]?.[key] ?? state.strings.en?.[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function formatNumber(value) {
  return value === null || value === undefined ? "—" : new Intl.NumberFormat(state.language).format(value);
}

function percent(share, fractionDigits = 0) {
  return new Intl.NumberFormat(state.language, { style: "percent", maximumFractionDigits: fractionDigits }).format(share);
}

// Whole percents, one decimal below 10 %; a share that is not zero never reads "0 %", nor one short of all "100 %".
function formatPercent(part, total) {
  if (!(total > 0) || part <= 0) return percent(0);
  const share = part / total;
  if (share >= 1) return percent(1);
  if (share < 0.01) return t("common.less_than", { value: percent(0.01) });
  if (share > 0.99) return t("common.more_than", { value: percent(0.99) });
  return percent(share, share < 0.1 ? 1 : 0);
}

function formatRate(perDay) {
  return t("common.per_day", {
    rate: new Intl.NumberFormat(state.language, { maximumFractionDigits: perDay < 10 ? 1 : 0 }).format(perDay),
  });
}

function hasText(key) {
  return state.strings.en?.[key] !== undefined;
}

// A translated name for a machine value (job outcome, table, step); a value without one reads as "other".
function named(prefix, value) {
  return hasText(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : t(`${prefix}.other`);
}

function formatTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(state.language, { dateStyle: "short", timeStyle: "short" }).format(new Date(iso));
}

function formatDay(isoDay) {
  if (!isoDay) return "—";
  const [year, month, day] = isoDay.split("-").map(Number);
  return new Intl.DateTimeFormat(state.language, { dateStyle: "short", timeZone: "UTC" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

function formatAgo(iso) {
  if (!iso) return t("common.never");
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const units = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  const relative = new Intl.RelativeTimeFormat(state.language, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(seconds, "second");
}

function outcomeBadge(outcome) {
  return h("span", { class: `badge outcome-${outcome}` }, named("outcome", outcome));
}

// A job run's counts in words: the counts that are not zero and that the dashboard has a name for, each
// ETL step with its outcome and rows, the sync's mode; run details (S3 location, tokens) are left out.
function formatCounts(counts) {
  const parts = [];
  for (const [name, value] of Object.entries(counts ?? {})) {
    if (typeof value === "number" && value !== 0 && hasText(`count.${name}`)) {
      parts.push(t(`count.${name}`, { count: formatNumber(value) }));
    } else if (value !== null && typeof value === "object" && typeof value.outcome === "string") {
      const rows = typeof value.rows === "number" ? t("count.step_rows", { count: formatNumber(value.rows) }) : "";
      parts.push(t("count.step", { step: named("step", name), outcome: named("outcome", value.outcome), rows }).trim());
    } else if (name === "mode" && typeof value === "string") {
      parts.push(named("mode", value));
    }
  }
  return parts.length ? parts.join(", ") : "—";
}

function applyStaticText() {
  document.documentElement.lang = state.language;
  document.title = `${t("app.title")} · ${t("app.subtitle")}`;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  document.getElementById("language").value = state.language;
}

// ---- DOM helpers (textContent only: nothing from the API is ever parsed as HTML) ---------------------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

function figure(label, value, testId, note = null) {
  return h(
    "div",
    { class: "figure" },
    h("div", { class: "figure-value", "data-testid": testId }, value),
    h("div", { class: "figure-label" }, label),
    note ? h("div", { class: "figure-note muted" }, note) : null,
  );
}

function table(headers, rows, attributes = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attributes,
      h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
      h("tbody", {}, rows),
    ),
  );
}

function panelMessage(kind, text) {
  return h("p", { class: `panel-state ${kind}`, "data-testid": "panel-state", dataset: { state: kind } }, text);
}

// ---- API ------------------------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = { Accept: "application/json", "X-API-Key": sessionStorage.getItem(KEY_STORAGE) ?? "" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new ApiError(0, "network", error.message, path);
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const message = body?.error?.message ?? body?.detail ?? response.statusText;
    throw new ApiError(response.status, body?.error?.code ?? null, message, path);
  }
  return response.json();
}

async function outcomeOf(path) {
  try {
    return { data: await api(path) };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { error };
  }
}

// ---- panels ---------------------------------------------------------------------------------------------

function renderProblem(outcome) {
  const { error } = outcome;
  if (error.status === 404) return panelMessage("not-available", t("common.not_available", { path: error.path.split("?")[0] }));
  return panelMessage("error", t("common.error", { message: error.message }));
}

function progressBar(label, part, total, testId, kind) {
  const share = total > 0 ? Math.min(1, part / total) : 0;
  const fill = h("div", { class: `bar-fill ${kind}` });
  fill.style.width = `${(share * 100).toFixed(2)}%`;
  return h(
    "div",
    { class: "progress-row" },
    h(
      "div",
      { class: "progress-label" },
      h("span", {}, label),
      h(
        "span",
        {},
        h("strong", { "data-testid": testId }, formatNumber(part)),
        " ",
        t("progress.out_of", { total: formatNumber(total), percent: formatPercent(part, total) }),
      ),
    ),
    h(
      "div",
      {
        class: "bar",
        role: "progressbar",
        "aria-label": label,
        "aria-valuemin": 0,
        "aria-valuemax": total,
        "aria-valuenow": part,
      },
      fill,
    ),
  );
}

function renderProgress(status) {
  const items = status.items;
  return [
    h(
      "div",
      { class: "figures" },
      figure(t("progress.total"), formatNumber(items.total), "progress-total"),
      figure(t("progress.with_classification"), formatNumber(items.with_classification), "progress-classified"),
    ),
    progressBar(t("progress.labelled"), items.printed, items.total, "progress-labelled", "labelled"),
    progressBar(t("progress.written_back"), items.written_back, items.total, "progress-written-back", "written"),
    progressBar(t("progress.failed"), items.writeback_failed, items.total, "progress-failed", "failed"),
  ];
}

function utcDay(date) {
  return date.toISOString().slice(0, 10);
}

function chartDays() {
  const today = new Date();
  const days = [];
  for (let offset = CHART_DAYS - 1; offset >= 0; offset -= 1) {
    days.push(utcDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - offset))));
  }
  return days;
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  return [1, 2, 5, 10].find((factor) => factor * magnitude >= value) * magnitude;
}

function formatShortDay(isoDay) {
  const [year, month, day] = isoDay.split("-").map(Number);
  return new Intl.DateTimeFormat(state.language, { day: "numeric", month: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

function renderChart(report) {
  const days = chartDays();
  const labelsByDay = new Map(report.days.map((day) => [day.day, day.labels]));
  const counts = days.map((day) => labelsByDay.get(day) ?? 0);
  const total = counts.reduce((sum, count) => sum + count, 0);
  const width = 720;
  const height = 200;
  const margin = { top: 12, right: 8, bottom: 28, left: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const top = niceCeiling(Math.max(...counts, 1));
  const slot = plotWidth / days.length;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-label": t("chart.summary", { days: CHART_DAYS, total: formatNumber(total) }),
    "data-testid": "prints-chart",
  });
  for (const tick of top % 2 === 0 ? [0, top / 2, top] : [0, top]) {
    const y = margin.top + plotHeight - (tick / top) * plotHeight;
    svg.append(s("line", { x1: margin.left, x2: width - margin.right, y1: y, y2: y, class: "gridline" }));
    svg.append(s("text", { x: margin.left - 6, y: y + 4, class: "axis-label", "text-anchor": "end" }, formatNumber(tick)));
  }
  days.forEach((day, index) => {
    const count = counts[index];
    const barHeight = (count / top) * plotHeight;
    const x = margin.left + index * slot + slot * 0.15;
    const bar = s("rect", {
      x,
      y: margin.top + plotHeight - barHeight,
      width: slot * 0.7,
      height: Math.max(barHeight, count > 0 ? 1 : 0),
      class: "chart-bar",
      "data-day": day,
      "data-labels": count,
    });
    bar.append(s("title", {}, t("chart.bar", { day: formatDay(day), labels: formatNumber(count) })));
    svg.append(bar);
    const fromToday = days.length - 1 - index;
    if (fromToday % 7 === 0) {
      const anchor = fromToday === 0 ? "end" : "middle";
      const labelX = fromToday === 0 ? x + slot * 0.7 : x + slot * 0.35;
      svg.append(
        s("text", { x: labelX, y: height - 8, class: "axis-label", "text-anchor": anchor }, formatShortDay(day)),
      );
    }
  });
  return [
    h(
      "p",
      { class: "muted" },
      h("span", { "data-testid": "chart-summary" }, t("chart.summary", { days: CHART_DAYS, total: formatNumber(total) })),
    ),
    total === 0 ? panelMessage("empty", t("chart.empty")) : null,
    svg,
  ];
}

function stationStatus(client) {
  if (!client.active) return ["revoked", t("stations.revoked")];
  if (!client.last_seen_at) return ["never", t("stations.never")];
  const minutes = (Date.now() - new Date(client.last_seen_at).getTime()) / 60_000;
  if (minutes <= ONLINE_MINUTES) return ["online", t("stations.online")];
  if (minutes <= STALE_HOURS * 60) return ["stale", t("stations.stale")];
  return ["offline", t("stations.offline")];
}

function renderStations(status) {
  const stations = status.clients.filter((client) => client.type === "printer");
  if (stations.length === 0) return [panelMessage("empty", t("stations.empty"))];
  const rows = stations.map((client) => {
    const [kind, label] = stationStatus(client);
    return h(
      "tr",
      { dataset: { station: client.name } },
      h("td", {}, client.name),
      h("td", {}, client.host_name ?? "—"),
      h("td", {}, client.client_version ?? "—"),
      h("td", {}, client.printer_state ?? "—"),
      h("td", { title: formatTime(client.last_seen_at) }, formatAgo(client.last_seen_at)),
      h("td", {}, h("span", { class: `badge ${kind}`, "data-testid": "station-status" }, label)),
    );
  });
  const headers = ["name", "host", "version", "printer", "last_seen", "status"].map((key) => t(`stations.${key}`));
  return [table(headers, rows, { "data-testid": "stations" })];
}

function renderNotice() {
  const line = document.getElementById("writeback-message");
  const notice = state.notice;
  line.textContent = notice ? t(notice.key, notice.values) : "";
  line.dataset.kind = notice?.kind ?? "";
}

async function retry(itemIds, button) {
  button.disabled = true;
  try {
    const body = itemIds === null ? { all: true } : { item_record_ids: itemIds };
    const result = await api("/api/v1/writeback/retry", { method: "POST", body });
    state.notice = { key: "writeback.requeued", values: { count: result.requeued_count }, kind: "ok" };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut("signin.expired");
    state.notice = { key: "writeback.retry_failed", values: { message: error.message }, kind: "error" };
    button.disabled = false;
    renderNotice();
    return undefined;
  }
  renderNotice();
  return refresh();
}

function describeParts(letter) {
  const named = (parts) => parts.map((part) => t(`writeback.part.${part}`)).join(", ");
  const lines = [];
  if (letter.written_parts.length) lines.push(t("writeback.parts.written", { parts: named(letter.written_parts) }));
  if (letter.refused_parts.length) lines.push(t("writeback.parts.refused", { parts: named(letter.refused_parts) }));
  return lines.length ? lines.join(" · ") : "—";
}

function renderDeadLetters(writeback) {
  const heading = h("h3", {}, t("writeback.dead_heading"));
  if (writeback.dead_letters.length === 0) return [heading, panelMessage("empty", t("writeback.no_dead"))];
  const rows = writeback.dead_letters.map((letter) => {
    const button = h("button", { type: "button", class: "small", "data-testid": "retry" }, t("writeback.retry"));
    button.addEventListener("click", () => retry([letter.item_record_id], button));
    const code = letter.last_error_code === null ? null : t("writeback.error_code", { code: letter.last_error_code });
    const error = [code, letter.last_error ?? "—"];
    return h(
      "tr",
      { dataset: { itemId: letter.item_record_id }, "data-testid": "dead-letter" },
      h("td", { class: "mono", "data-testid": "dead-letter-barcode" }, letter.barcode ?? "—"),
      h("td", {}, letter.title || "—"),
      h("td", { class: "mono" }, letter.item_number ?? "—"),
      h("td", {}, letter.location_name ?? letter.location_code ?? "—"),
      h("td", { class: "mono" }, letter.classification),
      h("td", { class: "number" }, formatNumber(letter.attempts)),
      h("td", { "data-testid": "dead-letter-parts" }, describeParts(letter)),
      h("td", { class: "error-text" }, error.filter(Boolean).join(" · ")),
      h("td", {}, formatTime(letter.dead_since)),
      h("td", {}, button),
    );
  });
  const retryAll = h("button", { type: "button", class: "secondary", "data-testid": "retry-all" }, t("writeback.retry_all"));
  retryAll.addEventListener("click", () => retry(null, retryAll));
  const headers = ["barcode", "title", "item_number", "location", "classification", "attempts", "parts", "error", "dead_since"].map(
    (key) => t(`writeback.${key}`),
  );
  return [
    h("div", { class: "row-between" }, heading, writeback.dead > 1 ? retryAll : null),
    table([...headers, ""], rows, { "data-testid": "dead-letters" }),
  ];
}

function renderWriteback(status, outcome) {
  const queue = status.writeback_queue;
  const depth = figure(t("writeback.depth"), formatNumber(queue.depth), "writeback-depth");
  const oldest = figure(
    t("writeback.oldest"),
    queue.oldest_queued_at ? formatAgo(queue.oldest_queued_at) : t("writeback.nothing_queued"),
    "writeback-oldest",
  );
  if (outcome.error) return [h("div", { class: "figures" }, depth, oldest), renderProblem(outcome)];
  const writeback = outcome.data;
  const run = writeback.last_run;
  return [
    h(
      "div",
      { class: "figures" },
      depth,
      figure(t("writeback.due"), formatNumber(writeback.due), "writeback-due"),
      figure(t("writeback.waiting_retry"), formatNumber(writeback.waiting_retry), "writeback-waiting"),
      figure(t("writeback.in_progress"), formatNumber(writeback.in_progress), "writeback-in-progress"),
      figure(t("writeback.done"), formatNumber(writeback.done), "writeback-done"),
      figure(t("writeback.dead"), formatNumber(writeback.dead), "writeback-dead"),
      oldest,
    ),
    run
      ? h(
          "p",
          { class: "muted", "data-testid": "writeback-last-run" },
          `${t("writeback.last_run")}: ${formatTime(run.started_at)} · ${run.outcome ? named("outcome", run.outcome) : "—"}`,
          ` · ${formatCounts(run.counts)}`,
        )
      : null,
    ...renderDeadLetters(writeback),
  ];
}

function finishText(entry) {
  if (entry.finish_date) return formatDay(entry.finish_date);
  return named("forecast.no_estimate", entry.no_estimate_reason);
}

async function downloadForecast(button) {
  button.disabled = true;
  try {
    const response = await fetch("/api/v1/analytics/forecast.csv", {
      headers: { Accept: "text/csv", "X-API-Key": sessionStorage.getItem(KEY_STORAGE) ?? "" },
      cache: "no-store",
      credentials: "omit",
    });
    if (!response.ok) throw new ApiError(response.status, null, response.statusText, "/api/v1/analytics/forecast.csv");
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "forecast.csv";
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: name });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut("signin.expired");
    state.notice = { key: "forecast.download_failed", values: { message: error.message }, kind: "error" };
    renderNotice();
  } finally {
    button.disabled = false;
  }
  return undefined;
}

function renderForecast(forecast) {
  const total = forecast.total;
  const download = h("button", { type: "button", class: "secondary", "data-testid": "forecast-csv" }, t("forecast.csv"));
  download.addEventListener("click", () => downloadForecast(download));
  const figures = h(
    "div",
    { class: "figures" },
    figure(t("forecast.to_label"), formatNumber(total.items_to_label), "forecast-to-label"),
    figure(t("forecast.labelled"), formatNumber(total.items_labelled), "forecast-labelled"),
    figure(t("forecast.remaining"), formatNumber(total.items_remaining), "forecast-remaining"),
    figure(t("forecast.rate_7"), formatRate(total.rate_7_days), "forecast-rate-7"),
    figure(t("forecast.rate_28"), formatRate(total.rate_28_days), "forecast-rate-28"),
    figure(t("forecast.finish"), finishText(total), "forecast-finish"),
  );
  const headers = ["location", "to_label", "labelled", "remaining", "rate_7", "rate_28", "finish"].map((key) =>
    t(`forecast.${key}`),
  );
  const rows = forecast.by_location.map((entry) =>
    h(
      "tr",
      { dataset: { location: entry.location_code ?? "" }, "data-testid": "forecast-location" },
      h("td", {}, entry.location_name ?? entry.location_code ?? t("forecast.no_location")),
      h("td", { class: "number" }, formatNumber(entry.items_to_label)),
      h("td", { class: "number" }, formatNumber(entry.items_labelled)),
      h("td", { class: "number" }, formatNumber(entry.items_remaining)),
      h("td", { class: "number" }, formatRate(entry.rate_7_days)),
      h("td", { class: "number" }, formatRate(entry.rate_28_days)),
      h("td", { "data-testid": "forecast-location-finish" }, finishText(entry)),
    ),
  );
  return [
    figures,
    h("div", { class: "row-between" }, h("p", { class: "muted" }, t("forecast.note", { days: forecast.rate_days })), download),
    rows.length ? table(headers, rows, { "data-testid": "forecast-locations" }) : null,
  ];
}

function labelText(classification, signum) {
  return [classification, signum].filter(Boolean).join(" ") || "—";
}

function renderReprints(status, outcome) {
  const count = h(
    "div",
    { class: "figures" },
    figure(t("reprint.count"), formatNumber(status.items.reprint_needed), "reprint-count"),
  );
  if (outcome.error) return [count, renderProblem(outcome)];
  const page = outcome.data;
  if (page.count === 0) return [count, panelMessage("empty", t("reprint.empty"))];
  const rows = page.data.map((item) => {
    const printed = item.label_state;
    return h(
      "tr",
      { dataset: { itemId: item.item_id }, "data-testid": "reprint-item" },
      h("td", { class: "mono" }, item.barcode ?? "—"),
      h("td", {}, item.title ?? "—"),
      h("td", { class: "mono" }, labelText(printed.last_printed_classification, printed.last_printed_signum)),
      h("td", { class: "mono", "data-testid": "reprint-current" }, labelText(item.classification, item.signum)),
      h("td", {}, formatTime(printed.last_printed_at)),
    );
  });
  const headers = ["barcode", "title", "printed", "current", "printed_at"].map((key) => t(`reprint.${key}`));
  return [
    count,
    table(headers, rows, { "data-testid": "reprint-items" }),
    page.next_after === null ? null : h("p", { class: "muted" }, t("reprint.more", { shown: formatNumber(page.count) })),
  ];
}

function definitionList(entries) {
  return h(
    "dl",
    { class: "facts" },
    entries.flatMap(([label, value, testId]) => [h("dt", {}, label), h("dd", { "data-testid": testId ?? null }, value)]),
  );
}

function runsTable(runs) {
  const headers = ["started", "finished", "outcome", "counts", "error"].map((key) => t(`jobs.${key}`));
  const rows = runs.map((run) =>
    h(
      "tr",
      {},
      h("td", {}, formatTime(run.started_at)),
      h("td", {}, formatTime(run.finished_at)),
      h("td", {}, outcomeBadge(run.outcome)),
      h("td", {}, formatCounts(run.counts)),
      h("td", { class: "error-text" }, run.error ?? ""),
    ),
  );
  return table(headers, rows);
}

function renderSync(sync) {
  return [
    definitionList([
      [t("sync.mode"), sync.mode ? t(`sync.mode.${sync.mode}`) : "—", "sync-mode"],
      [t("sync.cursor"), String(sync.full_sync_cursor ?? "—"), "sync-cursor"],
      [t("sync.full_completed"), formatTime(sync.full_sync_completed_at)],
      [t("sync.changes_since"), formatTime(sync.changes_since)],
      [
        t("sync.last_run"),
        `${formatTime(sync.last_run_started_at)} · ${sync.last_run_outcome ? named("outcome", sync.last_run_outcome) : "—"}`,
      ],
      [t("sync.last_error"), sync.last_error ?? "—"],
    ]),
    sync.recent_runs?.length ? runsTable(sync.recent_runs) : null,
  ];
}

function renderDataStatus(data) {
  const run = data.last_run;
  const facts = definitionList([
    [t("data.location"), data.location ?? "—"],
    [t("data.range"), data.first_dt ? `${formatDay(data.first_dt)} – ${formatDay(data.last_dt)}` : "—", "data-range"],
    [t("data.exported_until"), formatTime(data.exported_until)],
    [t("data.last_run"), run ? `${formatTime(run.started_at)} · ${named("outcome", run.outcome)}` : "—"],
  ]);
  if (data.tables.every((entry) => entry.partitions === 0)) return [facts, panelMessage("empty", t("data.empty"))];
  const headers = ["table", "kind", "rows", "partitions", "last_dt"].map((key) => t(`data.${key}`));
  const rows = data.tables.map((entry) =>
    h(
      "tr",
      {},
      h("td", {}, named("step", entry.table)),
      h("td", {}, named("data.kind", entry.kind)),
      h("td", { class: "number" }, formatNumber(entry.rows)),
      h("td", { class: "number" }, formatNumber(entry.partitions)),
      h("td", {}, formatDay(entry.last_dt)),
    ),
  );
  return [facts, table(headers, rows, { "data-testid": "data-tables" })];
}

function renderJobs(status) {
  const headers = ["job", "outcome", "started", "finished", "counts", "error"].map((key) => t(`jobs.${key}`));
  const rows = status.jobs.map((job) => {
    const newest = job.recent_runs[0];
    const name = named("jobs.name", job.job_name);
    const outcome = job.last_run_outcome;
    return h(
      "tr",
      { dataset: { job: job.job_name } },
      h("td", {}, name),
      h("td", {}, outcome ? outcomeBadge(outcome) : t("jobs.never_run")),
      h("td", {}, formatTime(job.last_run_started_at)),
      h("td", {}, formatTime(job.last_run_completed_at)),
      h("td", {}, formatCounts(newest?.counts)),
      h("td", { class: "error-text" }, job.last_error ?? ""),
    );
  });
  return [table(headers, rows, { "data-testid": "jobs" })];
}

// Every panel, in page order: its name (section `panel-<name>`, heading text `<name>.heading`), whether it spans
// the grid, what stands between its heading and its body, and how it is drawn from the outcomes it needs.
const PANELS = [
  { name: "progress", wide: true, source: "status", render: (status) => renderProgress(status.data) },
  { name: "forecast", wide: true, source: "forecast", render: (forecast) => renderForecast(forecast.data) },
  { name: "chart", wide: true, source: "chart", render: (chart) => renderChart(chart.data) },
  {
    name: "writeback",
    wide: true,
    lead: () => h("p", { id: "writeback-message", class: "notice", role: "status", "aria-live": "polite" }),
    source: "status",
    render: (status, all) => renderWriteback(status.data, all.writeback),
  },
  {
    name: "reprint",
    wide: true,
    lead: () => h("p", { class: "muted", "data-i18n": "reprint.note" }),
    source: "status",
    render: (status, all) => renderReprints(status.data, all.reprint),
  },
  { name: "stations", wide: true, source: "status", render: (status) => renderStations(status.data) },
  { name: "sync", wide: false, source: "sync", render: (sync) => renderSync(sync.data) },
  { name: "data", wide: false, source: "data", render: (data) => renderDataStatus(data.data) },
  { name: "jobs", wide: true, source: "status", render: (status) => renderJobs(status.data) },
];

function buildPanels() {
  const sections = PANELS.map(({ name, wide, lead }) =>
    h(
      "section",
      { id: `panel-${name}`, class: wide ? "card wide" : "card", "aria-labelledby": `${name}-heading` },
      h("h2", { id: `${name}-heading`, "data-i18n": `${name}.heading` }),
      lead?.(),
      h("div", { class: "panel-body" }),
    ),
  );
  document.getElementById("dashboard").replaceChildren(...sections);
}

function renderPanels() {
  for (const { name, source, render } of PANELS) {
    const panel = document.getElementById(`panel-${name}`);
    const outcome = state.outcomes[source];
    if (!outcome) continue;
    let content;
    try {
      content = outcome.error ? [renderProblem(outcome)] : render(outcome, state.outcomes);
    } catch (error) {
      content = [panelMessage("error", t("common.error", { message: error.message }))];
    }
    panel.querySelector(".panel-body").replaceChildren(...content.flat().filter(Boolean));
    panel.dataset.state = outcome.error ? (outcome.error.status === 404 ? "not-available" : "error") : "ready";
  }
  renderNotice();
  const updated = state.outcomes.updatedAt;
  document.getElementById("updated").textContent = updated ? t("nav.updated", { time: formatTime(updated) }) : "";
}

function chartPath() {
  const days = chartDays();
  return `/api/v1/analytics/prints_per_day?date_from=${days[0]}&date_to=${days[days.length - 1]}`;
}

async function refresh() {
  if (state.loading) return;
  state.loading = true;
  document.body.dataset.loading = "true";
  try {
    const [status, chart, writeback, reprint, sync, data, forecast] = await Promise.all([
      outcomeOf("/api/v1/status"),
      outcomeOf(chartPath()),
      outcomeOf(`/api/v1/writeback?limit=${DEAD_LETTER_LIMIT}`),
      outcomeOf(`/api/v1/items?reprint_needed=true&limit=${REPRINT_LIMIT}`),
      outcomeOf("/api/v1/sync"),
      outcomeOf("/api/v1/analytics/data_status"),
      outcomeOf("/api/v1/analytics/forecast"),
    ]);
    const all = [status, chart, writeback, reprint, sync, data, forecast];
    if (all.some((outcome) => outcome.error?.status === 401)) {
      signOut("signin.expired");
      return;
    }
    state.outcomes = { status, chart, writeback, reprint, sync, data, forecast, updatedAt: new Date().toISOString() };
    renderPanels();
  } finally {
    state.loading = false;
    document.body.dataset.loading = "false";
  }
}

// ---- sign-in --------------------------------------------------------------------------------------------

function showSignedIn(signedIn) {
  document.getElementById("signin").hidden = signedIn;
  document.getElementById("dashboard").hidden = !signedIn;
  document.getElementById("refresh").hidden = !signedIn;
  document.getElementById("signout").hidden = !signedIn;
  clearInterval(state.timer);
  state.timer = signedIn ? setInterval(refresh, REFRESH_MILLIS) : null;
}

function signOut(reasonKey = null) {
  sessionStorage.removeItem(KEY_STORAGE);
  state.outcomes = {};
  state.notice = null;
  showSignedIn(false);
  document.getElementById("signin-error").textContent = reasonKey ? t(reasonKey) : "";
  renderNotice();
  document.getElementById("api-key").focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = document.getElementById("api-key");
  const errorLine = document.getElementById("signin-error");
  errorLine.textContent = "";
  sessionStorage.setItem(KEY_STORAGE, input.value.trim());
  try {
    await api("/api/v1/status");
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    const reason = { 401: "signin.invalid", 403: "signin.forbidden" }[error.status] ?? "signin.failed";
    errorLine.textContent = t(reason);
    return;
  }
  input.value = "";
  showSignedIn(true);
  await refresh();
}

// ---- start ----------------------------------------------------------------------------------------------

function preferredLanguage() {
  const stored = localStorage.getItem(LANGUAGE_STORAGE);
  if (stored === "fi" || stored === "en") return stored;
  return (navigator.language || "fi").toLowerCase().startsWith("en") ? "en" : "fi";
}

async function start() {
  const i18nUrl = document.querySelector('meta[name="tarroitus-i18n"]').content;
  state.strings = await (await fetch(i18nUrl)).json();
  state.language = preferredLanguage();
  buildPanels();
  applyStaticText();
  document.getElementById("language").addEventListener("change", (event) => {
    state.language = event.target.value;
    localStorage.setItem(LANGUAGE_STORAGE, state.language);
    applyStaticText();
    renderPanels();
  });
  document.getElementById("signin-form").addEventListener("submit", signIn);
  document.getElementById("refresh").addEventListener("click", () => refresh());
  document.getElementById("signout").addEventListener("click", () => signOut());
  if (sessionStorage.getItem(KEY_STORAGE)) {
    showSignedIn(true);
    await refresh();
  } else {
    showSignedIn(false);
  }
  document.body.dataset.ready = "true";
}

start();
