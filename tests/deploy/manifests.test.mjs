// deploy/k8s validated offline (node --test): every object against its schema, then the
// properties that tie the manifests to inferd and to each other (drain timing, probes, flags).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadManifests, REPO_ROOT, validateObject } from "./validate.mjs";

const K8S = path.join(REPO_ROOT, "deploy", "k8s");

function yamlFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return e.name.endsWith(".yaml") ? [p] : [];
  });
}

const objects = yamlFiles(K8S).flatMap((file) =>
  loadManifests(file).map((obj) => ({ file: path.relative(REPO_ROOT, file), obj })));

function find(apiVersion, kind) {
  const hit = objects.find(({ obj }) => obj.apiVersion === apiVersion && obj.kind === kind);
  assert.ok(hit, `no ${apiVersion} ${kind} in deploy/k8s`);
  return hit.obj;
}

// The inferd container of a pod spec and its --flag=value arguments.
function inferd(podSpec) {
  const c = podSpec.containers[0];
  const flags = Object.fromEntries(c.args.filter((a) => a.startsWith("--")).map((a) => {
    const [k, ...v] = a.split("=");
    return [k, v.join("=")];
  }));
  return { container: c, flags };
}

test("deploy/k8s holds every manifest kind of the deployment patterns", () => {
  const kinds = objects.map(({ obj }) => `${obj.apiVersion} ${obj.kind}`).sort();
  assert.deepEqual(kinds, [
    "apps/v1 Deployment", "autoscaling/v2 HorizontalPodAutoscaler", "batch/v1 Job",
    "keda.sh/v1alpha1 ScaledObject",
    "policy/v1 PodDisruptionBudget", "serving.knative.dev/v1 Service",
    "serving.kserve.io/v1alpha1 ClusterServingRuntime",
    "serving.kserve.io/v1beta1 InferenceService",
    "v1 Service"]);
});

for (const { file, obj } of objects) {
  test(`${file}: ${obj.kind} ${obj.metadata?.name} is valid`, async () => {
    assert.deepEqual(await validateObject(obj), []);
  });
}

test("the validators reject a misspelled KServe field, a wrong type and an unknown kind",
  async () => {
    const isvc = structuredClone(find("serving.kserve.io/v1beta1", "InferenceService"));
    isvc.spec.predictor.canaryTrafficPercentage = isvc.spec.predictor.canaryTrafficPercent;
    assert.match((await validateObject(isvc)).join(), /canaryTrafficPercentage/);
    const deployment = structuredClone(find("apps/v1", "Deployment"));
    deployment.spec.replicas = "three";
    assert.match((await validateObject(deployment)).join(), /replicas must be integer/);
    const ksvc = structuredClone(find("serving.knative.dev/v1", "Service"));
    ksvc.spec.template.spec.containerConcurrency = "many";
    assert.notDeepEqual(await validateObject(ksvc), []);
    assert.notDeepEqual(await validateObject({ apiVersion: "example.com/v1", kind: "Thing" }), []);
  });

test("the Deployment's grace period covers preStop, the drain grace and the drain timeout", () => {
  const spec = find("apps/v1", "Deployment").spec.template.spec;
  const { container, flags } = inferd(spec);
  const preStop = Number(container.lifecycle.preStop.exec.command.at(-1));
  const needed = preStop + Number(flags["--drain-grace-secs"]) +
    Number(flags["--drain-timeout-secs"]);
  assert.ok(spec.terminationGracePeriodSeconds > needed,
    `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} <= ${needed}`);
  // The readiness probe must see the drain within the grace: period x failures.
  const probe = container.readinessProbe;
  assert.ok(probe.periodSeconds * probe.failureThreshold < Number(flags["--drain-grace-secs"]));
});

test("every inferd container probes the v2 health endpoints", () => {
  const specs = [find("apps/v1", "Deployment").spec.template.spec,
    find("serving.kserve.io/v1alpha1", "ClusterServingRuntime").spec,
    find("serving.knative.dev/v1", "Service").spec.template.spec];
  for (const spec of specs) {
    const { container } = inferd(spec);
    assert.equal(container.readinessProbe.httpGet.path, "/v2/health/ready");
    assert.equal(container.livenessProbe.httpGet.path, "/v2/health/live");
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
  }
});

test("Service, PDB, HPA and ScaledObject point at the Deployment and its ports", () => {
  const deployment = find("apps/v1", "Deployment");
  const labels = deployment.spec.template.metadata.labels;
  const { container } = inferd(deployment.spec.template.spec);
  const portNames = container.ports.map((p) => p.name);
  const service = find("v1", "Service");
  assert.deepEqual(service.spec.selector, labels);
  for (const p of service.spec.ports) assert.ok(portNames.includes(p.targetPort), p.targetPort);
  assert.deepEqual(find("policy/v1", "PodDisruptionBudget").spec.selector.matchLabels, labels);
  for (const scaler of [find("autoscaling/v2", "HorizontalPodAutoscaler"),
    find("keda.sh/v1alpha1", "ScaledObject")]) {
    assert.equal(scaler.spec.scaleTargetRef.name, deployment.metadata.name);
  }
  const trigger = find("keda.sh/v1alpha1", "ScaledObject").spec.triggers[0];
  assert.match(trigger.metadata.query, /nv_inference_pending_request_count/);
});

test("KServe: an onnx v2 REST+gRPC runtime on /mnt/models, and a canary that uses it", () => {
  const runtime = find("serving.kserve.io/v1alpha1", "ClusterServingRuntime");
  assert.deepEqual(runtime.spec.supportedModelFormats.map((f) => f.name), ["onnx"]);
  assert.deepEqual(runtime.spec.protocolVersions, ["v2", "grpc-v2"]);
  const { flags } = inferd(runtime.spec);
  assert.equal(flags["--model-repository"], "/mnt/models");
  assert.equal(flags["--http-port"], "8080");
  const predictor = find("serving.kserve.io/v1beta1", "InferenceService").spec.predictor;
  assert.equal(predictor.model.runtime, runtime.metadata.name);
  assert.ok(predictor.canaryTrafficPercent > 0 && predictor.canaryTrafficPercent < 100);
  const drain = Number(flags["--drain-grace-secs"]) + Number(flags["--drain-timeout-secs"]);
  assert.ok(predictor.terminationGracePeriodSeconds > drain,
    `terminationGracePeriodSeconds ${predictor.terminationGracePeriodSeconds} <= ${drain}`);
});

test("Knative: scales to zero, with a request timeout above inferd's cold start", () => {
  const template = find("serving.knative.dev/v1", "Service").spec.template;
  assert.equal(template.metadata.annotations["autoscaling.knative.dev/min-scale"], "0");
  assert.ok(template.spec.timeoutSeconds >= 10);
  assert.equal(template.spec.containers[0].ports.length, 1);
});

test("every inferd flag in the manifests is one its subcommand accepts", (t) => {
  const bin = process.env.INFERD_BIN;
  if (!bin) return t.skip("INFERD_BIN not set (CTest sets it)");
  for (const { file, obj } of objects) {
    const spec = obj.spec?.template?.spec ?? obj.spec;
    if (!spec?.containers) continue;
    const { container, flags } = inferd(spec);
    const subcommand = container.args[0];
    const help = execFileSync(bin, [subcommand, "--help"], { encoding: "utf8" });
    const offered = new Set(help.match(/--[a-z][a-z0-9-]*/g));
    for (const flag of Object.keys(flags)) {
      assert.ok(offered.has(flag), `${file}: inferd ${subcommand} has no ${flag}`);
    }
  }
});

test("the predict Job: one shard per index, N = completions, a part and checkpoint each", () => {
  const job = find("batch/v1", "Job");
  assert.equal(job.spec.completionMode, "Indexed");
  assert.equal(job.spec.parallelism, job.spec.completions);
  const { container, flags } = inferd(job.spec.template.spec);
  assert.equal(container.args[0], "predict");
  assert.equal(flags["--shard"], `$(JOB_COMPLETION_INDEX)/${job.spec.completions}`);
  assert.match(flags["--output"], /\$\(JOB_COMPLETION_INDEX\)/);
  const index = container.env.find((e) => e.name === "JOB_COMPLETION_INDEX");
  assert.match(index.valueFrom.fieldRef.fieldPath, /job-completion-index/);
});
