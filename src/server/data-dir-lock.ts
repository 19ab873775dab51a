import fs from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server per SQLite data dir: takes `<dataDir>/syncline.lock` (pid and port of the holder)
 * or throws DataDirLockedError naming the server that holds it. A lock left by a process that
 * is gone (a crash, kill -9) is taken over. Returns the release function (also run on exit).
 */
export function lockDataDir(dataDir: string, info: { port: number }): () => void {
  const file = path.join(dataDir, 'syncline.lock');
  const body = JSON.stringify({ pid: process.pid, port: info.port, started_at: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${body}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        try {
          const held = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number };
          if (held.pid === process.pid) fs.rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: { pid?: unknown; port?: unknown } = {};
    try {
      holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof holder;
    } catch {
      // unreadable or half-written: treat as stale
    }
    const pid = typeof holder.pid === 'number' ? holder.pid : null;
    if (pid !== null && pid !== process.pid && alive(pid)) {
      throw new DataDirLockedError(
        `Another Syncline server (pid ${pid}${typeof holder.port === 'number' ? `, port ${holder.port}` : ''}) is already using the data dir ${dataDir}. ` +
          'Stop it first, or give this one its own SYNCLINE_DATA_DIR.',
      );
    }
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new DataDirLockedError(`Could not take the lock ${file}`);
}
