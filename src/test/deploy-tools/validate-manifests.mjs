// Validates Kubernetes manifests against the Kubernetes API's own OpenAPI schemas, as the npm
// package kubernetes-models ships them (precompiled ajv validators: types, required fields, enums,
// formats such as quantity and int32). Unknown fields are not reported: those schemas allow them.
//
//   node validate-manifests.mjs FILE.yaml...
//
// Prints one line per problem, "FILE#DOC (KIND NAME) PATH: PROBLEM", with PATH the field's path in
// the document (spec.template.spec.containers[0].image); exits 1 if there was any, 0 if none,
// 2 on a usage error. Run by io.keepgate.deploy.KubernetesSchemas from target/deploy-tools/, where
// Maven installs package-lock.json's exact versions (npm ci).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const API_VERSION = /^(?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** The model class of kubernetes-models for an apiVersion and kind, or null when it ships none. */
async function model(apiVersion, kind) {
  if (!API_VERSION.test(apiVersion) || !KIND.test(kind)) {
    return null;
  }
  try {
    const module = await import(`kubernetes-models/${apiVersion}/${kind}`);
    return module[kind] ?? null;
  } catch (e) {
    if (e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || e.code === "ERR_MODULE_NOT_FOUND") {
      return null;
    }
    throw e;
  }
}

/** The keys of a JSON pointer: /metadata/labels/app.kubernetes.io~1name is metadata, labels, app.kubernetes.io/name. */
function keys(pointer) {
  return pointer.split("/").slice(1).map(key => key.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** A JSON pointer (/spec/ports/0/name) as a field path (spec.ports[0].name), walking the value for list indices. */
function fieldPath(pointer, root) {
  let path = "";
  let node = root;
  for (const key of keys(pointer)) {
    if (Array.isArray(node)) {
      path += `[${key}]`;
    } else if (/^[A-Za-z0-9_-]+$/.test(key)) {
      path += path === "" ? key : `.${key}`;
    } else {
      path += `[${JSON.stringify(key)}]`;
    }
    node = node?.[key];
  }
  return path;
}

function valueAt(pointer, root) {
  return keys(pointer).reduce((node, key) => node?.[key], root);
}

function show(value) {
  if (Array.isArray(value)) {
    return "a list";
  }
  if (value !== null && typeof value === "object") {
    return "an object";
  }
  const text = JSON.stringify(value);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

function describe(error) {
  switch (error.keyword) {
    case "enum":
      return `must be one of ${error.params.allowedValues.join(", ")}`;
    case "type":
      return `must be ${error.params.type}`;
    case "format":
      return `must be of format ${error.params.format}`;
    default:
      return error.message;
  }
}

/** ajv's errors as field paths and problems; the branches of a oneOf (int-or-string, quantity) joined with "or". */
function problems(errors, object) {
  const lines = [];
  const byPath = new Map();
  for (const error of errors) {
    if (error.keyword === "required") {
      const pointer = `${error.instancePath}/${error.params.missingProperty.replaceAll("~", "~0").replaceAll("/", "~1")}`;
      lines.push(`${fieldPath(pointer, object)}: required`);
      continue;
    }
    if (!byPath.has(error.instancePath)) {
      byPath.set(error.instancePath, []);
    }
    byPath.get(error.instancePath).push(error);
  }
  for (const [pointer, group] of byPath) {
    const alternatives = group.some(e => e.keyword === "oneOf" || e.keyword === "anyOf");
    const reasons = group.filter(e => e.keyword !== "oneOf" && e.keyword !== "anyOf").map(describe);
    const at = fieldPath(pointer, object) || "(document)";
    const value = show(valueAt(pointer, object));
    if (alternatives) {
      lines.push(`${at}: ${value} ${reasons.length > 0 ? reasons.join(" or ") : "matches none of the allowed forms"}`);
    } else {
      reasons.forEach(reason => lines.push(`${at}: ${value} ${reason}`));
    }
  }
  return [...new Set(lines)];
}

async function validateFile(file) {
  const found = [];
  const documents = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true });
  const several = documents.length > 1;
  for (const [index, document] of documents.entries()) {
    const where = several ? `${file}#${index + 1}` : file;
    if (document.errors.length > 0) {
      found.push(`${where}: not valid YAML: ${document.errors[0].message.split("\n")[0].replace(/:$/, "")}`);
      continue;
    }
    const object = document.toJS();
    if (object === null || object === undefined) {
      continue; // an empty document, e.g. after a trailing ---
    }
    if (typeof object !== "object" || Array.isArray(object)) {
      found.push(`${where}: ${show(object)} (expected: a Kubernetes object)`);
      continue;
    }
    const { apiVersion, kind } = object;
    const prefix = `${where} (${kind ?? "?"} ${object.metadata?.name ?? "?"})`;
    const Model = typeof apiVersion === "string" && typeof kind === "string" ? await model(apiVersion, kind) : null;
    if (Model === null) {
      found.push(`${prefix} apiVersion: ${show(apiVersion)} kind ${show(kind)} has no schema in kubernetes-models`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (e) {
      if (!Array.isArray(e.errors)) {
        throw e;
      }
      problems(e.errors, object).forEach(line => found.push(`${prefix} ${line}`));
    }
  }
  return found;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate-manifests.mjs FILE.yaml...");
  process.exit(2);
}
let count = 0;
for (const file of files) {
  for (const line of await validateFile(file)) {
    console.log(line);
    count++;
  }
}
process.exitCode = count > 0 ? 1 : 0;
