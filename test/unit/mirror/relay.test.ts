import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relay } from '../../../src/mirror/relay.js';

/** A sink recording each write it is handed (writev batches count once). */
function sink(opts: { slow?: boolean } = {}) {
  const calls: number[] = [];
  const chunks: Buffer[] = [];
  const w = new Writable({
    highWaterMark: 16 * 1024,
    writev(list, cb) {
      calls.push(list.length);
      for (const { chunk } of list) chunks.push(chunk as Buffer);
      if (opts.slow) setTimeout(cb, 1);
      else cb();
    },
  });
  return { w, calls, chunks };
}

const piece = (i: number, n = 8192) => Buffer.alloc(n, i & 0xff);

describe('relay (git output → response, copy → cache)', () => {
  it('passes every byte in order, once to each side, and writes what one turn read in one batch', async () => {
    const src = new PassThrough();
    const out = sink();
    const copied: Buffer[] = [];
    const done = relay(src, out.w, { write: (c) => copied.push(c) });
    const sent = Array.from({ length: 20 }, (_, i) => piece(i));
    for (const p of sent) src.write(p); // all in one turn of the event loop
    src.end();
    expect(await done).toBe(true);
    expect(Buffer.concat(out.chunks).equals(Buffer.concat(sent))).toBe(true);
    expect(Buffer.concat(copied).equals(Buffer.concat(sent))).toBe(true);
    expect(out.calls.length).toBeLessThan(sent.length / 4);
  });

  it('pauses git when the client does not keep up, and still delivers everything', async () => {
    const src = new PassThrough();
    const out = sink({ slow: true });
    const done = relay(src, out.w, null, 32 * 1024);
    const sent: Buffer[] = [];
    let paused = 0;
    for (let i = 0; i < 200; i++) {
      const p = piece(i, 4096);
      sent.push(p);
      if (!src.write(p)) {
        paused++;
        await new Promise((r) => src.once('drain', r));
      }
    }
    src.end();
    expect(await done).toBe(true);
    expect(paused).toBeGreaterThan(0);
    expect(Buffer.concat(out.chunks).equals(Buffer.concat(sent))).toBe(true);
  });

  it('resolves false and destroys the source when the client goes away', async () => {
    const src = new PassThrough();
    const out = sink();
    const done = relay(src, out.w, null);
    src.write(piece(1));
    out.w.destroy();
    expect(await done).toBe(false);
    expect(src.destroyed).toBe(true);
  });

  it('resolves false when the source fails', async () => {
    const src = new PassThrough();
    const out = sink();
    const done = relay(src, out.w, null);
    src.write(piece(1));
    src.destroy(new Error('boom'));
    expect(await done).toBe(false);
    expect(out.w.destroyed).toBe(true);
  });
});
