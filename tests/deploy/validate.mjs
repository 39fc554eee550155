// Offline validation of Kubernetes manifests, for deploy/k8s (manifests.test.mjs).
//
// Built-in Kubernetes kinds, KEDA and Knative objects are checked with the @kubernetes-models
// packages (types, required fields, enums; they accept unknown fields). KServe objects are checked
// against the openAPIV3Schema of KServe's own CRDs (INFERD_KSERVE_CRDS, default
// ../shared/kserve-crds next to the repository), made strict: an object schema that lists its
// properties rejects any other, as `kubectl apply --validate=strict` does.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "..", "..");
export const CRD_DIR =
  process.env.INFERD_KSERVE_CRDS ?? path.resolve(REPO_ROOT, "..", "shared", "kserve-crds");

// The objects of every YAML document in `file`.
export function loadManifests(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS();
    })
    .filter((obj) => obj != null);
}

// The module that models `apiVersion`/`kind` in the @kubernetes-models packages, or null.
function modelModule(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  if (group === "" || group.endsWith(".k8s.io") || !group.includes(".")) {
    return `kubernetes-models/${apiVersion}/${kind}`;
  }
  if (group === "keda.sh") return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  if (group.endsWith("knative.dev")) return `@kubernetes-models/knative/${apiVersion}/${kind}`;
  return null;
}

function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) out[k] = strict(v);
  if (out.properties && out.additionalProperties === undefined &&
      !out["x-kubernetes-preserve-unknown-fields"]) {
    out.additionalProperties = false;
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const crdValidators = new Map();

// The compiled validator of a KServe `apiVersion`/`kind`, from its CRD file.
function crdValidator(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (crdValidators.has(key)) return crdValidators.get(key);
  const [group, version] = apiVersion.split("/");
  if (!fs.existsSync(CRD_DIR)) {
    throw new Error(`KServe CRDs not found in ${CRD_DIR} (set INFERD_KSERVE_CRDS)`);
  }
  for (const file of fs.readdirSync(CRD_DIR).filter((f) => f.endsWith(".yaml"))) {
    const crd = YAML.parse(fs.readFileSync(path.join(CRD_DIR, file), "utf8"));
    if (crd?.spec?.group !== group || crd.spec.names.kind !== kind) continue;
    const v = crd.spec.versions.find((x) => x.name === version);
    if (!v) throw new Error(`${file} has no version ${version} of ${kind}`);
    const validate = ajv.compile(strict(v.schema.openAPIV3Schema));
    crdValidators.set(key, validate);
    return validate;
  }
  throw new Error(`no CRD for ${key} in ${CRD_DIR}`);
}

// Validates one object; returns a list of error strings (empty when valid).
export async function validateObject(obj) {
  const { apiVersion, kind } = obj ?? {};
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return ["apiVersion and kind are required"];
  }
  if (apiVersion.startsWith("serving.kserve.io/")) {
    const validate = crdValidator(apiVersion, kind);
    if (validate(obj)) return [];
    return validate.errors.map((e) =>
      `${e.instancePath || "/"} ${e.message}` +
      (e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""));
  }
  const mod = modelModule(apiVersion, kind);
  if (mod === null) return [`no validator for ${apiVersion} ${kind}`];
  let Model;
  try {
    Model = (await import(mod))[kind];
  } catch (e) {
    return [`unknown kind ${apiVersion} ${kind} (${e.code ?? e.message})`];
  }
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [e.message];
  }
}
