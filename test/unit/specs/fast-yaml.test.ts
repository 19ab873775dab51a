/**
 * The fast path for plain YAML (src/specs/fast-yaml.ts) against the `yaml` library's reading:
 * for every input, parsing with the fast path on gives exactly what parsing with it off gives —
 * documents (JSON, key positions, document position) and invalid results (codes, messages,
 * positions). The inputs are hand-written edge cases and a few thousand generated documents
 * mixing what the fast path reads with what it must leave to the library.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fastParseDocument, mayReadFast } from '../../../src/specs/fast-yaml.js';
import { fastYaml, parseSpecFiles } from '../../../src/specs/parse.js';
import type { KindRegistry } from '../../../src/specs/kinds.js';
import { exampleRegistry } from './fixtures.js';

const registry: KindRegistry = exampleRegistry();

function both(text: string, withRegistry = true): { fast: unknown; library: unknown } {
  const files = [{ path: 'cfg/x.yaml', content: text }];
  const options = withRegistry ? { registry } : {};
  fastYaml.enabled = true;
  const fast = parseSpecFiles(files, options);
  fastYaml.enabled = false;
  const library = parseSpecFiles(files, options);
  fastYaml.enabled = true;
  return { fast, library };
}

afterEach(() => {
  fastYaml.enabled = true;
});

const BENCH_LIKE = `kind: Workload
name: svc-00002
metadata:
  description: Large bench service 2
  labels:
    team: team-1
spec:
  port: 1159
  healthcheck:
    path: /healthz/svc-00002
  deploy_strategy: rolling
  resources:
    cpu_limit: "150m"
    memory_limit: 256Mi
`;

const CASES: string[] = [
  BENCH_LIKE,
  '# a comment\n\nkind: Workload   # trailing\nname: a\nspec:\n  port: 80\n',
  'kind: Workload\nname: a\nspec:\n  port: "80"\n',
  'kind: Workload\nname: a\nspec:\n  port: 99999999\n',
  'kind: Workload\nname: a\nspec:\n  port: 8080\n  extra: 1\n',
  'kind: Workload\nname: a\nspec:\n  port: 8080\n  port: 8081\n',
  'kind: Workload\nname: a\nspec:\n  port: 8080\nmetadata:\n  labels:\n    a.b/c: x\n    "q": y\n',
  'kind: Workload\nname: a\nspec:\n    port: 8080\n    deploy_strategy: recreate\n',
  'kind: Workload\nname: a\nspec:\n  port: 8080\n   bad: indent\n',
  'kind: Workload\nname: a\nspec:\n  port: 8080\n bad: indent\n',
  'kind: Workload\nname: a\nspec:\n  port: 0x1F90\n',
  'kind: Workload\nname: a\nspec:\n  port: 0o17\n',
  'kind: Workload\nname: a\nspec:\n  port: 8.0e3\n',
  'kind: Workload\nname: a\nspec:\n  port: .inf\n',
  'kind: Workload\nname: a\nspec:\n  port: 9007199254740993\n',
  'kind: Workload\nname: a\nspec:\n  port: +80\n',
  'kind: Workload\nname: a\nspec:\n  port: 080\n',
  'kind: Workload\nname: a\nspec:\n  port: ~\n',
  'kind: Workload\nname: a\nspec:\n  port:\n',
  'kind: Workload\nname: a\nspec:\n',
  'kind: Workload\nname: a\nspec: {}\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\nstatus: x\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  tags:\n  - a\n  - b\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  tags:\n    - a\n    - 1\n    - "two"\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  env:\n    - name: A\n      value: x\n    - name: B\n      value: "y"\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  env:\n  - name: A\n    value: x\n  -\n    name: B\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  env:\n    - - a\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: a, b, c\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  url: http://x.example/a?b=1&c=2\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: a: b\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: a:b\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: a #b\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: a#b\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: multi\n    line\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: \'it\'\'s\'\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: "a\\nb"\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: "x" y\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: |\n    text\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  note: &a x\n  other: *a\n',
  'kind: Workload\nname: a\nspec:\n  port: !!str 80\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  <<: {a: 1}\n',
  'kind: Workload\nname: a\nspec:\n\tport: 80\n',
  'kind: Workload\r\nname: a\r\nspec:\r\n  port: 80\r\n',
  '---\nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '---\n# c\n\nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '--- \nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '--- # c\nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '---\n',
  '---',
  '# c\n---\nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '---\n---\nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '---\nkind: Workload\nname: a\nspec:\n  port: 80\n---\n',
  '----\nkind: Workload\n',
  '---x\nkind: Workload\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n---\nkind: Workload\nname: b\nspec:\n  port: 81\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n...\n',
  '%YAML 1.2\n---\nkind: Workload\nname: a\nspec:\n  port: 80\n',
  '- a\n- b\n',
  'just a scalar\n',
  '',
  '# only a comment\n',
  '  kind: Workload\n  name: a\n  spec:\n    port: 80\n',
  'kind: Workload\nname: 123\nspec:\n  port: 80\n',
  'kind: Workload\nname: "123"\nspec:\n  port: 80\n',
  'kind: Workload\nname: true\nspec:\n  port: 80\n',
  'kind: Workload\nname: a\nspec:\n  404: x\n  true: y\n  1.5: z\n  0x10: w\n',
  'kind: Workload\nname: a\nspec:\n  null: x\n',
  'kind: Workload\nname: a\nspec:\n  1: a\n  01: b\n',
  'kind: Workload\nname: a\nspec:\n  true: a\n  True: b\n',
  'kind: Workload\nname: a\nspec:\n  1: a\n  1.0: b\n',
  'kind: Workload\nname: a\nspec:\n  16: a\n  0x10: b\n  0o20: c\n',
  'kind: Workload\nname: a\nspec:\n  1e2: a\n  100: b\n',
  'kind: Workload\nname: a\nspec:\n  1: a\n  2: b\n  x1: c\n',
  'kind: Workload\nname: a\nspec:\n  ~: x\n',
  'kind: Workload\nname: a\nspec:\n  __proto__: x\n  constructor: y\n',
  'kind: Workload\nname: a\nspec:\n  a~b: x\n  c/d: y\n',
  'kind: Workload\nname: a\nspec:\n  key with space: x\n',
  'kind: Workload\nname: a\nspec:\n  key : x\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n# trailing comment\n  # indented comment\n',
  'kind: Workload\nname: a\nspec:\n  # comment inside\n  port: 80\n      # deeper comment\n  deploy_strategy: rolling\n',
  'kind: Workload\nname: a\nspec:   \n  port: 80   \n',
  'kind: Workload\nname: a\nspec: # comment\n  port: 80\n',
  'kind: Workload\nname: a\nspec:# comment\n  port: 80\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  healthcheck:\n    path: /h\n  healthcheck2:\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  flag: yes\n  on: off\n  t: True\n  f: FALSE\n  n: Null\n',
  'kind: Workload\nname: a\nspec:\n  port: -.5\n  x: -1\n  y: 1.\n  z: .5\n  w: 1e5\n  v: -\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  x: ""\n  y: \'\'\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\n  x: caf\u00e9\n',
  'apiVersion: v1\nkind: Workload\nmetadata:\n  name: a\n  labels:\n    app.kubernetes.io/name: a\nspec:\n  port: 80\n',
  'apiVersion: v1\nkind: Workload\nmetadata:\n  name: a\nport: 80\ndeploy_strategy: rolling\n',
  'apiVersion: v1\nkind: Workload\nname: a\nmetadata:\n  name: a\nspec:\n  port: 80\n',
  'kind: Nope\nname: a\nspec:\n  port: 80\n',
  'kind: Workload\nname: a b\nspec:\n  port: 80\n',
  'kind: Workload\nname: a\nmetadata:\n  labels:\n    team: 1\n  description: x\n  other: y\nspec:\n  port: 80\n',
  'kind: Workload\nname: a\nspec:\n  port: 80\nkind: Workload\n',
];

describe('fast YAML path', () => {
  it('reads a typical spec file without the library', () => {
    const fast = fastParseDocument(BENCH_LIKE, 64);
    expect(fast).not.toBeNull();
    expect(fast!.json).toEqual({
      kind: 'Workload',
      name: 'svc-00002',
      metadata: { description: 'Large bench service 2', labels: { team: 'team-1' } },
      spec: { port: 1159, healthcheck: { path: '/healthz/svc-00002' }, deploy_strategy: 'rolling', resources: { cpu_limit: '150m', memory_limit: '256Mi' } },
    });
    expect(fast!.positions['/spec/resources/memory_limit']).toEqual({ line: 14, column: 5 });
  });

  it('leaves the unusual to the library', () => {
    for (const text of ['a: &x 1\nb: *x\n', 'a: |\n  x\n', 'a: [1]\n', 'a: "\\t"\n', 'a:\n\t- 1\n', '--- \na: 1\n', 'a: .nan\n', 'null: 1\n', 'a: x\n  y\n', 'a:\n-\n  b: 1\n']) {
      expect(fastParseDocument(text, 64), text).toBeNull();
    }
    // The nesting limit is the caller's.
    expect(fastParseDocument('a:\n  b:\n    c: 1\n', 2)).toBeNull();
    expect(fastParseDocument('a:\n  b:\n    c: 1\n', 3)).not.toBeNull();
  });

  it('mayReadFast: false only for files the fast path does not read', () => {
    for (const text of CASES) {
      if (fastParseDocument(text, 64)) expect(mayReadFast(text), text).toBe(true);
      if (fastParseDocument(text, 64)) expect(mayReadFast(Buffer.from(text)), text).toBe(true);
    }
    expect(fastParseDocument('---\na: 1\n', 64)).not.toBeNull();
    expect(mayReadFast('---\na: 1\n')).toBe(true);
    for (const text of ['# c\n---\na: 1\n', 'a: 1\n---\n', 'a: 1\n...\n', '%YAML 1.2\n---\na: 1\n', 'a: caf\u00e9\n', 'a:\t1\n', 'a: 1\r\n']) {
      expect(mayReadFast(text), text).toBe(false);
      expect(mayReadFast(Buffer.from(text)), text).toBe(false);
    }
    expect(mayReadFast(Buffer.from(BENCH_LIKE))).toBe(true);
  });

  it.each(CASES.map((c, i) => [i, c]))('case %i reads as the library reads it', (_i, text) => {
    const { fast, library } = both(text as string);
    expect(fast).toEqual(library);
    const plain = both(text as string, false);
    expect(plain.fast).toEqual(plain.library);
  });

  it('generated documents read as the library reads them', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const KEYS = ['a', 'b', 'port', 'name', 'x-y', 'a.b', 'app.kubernetes.io/name', '404', '0404', 'true', 'True', '1.5', '1.50', '0x10', '16', 'null', '~', 'a b', '"q"', '-d', 'k_1', 'a~b', 'on', '__proto__'];
    const SCALARS = [
      'foo', 'Foo Bar', '1', '-1', '+1', '007', '0o17', '0x1F', '1.5', '-.5', '1e3', '1.', '.inf', '.nan', '~', 'null', 'NULL', 'true', 'False', 'yes',
      '"quoted"', "'single'", "'it''s'", '"esc\\n"', 'a: b', 'a:b', 'http://x.y/z?q=1&r=2', 'a, b', 'a #c', 'a#b', '#c', '-', '- x', '[a, b]', '{a: 1}',
      '&anc x', '*ref', '!!str 1', '|', '>', '9007199254740993', '123456789012345', '""', "''", 'a:', '%x', '@x', '`x`', '"a" b', 'x  ', '/p/q', '.', '-x', '?x', ':x',
    ];
    let fastCount = 0;
    const N = 2500;
    for (let d = 0; d < N; d++) {
      const lines: string[] = [];
      const step = pick([2, 2, 2, 4, 1, 3]);
      const block = (indent: number, depth: number, asSeq: boolean): void => {
        const n = 1 + rand(4);
        const used = new Set<string>();
        for (let i = 0; i < n; i++) {
          const pad = ' '.repeat(Math.max(0, indent + (rand(40) === 0 ? pick([-1, 1]) : 0)));
          if (rand(12) === 0) lines.push(`${' '.repeat(rand(6))}# note`);
          if (rand(15) === 0) lines.push(rand(2) ? '' : '   ');
          if (asSeq) {
            const r = rand(6);
            if (r === 0 && depth < 4) {
              lines.push(`${pad}-`);
              block(indent + step, depth + 1, false);
            } else if (r <= 2 && depth < 4) {
              // `- key: value` and more keys under it.
              const k = pick(KEYS);
              lines.push(`${pad}- ${k}: ${pick(SCALARS)}`);
              if (rand(2)) lines.push(`${pad}  ${pick(KEYS)}: ${pick(SCALARS)}`);
            } else lines.push(`${pad}- ${pick(SCALARS)}`);
            continue;
          }
          let k = pick(KEYS);
          if (used.has(k) && rand(3) !== 0) k = `${k}${i}`;
          used.add(k);
          const r = rand(10);
          if (r < 2 && depth < 5) {
            lines.push(`${pad}${k}:${rand(8) === 0 ? ' # c' : ''}`);
            const seq = rand(3) === 0;
            block(seq && rand(2) ? indent : indent + step, depth + 1, seq);
          } else if (r === 2) lines.push(`${pad}${k}:`);
          else lines.push(`${pad}${k}: ${pick(SCALARS)}${rand(10) === 0 ? ' # c' : ''}`);
        }
      };
      lines.push('kind: Workload', `name: w${d}`);
      if (rand(3) === 0) lines.push('metadata:', '  labels:', `    ${pick(KEYS)}: ${pick(SCALARS)}`);
      lines.push('spec:', `${' '.repeat(step)}port: ${pick(['80', '8080', '"80"', '0x50', '1e2', '99999', '-1'])}`);
      block(step, 1, false);
      const text = `${rand(6) === 0 ? pick(['---\n', '--- \n', '# c\n---\n', '---\n---\n']) : ''}${lines.join('\n')}${rand(5) === 0 ? '' : '\n'}`;
      if (fastParseDocument(text, 64)) fastCount += 1;
      const withKinds = both(text);
      expect(withKinds.fast, text).toEqual(withKinds.library);
      const plain = both(text, false);
      expect(plain.fast, text).toEqual(plain.library);
    }
    // Both paths were exercised.
    expect(fastCount).toBeGreaterThan(N / 10);
    expect(fastCount).toBeLessThan(N);
  });
});
