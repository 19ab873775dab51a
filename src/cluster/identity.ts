import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ID_RE = /^rep_[a-z0-9]{6,40}$/;

/**
 * This replica's id: kept in `<data_dir>/replica-id`, so a replica that restarts (or is killed
 * and restarted) is the same replica with the same local disk — its mirror copies are still its
 * own — and a CLI run in local mode on the same data dir acts as that replica. Each replica needs
 * a data dir of its own (two servers on one data dir would report as one replica).
 */
export function loadOrCreateReplicaId(dataDir: string): string {
  const file = path.join(dataDir, 'replica-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (ID_RE.test(id)) return id;
  } catch {
    // none yet
  }
  const id = `rep_${crypto.randomBytes(6).toString('hex')}`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${id}\n`, { mode: 0o600 });
  try {
    // First writer wins: link fails if another process created it meanwhile.
    fs.linkSync(tmp, file);
    return id;
  } catch {
    const other = fs.readFileSync(file, 'utf8').trim();
    if (ID_RE.test(other)) return other;
    fs.renameSync(tmp, file);
    return id;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
