/**
 * The outbound URL guard: every URL the server connects to (git sources, forge APIs, outbound
 * webhooks) passes through here, at save time AND at every connection.
 *
 *  1. `parseGitUrl` reads the URL the way git/libcurl will: anything two parsers could read
 *     differently (backslashes, whitespace, control characters, userinfo on http(s), a form the
 *     WHATWG serialiser would rewrite, `transport::address` helper syntax) is refused outright.
 *  2. `checkOutbound` resolves the host, refuses it when ANY address is loopback, private,
 *     link-local, reserved, documentation or metadata (also when embedded in ::/96, NAT64 or 6to4
 *     IPv6 forms), and returns the checked address so the caller can pin the connection to it
 *     (git: `http.curloptResolve`; HTTP agents: `lookup`) — the name is never resolved twice.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { SynclineError } from '../errors.js';

export interface ParsedGitUrl {
  scheme: 'https' | 'http' | 'ssh' | 'file';
  /** Host name or IP literal, lower-cased, without brackets; empty for file://. */
  host: string;
  /** The URL as git should receive it (scp-style kept as written). */
  url: string;
}

/** Resolves a host name to every address it has (injectable so tests never touch DNS). */
export type Resolver = (host: string) => Promise<string[]>;

export interface GuardOptions {
  allowedHosts: readonly string[];
  allowFileSources: boolean;
  /** Injectable for tests; defaults to the system resolver. */
  lookup?: Resolver | undefined;
  /**
   * Accept a host that does not resolve now (air-gapped set-up with runtime sync off: the mirror
   * is on disk and upstream is never contacted). It is still checked at every connection.
   */
  allowUnresolved?: boolean;
}

/** `user@host:path`: a plain host name or a bracketed IPv6 literal, then a path not starting with ':' or '//'. */
const SCP_STYLE = /^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(?!\/\/|:)(\S+)$/;
/** Characters no URL of ours may contain anywhere: whitespace (any), controls, backslash. */
const FORBIDDEN_CHARS = /[\s\x00-\x1f\x7f\\\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

/** Addresses an outbound request must not reach unless allow-listed. */
const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1 (documentation)
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv4');
}
for (const [addr, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (deprecated) forms
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, benchmarking…)
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(addr, prefix, 'ipv6');
}

/** The 16 bytes of an IPv6 address (any textual form, including a dotted IPv4 tail). */
function ipv6Bytes(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const parts = v4[1].split('.').map(Number);
    text = `${text.slice(0, -v4[1].length)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  const bytes: number[] = [];
  for (const g of groups) {
    const n = parseInt(g, 16);
    if (!/^[0-9a-f]{1,4}$/.test(g) || Number.isNaN(n)) return null;
    bytes.push(n >> 8, n & 0xff);
  }
  return bytes;
}

/** IPv4 address carried inside an IPv6 one (mapped, NAT64, 6to4), judged as itself. */
function embeddedIpv4(bytes: number[]): string | null {
  const v4 = (at: number) => bytes.slice(at, at + 4).join('.');
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated)
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (zero(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zero(10, 12)) return v4(12);
  // 64:ff9b::/96 (well-known NAT64 prefix)
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zero(4, 12)) return v4(12);
  // 2002::/16 (6to4): the IPv4 address is bytes 2..5
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2);
  return null;
}

export function isBlockedAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const bytes = ipv6Bytes(address);
    if (!bytes) return true;
    const inner = embeddedIpv4(bytes);
    if (inner && blocked.check(inner, 'ipv4')) return true;
    return blocked.check(address, 'ipv6');
  }
  return true;
}

/**
 * Parses a source URL strictly, as git will read it. Refuses (400 `invalid_url`) anything a
 * second parser could read differently; the accepted text is exactly what git receives.
 */
export function parseGitUrl(raw: string): ParsedGitUrl {
  const url = raw;
  if (!url) throw invalidUrl(raw, 'is empty');
  if (FORBIDDEN_CHARS.test(url)) {
    throw invalidUrl(raw, 'must not contain whitespace, control characters, backslashes or invisible characters');
  }
  if (url.startsWith('-')) throw invalidUrl(raw, 'must not start with "-"');
  // git reads `<transport>::<address>` as "run git-remote-<transport>" — never a plain URL.
  if (/^[A-Za-z0-9+.-]*::/.test(url)) throw invalidUrl(raw, 'must not use the "transport::address" form');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme) {
    if (url.includes('://')) throw invalidUrl(raw, 'has a malformed scheme');
    const m = SCP_STYLE.exec(url);
    if (!m?.[2]) throw invalidUrl(raw, 'use https://, http://, ssh://, user@host:path or file://');
    if (m[1]?.startsWith('-')) throw invalidUrl(raw, 'has a user name starting with "-"');
    // `https:/host/x` is scp-style to a host called "https" for git: a typo, never meant.
    if (/^(?:https?|ssh|file|git|ftp)$/i.test(m[2])) throw invalidUrl(raw, 'has a malformed scheme');
    const host = m[2].replace(/^\[|\]$/g, '').toLowerCase();
    if (host.startsWith('-') || (m[2].startsWith('[') && net.isIP(host) !== 6)) throw invalidUrl(raw, 'has an invalid host');
    return { scheme: 'ssh', host, url };
  }
  if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh' && scheme !== 'file') {
    throw invalidUrl(raw, `scheme '${scheme}' is not supported (https, http, ssh, file)`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl(raw, 'is not a valid URL');
  }
  // One reading only: the WHATWG serialisation must give back exactly what was written, so git,
  // libcurl and this guard cannot disagree about the host (case, dots, percent-escapes, IDNA…).
  if (parsed.href !== url) {
    // A disguised address (`2130706433`, `[::ffff:127.0.0.1]`) is answered for what it is.
    const canonicalHost = parsed.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(canonicalHost) && isBlockedAddress(canonicalHost)) throw notAllowed(canonicalHost, canonicalHost);
    throw new SynclineError('invalid_url', `Source URL is not in canonical form; write it as ${parsed.href.slice(0, 300)}`, {
      url: raw.slice(0, 200),
      canonical: parsed.href.slice(0, 300),
    });
  }
  if (scheme === 'file') {
    if (parsed.host) throw invalidUrl(raw, 'file:// URLs take no host (file:///path)');
    return { scheme: 'file', host: '', url };
  }
  // A user name is how ssh:// says which account to log in as; a password is a credential and
  // would be stored and shown in clear, so it belongs in the auth field on every scheme.
  if (parsed.password || ((scheme === 'https' || scheme === 'http') && parsed.username)) {
    throw invalidUrl(raw, 'must not embed credentials; use the auth field');
  }
  if (!parsed.hostname) throw invalidUrl(raw, 'has no host');
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (scheme === 'ssh' && !/^(?:[a-z0-9.-]+|[0-9a-f:.]+)$/.test(host)) throw invalidUrl(raw, 'has an invalid host');
  if (host.startsWith('-')) throw invalidUrl(raw, 'has an invalid host');
  return { scheme, host, url };
}

/** The port a URL connects to (explicit or the scheme's default); null for file://. */
export function urlPort(parsed: ParsedGitUrl): number | null {
  if (parsed.scheme === 'file') return null;
  if (parsed.scheme === 'ssh' && !parsed.url.startsWith('ssh://')) return 22;
  const port = new URL(parsed.url).port;
  if (port) return Number(port);
  return parsed.scheme === 'https' ? 443 : parsed.scheme === 'http' ? 80 : 22;
}

/** The host of a git URL as the guard sees it (lower case, no brackets), or '' when it has none or is not a valid URL. */
export function hostOf(raw: string): string {
  try {
    return parseGitUrl(raw).host;
  } catch {
    return '';
  }
}

export const systemResolver: Resolver = async (host) => {
  const rows = await dns.lookup(host, { all: true, verbatim: true });
  return rows.map((r) => r.address);
};

export function hostAllowListed(host: string, allowedHosts: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowedHosts.some((entry) => {
    const e = entry.toLowerCase().replace(/^\[|\]$/g, '');
    return e.startsWith('*.') ? h.endsWith(e.slice(1)) : h === e;
  });
}

/** An address explicitly allow-listed as an IP literal (e.g. an internal git server's address). */
function addressAllowListed(address: string, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((entry) => {
    const e = entry.replace(/^\[|\]$/g, '');
    return net.isIP(e) !== 0 && net.isIP(address) === net.isIP(e) && normalizeIp(e) === normalizeIp(address);
  });
}

function normalizeIp(address: string): string {
  return net.isIP(address) === 6 ? (ipv6Bytes(address) ?? []).join(',') : address;
}

/** What a connection may use: the checked URL and, for names, the address it must connect to. */
export interface OutboundTarget extends ParsedGitUrl {
  /** Port the connection goes to; null for file://. */
  port: number | null;
  /**
   * The checked address to connect to; null when there is nothing to pin (file://, an IP
   * literal, or a host name the operator allow-listed).
   */
  address: string | null;
}

/**
 * Checks `raw` for a connection about to be made: parse, allow-list, resolve, check EVERY
 * address. Call it right before each connection and pin the connection to `address`.
 */
export async function checkOutbound(raw: string, opts: GuardOptions): Promise<OutboundTarget> {
  const parsed = parseGitUrl(raw);
  const port = urlPort(parsed);
  if (parsed.scheme === 'file') {
    if (!opts.allowFileSources) {
      throw new SynclineError('host_not_allowed', 'file:// sources are disabled (set SYNCLINE_ALLOW_FILE_SOURCES=true)', {
        url: raw.slice(0, 200),
      });
    }
    return { ...parsed, port, address: null };
  }
  if (hostAllowListed(parsed.host, opts.allowedHosts)) return { ...parsed, port, address: null };
  if (net.isIP(parsed.host)) {
    if (isBlockedAddress(parsed.host)) throw notAllowed(parsed.host, parsed.host);
    return { ...parsed, port, address: null };
  }
  let addresses: string[];
  try {
    addresses = await resolveHost(parsed.host, opts.lookup);
  } catch (err) {
    if (opts.allowUnresolved && err instanceof SynclineError && err.code === 'invalid_url') return { ...parsed, port, address: null };
    throw err;
  }
  return { ...parsed, port, address: pickAllowed(parsed.host, addresses, opts.allowedHosts) };
}

/** Resolves a name; a resolver failure is `invalid_url` (the name does not resolve). */
export async function resolveHost(host: string, lookup: Resolver = systemResolver): Promise<string[]> {
  try {
    return await lookup(host);
  } catch {
    throw new SynclineError('invalid_url', `Host '${host}' does not resolve`, { host });
  }
}

/** The first address when every address of `host` is allowed; throws `host_not_allowed` otherwise. */
export function pickAllowed(host: string, addresses: readonly string[], allowedHosts: readonly string[]): string {
  const bad = addresses.find((a) => isBlockedAddress(a) && !addressAllowListed(a, allowedHosts));
  if (bad || addresses.length === 0) throw notAllowed(host, bad ?? 'none');
  return addresses[0]!;
}

/** Save-time check (POST/PATCH sources, subscriptions): the same rules as at connection time. */
export async function assertOutboundUrlAllowed(raw: string, opts: GuardOptions): Promise<ParsedGitUrl> {
  const { scheme, host, url } = await checkOutbound(raw, opts);
  return { scheme, host, url };
}

function notAllowed(host: string, address: string): SynclineError {
  return new SynclineError(
    'host_not_allowed',
    `Host '${host}' resolves to a loopback, private, link-local, reserved, documentation or metadata address (${address}); add it to SYNCLINE_ALLOWED_HOSTS to allow it`,
    { host },
  );
}

function invalidUrl(raw: string, why: string): SynclineError {
  return new SynclineError('invalid_url', `Source URL ${why}`, { url: raw.slice(0, 200) });
}
