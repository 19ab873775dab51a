import { SynclineError } from '../errors.js';
import { lsRemote } from '../git/refs.js';
import type { AppContext } from '../app-context.js';
import { setMirrorState } from '../store/sources.js';
import { connectSource } from './remote.js';
import { gitTimeouts } from './settings.js';

/** A branch check while saving a namespace waits at most this long for the remote. */
const CHECK_TIMEOUT_MS = 15_000;

/**
 * The branch a namespace bound to `sourceName` tracks: `branch` when given — refused with
 * `branch_not_found` when the source is reachable and has no such branch — else the source's
 * default branch (the remote HEAD). An unreachable source (offline set-up, air-gap mode, bad
 * credentials) is not an error here: the given branch is kept, or the last known default
 * branch is used, and the first plan reports any problem. `undefined` means "no opinion"
 * (the store then keeps or defaults it).
 */
export async function resolveNamespaceBranch(
  ctx: AppContext,
  sourceName: string,
  branch: string | undefined,
): Promise<string | undefined> {
  const row = await ctx.db.db.selectFrom('sources').selectAll().where('name', '=', sourceName).executeTakeFirst();
  if (!row) return branch; // the store refuses the unknown source with its own message
  const known = branch ?? row.default_branch ?? undefined;
  if (!ctx.settings.mirror_runtime_sync) return known;
  let remote;
  try {
    // Checked by the URL guard and pinned to the checked address, as every connection is.
    const conn = await connectSource(ctx, row);
    const timeouts = gitTimeouts(ctx.settings);
    remote = await lsRemote(conn.url, conn.auth, {
      sourceName,
      pin: conn.pin,
      timeouts: { idleMs: Math.min(timeouts.idleMs ?? CHECK_TIMEOUT_MS, CHECK_TIMEOUT_MS), totalMs: Math.min(timeouts.totalMs ?? CHECK_TIMEOUT_MS, CHECK_TIMEOUT_MS) },
    });
  } catch (err) {
    if (err instanceof SynclineError) return known; // unreachable now: checked again at plan time
    throw err;
  }
  if (remote.defaultBranch && remote.defaultBranch !== row.default_branch) {
    await setMirrorState(ctx.db.db, sourceName, { default_branch: remote.defaultBranch });
  }
  if (branch === undefined) return remote.defaultBranch ?? undefined;
  const short = branch.replace(/^refs\/heads\//, '');
  if (!Object.hasOwn(remote.branches, short)) {
    const names = Object.keys(remote.branches).sort();
    throw new SynclineError(
      'branch_not_found',
      `Branch '${branch}' not found in source '${sourceName}'${names.length ? ` (branches: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})` : ''}`,
      { branch, source: sourceName },
    );
  }
  return branch;
}
