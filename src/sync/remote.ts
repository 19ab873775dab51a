/**
 * The one way the server reaches a source's remote: check the stored URL against the outbound
 * guard NOW (resolve, check every address), then hand git the checked address to pin to. Used by
 * sync, plan, drift, source checks and the mirror scheduler — a URL that was fine when saved but
 * whose name now resolves to loopback (DNS rebinding) is refused at the connection.
 */
import type { ResolvedSettings } from '../config/load.js';
import type { GitAuth } from '../git/auth.js';
import type { RemotePin } from '../git/remote.js';
import { guardedFetch } from '../security/outbound-http.js';
import { checkOutbound, type GuardOptions, type OutboundTarget, type Resolver } from '../security/url-guard.js';
import type { SecretBox } from '../security/secret-box.js';
import type { SourceRow } from '../store/sources.js';
import { gitAuthFor } from './git-auth.js';

/** The guard's settings for this server; `resolver` is injectable (tests). */
export function guardOptions(settings: Pick<ResolvedSettings, 'allowed_hosts' | 'allow_file_sources'>, resolver?: Resolver): GuardOptions {
  return { allowedHosts: settings.allowed_hosts, allowFileSources: settings.allow_file_sources, lookup: resolver };
}

export function pinOf(target: OutboundTarget): RemotePin | null {
  return target.address && target.port !== null ? { host: target.host, port: target.port, address: target.address } : null;
}

/** A checked, pinned remote for one connection: pass all three fields to ensureMirror / lsRemote. */
export interface CheckedRemote {
  url: string;
  pin: RemotePin | null;
  auth: GitAuth;
}

/** Checks `url` for a connection about to be made and returns it pinned. */
export async function checkRemote(url: string, guard: GuardOptions): Promise<{ url: string; pin: RemotePin | null }> {
  const target = await checkOutbound(url, guard);
  return { url: target.url, pin: pinOf(target) };
}

export async function connectSource(
  ctx: { settings: ResolvedSettings; box: SecretBox; resolver?: Resolver | undefined },
  row: SourceRow,
): Promise<CheckedRemote> {
  const guard = guardOptions(ctx.settings, ctx.resolver);
  const remote = await checkRemote(row.url, guard);
  // A GitHub App token is minted over the forge API: through the guarded agent too.
  return { ...remote, auth: await gitAuthFor(ctx.box, row, row.auth_type === 'github_app' ? guardedFetch(guard) : undefined) };
}
