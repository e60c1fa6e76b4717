// Tarroitus print station: plain JavaScript, no build step, no third-party code, no network beyond this API.
// A barcode scanner types into the scan field and ends each code with Enter. The station looks the item up,
// shows its new classification and signum, prints the spine label the label route renders through the
// browser's print dialog at the chosen label size, and reports the print with an Idempotency-Key.

const KEY_STORAGE = "tarroitus.printerKey"; // sessionStorage only: the key is gone when the tab closes
const JOBS_STORAGE = "tarroitus.station.jobs"; // sessionStorage: the recent prints, reports not yet answered included
const LANGUAGE_STORAGE = "tarroitus.language"; // shared with the dashboard
const LABEL_STORAGE = "tarroitus.station.label"; // localStorage: the label stock of this station
const HEARTBEAT_MILLIS = 60_000;
const DOUBLE_SCAN_MILLIS = 120_000; // a second scan of an item printed this recently prints nothing
const RECENT_LIMIT = 20;
const RETRY_FIRST_MILLIS = 1_000;
const RETRY_MAX_MILLIS = 60_000;
const CUSTOM = "custom";
const WAITING = new Set(["sending", "retrying"]);

const state = {
  strings: {},
  language: "fi",
  version: "",
  presets: [],
  defaultPreset: null,
  station: null, // the client the key belongs to, as the last heartbeat answered
  online: null,
  lastContact: null,
  current: { banner: { kind: "idle", key: "banner.ready" } }, // what the current-item card shows
  jobs: [], // prints, newest first: {key, itemId, barcode, classification, signum, title, printedAt, state, ...}
  preview: null, // {url, widthMm, heightMm, preset}
  retryTimers: new Map(),
  heartbeatTimer: null,
  scans: Promise.resolve(),
  pageRule: new CSSStyleSheet(),
};

class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const $ = (id) => document.getElementById(id);

// ---- text -------------------------------------------------------------------------------------------------

function t(key, values = {}) {
  const template = state.strings[state.language]?.[key] ?? state.strings.en?.[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function formatTime(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat(state.language, { timeStyle: "medium" }).format(new Date(value));
}

function formatDateTime(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat(state.language, { dateStyle: "short", timeStyle: "short" }).format(new Date(value));
}

function formatMm(value) {
  return new Intl.NumberFormat(state.language, { maximumFractionDigits: 1 }).format(value);
}

function applyStaticText() {
  document.documentElement.lang = state.language;
  document.title = `${t("app.title")} · ${t("app.subtitle")}`;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of document.querySelectorAll("[data-i18n-aria]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAria));
  }
  $("scan-input").placeholder = t("scan.placeholder");
  $("language").value = state.language;
}

// ---- DOM (textContent only: nothing from the API is ever parsed as markup) ---------------------------------

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

// ---- API --------------------------------------------------------------------------------------------------

async function request(path, { method = "GET", body, headers = {}, accept = "application/json" } = {}) {
  const sent = { Accept: accept, "X-API-Key": sessionStorage.getItem(KEY_STORAGE) ?? "", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new ApiError(0, "network", error.message);
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    const error = answer?.error;
    throw new ApiError(
      response.status,
      error?.code ?? null,
      error?.message ?? response.statusText,
      error?.details ?? [],
    );
  }
  return response;
}

async function api(path, options) {
  return (await request(path, options)).json();
}

// ---- label stock ------------------------------------------------------------------------------------------

function storedLabelChoice() {
  try {
    return JSON.parse(localStorage.getItem(LABEL_STORAGE) ?? "null");
  } catch {
    return null;
  }
}

function labelChoice() {
  const stored = storedLabelChoice();
  if (stored?.preset === CUSTOM && stored.widthMm > 0 && stored.heightMm > 0) return stored;
  const known = state.presets.some((preset) => preset.name === stored?.preset);
  return { preset: known ? stored.preset : state.defaultPreset };
}

function labelQuery() {
  const choice = labelChoice();
  if (choice.preset === CUSTOM) return `width_mm=${choice.widthMm}&height_mm=${choice.heightMm}`;
  return `size=${encodeURIComponent(choice.preset)}`;
}

function presetName(name) {
  // The server describes its presets in English; a translation, where there is one, wins.
  const preset = state.presets.find((candidate) => candidate.name === name);
  const key = `preset.${name}`;
  return state.strings.en?.[key] ? t(key) : (preset?.description ?? name);
}

function presetCaption(preset) {
  const size = (label) => `${formatMm(label.width_mm)} × ${formatMm(label.height_mm)} mm`;
  return `${presetName(preset.name)} (${t("settings.book")} ${size(preset.book)}, ${t("settings.cd")} ${size(preset.cd)})`;
}

function renderLabelSizes() {
  const select = $("label-size");
  const choice = labelChoice();
  const options = state.presets.map((preset) =>
    el("option", { value: preset.name, title: presetCaption(preset) }, presetName(preset.name)),
  );
  options.push(el("option", { value: CUSTOM }, t("settings.custom")));
  select.replaceChildren(...options);
  select.value = choice.preset;
  $("custom-size").hidden = choice.preset !== CUSTOM;
  if (choice.preset === CUSTOM) {
    $("custom-width").value = choice.widthMm;
    $("custom-height").value = choice.heightMm;
  }
}

function saveLabelChoice() {
  const preset = $("label-size").value;
  let choice = { preset };
  if (preset === CUSTOM) {
    const fallback = state.presets.find((candidate) => candidate.name === state.defaultPreset)?.book;
    choice = {
      preset,
      widthMm: Number($("custom-width").value) || fallback?.width_mm,
      heightMm: Number($("custom-height").value) || fallback?.height_mm,
    };
  }
  localStorage.setItem(LABEL_STORAGE, JSON.stringify(choice));
  renderLabelSizes();
  if (preset !== CUSTOM) focusScanField();
  const item = state.current.item;
  if (item && state.preview) showPreviewOf(item).catch(showLabelProblem);
}

async function loadPresets() {
  const sizes = await api("/api/v1/label-sizes");
  state.presets = sizes.data;
  state.defaultPreset = sizes.default;
}

// ---- the current item -------------------------------------------------------------------------------------

function staleLabel(item) {
  // The classification or signum changed since the last print: the label on the book is outdated.
  return item.reprint_needed === true;
}

function setCurrent(current) {
  state.current = current;
  renderCurrent();
}

function setBanner(kind, key, values = {}, detail = null) {
  state.current = { ...state.current, banner: { kind, key, values, detail } };
  renderCurrent();
}

function itemFacts(item) {
  const printed = item.label_state?.print_count ?? 0;
  return [
    ["current.barcode", item.barcode],
    ["current.item_number", item.item_number],
    ["current.author", item.author],
    ["current.material", item.material_name ?? item.material_code],
    ["current.location", item.location_code],
    ["current.call_number", item.call_number],
    [
      "current.printed",
      printed
        ? t("current.printed_times", { count: printed, time: formatDateTime(item.label_state.last_printed_at) })
        : t("current.never_printed"),
    ],
  ].filter(([, value]) => value);
}

function renderChoices(choices) {
  const box = $("choices");
  box.hidden = !choices;
  if (!choices) return box.replaceChildren();
  const buttons = choices.map((item) => {
    const button = el(
      "button",
      { type: "button", class: `choice${item.deleted ? " deleted" : ""}`, "data-item-id": item.item_id },
      el("span", { class: "choice-label mono" }, `${item.classification ?? "—"}  ${item.signum}`),
      el("span", { class: "choice-title" }, item.title ?? "—"),
      el(
        "span",
        { class: "choice-meta muted" },
        [item.item_number, item.location_code, item.deleted ? t("current.deleted_badge") : null]
          .filter(Boolean)
          .join(" · "),
      ),
    );
    button.addEventListener("click", () => {
      state.scans = state.scans.then(() => present(item, { scanned: true })).catch(showUnexpected);
      $("scan-input").focus();
    });
    return button;
  });
  return box.replaceChildren(...buttons);
}

function renderCurrent() {
  const { banner, item, choices, printAgain, showLabel } = state.current;
  const card = $("current");
  card.dataset.state = banner.kind;
  const line = $("banner");
  line.dataset.kind = banner.kind;
  line.dataset.message = banner.key.replace(/^banner\./, "");
  const text = el("span", { class: "banner-text" }, t(banner.key, banner.values));
  line.replaceChildren(
    ...[text, banner.detail ? el("span", { class: "banner-detail" }, banner.detail) : null].filter(Boolean),
  );
  for (const id of ["label-line", "current-title", "current-facts"]) $(id).hidden = !item;
  const classification = item?.classification ?? (item ? t("current.no_classification") : "");
  $("current-classification").textContent = classification;
  $("current-classification").dataset.missing = item && !item.classification ? "true" : "false";
  $("current-signum").textContent = item?.signum ?? "";
  $("current-title").textContent = item ? (item.title ?? "") : "";
  $("current-facts").replaceChildren(
    ...(item ? itemFacts(item) : []).flatMap(([key, value]) => [el("dt", {}, t(key)), el("dd", {}, value)]),
  );
  renderChoices(choices);
  const preview = showLabel ? state.preview : null;
  $("preview-row").hidden = !preview;
  if (preview) {
    const image = $("preview");
    if (image.src !== preview.url) image.src = preview.url;
    // Three times the label's size, so the preview reads from a step away.
    image.style.width = `${preview.widthMm * 3}mm`;
    image.style.height = `${preview.heightMm * 3}mm`;
    image.alt = `${item?.classification ?? ""} ${item?.signum ?? ""}`;
    $("preview-caption").textContent = t("current.preview_caption", {
      width: formatMm(preview.widthMm),
      height: formatMm(preview.heightMm),
      stock: preview.preset === CUSTOM ? t("settings.custom") : presetName(preview.preset),
    });
  }
  $("print-again").hidden = !printAgain;
}

async function fetchLabel(item) {
  const response = await request(`/api/v1/items/${item.item_id}/label?${labelQuery()}`, { accept: "image/svg+xml" });
  const blob = await response.blob();
  return {
    url: URL.createObjectURL(blob),
    widthMm: Number(response.headers.get("X-Label-Width-Mm")),
    heightMm: Number(response.headers.get("X-Label-Height-Mm")),
    preset: response.headers.get("X-Label-Preset"),
  };
}

async function showPreviewOf(item) {
  const label = await fetchLabel(item);
  const previous = state.preview;
  state.preview = label;
  state.current = { ...state.current, showLabel: true };
  renderCurrent();
  // The print view may still show the previous label until the next print replaces it.
  if (previous && previous.url !== $("print-label").src) URL.revokeObjectURL(previous.url);
  return label;
}

function labelProblem(error) {
  if (error.code === "label_does_not_fit") return ["error", "banner.does_not_fit", {}, error.message];
  if (error.code === "label_unprintable") {
    return [
      "error",
      "banner.unprintable",
      { characters: (error.details[0]?.characters ?? []).join(" ") },
      error.message,
    ];
  }
  if (error.code === "item_deleted") return ["error", "banner.deleted", {}, null];
  if (error.code === "no_classification") return ["error", "banner.no_classification", {}, null];
  return ["error", "banner.error", { message: error.message }, null];
}

function showLabelProblem(error) {
  if (!(error instanceof ApiError)) return showUnexpected(error);
  if (error.status === 401) return signOut("signin.expired");
  return setBanner(...labelProblem(error));
}

function recentPrintOf(item) {
  return state.jobs.find(
    (job) =>
      job.itemId === item.item_id &&
      !["outdated", "failed"].includes(job.state) &&
      Date.now() - job.printedAt < DOUBLE_SCAN_MILLIS,
  );
}

async function present(item, { scanned, reason = null }) {
  setCurrent({ banner: { kind: "busy", key: "banner.preparing" }, item });
  if (item.deleted) return setBanner("error", "banner.deleted");
  if (!item.classification) return setBanner("error", "banner.no_classification");
  try {
    await showPreviewOf(item);
  } catch (error) {
    return showLabelProblem(error);
  }
  const recent = scanned ? recentPrintOf(item) : null;
  if (recent) {
    // The same label, scanned again: nothing is printed, and a report still waiting is sent again with its key.
    if (recent.state === "retrying") sendReport(recent).catch(showUnexpected);
    state.current = { ...state.current, printAgain: true };
    return setBanner("info", "banner.double_scan", { time: formatTime(recent.printedAt) });
  }
  const stale = staleLabel(item);
  const printed = item.label_state?.print_count ?? 0;
  if (printed > 0 && !stale && !reason) {
    state.current = { ...state.current, printAgain: true };
    return setBanner("info", "banner.printed_before", {
      count: printed,
      time: formatDateTime(item.label_state.last_printed_at),
    });
  }
  return printAndReport(item, stale ? { key: "banner.stale" } : reason);
}

async function lookUp(barcode) {
  setCurrent({ banner: { kind: "busy", key: "banner.looking", values: { barcode } } });
  try {
    return (await api(`/api/v1/items/${encodeURIComponent(barcode)}`)).data;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) signOut("signin.expired");
    else if (error.status === 404) setBanner("error", "banner.not_found", { barcode });
    else if (error.code === "invalid_barcode") setBanner("error", "banner.invalid_barcode", { barcode });
    else setBanner("error", "banner.error", { message: error.message });
    return null;
  }
}

async function handleScan(raw) {
  const barcode = raw.trim();
  if (!barcode) return undefined;
  const items = await lookUp(barcode);
  if (!items) return undefined;
  if (items.length > 1) {
    return setCurrent({
      banner: { kind: "warn", key: "banner.duplicates", values: { barcode, count: items.length } },
      choices: items,
    });
  }
  return present(items[0], { scanned: true });
}

// ---- printing and reporting -------------------------------------------------------------------------------

function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // a random (version 4) UUID
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function printLabel(label) {
  const image = $("print-label");
  const shown = image.src;
  image.src = label.url;
  if (shown && shown !== label.url && shown !== state.preview?.url) URL.revokeObjectURL(shown);
  for (const element of [image, $("print-area")]) {
    element.style.width = `${label.widthMm}mm`;
    element.style.height = `${label.heightMm}mm`;
  }
  await image.decode();
  state.pageRule.replaceSync(`@page { size: ${label.widthMm}mm ${label.heightMm}mm; margin: 0; }`);
  window.print();
}

function saveJobs() {
  const kept = state.jobs.filter((job, index) => index < RECENT_LIMIT || WAITING.has(job.state));
  state.jobs = kept;
  sessionStorage.setItem(JOBS_STORAGE, JSON.stringify(kept));
  renderRecent();
}

async function printAndReport(item, reason) {
  const job = {
    key: newIdempotencyKey(),
    itemId: item.item_id,
    barcode: item.barcode,
    classification: item.classification,
    signum: item.signum,
    title: item.title,
    printedAt: Date.now(),
    state: "printing",
    attempts: 0,
  };
  state.jobs.unshift(job);
  saveJobs();
  setBanner("busy", "banner.printing");
  await printLabel(state.preview);
  job.state = "sending";
  saveJobs();
  setBanner(reason ? "warn" : "ok", reason?.key ?? "banner.printed", reason?.values);
  state.current = { ...state.current, printAgain: true, job: job.key };
  $("scan-input").focus();
  // Not awaited: the next scan need not wait for the answer, and a report that fails is retried on its own.
  sendReport(job).catch(showUnexpected);
}

function retryDelay(attempts) {
  return Math.min(RETRY_MAX_MILLIS, RETRY_FIRST_MILLIS * 2 ** Math.max(0, attempts - 1));
}

function countPrint(job) {
  // The item as shown was looked up before this print: count it, as the server has.
  const { item } = state.current;
  if (item?.item_id !== job.itemId) return;
  const labelState = { ...item.label_state, print_count: (item.label_state?.print_count ?? 0) + 1 };
  state.current = {
    ...state.current,
    item: { ...item, label_state: { ...labelState, last_printed_at: new Date(job.printedAt).toISOString() } },
  };
}

function settle(job, outcome, values = {}) {
  const changed = job.state !== outcome;
  Object.assign(job, values, { state: outcome });
  saveJobs();
  if (outcome === "recorded" && changed) countPrint(job);
  const concluded = ["recorded", "failed"].includes(outcome) && state.current.banner.kind !== "warn";
  if (state.current.job === job.key && concluded) {
    const [kind, key] = outcome === "recorded" ? ["ok", "banner.recorded"] : ["error", "banner.report_failed"];
    setBanner(kind, key, { message: job.error ?? "" });
  } else {
    renderCurrent();
  }
}

async function sendReport(job) {
  clearTimeout(state.retryTimers.get(job.key));
  state.retryTimers.delete(job.key);
  job.attempts += 1;
  job.state = "sending";
  saveJobs();
  try {
    const response = await request(`/api/v1/items/${job.itemId}/labels`, {
      method: "POST",
      body: { classification: job.classification, signum: job.signum },
      headers: { "Idempotency-Key": job.key },
    });
    const event = await response.json();
    markContact(true);
    return settle(job, "recorded", { eventId: event.id, replayed: response.status === 200 });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return reportFailed(job, error);
  }
}

function reportFailed(job, error) {
  if (error.status === 0 || error.status === 429 || error.status >= 500) {
    markContact(error.status !== 0);
    state.retryTimers.set(
      job.key,
      setTimeout(() => sendReport(job).catch(showUnexpected), retryDelay(job.attempts)),
    );
    return settle(job, "retrying");
  }
  if (error.status === 401) {
    settle(job, "retrying");
    return signOut("signin.expired");
  }
  markContact(true);
  if (error.code === "label_outdated") {
    settle(job, "outdated");
    if (state.current.job === job.key) state.scans = state.scans.then(() => reprintOutdated(job)).catch(showUnexpected);
    return undefined;
  }
  return settle(job, "failed", { error: error.message });
}

async function reprintOutdated(job) {
  // The item's label changed between the look-up and the report, while the item is still the one shown:
  // the printed label is wrong, so the new one is printed at once.
  const items = await lookUp(job.barcode);
  const item = items?.find((candidate) => candidate.item_id === job.itemId);
  if (!item) return undefined;
  const reason = { key: "banner.outdated", values: { printed: `${job.classification} ${job.signum}` } };
  return present(item, { scanned: false, reason });
}

function resumeReports() {
  for (const job of state.jobs) {
    if (job.state === "printing") job.state = "sending"; // the page was closed while the print dialog was open
    if (WAITING.has(job.state) && !state.retryTimers.has(job.key)) sendReport(job).catch(showUnexpected);
  }
}

// ---- recent prints ----------------------------------------------------------------------------------------

function renderRecent() {
  const rows = state.jobs.map((job) =>
    el(
      "li",
      {
        class: "recent-item",
        "data-testid": "recent-print",
        "data-state": job.state,
        "data-key": job.key,
        "data-item-id": job.itemId,
        "data-replayed": job.replayed ? "true" : null,
      },
      el("span", { class: "recent-time" }, formatTime(job.printedAt)),
      el("span", { class: "recent-label mono" }, `${job.classification} ${job.signum}`),
      el("span", { class: `badge state-${job.state}` }, t(`recent.state.${job.state}`, { attempts: job.attempts })),
      el("span", { class: "recent-title" }, job.title ?? ""),
      el("span", { class: "recent-barcode muted mono" }, job.barcode ?? ""),
      job.error ? el("span", { class: "recent-error" }, job.error) : null,
    ),
  );
  $("recent").replaceChildren(...rows);
  $("recent-empty").hidden = rows.length > 0;
  const waiting = state.jobs.filter((job) => WAITING.has(job.state)).length;
  $("pending").hidden = waiting === 0;
  $("pending").textContent = t("recent.waiting", { count: waiting });
}

// ---- heartbeat and connection -----------------------------------------------------------------------------

function markContact(online) {
  state.online = online;
  if (online) state.lastContact = Date.now();
  renderConnection();
}

function renderConnection() {
  const badge = $("connection");
  badge.hidden = state.online === null;
  badge.dataset.state = state.online ? "online" : "offline";
  const name = state.station?.name ?? "—";
  badge.textContent = state.online ? t("connection.online", { name }) : t("connection.offline", { name });
  badge.title = t("connection.last_contact", { time: formatTime(state.lastContact) });
}

function printerState() {
  const waiting = state.jobs.filter((job) => WAITING.has(job.state)).length;
  return `browser station; labels ${labelChoice().preset}; reports waiting ${waiting}`;
}

async function heartbeat() {
  try {
    state.station = await api("/api/v1/status/heartbeat", {
      method: "POST",
      body: { client_version: `station-${state.version}`, printer_state: printerState() },
    });
    markContact(true);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) return signOut("signin.expired");
    markContact(error.status !== 0);
  }
  return undefined;
}

// ---- sign-in ----------------------------------------------------------------------------------------------

function showSignedIn(signedIn) {
  $("signin").hidden = signedIn;
  $("station").hidden = !signedIn;
  $("signout").hidden = !signedIn;
  $("label-size-control").hidden = !signedIn;
  clearInterval(state.heartbeatTimer);
  state.heartbeatTimer = signedIn ? setInterval(() => heartbeat().catch(showUnexpected), HEARTBEAT_MILLIS) : null;
}

function signOut(reasonKey = null) {
  sessionStorage.removeItem(KEY_STORAGE);
  for (const timer of state.retryTimers.values()) clearTimeout(timer);
  state.retryTimers.clear();
  state.online = null;
  showSignedIn(false);
  $("custom-size").hidden = true;
  renderConnection();
  $("signin-error").textContent = reasonKey ? t(reasonKey) : "";
  $("api-key").focus();
}

async function startStation() {
  showSignedIn(true);
  renderLabelSizes();
  renderCurrent();
  renderRecent();
  await heartbeat();
  resumeReports();
  $("scan-input").focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = $("api-key");
  $("signin-error").textContent = "";
  sessionStorage.setItem(KEY_STORAGE, input.value.trim());
  try {
    await loadPresets();
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    const reason = { 401: "signin.invalid", 403: "signin.forbidden" }[error.status] ?? "signin.failed";
    $("signin-error").textContent = t(reason);
    return;
  }
  input.value = "";
  await startStation();
}

// ---- start ------------------------------------------------------------------------------------------------

function showUnexpected(error) {
  setBanner("error", "banner.error", { message: error?.message ?? String(error) });
}

function preferredLanguage() {
  const stored = localStorage.getItem(LANGUAGE_STORAGE);
  if (stored === "fi" || stored === "en") return stored;
  return (navigator.language || "fi").toLowerCase().startsWith("en") ? "en" : "fi";
}

function loadJobs() {
  try {
    state.jobs = JSON.parse(sessionStorage.getItem(JOBS_STORAGE) ?? "[]");
  } catch {
    state.jobs = [];
  }
}

function focusScanField() {
  // After a setting is chosen the next scan must reach the scan field, not the control still in focus.
  if (!$("station").hidden) $("scan-input").focus();
}

function keepScannerInput(event) {
  // A scanner types wherever the focus is: send stray keys to the scan field unless a control is being used.
  if ($("station").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest?.("input, select, textarea")) return;
  if (event.key.length === 1) $("scan-input").focus();
}

function wireEvents() {
  $("language").addEventListener("change", (event) => {
    state.language = event.target.value;
    localStorage.setItem(LANGUAGE_STORAGE, state.language);
    applyStaticText();
    renderLabelSizes();
    renderCurrent();
    renderRecent();
    renderConnection();
    focusScanField();
  });
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", () => signOut());
  $("label-size").addEventListener("change", saveLabelChoice);
  $("custom-width").addEventListener("change", saveLabelChoice);
  $("custom-height").addEventListener("change", saveLabelChoice);
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("scan-input").value;
    $("scan-input").value = "";
    state.scans = state.scans.then(() => handleScan(code)).catch(showUnexpected);
  });
  $("print-again").addEventListener("click", () => {
    const { item } = state.current;
    $("scan-input").focus();
    if (item) state.scans = state.scans.then(() => printAndReport(item, null)).catch(showUnexpected);
  });
  document.addEventListener("keydown", keepScannerInput);
  window.addEventListener("online", resumeReports);
}

async function start() {
  const i18nUrl = document.querySelector('meta[name="tarroitus-i18n"]').content;
  state.version = document.querySelector('meta[name="tarroitus-version"]').content;
  state.strings = await (await fetch(i18nUrl)).json();
  state.language = preferredLanguage();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, state.pageRule];
  applyStaticText();
  loadJobs();
  wireEvents();
  if (sessionStorage.getItem(KEY_STORAGE)) {
    try {
      await loadPresets();
      await startStation();
    } catch (error) {
      signOut(error.status === 401 || error.status === 403 ? "signin.expired" : "signin.failed");
    }
  } else {
    showSignedIn(false);
  }
  document.body.dataset.ready = "true";
}

start();
