// inferd web console: models and their versions, states and routing (POST /v2/repository/index,
// or the loaded versions from statistics when the token may not read the index), live
// throughput and latency from GET /v2/models/stats, the job list (GET /v2/jobs, when the server
// offers jobs), and with an admin token: load, unload, canary weights and rollback.

import { Api, parseRouting } from "./api.js";
import { Colors, LineChart } from "./charts.js";

const params = new URLSearchParams(location.search);
const STATS_INTERVAL_MS = Math.max(200, Number(params.get("interval")) || 1000);
const INDEX_INTERVAL_MS = 3000;
const JOBS_INTERVAL_MS = 5000;
const WINDOW = 60;  // samples per chart

const api = new Api();
const colors = new Colors();
const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}

function banner(message, kind) {
  const b = $("banner");
  b.textContent = message;
  b.className = kind;
  b.hidden = !message;
}

function describeRefusal(what, answer) {
  if (answer.status === 401) return `${what}: a token is needed (401): ${answer.error}`;
  if (answer.status === 403) return `${what}: refused (403): ${answer.error}`;
  return `${what} failed (${answer.status}): ${answer.error}`;
}

// ---- models ---------------------------------------------------------------------------------

function formatBytes(n) {
  if (n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// The policy and, for weights or a pin, a bar of each version's share in its chart colour.
function routingCell(model, policy) {
  const cell = el("td", { class: "routing", "data-model": model },
                  el("code", { "data-role": "routing" }, policy || "—"));
  const weights = parseRouting(policy);
  const total = weights.reduce((s, w) => s + w.weight, 0);
  if (total > 0) {
    const bar = el("div", { class: "weights", title: policy });
    for (const w of weights) {
      const part = el("span", { title: `v${w.version}: ${Math.round((100 * w.weight) / total)}%` });
      part.style.width = `${(100 * w.weight) / total}%`;
      part.style.background = colors.of(`${model} v${w.version}`);
      bar.append(part);
    }
    cell.append(bar);
  }
  return cell;
}

function adminCell(model, policy) {
  const policyInput = el("input", { value: policy || "", placeholder: "weighted:1=90,2=10",
                                    "data-model": model, "data-role": "policy" });
  const button = (action, label, run) => {
    const b = el("button", { type: "button", "data-action": action, "data-model": model }, label);
    b.addEventListener("click", () => adminAction(`${label} ${model}`, run));
    return b;
  };
  return el("td", { class: "admin-cell" }, el("div", { class: "admin" },
    button("load", "Load", () => api.load(model)),
    button("unload", "Unload", () => api.unload(model)),
    button("rollback", "Rollback", () => api.rollback(model)),
    policyInput,
    button("routing", "Set routing", () => api.setRouting(model, policyInput.value.trim()))));
}

async function adminAction(what, run) {
  banner(`${what}…`, "");
  const answer = await run();
  if (answer.ok) {
    const routing = answer.data && answer.data.routing ? `: routing ${answer.data.routing}` : "";
    banner(`${what}: done${routing}`, "ok");
  } else {
    banner(describeRefusal(what, answer), "error");
  }
  refreshModels(true);
}

// entries: [{name, version?, state, reason, routing?, load_seconds?, memory_bytes?}]
function renderModels(entries) {
  const table = $("models");
  for (const body of [...table.tBodies]) body.remove();
  const byModel = new Map();
  for (const e of entries) {
    if (!byModel.has(e.name)) byModel.set(e.name, []);
    byModel.get(e.name).push(e);
  }
  for (const [name, versions] of byModel) {
    const body = el("tbody", { class: "model", "data-model": name });
    const policy = versions.find((v) => v.routing)?.routing || "";
    versions.forEach((v, i) => {
      const state = v.state || "not loaded";
      const row = el("tr", { "data-version": v.version || "" });
      if (i === 0) row.append(el("td", { class: "name", rowSpan: versions.length }, name));
      row.append(
        el("td", {}, v.version ?? "—"),
        el("td", {}, el("span", { class: `state state-${v.state}`, "data-state": state }, state),
           v.reason ? el("span", { class: "reason" }, v.reason) : ""),
        el("td", {}, v.load_seconds !== undefined ? `${v.load_seconds.toFixed(2)} s` : ""),
        el("td", {}, formatBytes(v.memory_bytes)));
      if (i === 0) {
        const routing = routingCell(name, policy);
        routing.rowSpan = versions.length;
        row.append(routing);
        const admin = adminCell(name, policy);
        admin.rowSpan = versions.length;
        row.append(admin);
      }
      body.append(row);
    });
    table.append(body);
  }
}

// Skipped while the user edits a routing policy in the table, unless `force`d (after an action).
async function refreshModels(force = false) {
  const focused = document.activeElement;
  if (!force && focused && focused.tagName === "INPUT" && $("models").contains(focused)) return;
  const note = $("models-note");
  const index = await api.repositoryIndex();
  if (index.ok) {
    note.hidden = true;
    renderModels(index.data);
    return;
  }
  // An infer token may not read the index (admin only): list the loaded versions instead.
  const stats = await api.statistics();
  if (stats.ok) {
    note.textContent = "The repository index needs an admin token; showing the loaded versions " +
                       "from statistics. Admin actions will be refused.";
    note.hidden = false;
    renderModels(stats.data.model_stats.map((s) => ({ name: s.name, version: s.version,
                                                      state: "READY", reason: "" })));
    return;
  }
  note.textContent = describeRefusal("Listing models", stats);
  note.hidden = false;
  renderModels([]);
}

// ---- live charts ----------------------------------------------------------------------------

const throughputChart = new LineChart($("throughput-chart"), WINDOW, colors);
const latencyChart = new LineChart($("latency-chart"), WINDOW, colors);
const history = new Map();  // "name v1" → {rate: [], latency: []}
let previous = null;         // {time, counts: Map key → {count, ns}}

function push(values, v) {
  values.push(v);
  if (values.length > WINDOW) values.shift();
}

async function sampleStatistics() {
  const answer = await api.statistics();
  if (!answer.ok) return;
  const now = performance.now();
  const counts = new Map();
  for (const s of answer.data.model_stats) {
    const success = s.inference_stats.success;
    counts.set(`${s.name} v${s.version}`, { count: success.count, ns: success.ns });
  }
  if (previous) {
    const seconds = (now - previous.time) / 1000;
    for (const [key, c] of counts) {
      const before = previous.counts.get(key) || { count: 0, ns: 0 };
      const requests = Math.max(0, c.count - before.count);
      if (!history.has(key)) history.set(key, { rate: [], latency: [] });
      const h = history.get(key);
      push(h.rate, requests / seconds);
      push(h.latency, requests > 0 ? (c.ns - before.ns) / requests / 1e6 : null);
    }
    for (const [key, h] of history) {
      if (!counts.has(key)) { push(h.rate, null); push(h.latency, null); }
    }
    drawCharts();
  }
  previous = { time: now, counts };
}

function drawCharts() {
  const rates = new Map();
  const latencies = new Map();
  for (const [key, h] of history) {
    if (h.rate.every((v) => v === null)) { history.delete(key); continue; }
    rates.set(key, h.rate);
    latencies.set(key, h.latency);
  }
  throughputChart.draw(rates);
  latencyChart.draw(latencies);
  const legend = $("legend");
  legend.replaceChildren(...[...rates.keys()].map((key) => {
    const item = el("li", { "data-series": key }, key);
    item.style.setProperty("--swatch", colors.of(key));
    return item;
  }));
}

// ---- jobs -----------------------------------------------------------------------------------

// GET /v2/jobs answers {"jobs": [...], "next_page_token"}, oldest first (docs/http-api.md). The
// panel reads up to JOB_PAGES pages and shows the newest JOBS_SHOWN jobs, newest first.
const JOB_PAGE_SIZE = 200;
const JOB_PAGES = 5;
const JOBS_SHOWN = 50;

async function listJobs() {
  const jobs = [];
  let pageToken = "";
  for (let page = 0; page < JOB_PAGES; page++) {
    const answer = await api.jobs(JOB_PAGE_SIZE, pageToken);
    if (!answer.ok) return { answer, jobs };
    jobs.push(...answer.data.jobs);
    pageToken = answer.data.next_page_token;
    if (!pageToken) return { answer, jobs, complete: true };
  }
  return { answer: null, jobs, complete: false };
}

const formatTime = (ms) => (ms ? new Date(ms).toLocaleString() : "");

function jobDuration(job) {
  if (!job.started_unix_ms) return "";
  const ms = (job.finished_unix_ms || Date.now()) - job.started_unix_ms;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

async function refreshJobs() {
  const box = $("jobs");
  const { answer, jobs, complete } = await listJobs();
  if (answer && answer.status === 404) {
    box.textContent = "jobs not enabled on this server";
    box.dataset.state = "disabled";
    return;
  }
  if (answer && !answer.ok) {
    box.textContent = describeRefusal("Listing jobs", answer);
    box.dataset.state = "error";
    return;
  }
  box.dataset.state = "listed";
  if (jobs.length === 0) {
    box.textContent = "no jobs";
    return;
  }
  const shown = jobs.slice(-JOBS_SHOWN).reverse();
  const table = el("table", { id: "jobs-table" },
    el("thead", {}, el("tr", {}, ...["job", "model", "state", "created", "ran", "error"].map(
      (h) => el("th", {}, h)))));
  const body = el("tbody");
  for (const job of shown) {
    const model = job.model_version ? `${job.model_name} v${job.model_version}` : job.model_name;
    body.append(el("tr", { "data-job": job.id },
      el("td", {}, el("code", {}, job.id)),
      el("td", { "data-role": "model" }, model),
      el("td", { class: `job-${job.state}`, "data-state": job.state }, job.state),
      el("td", { title: `attempts: ${job.attempts}` }, formatTime(job.created_unix_ms)),
      el("td", {}, jobDuration(job)),
      el("td", { class: "job-error", "data-role": "error" }, job.error || "")));
  }
  table.append(body);
  const note = jobs.length > shown.length || !complete
    ? [el("p", { class: "muted" }, `newest ${shown.length} of ${jobs.length}` +
          (complete ? "" : ` (only the oldest ${jobs.length} read)`))]
    : [];
  box.replaceChildren(table, ...note);
}

// ---- start ----------------------------------------------------------------------------------

function every(ms, task) {
  const loop = async () => {
    try { await task(); } catch (e) { console.error(e); }
    setTimeout(loop, ms);
  };
  loop();
}

async function showServer() {
  const meta = await api.serverMetadata();
  $("server-info").textContent = meta.ok
    ? `${meta.data.name} ${meta.data.version}`
    : describeRefusal("Server metadata", meta);
}

$("token").value = api.token;
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  api.setToken($("token").value);
  banner(api.token ? "token set" : "no token", "ok");
  showServer();
  refreshModels(true);
  refreshJobs();
});
$("token-forget").addEventListener("click", () => {
  $("token").value = "";
  api.setToken("");
  banner("token forgotten", "ok");
  refreshModels(true);
});
$("live-interval").textContent = `every ${STATS_INTERVAL_MS / 1000} s`;

showServer();
every(INDEX_INTERVAL_MS, refreshModels);
every(STATS_INTERVAL_MS, sampleStatistics);
every(JOBS_INTERVAL_MS, refreshJobs);
