/**
 * The environment every git process runs with. Deliberately minimal: nothing from the server's
 * own environment leaks into git (no proxies or credentials the operator did not mean for git, no
 * user/system gitconfig, no credential helpers, no prompts that would hang a request).
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authConfig, type GitAuth, type GitConfigEntry } from './auth.js';
import { pinnedRemoteConfig, type RemotePin } from './remote.js';

let gitHome: string | undefined;

/** Overrides the empty HOME directory git runs with (e.g. under the data dir). */
export function setGitHome(dir: string): void {
  gitHome = dir;
}

/**
 * A private, empty HOME: git and ssh look there for config, keys and known_hosts, and must find
 * nothing the operator did not configure explicitly. One per user (`syncline-git-home-<uid>`,
 * mode 0700) so processes don't each leave a directory behind; if that path exists but is not a
 * directory we own and alone can write (someone planted it in a shared /tmp), use a fresh one.
 */
export function getGitHome(): string {
  gitHome ??= ownedHome() ?? freshHome();
  return gitHome;
}

function ownedHome(): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = join(tmpdir(), `syncline-git-home-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  const st = lstatSync(dir);
  return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : undefined;
}

function freshHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncline-git-home-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Config that applies to every call, whatever the repo says. */
const BASE_CONFIG: GitConfigEntry[] = [
  // An empty value resets the helper list: git must never consult a credential store.
  { key: 'credential.helper', value: '' },
  { key: 'core.askPass', value: '' },
  // Never run hooks from a repository we did not write.
  { key: 'core.hooksPath', value: '/dev/null' },
  // Sources are untrusted; never recurse into submodules they declare.
  { key: 'fetch.recurseSubmodules', value: 'false' },
  // A redirect could take the request (and the credential header) to a host nobody checked.
  { key: 'http.followRedirects', value: 'false' },
];

export interface GitEnvOptions {
  /** Remote URL the credentials belong to; the auth header is scoped to its origin. */
  url?: string;
  auth?: GitAuth;
  /** The address the outbound guard checked for `url`'s host: git connects there and nowhere else. */
  pin?: RemotePin | null;
  /** Extra config entries for this call (passed the same env-only way). */
  config?: GitConfigEntry[];
  /** Extra variables (e.g. GIT_SSH_COMMAND, GIT_LITERAL_PATHSPECS); cannot override the basics. */
  env?: Record<string, string>;
}

export function buildGitEnv(opts: GitEnvOptions = {}): NodeJS.ProcessEnv {
  const pinned = opts.url ? pinnedRemoteConfig(opts.url, opts.pin) : { config: [], env: {} };
  const config = [...BASE_CONFIG, ...(opts.config ?? []), ...pinned.config, ...authConfig(opts.url, opts.auth)];
  const env: NodeJS.ProcessEnv = {
    ...opts.env,
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: getGitHome(),
    LANG: 'C',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    // ssh must fail instead of prompting for a passphrase or host key confirmation.
    GIT_SSH_COMMAND: pinned.env.GIT_SSH_COMMAND ?? opts.env?.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    // Only ordinary transports; `ext::` and friends could run commands.
    GIT_ALLOW_PROTOCOL: 'http:https:ssh:git:file',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach((entry, i) => {
    env[`GIT_CONFIG_KEY_${i}`] = entry.key;
    env[`GIT_CONFIG_VALUE_${i}`] = entry.value;
  });
  return env;
}
