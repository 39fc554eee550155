// The OpenAPI description (src/web/openapi.json, served at /v2/openapi.json) kept honest: it
// lints as OpenAPI 3, it names every endpoint the router has, and real answers of every
// operation from a running server — successes and errors — match the documented statuses,
// content types, headers and schemas.

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

before(async () => {
  server = await startServer();
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
  const matches = Object.keys(doc.paths).filter((template) => {
    if (!doc.paths[template][method.toLowerCase()]) return false;
    const pattern = template.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(urlPath);
  });
  matches.sort((a, b) => (a.match(/\{/g) || []).length - (b.match(/\{/g) || []).length);
  return matches[0];
}

// Calls `urlPath` and checks the answer against the operation it falls under: status
// documented, content type documented, JSON body valid, required headers present.
async function check(method, urlPath, options = {}, wantStatus = 200) {
  const template = templateOf(method, urlPath);
  assert.ok(template, `${method} ${urlPath} is under no operation of the OpenAPI document`);
  const op = `${method} ${template}`;
  const operation = doc.paths[template][method.toLowerCase()];
  const response = await call(server, method, urlPath, options);
  const bytes = Buffer.from(await response.arrayBuffer());
  const where = `${method} ${urlPath} → ${response.status} ${bytes.subarray(0, 300)}`;
  assert.equal(response.status, wantStatus, where);
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
  if (response.status < 300) exercised.add(op);
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
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "delete", "patch"]) {
      if (item[method]) all.push(`${method.toUpperCase()} ${p}`);
    }
  }
  assert.deepEqual(all.filter((op) => !exercised.has(op)), []);
});
