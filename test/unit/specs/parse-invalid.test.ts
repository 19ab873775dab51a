/**
 * Invalid spec files, table-driven: every case must produce an invalid result with the right
 * code, pointing at the right file:line:column (the offending key wherever there is one).
 */
import { describe, expect, it } from 'vitest';
import { parseSpecFiles } from '../../../src/specs/parse.js';
import type { SpecFile } from '../../../src/specs/types.js';
import type { InvalidCode } from '../../../src/contracts/deployments.js';
import { exampleRegistry, y } from './fixtures.js';

interface Case {
  name: string;
  /** Content of `shop/app.yaml` … */
  content?: string | Uint8Array;
  /** … or several files. */
  files?: SpecFile[];
  code: InvalidCode;
  /** `file:line:column` the message must start with (and the result's position). */
  at: string;
  match: RegExp;
  /** Number of documents that stay valid (default 0). */
  valid?: number;
  /** Number of invalid results (default 1). */
  invalidCount?: number;
}

const W = ['kind: Workload', 'name: api', 'spec:'];
const CFG = ['kind: Config', 'name: c', 'spec:', '  data:'];

const lol = ['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol'].join(', ');
const aliases = (a: string): string => Array.from({ length: 9 }, () => `*${a}`).join(', ');
const BILLION_LAUGHS = y(
  'kind: Config',
  'name: lol',
  'spec:',
  '  data:',
  `    a: &a [${lol}]`,
  `    b: &b [${aliases('a')}]`,
  `    c: &c [${aliases('b')}]`,
  `    d: &d [${aliases('c')}]`,
  `    e: &e [${aliases('d')}]`,
  `    f: &f [${aliases('e')}]`,
  `    g: &g [${aliases('f')}]`,
  `    h: &h [${aliases('g')}]`,
  `    i: &i [${aliases('h')}]`,
);

const cases: Case[] = [
  // --- YAML syntax -------------------------------------------------------------------------
  { name: 'tab used as indentation', content: y(...W, '\tport: 8080'), code: 'tab_indentation', at: 'shop/app.yaml:4:1', match: /tabs are not allowed as indentation/i },
  { name: 'tab inside nested indentation', content: y(...W, '  healthcheck:', '  \tpath: /h'), code: 'tab_indentation', at: 'shop/app.yaml:5:3', match: /tabs/i },
  { name: 'duplicate top-level key at line 3', content: y('kind: Workload', 'name: api', 'kind: Metric', 'spec:', '  port: 1'), code: 'duplicate_key', at: 'shop/app.yaml:3:1', match: /duplicate key 'kind'/ },
  { name: 'duplicate nested key', content: y(...W, '  port: 1', '  port: 2'), code: 'duplicate_key', at: 'shop/app.yaml:5:3', match: /duplicate key 'port'/ },
  { name: 'duplicate key once stringified (1 and "1")', content: y(...CFG, '    1: a', '    "1": b'), code: 'duplicate_key', at: 'shop/app.yaml:6:5', match: /duplicate key '1'/ },
  { name: 'unclosed single quote', content: y('kind: Workload', "name: 'api", 'spec:', '  port: 1'), code: 'yaml_syntax', at: 'shop/app.yaml:2:7', match: /unclosed single-quoted string/ },
  { name: 'unclosed double quote', content: y(...W, '  healthcheck:', '    path: "/healthz', '  port: 1'), code: 'yaml_syntax', at: 'shop/app.yaml:5:11', match: /unclosed double-quoted string/ },
  { name: 'unclosed flow sequence', content: y('kind: Metric', 'name: m', 'spec:', '  tags: [a, b', '  query: x'), code: 'yaml_syntax', at: 'shop/app.yaml:4:9', match: /unclosed flow sequence/ },
  { name: 'unclosed flow mapping', content: y('kind: Workload', 'name: api', 'spec: {port: 1'), code: 'yaml_syntax', at: 'shop/app.yaml:3:7', match: /unclosed flow mapping/ },
  { name: 'inconsistent indentation', content: y(...W, '  port: 1', ' max_instances: 2'), code: 'yaml_syntax', at: 'shop/app.yaml:5:1', match: /same column/ },
  { name: 'nested mapping in a compact value', content: y(...W, '  port: 1', '  bad: a: b'), code: 'yaml_syntax', at: 'shop/app.yaml:5:8', match: /Nested mappings are not allowed/ },
  { name: 'key without a value', content: y(...W, '  port: 1', '  oops'), code: 'yaml_syntax', at: 'shop/app.yaml:5:3', match: /need to be followed by map values/ },
  { name: 'unknown directive', content: y('%FOO bar', '---', 'kind: Workload', 'name: api', 'spec: {port: 1}'), code: 'yaml_syntax', at: 'shop/app.yaml:1:1', match: /Unknown directive %FOO/ },

  // --- aliases, tags, numbers, keys ---------------------------------------------------------
  { name: 'alias bomb (billion laughs)', content: BILLION_LAUGHS, code: 'alias_limit', at: 'shop/app.yaml:8:12', match: /more than 100 alias expansions/ },
  { name: 'recursive alias', content: y(...CFG, '    k: &x [1, *x]'), code: 'alias_limit', at: 'shop/app.yaml:5:15', match: /alias \*x refers to itself/ },
  { name: 'undefined alias', content: y(...CFG, '    k: *nope'), code: 'yaml_syntax', at: 'shop/app.yaml:5:5', match: /unknown alias \*nope/ },
  { name: 'merge key <<', content: y(...W, '  <<: {port: 1}'), code: 'unsupported_yaml', at: 'shop/app.yaml:4:3', match: /merge keys \('<<'\) are not supported/ },
  { name: 'merge key with an alias', content: y(...CFG, '    base: &base {a: 1}', '    derived:', '      <<: *base', '      b: 2'), code: 'unsupported_yaml', at: 'shop/app.yaml:7:7', match: /merge keys/ },
  { name: '!!binary value', content: y(...CFG, '    blob: !!binary aGVsbG8='), code: 'unsupported_yaml', at: 'shop/app.yaml:5:5', match: /explicit tag !!binary is not supported/ },
  { name: '!!timestamp value', content: y(...CFG, '    when: !!timestamp 2024-01-01'), code: 'unsupported_yaml', at: 'shop/app.yaml:5:5', match: /!!timestamp/ },
  { name: 'custom tag', content: y(...CFG, '    password: !secret vault:db'), code: 'unsupported_yaml', at: 'shop/app.yaml:5:15', match: /Unresolved tag: !secret/ },
  { name: '.inf value', content: y(...CFG, '    ratio: .inf'), code: 'invalid_number', at: 'shop/app.yaml:5:5', match: /\.inf is not a JSON number/ },
  { name: '.nan value', content: y(...CFG, '    ratio: .NaN'), code: 'invalid_number', at: 'shop/app.yaml:5:5', match: /not a JSON number/ },
  { name: 'float overflow to infinity', content: y(...CFG, '    big: 1e400'), code: 'invalid_number', at: 'shop/app.yaml:5:5', match: /1e400 is not a JSON number/ },
  { name: 'integer beyond 2^53', content: y(...CFG, '    id: 12345678901234567890'), code: 'invalid_number', at: 'shop/app.yaml:5:5', match: /would lose precision/ },
  { name: 'null mapping key', content: y(...CFG, '    ~: x'), code: 'unsupported_yaml', at: 'shop/app.yaml:5:5', match: /null mapping key/ },
  { name: 'list as a mapping key', content: y(...CFG, '    ? [a, b]', '    : x'), code: 'unsupported_yaml', at: 'shop/app.yaml:5:7', match: /keys must be strings/ },
  { name: 'nesting deeper than 64 levels', content: y(...CFG, `    x: ${'['.repeat(70)}${']'.repeat(70)}`), code: 'too_deep', at: 'shop/app.yaml:5:69', match: /deeper than 64 levels/ },
  { name: 'file is not UTF-8', content: new Uint8Array([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), code: 'invalid_encoding', at: 'shop/app.yaml:1:1', match: /not valid UTF-8/ },

  // --- document shape -----------------------------------------------------------------------
  { name: 'list document', content: y('- kind: Workload', '  name: api'), code: 'not_a_mapping', at: 'shop/app.yaml:1:1', match: /must be a mapping.*got a list/ },
  { name: 'scalar document', content: 'just some text\n', code: 'not_a_mapping', at: 'shop/app.yaml:1:1', match: /got a scalar \(string "just some text"\)/ },
  { name: 'scalar as the second document', content: y('kind: Config', 'name: c', 'spec:', '  data: {}', '---', '42'), code: 'not_a_mapping', at: 'shop/app.yaml:6:1', match: /got a scalar \(number 42\)/, valid: 1 },
  { name: 'explicit null document', content: '--- ~\n', code: 'not_a_mapping', at: 'shop/app.yaml:1:5', match: /got a scalar \(null\)/ },
  { name: 'missing kind', content: y('name: api', 'spec:', '  port: 1'), code: 'missing_field', at: 'shop/app.yaml:1:1', match: /missing required field 'kind'/ },
  { name: 'missing name (document after comments)', content: y('# the public API', '', 'kind: Workload', 'spec:', '  port: 1'), code: 'missing_field', at: 'shop/app.yaml:3:1', match: /missing required field 'name'/ },
  { name: 'missing spec', content: y('kind: Workload', 'name: api'), code: 'missing_field', at: 'shop/app.yaml:1:1', match: /missing required field 'spec'/ },
  { name: 'missing spec in the second document', content: y('kind: Config', 'name: a', 'spec: {data: {}}', '---', 'kind: Config', 'name: b'), code: 'missing_field', at: 'shop/app.yaml:5:1', match: /'spec'/, valid: 1 },
  { name: 'name with bad characters', content: y('kind: Workload', 'name: my api!', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:2:1', match: /name "my api!" is not valid/ },
  { name: 'name starting with a dash', content: y('kind: Workload', 'name: -api', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:2:1', match: /name "-api" is not valid/ },
  { name: 'name is a number', content: y('kind: Workload', 'name: 404', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:2:1', match: /name must be a string \(got integer 404\) — quote it: "404"/ },
  { name: 'kind is a list', content: y('kind: [Workload]', 'name: api', 'spec: {port: 1}'), code: 'invalid_field', at: 'shop/app.yaml:1:1', match: /kind must be a string \(got a list\)/ },
  { name: 'spec is a list', content: y(...W, '  - port: 1'), code: 'invalid_field', at: 'shop/app.yaml:3:1', match: /spec must be a mapping \(got a list\)/ },
  { name: 'spec is empty (null)', content: y(...W), code: 'invalid_field', at: 'shop/app.yaml:3:1', match: /spec must be a mapping \(got null\)/ },
  { name: 'unknown top-level key', content: y(...W, '  port: 1', 'labels:', '  team: a'), code: 'unknown_field', at: 'shop/app.yaml:5:1', match: /unknown top-level field 'labels'/ },
  { name: 'unknown metadata key', content: y('kind: Workload', 'name: api', 'metadata:', '  annotations:', '    a: b', 'spec:', '  port: 1'), code: 'unknown_field', at: 'shop/app.yaml:4:3', match: /unknown metadata field 'annotations'/ },
  { name: 'metadata.labels value not a string', content: y('kind: Workload', 'name: api', 'metadata:', '  labels:', '    replicas: 3', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:5:5', match: /label 'replicas' must be a string \(got integer 3\)/ },
  { name: 'metadata.labels not a mapping', content: y('kind: Workload', 'name: api', 'metadata:', '  labels: [a, b]', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:4:3', match: /metadata.labels must be a mapping/ },
  { name: 'metadata label key with spaces', content: y('kind: Workload', 'name: api', 'metadata:', '  labels:', '    "my team": a', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:5:5', match: /label key "my team" is not valid/ },
  { name: 'metadata.description not a string', content: y('kind: Workload', 'name: api', 'metadata:', '  description: 5', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:4:3', match: /description must be a string/ },
  { name: 'metadata is a string', content: y('kind: Workload', 'name: api', 'metadata: hello', 'spec:', '  port: 1'), code: 'invalid_field', at: 'shop/app.yaml:3:1', match: /metadata must be a mapping/ },

  // --- kinds and schemas --------------------------------------------------------------------
  { name: 'unknown kind', content: y('kind: Workloads', 'name: api', 'spec:', '  port: 1'), code: 'unknown_kind', at: 'shop/app.yaml:1:1', match: /unknown kind 'Workloads' \(known kinds: Config, Metric, Workload\)/ },
  { name: 'empty kind', content: y('kind: ""', 'name: api', 'spec:', '  port: 1'), code: 'unknown_kind', at: 'shop/app.yaml:1:1', match: /unknown kind ''/ },
  { name: 'schema type mismatch points at the key line', content: y(...W, '  max_instances: 2', '  port: "8080"'), code: 'schema_violation', at: 'shop/app.yaml:5:3', match: /\/spec\/port: must be an integer \(got string "8080"\)/ },
  { name: 'nested type mismatch', content: y(...W, '  port: 1', '  healthcheck:', '    path: /h', '    interval_seconds: ten'), code: 'schema_violation', at: 'shop/app.yaml:7:5', match: /\/spec\/healthcheck\/interval_seconds: must be an integer/ },
  { name: 'enum violation', content: y(...W, '  port: 1', '  deploy_strategy: blue-green'), code: 'schema_violation', at: 'shop/app.yaml:5:3', match: /must be one of "recreate", "rolling", ""/ },
  { name: 'additionalProperties: extra key in spec', content: y(...W, '  port: 1', '  replicas: 3'), code: 'schema_violation', at: 'shop/app.yaml:5:3', match: /\/spec\/replicas: unknown field 'replicas'/ },
  { name: 'additionalProperties: extra nested key', content: y(...W, '  port: 1', '  resources:', '    cpu_limit: "1"', '    gpu: "1"'), code: 'schema_violation', at: 'shop/app.yaml:7:5', match: /\/spec\/resources\/gpu: unknown field 'gpu'/ },
  { name: 'missing required field points at its parent key', content: y(...W, '  max_instances: 2'), code: 'schema_violation', at: 'shop/app.yaml:3:1', match: /\/spec: missing required field 'port'/ },
  { name: 'number out of range', content: y(...W, '  port: 70000'), code: 'schema_violation', at: 'shop/app.yaml:4:3', match: /must be <= 65535/ },
  { name: 'list item of the wrong type', content: y('kind: Metric', 'name: m', 'spec:', '  name: m', '  query: up', '  required_dimensions:', '    - region', '    - 3'), code: 'schema_violation', at: 'shop/app.yaml:8:7', match: /\/spec\/required_dimensions\/1: must be a string/ },
  { name: 'Config without data', content: y('kind: Config', 'name: c', 'spec:', '  values: {a: 1}'), code: 'schema_violation', at: 'shop/app.yaml:3:1', match: /missing required field 'data'/ },

  // --- across files -------------------------------------------------------------------------
  {
    name: 'duplicate kind+name across two files',
    files: [
      { path: 'shop/a.yaml', content: y('kind: Workload', 'name: api', 'spec:', '  port: 1') },
      { path: 'shop/b.yml', content: y('# copy', 'kind: Workload', 'name: api', 'spec:', '  port: 2') },
    ],
    code: 'duplicate_resource',
    at: 'shop/a.yaml:2:1',
    match: /duplicate Workload 'api': also defined at shop\/b\.yml:3:1/,
    invalidCount: 2,
  },
  {
    name: 'duplicate kind+name in one file',
    content: y('kind: Config', 'name: c', 'spec: {data: {}}', '---', 'kind: Config', 'name: c', 'spec: {data: {a: 1}}'),
    code: 'duplicate_resource',
    at: 'shop/app.yaml:6:1',
    match: /also defined at shop\/app\.yaml:2:1/,
    invalidCount: 2,
  },
];

describe('parseSpecFiles: invalid documents', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const files = c.files ?? [{ path: 'shop/app.yaml', content: c.content ?? '' }];
    const out = parseSpecFiles(files, { registry: exampleRegistry() });
    expect(out.invalid, JSON.stringify(out.invalid, null, 2)).toHaveLength(c.invalidCount ?? 1);
    expect(out.documents).toHaveLength(c.valid ?? 0);
    const hit = out.invalid.find((i) => i.message.startsWith(`${c.at}:`));
    expect(hit, `no invalid result at ${c.at}: ${JSON.stringify(out.invalid, null, 2)}`).toBeDefined();
    if (!hit) return;
    expect(hit.code).toBe(c.code);
    expect(`${hit.file}:${hit.line}:${hit.column}`).toBe(c.at);
    expect(hit.message).toMatch(c.match);
  });
});
