/**
 * Kubernetes-style documents beside Syncline's own form, kinds with api_versions and API groups,
 * kinds from CRDs with x-kubernetes-* keywords, and validation done once (parse → plan).
 */
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../../src/plan/plan.js';
import { kindFromCrd } from '../../../src/specs/crd.js';
import { KindRegistry } from '../../../src/specs/kinds.js';
import { parseSpecFiles } from '../../../src/specs/parse.js';
import { validatedContent } from '../../../src/specs/validated.js';
import type { JsonObject } from '../../../src/contracts/json.js';

const y = (...lines: string[]): string => `${lines.join('\n')}\n`;

const DEPLOYMENT_SCHEMA: JsonObject = {
  type: 'object',
  required: ['selector', 'template'],
  properties: {
    replicas: { type: 'integer', default: 1 },
    selector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    template: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};
const CONFIGMAP_SCHEMA: JsonObject = {
  type: 'object',
  properties: { data: { type: 'object', additionalProperties: { type: 'string' } }, immutable: { type: 'boolean' } },
};

function registry(): KindRegistry {
  return new KindRegistry([
    { name: 'Deployment.apps', schema: DEPLOYMENT_SCHEMA, api_versions: ['apps/v1'] },
    { name: 'Deployment.example.com', schema: { type: 'object', properties: { size: { type: 'string' } } }, api_versions: ['example.com/v1alpha1'] },
    { name: 'ConfigMap', schema: CONFIGMAP_SCHEMA, api_versions: ['v1'] },
    { name: 'Workload', schema: { type: 'object', properties: { port: { type: 'integer' } } } },
  ]);
}

const GUESTBOOK = y(
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: guestbook-ui',
  '  labels: {app: guestbook-ui}',
  '  annotations:',
  '    example.com/owner: team-a',
  'spec:',
  '  replicas: 1',
  '  revisionHistoryLimit: 3',
  '  selector:',
  '    matchLabels: {app: guestbook-ui}',
  '  template:',
  '    metadata: {labels: {app: guestbook-ui}}',
  '    spec:',
  '      containers:',
  '        - image: gcr.io/heptio-images/ks-guestbook-demo:0.2',
  '          name: guestbook-ui',
  'status:',
  '  replicas: 5',
);

describe('Kubernetes-style documents', () => {
  it('reads apiVersion/kind/metadata/spec: name from metadata.name, apiVersion and annotations kept, status ignored, kind qualified by its group', () => {
    const out = parseSpecFiles([{ path: 'guestbook/deploy.yaml', content: GUESTBOOK.replace('  revisionHistoryLimit: 3\n', '') }], { registry: registry() });
    expect(out.invalid).toEqual([]);
    const [doc] = out.documents;
    expect(doc).toMatchObject({
      kind: 'Deployment.apps',
      name: 'guestbook-ui',
      metadata: { apiVersion: 'apps/v1', labels: { app: 'guestbook-ui' }, annotations: { 'example.com/owner': 'team-a' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'guestbook-ui' } } },
    });
    expect(doc!.spec).not.toHaveProperty('status');
  });

  it('a schema violation from the implicit additionalProperties: false says so and names the fix, at the right line', () => {
    const out = parseSpecFiles([{ path: 'guestbook/deploy.yaml', content: GUESTBOOK }], { registry: registry() });
    expect(out.documents).toEqual([]);
    const [inv] = out.invalid;
    expect(inv).toMatchObject({ code: 'schema_violation', kind: 'Deployment.apps', name: 'guestbook-ui', line: 10, path: '/spec/revisionHistoryLimit' });
    expect(inv!.message).toContain("unknown field 'revisionHistoryLimit'");
    expect(inv!.message).toContain('"additionalProperties": true or "x-kubernetes-preserve-unknown-fields": true at #');
  });

  it('a document without spec uses its body (a ConfigMap\'s data) as the spec, with positions in the file', () => {
    const text = y('apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: settings', '  namespace: shop', 'data:', '  mode: fast', '  retries: 3');
    const out = parseSpecFiles([{ path: 'cm.yaml', content: text }], { registry: registry() });
    expect(out.documents).toEqual([]);
    expect(out.invalid[0]).toMatchObject({ code: 'schema_violation', line: 8, path: '/spec/data/retries' });
    const ok = parseSpecFiles([{ path: 'cm.yaml', content: text.replace('retries: 3', 'retries: "3"') }], { registry: registry() });
    expect(ok.invalid).toEqual([]);
    expect(ok.documents[0]).toMatchObject({ kind: 'ConfigMap', name: 'settings', spec: { data: { mode: 'fast', retries: '3' } }, metadata: { apiVersion: 'v1', namespace: 'shop' } });
  });

  it('mixed forms are invalid with a clear message', () => {
    const text = y('apiVersion: v1', 'kind: ConfigMap', 'name: settings', 'metadata:', '  name: settings', 'data: {a: b}');
    const out = parseSpecFiles([{ path: 'mixed.yaml', content: text }], { registry: registry() });
    expect(out.invalid).toHaveLength(1);
    expect(out.invalid[0]).toMatchObject({ code: 'mixed_forms', line: 3 });
    expect(out.invalid[0]!.message).toMatch(/mixes the two document forms.*use either kind, name, spec or apiVersion, kind, metadata.name, spec/);
  });

  it('a kind that declares api_versions refuses another apiVersion', () => {
    const out = parseSpecFiles([{ path: 'd.yaml', content: GUESTBOOK.replace('apiVersion: apps/v1', 'apiVersion: apps/v1beta2') }], { registry: registry() });
    expect(out.invalid[0]).toMatchObject({ code: 'unsupported_api_version', line: 1 });
    expect(out.invalid[0]!.message).toContain("kind 'Deployment.apps' accepts apiVersion apps/v1, not 'apps/v1beta2'");
  });

  it('two Deployment kinds in different API groups coexist', () => {
    const crdDoc = y('apiVersion: example.com/v1alpha1', 'kind: Deployment', 'metadata: {name: guestbook-ui}', 'spec: {size: large}');
    const out = parseSpecFiles(
      [
        { path: 'a.yaml', content: GUESTBOOK.replace('  revisionHistoryLimit: 3\n', '') },
        { path: 'b.yaml', content: crdDoc },
      ],
      { registry: registry() },
    );
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => `${d.kind}/${d.name}`)).toEqual(['Deployment.apps/guestbook-ui', 'Deployment.example.com/guestbook-ui']);
  });

  it('refuses metadata fields outside name, labels, annotations, namespace, and requires apiVersion with metadata.name', () => {
    const withUid = parseSpecFiles([{ path: 'u.yaml', content: y('apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: x', '  uid: 123', 'data: {}') }], { registry: registry() });
    expect(withUid.invalid[0]).toMatchObject({ code: 'unknown_field', path: '/metadata/uid' });
    const noApi = parseSpecFiles([{ path: 'n.yaml', content: y('kind: ConfigMap', 'metadata: {name: x}', 'data: {}') }], { registry: registry() });
    expect(noApi.invalid[0]).toMatchObject({ code: 'missing_field' });
    expect(noApi.invalid[0]!.message).toContain("'apiVersion'");
  });

  it("Syncline's own form is unchanged", () => {
    const out = parseSpecFiles([{ path: 'w.yaml', content: y('kind: Workload', 'name: api', 'spec: {port: 80}') }], { registry: registry() });
    expect(out.invalid).toEqual([]);
    expect(out.documents[0]).toMatchObject({ kind: 'Workload', name: 'api', metadata: {} });
  });
});

describe('validate and normalise once', () => {
  it('a create reuses the content validated at parse time', () => {
    const reg = registry();
    const out = parseSpecFiles([{ path: 'd.yaml', content: GUESTBOOK.replace('  revisionHistoryLimit: 3\n', '').replace('  replicas: 1\n', '') }], { registry: reg });
    const doc = out.documents[0]!;
    const validated = validatedContent(doc, reg.get('Deployment.apps')!);
    expect(validated?.spec).toMatchObject({ replicas: 1 }); // the default, filled in once
    const plan = buildPlan({ desired: out.documents, invalid: [], live: [], registry: reg, prune: false });
    expect(plan.results[0]).toMatchObject({ operation: 'create', kind: 'Deployment.apps' });
    expect(plan.results[0]!.merged).toBe(validated);
    // A changed kind does not reuse it.
    const changed = new KindRegistry([{ name: 'Deployment.apps', schema: { ...DEPLOYMENT_SCHEMA, description: 'v2' }, api_versions: ['apps/v1'] }]);
    expect(validatedContent(doc, changed.get('Deployment.apps')!)).toBeUndefined();
  });
});

const WIDGET_CRD = y(
  'apiVersion: apiextensions.k8s.io/v1',
  'kind: CustomResourceDefinition',
  'metadata: {name: widgets.example.com}',
  'spec:',
  '  group: example.com',
  '  names: {kind: Widget, plural: widgets}',
  '  scope: Namespaced',
  '  versions:',
  '    - name: v1beta1',
  '      served: true',
  '      storage: false',
  '      schema: {openAPIV3Schema: {type: object}}',
  '    - name: v1',
  '      served: true',
  '      storage: true',
  '      schema:',
  '        openAPIV3Schema:',
  '          type: object',
  '          properties:',
  '            spec:',
  '              type: object',
  '              required: [port]',
  '              properties:',
  '                port: {x-kubernetes-int-or-string: true}',
  '                tags: {type: array, items: {type: string}, x-kubernetes-list-type: set}',
  '                ports:',
  '                  type: array',
  '                  x-kubernetes-list-type: map',
  '                  x-kubernetes-list-map-keys: [name]',
  '                  items: {type: object, properties: {name: {type: string}, port: {type: integer, format: int32}}}',
  '                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}',
  '                template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}',
  '                mode: {type: string, nullable: true, x-kubernetes-validations: [{rule: "self != \'\'"}]}',
  '                labels: {type: object, x-kubernetes-map-type: granular, additionalProperties: {type: string}}',
  '            status: {type: object}',
);

describe('kinds from CRDs', () => {
  it("takes the stored version's spec schema, the served versions as api_versions, and understands x-kubernetes-* keywords", () => {
    const def = kindFromCrd('Widget.example.com', WIDGET_CRD);
    expect(def.api_versions).toEqual(['example.com/v1beta1', 'example.com/v1']);
    expect(def.crd).toEqual({ group: 'example.com', version: 'v1', kind: 'Widget' });
    const reg = new KindRegistry([{ name: 'Widget.example.com', schema: def.schema, api_versions: def.api_versions }]);
    const widget = (spec: string[]) => parseSpecFiles([{ path: 'w.yaml', content: y('apiVersion: example.com/v1', 'kind: Widget', 'metadata: {name: w}', 'spec:', ...spec.map((l) => `  ${l}`)) }], { registry: reg });

    const good = widget(['port: http', 'tags: [a, b]', 'ports: [{name: a, port: 1}, {name: b, port: 1}]', 'extra: {anything: {goes: [1]}}', 'template: {apiVersion: v1, kind: Pod}', 'mode: null']);
    expect(good.invalid).toEqual([]);
    expect(good.documents[0]!.kind).toBe('Widget.example.com');
    expect(widget(['port: 8080']).invalid).toEqual([]);

    const bad = widget(['port: true', 'tags: [a, a]', 'ports: [{name: a}, {name: a}]', 'unknown: 1']);
    const message = bad.invalid[0]!.message;
    expect(message).toContain('/spec/port');
    expect(message).toContain('/spec/tags');
    expect(message).toContain('/spec/ports');
    expect(message).toContain("unknown field 'unknown'");
  });

  it('refuses a CRD under another kind name, and what is not a CRD', () => {
    expect(() => kindFromCrd('Gadget', WIDGET_CRD)).toThrow(/PUT it as \/kinds\/Widget.example.com/);
    expect(() => kindFromCrd('Widget', 'kind: ConfigMap\n')).toThrow(/CustomResourceDefinition/);
    expect(kindFromCrd('Widget', WIDGET_CRD).crd.kind).toBe('Widget');
  });
});
