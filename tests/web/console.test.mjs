// The web console (/console) in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download) against a real server with tokens on: the page loads
// and lists the example models, an admin token sets canary weights, the admin's asynchronous
// jobs are listed (the server has a job database), the throughput chart of both versions moves
// under load, the admin rolls back and unloads/loads a model, and an infer token is refused and
// sees none of the admin's jobs.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { ADMIN_TOKEN, INFER_TOKEN, call, simpleInferBody, startServer } from "./server.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
// Where the screenshot for docs/console.md goes (docs/console.png when refreshing the docs).
const SCREENSHOT = process.env.CONSOLE_SCREENSHOT || path.join(os.tmpdir(), "inferd-console.png");
const WAIT_MS = 10000;

let server;
let browser;
let page;
const pageErrors = [];  // uncaught script errors in the console page

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM),
            `${CHROMIUM} not found: install Debian's chromium (scripts/install-deps.sh)`);
  server = await startServer({ jobs: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
                                    args: ["--no-sandbox", "--disable-gpu"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  // Poll the statistics fast, so the test needs seconds, not minutes.
  await page.goto(`${server.url}/console?interval=300`);
});

after(async () => {
  if (browser) await browser.close();
  if (server && !(await server.stop())) {
    assert.fail(`inferd did not exit cleanly:\n${server.logTail()}`);
  }
});

async function useToken(token) {
  await page.fill("#token", token);
  await page.click("#token-use");
}

async function bannerSays(pattern) {
  await page.waitForFunction((source) => new RegExp(source).test(
    document.getElementById("banner").textContent), pattern.source, { timeout: WAIT_MS });
}

const readiness = async (model) =>
  (await call(server, "GET", `/v2/models/${model}/ready`, { token: null })).status;

const stateOf = (model, version) =>
  page.locator(`tbody[data-model="${model}"] tr[data-version="${version}"] [data-state]`);

test("the page loads without a token and asks for one", async () => {
  await page.waitForSelector("#models-note:not([hidden])", { timeout: WAIT_MS });
  assert.match(await page.textContent("#models-note"), /401/);
  assert.match(await page.title(), /inferd/);
});

test("with an admin token it shows the example models, versions, states and routing", async () => {
  await useToken(ADMIN_TOKEN);
  for (const model of ["simple", "mlp", "text_upper"]) {
    await stateOf(model, "1").waitFor({ timeout: WAIT_MS });
    assert.equal(await stateOf(model, "1").getAttribute("data-state"), "READY");
  }
  assert.equal(await stateOf("simple", "2").getAttribute("data-state"), "READY");
  assert.equal(await page.textContent('td.routing[data-model="simple"] code'), "latest");
  assert.match(await page.textContent("#server-info"), /^inferd /);
});

test("an admin sets canary weights", async () => {
  await page.fill('input[data-role="policy"][data-model="simple"]', "weighted:1=70,2=30");
  await page.click('button[data-action="routing"][data-model="simple"]');
  await bannerSays(/Set routing simple: done: routing weighted:1=70,2=30/);
  const index = await (await call(server, "POST", "/v2/repository/index", { body: {} })).json();
  assert.equal(index.find((e) => e.name === "simple").routing, "weighted:1=70,2=30");
  assert.equal(await page.locator('td.routing[data-model="simple"] .weights span').count(), 2);
});

// Submits an asynchronous job with the admin token and waits until it has ended.
async function finishedJob(model) {
  const r = await call(server, "POST", `/v2/models/${model}/infer`,
                       { body: simpleInferBody(), headers: { Prefer: "respond-async" } });
  assert.equal(r.status, 202, await r.clone().text());
  const job = await r.json();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const answer = await call(server, "GET", `/v2/jobs/${job.id}`);
    await answer.arrayBuffer();
    if (answer.status === 200) return { id: job.id, state: answer.headers.get("inferd-job-state") };
    assert.ok(Date.now() < deadline, `job ${job.id} still ${answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("the admin's jobs are listed with model, state, time and error", async () => {
  const done = await finishedJob("simple");
  assert.equal(done.state, "done");
  const failed = await finishedJob("no_such_model");
  assert.equal(failed.state, "failed");
  await useToken(ADMIN_TOKEN);  // refreshes the list now rather than within 5 s
  const row = (id) => page.locator(`#jobs tr[data-job="${id}"]`);
  await row(failed.id).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getAttribute("#jobs", "data-state"), "listed");
  assert.equal(await row(done.id).locator('[data-role="model"]').textContent(), "simple");
  assert.equal(await row(done.id).locator("[data-state]").getAttribute("data-state"), "done");
  assert.equal(await row(failed.id).locator("[data-state]").getAttribute("data-state"), "failed");
  assert.match(await row(failed.id).locator('[data-role="error"]').textContent(), /no_such_model/);
  assert.notEqual((await row(done.id).locator("td").nth(3).textContent()).trim(), "");
  // Newest first.
  assert.equal(await page.getAttribute("#jobs tbody tr:first-child", "data-job"), failed.id);
});

test("the throughput and latency charts follow load", async () => {
  let stop = false;
  const load = (async () => {
    let n = 0;
    while (!stop) {
      const r = await call(server, "POST", "/v2/models/simple/infer", { token: INFER_TOKEN,
                                                                      body: simpleInferBody() });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      n++;
    }
    return n;
  })();
  try {
    await page.waitForFunction(() => {
      const t = document.getElementById("throughput-chart").dataset;
      const l = document.getElementById("latency-chart").dataset;
      return Number(t.latest) > 0 && Number(l.latest) > 0;
    }, null, { timeout: WAIT_MS });
    // Under the canary weights both versions of simple answer: both lines rise (over a few
    // samples, so that the screenshot shows lines).
    await page.waitForFunction(() => ["simple v1", "simple v2"].every((series) => {
      const line = document.querySelector(`#throughput-chart polyline[data-series="${series}"]`);
      const points = line ? line.getAttribute("points").split(" ") : [];
      const ys = points.map((p) => Number(p.split(",")[1]));
      return ys.filter((y) => y < 180).length >= 5;  // 180: the zero line
    }), null, { timeout: WAIT_MS });
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  } finally {
    stop = true;
  }
  assert.ok((await load) > 0);
  const rate = Number(await page.getAttribute("#throughput-chart", "data-latest"));
  assert.ok(rate > 0, `throughput ${rate}`);
  assert.ok(await page.isVisible('#legend li[data-series="simple v1"]'));
  assert.ok(await page.isVisible('#legend li[data-series="simple v2"]'));
});

test("an admin rolls back, unloads and loads a model", async () => {
  await page.click('button[data-action="rollback"][data-model="simple"]');
  await page.waitForFunction(() => document.querySelector('td.routing[data-model="simple"] code')
    ?.textContent === "pinned:1", null, { timeout: WAIT_MS });

  await page.click('button[data-action="unload"][data-model="text_upper"]');
  await page.waitForFunction(() => {
    const s = document.querySelector('tbody[data-model="text_upper"] [data-state]');
    return s && s.dataset.state !== "READY";
  }, null, { timeout: WAIT_MS });
  assert.equal(await readiness("text_upper"), 400);
  await page.click('button[data-action="load"][data-model="text_upper"]');
  await page.waitForFunction(() => document.querySelector(
    'tbody[data-model="text_upper"] [data-state]')?.dataset.state === "READY", null,
  { timeout: WAIT_MS });
  assert.equal(await readiness("text_upper"), 200);
});

test("an infer token sees the loaded models but its admin actions are refused", async () => {
  await useToken(INFER_TOKEN);
  await page.waitForSelector("#models-note:not([hidden])", { timeout: WAIT_MS });
  assert.match(await page.textContent("#models-note"), /admin token/);
  await stateOf("mlp", "1").waitFor({ timeout: WAIT_MS });
  await page.click('button[data-action="unload"][data-model="mlp"]');
  await bannerSays(/Unload mlp: refused \(403\)/);
  assert.equal(await page.getAttribute("#banner", "class"), "error");
  assert.equal(await readiness("mlp"), 200);
  // Jobs belong to the token that made them: this one has none.
  await page.waitForFunction(() => document.getElementById("jobs").textContent === "no jobs",
                             null, { timeout: WAIT_MS });
});

test("the page raised no script errors", () => {
  assert.deepEqual(pageErrors, []);
});
