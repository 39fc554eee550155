// The OpenAPI description (src/web/openapi.json, served at /v2/openapi.json) kept honest: it
// lints as OpenAPI 3, it names every endpoint the router has, and real answers of every
// operation from a running server — successes and errors — match the documented statuses,
// content types, headers and schemas. The server has asynchronous jobs on (a job database, one
// worker, at most two queued jobs) and a "slow" model whose jobs stay running for a while.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";

import { INFER_TOKEN, REPO_ROOT, call, simpleInferBody, startServer } from "./server.mjs";

const SOURCE = path.join(REPO_ROOT, "src", "web", "openapi.json");
const source = () => JSON.parse(fs.readFileSync(SOURCE, "utf8"));

let server;
let doc;  // dereferenced: no $ref left
const ajv = new Ajv({ allErrors: true });
ajv.addKeyword("example");
ajv.addFormat("binary", true);
const exercised = new Set();  // "GET /v2/models/{model}" operations answered 2xx
const exercisedStatus = new Set();  // "GET /v2/jobs/{id} 202": each 2xx answer seen
const ASYNC = { Prefer: "respond-async" };
const MAX_QUEUED_JOBS = 2;

before(async () => {
  server = await startServer({ jobs: true, maxQueuedJobs: MAX_QUEUED_JOBS, slowModel: true });
  doc = await SwaggerParser.dereference(source());
});

after(async () => {
  if (server && !(await server.stop())) {
    assert.fail(`inferd did not exit cleanly:\n${server.logTail()}`);
  }
});

// The document's path template that `urlPath` falls under: a literal path before one with
// parameters ("/v2/models/stats" is not model "stats").
function templateOf(method, urlPath) {
  urlPath = urlPath.split("?")[0];
  const matches = Object.keys(doc.paths).filter((template) => {
    if (!doc.paths[template][method.toLowerCase()]) return false;
    const pattern = template.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(urlPath);
  });
  matches.sort((a, b) => (a.match(/\{/g) || []).length - (b.match(/\{/g) || []).length);
  return matches[0];
}

// Calls `urlPath` and checks the answer against the operation it falls under: status
// documented, content type documented, JSON body valid, required headers present. `wantStatus`:
// one status or a list of the acceptable ones.
async function check(method, urlPath, options = {}, wantStatus = 200) {
  const template = templateOf(method, urlPath);
  assert.ok(template, `${method} ${urlPath} is under no operation of the OpenAPI document`);
  const op = `${method} ${template}`;
  const operation = doc.paths[template][method.toLowerCase()];
  const response = await call(server, method, urlPath, options);
  const bytes = Buffer.from(await response.arrayBuffer());
  const where = `${method} ${urlPath} → ${response.status} ${bytes.subarray(0, 300)}`;
  assert.ok([wantStatus].flat().includes(response.status), `${where}: want ${wantStatus}`);
  const documented = operation.responses[String(response.status)];
  assert.ok(documented, `${where}: status ${response.status} not documented for ${op}`);
  for (const [name, header] of Object.entries(documented.headers || {})) {
    if (header.required) assert.ok(response.headers.get(name), `${where}: no ${name} header`);
  }
  const contentType = (response.headers.get("content-type") || "").split(";")[0].trim();
  if (bytes.length === 0 && documented["x-body-optional"]) {
    // Documented as sometimes empty (a known model that is not ready answers a bare 400).
  } else if (!documented.content) {
    assert.equal(bytes.length, 0, `${where}: documented without a body`);
  } else {
    const media = documented.content[contentType];
    assert.ok(media, `${where}: content type '${contentType}' not documented ` +
                     `(${Object.keys(documented.content)})`);
    let body = null;
    if (contentType === "application/json") {
      body = JSON.parse(bytes.toString("utf8"));
    } else if (contentType === "application/octet-stream" &&
               response.headers.has("inference-header-content-length")) {
      // Binary tensor data: the JSON header at the front is an InferResponse.
      const n = Number(response.headers.get("inference-header-content-length"));
      body = JSON.parse(bytes.subarray(0, n).toString("utf8"));
      const json = documented.content["application/json"];
      assert.ok(ajv.validate(json.schema, body), `${where}: binary header: ${ajv.errorsText()}`);
      body = null;
    }
    if (body !== null) {
      assert.ok(ajv.validate(media.schema, body), `${where}: ${ajv.errorsText()}`);
    }
  }
  if (response.status < 300) {
    exercised.add(op);
    exercisedStatus.add(`${op} ${response.status}`);
  }
  return { response, bytes };
}

test("the document lints as OpenAPI 3 and is what the server serves", async () => {
  await SwaggerParser.validate(source());
  const served = await call(server, "GET", "/v2/openapi.json");
  assert.equal(served.status, 200);
  assert.deepEqual(await served.json(), source());
  const meta = await (await call(server, "GET", "/v2")).json();
  assert.equal(doc.info.version, meta.version, "info.version is the server's version");
});

test("every endpoint the router lists is in the document, and nothing else", () => {
  // src/http/router.h names each endpoint in a comment: "kX,  // GET, POST /v2/a[/b/{c}]/d".
  const header = fs.readFileSync(path.join(REPO_ROOT, "src", "http", "router.h"), "utf8");
  const fromRouter = new Set();
  const normal = (p) => p.replace(/\{[^}]*\}/g, "{}");
  const methodList = "((?:(?:GET|HEAD|POST|PUT|PATCH|DELETE)(?:,\\s*)?)+)";
  const pathList = "(\\/[^\\s,]*(?:,\\s*\\/[^\\s,]*)*)";
  const routeComment = new RegExp(`^\\s+k\\w+,\\s*//\\s*${methodList}\\s+${pathList}`);
  for (const line of header.split("\n")) {
    const m = line.match(routeComment);
    if (!m) continue;
    const methods = m[1].split(/,\s*/).filter(Boolean);
    for (let p of m[2].split(/,\s*/)) {
      p = p.replace(/\?.*$/, "");  // "/v2/jobs?page_token=..": the query is no path
      // An optional part "[...]" stands for two paths.
      const expansions = [p];
      while (expansions.some((e) => e.includes("["))) {
        const e = expansions.shift();
        if (!e.includes("[")) { expansions.push(e); continue; }
        expansions.push(e.replace(/\[([^\]]*)\]/, "$1"), e.replace(/\[[^\]]*\]/, ""));
      }
      for (const e of expansions) {
        for (const method of methods) fromRouter.add(`${method} ${normal(e)}`);
      }
    }
  }
  assert.ok(fromRouter.size > 30, `parsed only ${fromRouter.size} routes from router.h`);
  const fromDoc = new Set();
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "delete", "patch"]) {
      if (item[method]) fromDoc.add(`${method.toUpperCase()} ${normal(p)}`);
    }
  }
  const missing = (a, b) => [...a].filter((r) => !b.has(r)).sort();
  assert.deepEqual(missing(fromRouter, fromDoc), [], "routed but not documented");
  assert.deepEqual(missing(fromDoc, fromRouter), [], "documented but not routed");
});

test("health, metadata, config and statistics answers match their schemas", async () => {
  await check("GET", "/v2/health/live", { token: null });
  await check("GET", "/v2/health/ready", { token: null });
  await check("GET", "/v2", { token: INFER_TOKEN });
  await check("GET", "/v2/openapi.json", { token: INFER_TOKEN });
  await check("GET", "/v2/models/mlp");
  await check("GET", "/v2/models/simple/versions/2");
  await check("GET", "/v2/models/simple/ready", { token: null });
  await check("GET", "/v2/models/simple/versions/1/ready");
  await check("GET", "/v2/models/text_upper/config");
  await check("GET", "/v2/models/simple/versions/1/config");
  await check("POST", "/v2/models/simple/infer", { body: simpleInferBody() });
  await check("GET", "/v2/models/stats");
  await check("GET", "/v2/models/simple/stats");
  await check("GET", "/v2/models/simple/versions/1/stats");
  await check("GET", "/metrics", { token: INFER_TOKEN });
  await check("GET", "/console", { token: null });
  await check("GET", "/console/console.js", { token: null });
  await check("GET", "/console/console.css", { token: null });
});

test("inference answers match, JSON and binary", async () => {
  await check("POST", "/v2/models/simple/versions/2/infer",
              { body: simpleInferBody({ id: "req-7", parameters: { priority: 1 } }) });
  await check("POST", "/v2/models/mlp/infer", {
    body: { inputs: [{ name: "input", datatype: "FP32", shape: [1, 64],
                       data: new Array(64).fill(0.5) }],
            outputs: [{ name: "probabilities", parameters: { classification: 3 } }] },
  });
  // Binary tensor data extension, both ways.
  const header = Buffer.from(JSON.stringify({
    inputs: ["INPUT0", "INPUT1"].map((name) => ({
      name, datatype: "FP32", shape: [1, 16], parameters: { binary_data_size: 64 } })),
    parameters: { binary_data_output: true },
  }));
  const tensor = Buffer.from(new Float32Array(16).fill(2).buffer);
  const { response } = await check("POST", "/v2/models/simple/infer", {
    body: new Uint8Array(Buffer.concat([header, tensor, tensor])),
    headers: { "Inference-Header-Content-Length": String(header.length),
               "Content-Type": "application/octet-stream" },
  });
  assert.equal(response.headers.get("content-type"), "application/octet-stream");
});

// GET /v2/jobs/{id} until `done(answer)` holds, every answer checked (202 while queued or
// running, 200 once ended).
async function pollJob(location, done, { token } = {}) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const answer = await check("GET", location, token ? { token } : {}, [200, 202]);
    if (done(answer)) return answer;
    assert.ok(Date.now() < deadline, `${location} still ${answer.response.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const jobState = ({ response }) => response.headers.get("inferd-job-state");

test("asynchronous job answers match: submit, poll, results, cancel, list, full queue", async () => {
  // A slow job takes the one worker: answered 202 at once, then seen running (202).
  const submitted = await check("POST", "/v2/models/slow/infer",
                                { body: simpleInferBody(), headers: ASYNC }, 202);
  const slow = JSON.parse(submitted.bytes);
  assert.equal(submitted.response.headers.get("location"), `/v2/jobs/${slow.id}`);
  assert.equal(submitted.response.headers.get("preference-applied"), "respond-async");
  assert.equal(slow.state, "queued");
  const running = await pollJob(`/v2/jobs/${slow.id}`, (a) => jobState(a) === "running");
  assert.equal(running.response.status, 202);
  assert.equal(running.response.headers.get("retry-after"), "1");

  // While it runs, two more fill the queue and a third is refused (429).
  const header = Buffer.from(JSON.stringify({
    inputs: ["INPUT0", "INPUT1"].map((name) => ({
      name, datatype: "FP32", shape: [1, 16], parameters: { binary_data_size: 64 } })),
    parameters: { binary_data_output: true },
  }));
  const tensor = Buffer.from(new Float32Array(16).fill(2).buffer);
  const binary = JSON.parse((await check("POST", "/v2/models/simple/versions/2/infer", {
    body: new Uint8Array(Buffer.concat([header, tensor, tensor])),
    headers: { ...ASYNC, "Inference-Header-Content-Length": String(header.length),
               "Content-Type": "application/octet-stream" },
  }, 202)).bytes);
  assert.equal(binary.model_version, "2");
  const doomed = JSON.parse((await check("POST", "/v2/models/simple/infer",
                                         { body: simpleInferBody(), headers: ASYNC }, 202)).bytes);
  const full = await check("POST", "/v2/models/simple/infer",
                           { body: simpleInferBody(), headers: ASYNC }, 429);
  assert.match(JSON.parse(full.bytes).error, /queue is full/);

  // Cancel the queued one (200, cancelled), read it (200 with the error), remove it (204).
  const cancelled = await check("DELETE", `/v2/jobs/${doomed.id}`);
  assert.equal(JSON.parse(cancelled.bytes).state, "cancelled");
  assert.equal(jobState(cancelled), "cancelled");
  const read = await check("GET", `/v2/jobs/${doomed.id}`);
  assert.match(JSON.parse(read.bytes).error, /cancelled/);
  await check("DELETE", `/v2/jobs/${doomed.id}`, {}, 204);
  await check("GET", `/v2/jobs/${doomed.id}`, {}, 404);

  // The slow job's result is the v2 JSON response; the binary one's the binary extension.
  const slowDone = await pollJob(`/v2/jobs/${slow.id}`, (a) => a.response.status === 200);
  assert.equal(jobState(slowDone), "done");
  assert.equal(JSON.parse(slowDone.bytes).model_name, "slow");
  const binaryDone = await pollJob(`/v2/jobs/${binary.id}`, (a) => a.response.status === 200);
  assert.equal(binaryDone.response.headers.get("content-type"), "application/octet-stream");

  // A job on a model that does not exist is accepted and fails, saying why.
  const failing = JSON.parse((await check("POST", "/v2/models/no_such_model/infer",
                                          { body: simpleInferBody(), headers: ASYNC },
                                          202)).bytes);
  const failed = await pollJob(`/v2/jobs/${failing.id}`, (a) => a.response.status === 200);
  assert.equal(jobState(failed), "failed");
  assert.match(JSON.parse(failed.bytes).error, /no_such_model/);

  // The list, two pages of the admin token's three jobs, oldest first.
  const first = JSON.parse((await check("GET", "/v2/jobs?limit=2")).bytes);
  assert.ok(first.next_page_token, "a next_page_token after the first page");
  const second = JSON.parse((await check(
    "GET", `/v2/jobs?limit=2&page_token=${encodeURIComponent(first.next_page_token)}`)).bytes);
  assert.equal(second.next_page_token, undefined);
  assert.deepEqual([...first.jobs, ...second.jobs].map((j) => j.id),
                   [slow.id, binary.id, failing.id]);
  assert.deepEqual(JSON.parse((await check("GET", "/v2/jobs", { token: INFER_TOKEN })).bytes),
                   { jobs: [] }, "another token's jobs are not listed");

  // Errors: a bad limit, an unknown job, another token's job.
  await check("GET", "/v2/jobs?limit=0", {}, 400);
  await check("GET", "/v2/jobs/0123456789abcdef0123456789abcdef", {}, 404);
  await check("GET", `/v2/jobs/${slow.id}`, { token: INFER_TOKEN }, 404);
  await check("DELETE", `/v2/jobs/${slow.id}`, { token: INFER_TOKEN }, 404);
  await check("DELETE", `/v2/jobs/${slow.id}`, {}, 204);
});

test("repository, routing and rollback answers match", async () => {
  await check("POST", "/v2/repository/index", { body: {} });
  await check("POST", "/v2/repository/index", { body: { ready: true } });
  await check("POST", "/v2/repository/models/text_upper/unload");
  await check("GET", "/v2/models/text_upper/ready", { token: null }, 400);
  await check("POST", "/v2/repository/models/text_upper/load");
  await check("POST", "/v2/repository/models/simple/routing",
              { body: { policy: "weighted:1=80,2=20" } });
  const { bytes } = await check("POST", "/v2/repository/models/simple/rollback");
  assert.deepEqual(JSON.parse(bytes), { name: "simple", routing: "pinned:1" });
  await check("POST", "/v2/repository/models/simple/routing",
              { body: { policy: "latest" } });
});

test("logging, trace and shared memory answers match", async () => {
  await check("GET", "/v2/logging");
  await check("POST", "/v2/logging", { body: { log_level: "info" } });
  await check("GET", "/v2/trace/setting");
  await check("POST", "/v2/trace/setting", { body: { log_frequency: "0" } });
  await check("GET", "/v2/models/mlp/trace/setting");
  await check("POST", "/v2/models/mlp/trace/setting",
              { body: { trace_rate: null } });

  const key = `/inferd-openapi-${process.pid}`;
  fs.writeFileSync(`/dev/shm${key}`, Buffer.alloc(256));
  try {
    await check("POST", "/v2/systemsharedmemory/region/r1/register",
                { body: { key, offset: 0, byte_size: 128 } });
    await check("GET", "/v2/systemsharedmemory/status");
    const { bytes } = await check("GET", "/v2/systemsharedmemory/region/r1/status");
    assert.deepEqual(JSON.parse(bytes), [{ name: "r1", key, offset: 0, byte_size: 128 }]);
    await check("POST", "/v2/systemsharedmemory/region/r1/unregister");
    await check("POST", "/v2/systemsharedmemory/unregister");
  } finally {
    fs.rmSync(`/dev/shm${key}`, { force: true });
  }
});

test("error answers match: 400, 401, 403, 404", async () => {
  await check("GET", "/v2", { token: null }, 401);
  await check("GET", "/v2", { token: "not-a-token" }, 401);
  await check("POST", "/v2/repository/index", { token: INFER_TOKEN, body: {} },
              403);
  await check("POST", "/v2/repository/models/mlp/unload",
              { token: INFER_TOKEN }, 403);
  await check("GET", "/v2/models/no_such_model", {}, 404);
  await check("GET", "/v2/models/simple/versions/9/stats", {}, 404);
  await check("POST", "/v2/models/simple/infer",
              { body: { inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 3],
                                   data: [1] }] } }, 400);
  await check("POST", "/v2/repository/models/simple/routing",
              { body: { policy: "pinned:9" } }, 400);
  await check("POST", "/v2/logging", { body: { log_level: "loud" } }, 400);
  await check("GET", "/v2/systemsharedmemory/region/nope/status", {}, 404);
  await check("GET", "/console/nope.js", { token: null }, 404);
  assert.equal((await call(server, "GET", "/v2/models/simple/infer")).status, 405);
});

test("every documented operation was exercised with a success", () => {
  const all = [];
  const successes = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "delete", "patch"]) {
      if (!item[method]) continue;
      all.push(`${method.toUpperCase()} ${p}`);
      for (const status of Object.keys(item[method].responses)) {
        if (status.startsWith("2")) successes.push(`${method.toUpperCase()} ${p} ${status}`);
      }
    }
  }
  assert.deepEqual(all.filter((op) => !exercised.has(op)), []);
  // Every documented success answer too (an infer's 202, a job's 200 and 202, DELETE's 204).
  assert.deepEqual(successes.filter((s) => !exercisedStatus.has(s)), []);
});
