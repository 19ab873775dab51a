/**
 * Another process holding a named lock, for the cross-process lock test (run with tsx; not a
 * test file). Usage: hold-lock.ts <database-url> <schema> <key>. Prints `locked` once it holds
 * the lock and releases it (and exits) when its stdin closes.
 */
import { openDatabase } from '../../../src/store/db.js';
import { withLock } from '../../../src/store/locks.js';

const [url, schema, key] = process.argv.slice(2) as [string, string, string];
const handle = await openDatabase({ url, schema, poolSize: 2 });
try {
  await withLock(handle, key, 0, async () => {
    process.stdout.write('locked\n');
    await new Promise<void>((resolve) => {
      process.stdin.on('end', resolve).on('close', resolve).resume();
    });
  });
} finally {
  await handle.close();
}
