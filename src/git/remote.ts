/**
 * Network hardening for every git call that talks to a remote (clone, fetch, ls-remote):
 *  - the connection is pinned to an address the outbound guard checked a moment ago
 *    (`http.curloptResolve=host:port:addr`, ssh `HostName=`), so git never resolves the name
 *    again and a DNS answer that changes between check and connect (rebinding) cannot matter;
 *  - redirects are never followed (`http.followRedirects=false`, set for every call in env.ts):
 *    a 30x is reported as `fetch_failed` naming where it pointed, and nothing — least of all the
 *    credential header — is sent to the redirect target.
 * Pinning needs git ≥ 2.37 (http.curloptResolve); `assertGitVersion` refuses older ones.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { GitConfigEntry } from './auth.js';

/** Where a checked remote must connect: its host name, port and the checked address. */
export interface RemotePin {
  host: string;
  port: number;
  address: string;
}

/** Config and env for one network git call to `url`, pinned to `pin` when given. */
export function pinnedRemoteConfig(url: string, pin: RemotePin | null | undefined): { config: GitConfigEntry[]; env: Record<string, string> } {
  if (!pin) return { config: [], env: {} };
  if (!/^[A-Za-z0-9.-]+$/.test(pin.host) || !Number.isInteger(pin.port) || net.isIP(pin.address) === 0) {
    throw new Error('invalid remote pin');
  }
  if (/^https?:\/\//i.test(url)) {
    const addr = net.isIP(pin.address) === 6 ? `[${pin.address}]` : pin.address;
    return { config: [{ key: 'http.curloptResolve', value: `${pin.host}:${pin.port}:${addr}` }], env: {} };
  }
  // ssh (ssh:// or scp-style): connect to the checked address, verify the host key under the name.
  // git runs GIT_SSH_COMMAND through a shell; host and address were validated above (no metacharacters).
  return {
    config: [],
    env: { GIT_SSH_COMMAND: `ssh -o BatchMode=yes -o HostKeyAlias=${pin.host} -o HostName=${pin.address}` },
  };
}

const REDIRECT = /returned error: (30[1278])\b/;

/** Whether git's stderr says the server answered with a redirect (which we refuse to follow). */
export function isRedirectFailure(stderr: string): boolean {
  return REDIRECT.test(stderr);
}

/**
 * Host a refused redirect pointed to: one unauthenticated GET of the smart-HTTP discovery URL,
 * to the same pinned address git used (no credentials, redirect not followed). Best-effort.
 */
export async function redirectTarget(url: string, pin: RemotePin | null | undefined, timeoutMs = 5000): Promise<string | null> {
  let target: URL;
  try {
    target = new URL(`${url.replace(/\/+$/, '')}/info/refs?service=git-upload-pack`);
  } catch {
    return null;
  }
  const mod = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
  if (!mod) return null;
  return new Promise((resolve) => {
    const req = mod.request(
      target,
      {
        method: 'GET',
        timeout: timeoutMs,
        headers: { 'user-agent': 'git/2 (syncline redirect probe)' },
        ...(pin
          ? {
              lookup: (_h: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
                opts?.all ? cb(null, [{ address: pin.address, family: net.isIP(pin.address) }]) : cb(null, pin.address, net.isIP(pin.address)),
            }
          : {}),
      } as http.RequestOptions,
      (res) => {
        res.resume();
        const location = res.headers.location;
        if (!location) return resolve(null);
        try {
          resolve(new URL(location, target).host);
        } catch {
          resolve(null);
        }
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
