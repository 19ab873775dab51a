import { lsRemote } from '../git/refs.js';
import { ensureMirror } from '../git/mirror-cache.js';
import { resolveRef } from '../git/refs.js';
import { SHA_LIKE_RE } from '../contracts/common.js';
import { SynclineError } from '../errors.js';
import type { AppContext } from '../app-context.js';
import { setMirrorState, type SourceRow } from '../store/sources.js';
import { checkRepoApi } from '../providers/forge.js';
import { connectSource, guardOptions } from './remote.js';
import { gitTimeouts } from './settings.js';

/**
 * Verifies a source is reachable with its credentials: lists the remote's refs; a commit id is
 * checked by fetching into the mirror (a remote can't be asked about arbitrary commits).
 */
export async function checkSource(ctx: AppContext, row: SourceRow, ref: string | undefined) {
  if (!ctx.settings.mirror_runtime_sync) {
    // Air-gap mode promises upstream is never contacted, even for an explicit check.
    throw new SynclineError('runtime_sync_disabled', 'Runtime sync is disabled (SYNCLINE_MIRROR_RUNTIME_SYNC=false): upstream is not contacted', {
      source: row.name,
    });
  }
  const conn = await connectSource(ctx, row);
  const remote = await lsRemote(conn.url, conn.auth, { sourceName: row.name, timeouts: gitTimeouts(ctx.settings), pin: conn.pin });
  const head = remote.defaultBranch && remote.head ? { ref: remote.defaultBranch, commit: remote.head } : null;
  // Learnt for free: namespaces bound later default to it.
  if (remote.defaultBranch && remote.defaultBranch !== row.default_branch) {
    await setMirrorState(ctx.db.db, row.name, { default_branch: remote.defaultBranch });
  }
  const result: {
    ok: true;
    default_branch: string | null;
    head: { ref: string; commit: string } | null;
    ref?: { ref: string; commit: string };
    api?: { reachable: boolean; private: boolean | null; permissions: Record<string, boolean> | null; message?: string };
  } = { ok: true, default_branch: remote.defaultBranch, head };
  // The forge's view of the repository (GitHub, Gitea, GitLab sources with credentials).
  const api = await checkRepoApi({ box: ctx.box, guard: guardOptions(ctx.settings, ctx.resolver), offline: false }, row);
  if (api) result.api = api;
  if (ref) {
    const short = ref.replace(/^refs\/(heads|tags)\//, '');
    const direct = remote.branches[short] ?? remote.tags[short];
    if (direct) result.ref = { ref, commit: direct };
    else if (SHA_LIKE_RE.test(ref)) {
      // A second connection: checked (and pinned) again.
      const again = await connectSource(ctx, row);
      const mirror = await ensureMirror(
        { name: row.name, ...again },
        { mirrorsDir: ctx.settings.mirror_dir, timeouts: gitTimeouts(ctx.settings) },
      );
      result.ref = { ref, commit: await resolveRef(mirror.dir, ref, { sourceName: row.name }) };
    } else {
      throw new SynclineError('ref_not_found', `Ref '${ref}' not found in source '${row.name}'`, { ref, source: row.name });
    }
  }
  return result;
}
