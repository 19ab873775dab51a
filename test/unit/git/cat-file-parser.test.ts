import { describe, expect, it } from 'vitest';
import { CatFileBatchParser, type CatFileObject } from '../../../src/git/cat-file-parser.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function stream(): Buffer {
  const bin = Buffer.from([0, 10, 255, 10, 13]);
  return Buffer.concat([
    Buffer.from(`${A} blob 5\nhello\n`),
    Buffer.from(`${B} blob 0\n\n`),
    Buffer.from(`${C} blob ${bin.length}\n`),
    bin,
    Buffer.from('\n'),
    Buffer.from(`${'d'.repeat(40)} missing\n`),
  ]);
}

function parseInChunks(data: Buffer, size: number): CatFileObject[] {
  const parser = new CatFileBatchParser();
  const out: CatFileObject[] = [];
  for (let i = 0; i < data.length; i += size) out.push(...parser.push(data.subarray(i, i + size)));
  parser.end();
  return out;
}

describe('CatFileBatchParser', () => {
  it('parses blobs, empty blobs, binary content and missing objects in one chunk', () => {
    const objs = parseInChunks(stream(), 1 << 20);
    expect(objs.map((o) => [o.oid, o.type, o.size])).toEqual([
      [A, 'blob', 5],
      [B, 'blob', 0],
      [C, 'blob', 5],
      ['d'.repeat(40), 'missing', 0],
    ]);
    expect(objs[0]?.content.toString()).toBe('hello');
    expect([...(objs[2]?.content ?? [])]).toEqual([0, 10, 255, 10, 13]);
  });

  it('gives the same result whatever the chunk boundaries', () => {
    const whole = parseInChunks(stream(), 1 << 20);
    for (const size of [1, 2, 3, 7, 41, 42, 43]) {
      const objs = parseInChunks(stream(), size);
      expect(objs.map((o) => [o.oid, o.content.toString('hex')])).toEqual(
        whole.map((o) => [o.oid, o.content.toString('hex')]),
      );
    }
  });

  it('rejects a stream cut in the middle of an object', () => {
    const parser = new CatFileBatchParser();
    parser.push(Buffer.from(`${A} blob 10\nhel`));
    expect(() => parser.end()).toThrow(/middle of an object/);
  });

  it('rejects garbage headers and a missing trailing newline', () => {
    expect(() => new CatFileBatchParser().push(Buffer.from('nonsense here\n'))).toThrow(/unexpected header/);
    expect(() => new CatFileBatchParser().push(Buffer.from(`${A} blob 2\nhiX`))).toThrow(/missing newline/);
  });
});
