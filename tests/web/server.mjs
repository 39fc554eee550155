// A real `inferd serve` for the web tests: the example models (simple with a second version,
// for canary routing) in a temporary repository, bearer tokens on, on a free loopback port;
// optionally with asynchronous jobs (a job database in the temporary folder).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ADMIN_TOKEN = "web-test-admin-token";
export const INFER_TOKEN = "web-test-infer-token";
const STARTUP_TIMEOUT_MS = 30000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// examples/models' simple, mlp and text_upper; simple gets a version 2 (the same graph) and a
// policy that serves both versions. With `slowModel`, also "slow": simple's graph behind a
// 500 ms batching delay that it always waits out (no early dispatch), so that a job stays
// running long enough to be seen running.
function makeRepository(dir, { slowModel = false } = {}) {
  const examples = path.join(REPO_ROOT, "examples", "models");
  const models = path.join(dir, "models");
  for (const name of ["simple", "mlp", "text_upper"]) {
    fs.cpSync(path.join(examples, name), path.join(models, name), { recursive: true });
  }
  const simple = path.join(models, "simple");
  fs.mkdirSync(path.join(simple, "2"));
  fs.copyFileSync(path.join(simple, "1", "model.onnx"), path.join(simple, "2", "model.onnx"));
  fs.appendFileSync(path.join(simple, "config.pbtxt"), "version_policy: { all { } }\n");
  if (slowModel) {
    const slow = path.join(models, "slow");
    fs.mkdirSync(path.join(slow, "1"), { recursive: true });
    fs.copyFileSync(path.join(simple, "1", "model.onnx"), path.join(slow, "1", "model.onnx"));
    const config = fs.readFileSync(path.join(examples, "simple", "config.pbtxt"), "utf8")
      .replace('name: "simple"', 'name: "slow"');
    fs.writeFileSync(path.join(slow, "config.pbtxt"), config +
      "dynamic_batching { max_queue_delay_microseconds: 500000 }\n" +
      'parameters { key: "early_dispatch" value { string_value: "false" } }\n');
  }
  return models;
}

// `jobs`: start with --jobs-db (one worker, at most `maxQueuedJobs` queued jobs); `slowModel`:
// see makeRepository.
export async function startServer({ jobs = false, maxQueuedJobs = 1000, slowModel = false } = {}) {
  const binary = process.env.INFERD_BIN ||
                 path.join(REPO_ROOT, "build", "apps", "inferd", "inferd");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inferd-web-"));
  const repository = makeRepository(dir, { slowModel });
  const tokens = path.join(dir, "tokens");
  fs.writeFileSync(tokens, `${ADMIN_TOKEN} admin\n${INFER_TOKEN} infer\n`);
  const port = await freePort();
  const log = fs.openSync(path.join(dir, "inferd.log"), "w");
  const proc = spawn(binary, [
    "serve", "--model-repository", repository, "--host", "127.0.0.1", "--http-port", String(port),
    "--grpc-port", "0", "--model-control-mode", "explicit", "--load-model", "*",
    "--auth-token-file", tokens,
    ...(jobs ? ["--jobs-db", path.join(dir, "jobs.db"), "--jobs-workers", "1",
                "--jobs-max-queued", String(maxQueuedJobs)] : []),
  ], { stdio: ["ignore", log, log] });
  const logTail = () =>
    fs.readFileSync(path.join(dir, "inferd.log"), "utf8").split("\n").slice(-30).join("\n");
  let exited = null;
  proc.on("exit", (code, signal) => { exited = { code, signal }; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new Error(`inferd exited during start-up (${JSON.stringify(exited)}):\n${logTail()}`);
    }
    try {
      const r = await fetch(`${url}/v2/health/ready`);
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`inferd not ready within ${STARTUP_TIMEOUT_MS} ms:\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    logTail,
    // SIGTERM and wait; the exit must be clean (0).
    async stop() {
      if (!exited) {
        const done = new Promise((resolve) => proc.once("exit", resolve));
        proc.kill("SIGTERM");
        await done;
      }
      fs.closeSync(log);
      const clean = exited && exited.code === 0;
      if (clean) fs.rmSync(dir, { recursive: true, force: true });
      return clean;
    },
  };
}

// fetch with the admin token unless `token` says otherwise (null: none).
export function call(server, method, urlPath, { body, token = ADMIN_TOKEN, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    if (body instanceof Uint8Array) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  return fetch(server.url + urlPath, init);
}

// Sixteen FP32 values for simple's INPUT0 and INPUT1.
export function simpleInferBody(extra = {}) {
  const data = Array.from({ length: 16 }, (_, i) => i);
  return {
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [1, 16], data },
      { name: "INPUT1", datatype: "FP32", shape: [1, 16], data },
    ],
    ...extra,
  };
}
