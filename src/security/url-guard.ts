import dns from 'node:dns/promises';
import net from 'node:net';
import { BadRequestError } from '../errors.js';

export interface ParsedGitUrl {
  scheme: 'https' | 'http' | 'ssh' | 'file';
  /** Host name or IP literal, lower-cased, without brackets; empty for file://. */
  host: string;
  /** The URL as git should receive it (scp-style kept as written). */
  url: string;
}

const SCP_STYLE = /^(?:[A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(?!\/\/)[^\s]+$/;

/** Addresses an outbound request must not reach unless allow-listed. */
const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv4');
}
for (const [addr, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['fd00:ec2::254', 128],
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv6');
}

export function isBlockedAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped (::ffff:10.0.0.1) must be judged as the IPv4 address it is.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

export function parseGitUrl(raw: string): ParsedGitUrl {
  const url = raw.trim();
  if (!url || /[\s\x00-\x1f]/.test(url)) throw invalidUrl(raw, 'must be a URL without spaces or control characters');
  if (url.startsWith('-')) throw invalidUrl(raw, 'must not start with "-"');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme) {
    const m = SCP_STYLE.exec(url);
    if (!m?.[1]) throw invalidUrl(raw, 'use https://, http://, ssh://, user@host:path or file://');
    return { scheme: 'ssh', host: m[1].replace(/^\[|\]$/g, '').toLowerCase(), url };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(raw, 'is not a valid URL');
  }
  if (scheme === 'file') return { scheme: 'file', host: '', url };
  if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh') {
    throw invalidUrl(raw, `scheme '${scheme}' is not supported (https, http, ssh, file)`);
  }
  // A user name is how ssh:// says which account to log in as; a password is a credential and
  // would be stored and shown in clear, so it belongs in the auth field on every scheme.
  if (parsed.password || ((scheme === 'https' || scheme === 'http') && parsed.username)) {
    throw invalidUrl(raw, 'must not embed credentials; use the auth field');
  }
  if (!parsed.hostname) throw invalidUrl(raw, 'has no host');
  return { scheme, host: parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase(), url };
}

export interface GuardOptions {
  allowedHosts: readonly string[];
  allowFileSources: boolean;
  /** Injectable for tests; defaults to the system resolver. */
  lookup?: (host: string) => Promise<string[]>;
}

async function systemLookup(host: string): Promise<string[]> {
  const rows = await dns.lookup(host, { all: true, verbatim: true });
  return rows.map((r) => r.address);
}

export function hostAllowListed(host: string, allowedHosts: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowedHosts.some((entry) => {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, '');
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) : h === e;
  });
}

/**
 * Refuses URLs that would make the server reach loopback, private, link-local or metadata
 * addresses (SSRF) unless the host is allow-listed. Every address a name resolves to is checked.
 */
export async function assertOutboundUrlAllowed(raw: string, opts: GuardOptions): Promise<ParsedGitUrl> {
  const parsed = parseGitUrl(raw);
  if (parsed.scheme === 'file') {
    if (!opts.allowFileSources) {
      throw new BadRequestError('host_not_allowed', 'file:// sources are disabled (set SYNCLINE_ALLOW_FILE_SOURCES=true)', {
        url: raw,
      });
    }
    return parsed;
  }
  if (hostAllowListed(parsed.host, opts.allowedHosts)) return parsed;
  let addresses: string[];
  if (net.isIP(parsed.host)) addresses = [parsed.host];
  else {
    try {
      addresses = await (opts.lookup ?? systemLookup)(parsed.host);
    } catch {
      throw new BadRequestError('invalid_url', `Host '${parsed.host}' does not resolve`, { host: parsed.host });
    }
  }
  const bad = addresses.find(isBlockedAddress);
  if (bad || addresses.length === 0) {
    throw new BadRequestError(
      'host_not_allowed',
      `Host '${parsed.host}' resolves to a loopback, private, link-local or metadata address (${bad ?? 'none'}); add it to SYNCLINE_ALLOWED_HOSTS to allow it`,
      { host: parsed.host },
    );
  }
  return parsed;
}

function invalidUrl(raw: string, why: string): BadRequestError {
  return new BadRequestError('invalid_url', `Source URL ${why}`, { url: raw.slice(0, 200) });
}
