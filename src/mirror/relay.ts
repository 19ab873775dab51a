/**
 * Carries git upload-pack's answer to the client, and a copy to the clone cache on a miss.
 *
 * upload-pack relays pack-objects' output in side-band packets of at most 8 KiB, so a 64 MiB
 * clone arrives as ~8,000 pipe reads. Piped (`pipeline(stdout, tee, res)`), each read became its
 * own socket write, and on a VM where every syscall and wake-up is dear that carrying cost as much
 * as making the pack. Here the response is corked at the first piece of a turn of the event loop
 * and uncorked on the next `setImmediate` (or once `maxBatch` bytes are waiting), so everything
 * read from the pipe in one turn goes out in one `writev`, without copying. Backpressure as
 * before: when the socket holds more than `maxBatch` unsent bytes, git's output is paused until
 * the response drains (git then blocks on its pipe, and its idle limit applies as it did).
 *
 * The cache copy (`copy.write`) takes the same buffers; it never blocks the client (the writer
 * drops its copy rather than queue more than its limit).
 */
import type { Readable, Writable } from 'node:stream';

/** Most bytes corked before they are written, and the socket backlog at which git is paused. */
export const RELAY_BATCH = 256 * 1024;

export interface RelayCopy {
  write(chunk: Buffer): void;
}

/**
 * Relays `src` to `res` (ended when `src` ends). Resolves true once the whole answer was handed to
 * the socket and the response finished, false when either side failed or the client left first
 * (then `src` is destroyed; the caller stops git).
 */
export function relay(src: Readable, res: Writable, copy: RelayCopy | null, maxBatch = RELAY_BATCH): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let settled = false;
    let corked = false;
    let batched = 0;
    const flush = (): void => {
      if (!corked) return;
      corked = false;
      batched = 0;
      res.uncork();
    };
    const onData = (chunk: Buffer): void => {
      copy?.write(chunk);
      if (!corked) {
        corked = true;
        res.cork();
        setImmediate(flush);
      }
      batched += chunk.length;
      const ok = res.write(chunk);
      if (batched >= maxBatch) flush();
      if (!ok && res.writableLength >= maxBatch) src.pause();
    };
    const onDrain = (): void => {
      if (src.isPaused()) src.resume();
    };
    const onEnd = (): void => {
      flush();
      res.end();
    };
    const onFinish = (): void => finish(true);
    const onSrcError = (): void => {
      res.destroy();
      finish(false);
    };
    const onResClose = (): void => {
      if (!res.writableFinished) finish(false);
    };
    const onResError = (): void => finish(false);
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('error', onSrcError);
      res.off('drain', onDrain);
      res.off('finish', onFinish);
      res.off('close', onResClose);
      res.off('error', onResError);
      if (!ok) {
        flush();
        // Swallow what a destroyed pipe may still report; the caller reads git's exit instead.
        src.on('error', () => undefined);
        src.destroy();
      }
      resolve(ok);
    };
    src.on('data', onData);
    src.on('end', onEnd);
    src.on('error', onSrcError);
    res.on('drain', onDrain);
    res.on('finish', onFinish);
    res.on('close', onResClose);
    res.on('error', onResError);
  });
}
