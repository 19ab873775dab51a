/**
 * Kinds from CustomResourceDefinitions (`PUT /kinds/{kind}` with `{"crd": …}`): the schema of
 * the CRD's stored version becomes the kind's schema, its served versions the kind's
 * `api_versions`. Pure: the CRD comes in as JSON or as YAML text.
 */
import { parse as parseYaml } from 'yaml';
import { SynclineError } from '../errors.js';
import { cloneJson, hasOwn, isJsonObject } from './json.js';
import type { JsonObject, JsonValue } from '../contracts/json.js';

export interface KindFromCrd {
  schema: JsonObject;
  api_versions: string[];
  crd: { group: string; version: string; kind: string };
}

const RESERVED = ['apiVersion', 'kind', 'metadata', 'status'];

function invalid(message: string): SynclineError {
  return new SynclineError('invalid_kind', message);
}

function readCrd(crd: JsonObject | string): JsonObject {
  if (typeof crd !== 'string') return crd;
  let value: unknown;
  try {
    value = parseYaml(crd, { schema: 'core', maxAliasCount: 100, uniqueKeys: true, merge: false });
  } catch (err) {
    throw invalid(`crd: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isJsonObject(value as JsonValue)) throw invalid('crd: expected a CustomResourceDefinition mapping');
  return value as JsonObject;
}

/**
 * The spec schema of a resource schema: its `spec` property when it has one, else the body (every
 * property but apiVersion, kind, metadata, status), as a ConfigMap-like document is read.
 */
export function specSchemaOf(resourceSchema: JsonObject): JsonObject {
  const props = isJsonObject(resourceSchema['properties']) ? (resourceSchema['properties'] as JsonObject) : {};
  if (isJsonObject(props['spec'])) {
    const spec = cloneJson(props['spec'] as JsonObject);
    if (spec['type'] === undefined) spec['type'] = 'object';
    return spec;
  }
  const body: JsonObject = { type: 'object', properties: {} };
  for (const key of Object.keys(props)) if (!RESERVED.includes(key)) (body['properties'] as JsonObject)[key] = cloneJson(props[key] as JsonValue);
  const required = Array.isArray(resourceSchema['required']) ? resourceSchema['required'].filter((r) => typeof r === 'string' && !RESERVED.includes(r)) : [];
  if (required.length) body['required'] = required;
  if (resourceSchema['x-kubernetes-preserve-unknown-fields'] === true) body['x-kubernetes-preserve-unknown-fields'] = true;
  if (hasOwn(resourceSchema, 'description')) body['description'] = resourceSchema['description'] as JsonValue;
  return body;
}

/** The kind definition a CRD gives, for the kind named `kindName` (`Widget` or `Widget.example.com`). */
export function kindFromCrd(kindName: string, input: JsonObject | string): KindFromCrd {
  const crd = readCrd(input);
  const apiVersion = crd['apiVersion'];
  if (crd['kind'] !== 'CustomResourceDefinition' || typeof apiVersion !== 'string' || !apiVersion.startsWith('apiextensions.k8s.io/')) {
    throw invalid('crd: expected apiVersion apiextensions.k8s.io/v1 and kind CustomResourceDefinition');
  }
  const spec = isJsonObject(crd['spec']) ? (crd['spec'] as JsonObject) : null;
  const names = spec && isJsonObject(spec['names']) ? (spec['names'] as JsonObject) : null;
  const group = spec?.['group'];
  const kind = names?.['kind'];
  if (typeof group !== 'string' || typeof kind !== 'string') throw invalid('crd: spec.group and spec.names.kind are required');
  if (kindName !== kind && kindName !== `${kind}.${group}`) {
    throw invalid(`crd: it defines ${kind} in group ${group}; PUT it as /kinds/${kind}.${group} (or /kinds/${kind}), not /kinds/${kindName}`);
  }
  const versions = Array.isArray(spec?.['versions']) ? (spec['versions'] as JsonValue[]).filter(isJsonObject) as JsonObject[] : [];
  if (versions.length === 0) throw invalid('crd: spec.versions lists no version');
  const stored = versions.find((v) => v['storage'] === true) ?? (versions.length === 1 ? versions[0] : undefined);
  if (!stored || typeof stored['name'] !== 'string') throw invalid('crd: no version has storage: true');
  const schemaHolder = isJsonObject(stored['schema']) ? (stored['schema'] as JsonObject) : isJsonObject(spec?.['validation']) ? (spec!['validation'] as JsonObject) : null;
  const openApi = schemaHolder && isJsonObject(schemaHolder['openAPIV3Schema']) ? (schemaHolder['openAPIV3Schema'] as JsonObject) : null;
  if (!openApi) throw invalid(`crd: version ${stored['name']} has no schema.openAPIV3Schema`);
  const served = versions.filter((v) => v['served'] !== false && typeof v['name'] === 'string').map((v) => `${group}/${v['name'] as string}`);
  return {
    schema: specSchemaOf(openApi),
    api_versions: served.length ? served : [`${group}/${stored['name']}`],
    crd: { group, version: stored['name'], kind },
  };
}
