import { describe, expect, it } from 'vitest';
import { isSpecFile, parseSpecFiles } from '../../../src/specs/parse.js';
import { exampleRegistry, parseOne, parseValid, y } from './fixtures.js';

const CONFIG = (name: string): string => y('kind: Config', `name: ${name}`, 'spec:', '  data: {}');

describe('isSpecFile', () => {
  it.each([
    ['api.yaml', true],
    ['api.yml', true],
    ['dir/sub/api.YAML', true],
    ['.syncline.yml', true],
    ['api.json', false],
    ['README.md', false],
    ['api.yaml.bak', false],
    ['Dockerfile', false],
    ['yaml', false],
  ])('%s → %s', (path, expected) => {
    expect(isSpecFile(path)).toBe(expected);
  });
});

describe('parseSpecFiles: file selection', () => {
  it('reads .yaml and .yml and ignores other extensions', () => {
    const out = parseSpecFiles(
      [
        { path: 'ns/a.yaml', content: CONFIG('a') },
        { path: 'ns/b.yml', content: CONFIG('b') },
        { path: 'ns/c.json', content: '{"kind": "Config"}' },
        { path: 'ns/README.md', content: '# not yaml: [' },
        { path: 'ns/d.yaml.orig', content: 'broken: [' },
      ],
      { registry: exampleRegistry() },
    );
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => `${d.file}#${d.name}`)).toEqual(['ns/a.yaml#a', 'ns/b.yml#b']);
  });

  it('parses a single-file namespace path whatever its extension', () => {
    const files = [{ path: '.syncline', content: CONFIG('only') }];
    expect(parseSpecFiles(files).documents).toHaveLength(0);
    const out = parseSpecFiles(files, { singleFile: true, registry: exampleRegistry() });
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => d.name)).toEqual(['only']);
  });

  it('processes files in path order regardless of input order', () => {
    const out = parseSpecFiles([
      { path: 'z.yaml', content: CONFIG('z') },
      { path: 'a.yaml', content: CONFIG('a') },
      { path: 'm/b.yml', content: CONFIG('b') },
    ]);
    expect(out.documents.map((d) => d.file)).toEqual(['a.yaml', 'm/b.yml', 'z.yaml']);
  });

  it('accepts Buffer / Uint8Array content and a UTF-8 byte order mark', () => {
    const out = parseSpecFiles([
      { path: 'a.yaml', content: Buffer.from(CONFIG('buf'), 'utf8') },
      { path: 'b.yaml', content: `\uFEFF${CONFIG('bom')}` },
      { path: 'c.yaml', content: new TextEncoder().encode(`\uFEFF${CONFIG('bom-bytes')}`) },
    ]);
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => d.name)).toEqual(['buf', 'bom', 'bom-bytes']);
  });

  it('keeps valid documents of other files when one file is broken', () => {
    const out = parseSpecFiles([
      { path: 'a.yaml', content: 'kind: [' },
      { path: 'b.yaml', content: CONFIG('fine') },
    ]);
    expect(out.documents.map((d) => d.name)).toEqual(['fine']);
    expect(out.invalid).toHaveLength(1);
    expect(out.invalid[0]?.file).toBe('a.yaml');
  });
});

describe('parseSpecFiles: documents', () => {
  it('returns kind, name, spec, metadata and the position of each document', () => {
    const doc = parseValid(
      y(
        '# header comment',
        'kind: Workload',
        'name: api',
        'metadata:',
        '  description: Public API',
        '  labels:',
        '    team: storefront',
        'spec:',
        '  port: 8080',
        '  healthcheck:',
        '    path: /healthz',
      ),
    );
    expect(doc).toMatchObject({
      kind: 'Workload',
      name: 'api',
      file: 'shop/app.yaml',
      line: 2,
      column: 1,
      metadata: { description: 'Public API', labels: { team: 'storefront' } },
      spec: { port: 8080, healthcheck: { path: '/healthz' } },
    });
    expect(doc.positions['/kind']).toEqual({ line: 2, column: 1 });
    expect(doc.positions['/metadata/labels/team']).toEqual({ line: 7, column: 5 });
    expect(doc.positions['/spec/healthcheck/path']).toEqual({ line: 11, column: 5 });
  });

  it('keeps the spec as declared (normalisation happens when planning)', () => {
    const doc = parseValid(y('kind: Workload', 'name: api', 'spec:', '  port: 1', '  deploy_strategy: ""'));
    expect(doc.spec).toEqual({ port: 1, deploy_strategy: '' });
    expect(doc.metadata).toEqual({});
  });

  it('reads several documents from one file with their own lines', () => {
    const out = parseOne(
      y('kind: Config', 'name: one', 'spec: {data: {}}', '---', '# second', 'kind: Config', 'name: two', 'spec:', '  data: {a: 1}', '...', '---', 'kind: Config', 'name: three', 'spec: {data: {}}'),
    );
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => [d.name, d.line])).toEqual([
      ['one', 1],
      ['two', 6],
      ['three', 12],
    ]);
  });

  it.each([
    ['an empty file', ''],
    ['only whitespace', '  \n\n'],
    ['only comments', '# nothing here\n# at all\n'],
    ['only separators', '---\n---\n'],
    ['a document end marker', '...\n'],
  ])('skips %s', (_label, content) => {
    expect(parseOne(content)).toEqual({ documents: [], invalid: [] });
  });

  it('skips empty documents between and after real ones', () => {
    const out = parseOne(`---\n# leading empty\n---\n${CONFIG('a')}---\n---\n${CONFIG('b')}---\n# trailing\n`);
    expect(out.invalid).toEqual([]);
    expect(out.documents.map((d) => d.name)).toEqual(['a', 'b']);
  });

  it('reads date-looking and YAML 1.1 boolean-looking values as strings (core schema), also under %YAML 1.1', () => {
    const body = y(
      'kind: Config',
      'name: c',
      'spec:',
      '  data:',
      '    day: 2024-01-01',
      '    stamp: 2024-01-01T10:00:00Z',
      '    time: 12:30:00',
      '    answer: yes',
      '    switch: on',
      '    norway: NO',
      '    quoted_number: "8080"',
      '    real_bool: true',
      '    nothing: ~',
      '    float: 1.0',
      '    hex: 0x1F',
      '    octal: 0o17',
    );
    const expected = {
      day: '2024-01-01',
      stamp: '2024-01-01T10:00:00Z',
      time: '12:30:00',
      answer: 'yes',
      switch: 'on',
      norway: 'NO',
      quoted_number: '8080',
      real_bool: true,
      nothing: null,
      float: 1,
      hex: 31,
      octal: 15,
    };
    expect(parseValid(body).spec['data']).toEqual(expected);
    expect(parseValid(`%YAML 1.1\n---\n${body}`).spec['data']).toEqual(expected);
  });

  it('keeps plain number and boolean keys as written', () => {
    const doc = parseValid(y('kind: Config', 'name: c', 'spec:', '  data:', '    404: /not-found', '    0x10: sixteen', '    true: yes'));
    expect(Object.keys(doc.spec['data'] as object)).toEqual(['404', '0x10', 'true']);
  });

  it('expands a few anchors and aliases', () => {
    const doc = parseValid(y('kind: Config', 'name: c', 'spec:', '  data:', '    base: &b {retries: 3, tags: [a]}', '    copy: *b'));
    expect(doc.spec['data']).toEqual({ base: { retries: 3, tags: ['a'] }, copy: { retries: 3, tags: ['a'] } });
  });

  it('accepts up to maxAliasCount aliases, and the limit is adjustable', () => {
    const items = Array.from({ length: 100 }, () => '*x').join(', ');
    const content = y('kind: Config', 'name: c', 'spec:', '  data:', '    x: &x 1', `    list: [${items}]`);
    expect(parseOne(content).invalid).toEqual([]);
    const strict = parseOne(content, 'shop/app.yaml', { maxAliasCount: 10 });
    expect(strict.invalid[0]?.code).toBe('alias_limit');
  });

  it('stores a __proto__ key as plain data without touching prototypes', () => {
    const doc = parseValid(y('kind: Config', 'name: c', 'spec:', '  data:', '    __proto__: {polluted: true}'));
    const data = doc.spec['data'] as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(data))).toEqual(JSON.parse('{"__proto__": {"polluted": true}}'));
  });

  it('turns pathological nesting into an invalid result instead of throwing', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const out = parseOne(y('kind: Config', 'name: c', 'spec:', `  data: {x: ${deep}}`));
    expect(out.documents).toEqual([]);
    expect(out.invalid).toHaveLength(1);
    expect(['too_deep', 'resource_limit']).toContain(out.invalid[0]?.code);
    expect(out.invalid[0]?.message).toMatch(/^shop\/app\.yaml:\d+:\d+: /);
  });

  it('lists every problem of a document, each with its own position, capped at 20', () => {
    const fields = Array.from({ length: 25 }, (_, i) => `  extra_${i}: 1`);
    const out = parseOne(y('kind: Workload', 'name: api', 'spec:', '  port: 1', ...fields));
    expect(out.invalid).toHaveLength(1);
    const message = out.invalid[0]?.message ?? '';
    expect(message).toContain("shop/app.yaml:5:3: /spec/extra_0: unknown field 'extra_0'");
    expect(message).toContain("shop/app.yaml:24:3: /spec/extra_19: unknown field 'extra_19'");
    expect(message).not.toContain('extra_20:');
    expect(message).toMatch(/and 5 more problem\(s\)$/);
  });

  it('validates the normalised spec: defaults and equivalents count', () => {
    // `""` is in the enum anyway; only `port` is required; defaults fill the rest.
    expect(parseOne(y('kind: Workload', 'name: api', 'spec:', '  port: 1', '  deploy_strategy: ""')).invalid).toEqual([]);
  });

  it('reports identity (kind, name) of invalid documents when it can be read', () => {
    const out = parseOne(y('kind: Workload', 'name: api', 'spec:', '  port: nope'));
    expect(out.invalid[0]).toMatchObject({ kind: 'Workload', name: 'api', path: '/spec/port' });
    const broken = parseOne(y('kind: Workload', 'name: api', 'spec:', '\tport: 1'));
    expect(broken.invalid[0]).toMatchObject({ kind: 'Workload', name: 'api', code: 'tab_indentation' });
  });

  it('without a registry, checks the kind name pattern but not its existence', () => {
    expect(parseSpecFiles([{ path: 'a.yaml', content: y('kind: Anything', 'name: x', 'spec: {free: form}') }]).invalid).toEqual([]);
    const bad = parseSpecFiles([{ path: 'a.yaml', content: y('kind: lower', 'name: x', 'spec: {}') }]);
    expect(bad.invalid[0]).toMatchObject({ code: 'invalid_field', line: 1, column: 1 });
  });

  it('is deterministic', () => {
    const files = [
      { path: 'b.yaml', content: `${CONFIG('x')}---\nkind: Nope\nname: y\nspec: {}\n` },
      { path: 'a.yaml', content: 'kind: Config\nname: x\nspec: {data: {}}\n' },
    ];
    const a = parseSpecFiles(files, { registry: exampleRegistry() });
    const b = parseSpecFiles([...files].reverse(), { registry: exampleRegistry() });
    expect(a).toEqual(b);
    expect(a.invalid.map((i) => `${i.file}:${i.line}`)).toEqual(['a.yaml:2', 'b.yaml:2', 'b.yaml:6']);
  });
});
