import { describe, expect, it } from 'vitest';
import { assertSafeRemoteUrl, authConfig, httpOrigin, tokenUsername } from '../../../src/git/auth.js';
import { classifyGitError } from '../../../src/git/classify.js';
import { buildGitEnv } from '../../../src/git/env.js';
import { summarizeStderr } from '../../../src/git/git-error.js';
import { KeyedMutex } from '../../../src/git/keyed-mutex.js';
import { isValidRefText } from '../../../src/git/refs.js';
import { normalizeTreePath } from '../../../src/git/tree.js';
import { redact } from '../../../src/security/redact.js';

describe('ref validation', () => {
  it.each(['main', 'feature/x-1', 'v1.2.3', 'refs/heads/main', 'abc1234', 'release_2024', 'a+b', 'HEAD'])(
    'accepts %s',
    (ref) => expect(isValidRefText(ref)).toBe(true),
  );
  it.each([
    '',
    '--upload-pack=x',
    '-x',
    'main..other',
    'main~1',
    'main^',
    'HEAD@{1}',
    'a:b',
    'a b',
    'a\nb',
    '/abs',
    'trailing/',
    'x.lock',
    'a//b',
    'a/.hidden',
    '.hidden',
    'ref*',
    'x'.repeat(256),
  ])('rejects %j', (ref) => expect(isValidRefText(ref)).toBe(false));
});

describe('normalizeTreePath', () => {
  it('canonicalises', () => {
    expect(normalizeTreePath('')).toBe('');
    expect(normalizeTreePath('.')).toBe('');
    expect(normalizeTreePath('./')).toBe('');
    expect(normalizeTreePath('/')).toBe('');
    expect(normalizeTreePath('./config/prod/')).toBe('config/prod');
    expect(normalizeTreePath('config//prod')).toBe('config/prod');
    expect(normalizeTreePath('.syncline.yml')).toBe('.syncline.yml');
  });
  it.each(['../etc', 'a/../b', 'a/./b', 'a\0b', 'a\nb'])('rejects %j with path_not_found', (p) => {
    expect(() => normalizeTreePath(p)).toThrow(expect.objectContaining({ code: 'path_not_found' }));
  });
});

describe('classifyGitError', () => {
  it.each([
    ["fatal: Authentication failed for 'https://github.com/o/r.git/'", 'auth_failed'],
    ["fatal: could not read Username for 'https://x': terminal prompts disabled", 'auth_failed'],
    ["fatal: unable to access 'https://x/': The requested URL returned error: 403", 'auth_failed'],
    ['git@github.com: Permission denied (publickey).', 'auth_failed'],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/o/r.git/' not found", 'repo_not_found'],
    ["fatal: unable to access 'https://x/': The requested URL returned error: 404", 'repo_not_found'],
    ["fatal: '/tmp/nope' does not appear to be a git repository", 'repo_not_found'],
    ["fatal: unable to access 'https://x/': Could not resolve host: x", 'fetch_failed'],
    ['error: RPC failed; curl 18 transfer closed with outstanding read data remaining', 'fetch_failed'],
    ["fatal: unable to access 'https://x/': The requested URL returned error: 500", 'fetch_failed'],
  ])('%s → %s', (stderr, code) => expect(classifyGitError(stderr)).toBe(code));
});

describe('auth config', () => {
  it('uses x-access-token for GitHub and generic tokens, oauth2 for GitLab', () => {
    expect(tokenUsername('github')).toBe('x-access-token');
    expect(tokenUsername(undefined)).toBe('x-access-token');
    expect(tokenUsername('gitea')).toBe('x-access-token');
    expect(tokenUsername('gitlab')).toBe('oauth2');
  });

  it('builds an origin-scoped extraHeader and registers the secret for redaction', () => {
    const token = 'ghs_unitTestToken123456';
    const [entry, ...rest] = authConfig('https://github.com/org/repo.git', { type: 'token', token, provider: 'github' });
    expect(rest).toEqual([]);
    const b64 = Buffer.from(`x-access-token:${token}`).toString('base64');
    // Scoped to the exact origin, port spelled out: never another port, scheme or host.
    expect(entry).toEqual({ key: 'http.https://github.com:443/.extraHeader', value: `Authorization: Basic ${b64}` });
    expect(redact(`x ${token} ${b64}`)).not.toContain(token);
    expect(redact(`x ${b64}`)).not.toContain(b64);
  });

  it('sends nothing for no auth or non-HTTP URLs', () => {
    expect(authConfig('https://h/r', { type: 'none' })).toEqual([]);
    expect(authConfig('git@github.com:o/r.git', { type: 'token', token: 'abcdefgh' })).toEqual([]);
    expect(authConfig('ssh://git@h/r', { type: 'basic', username: 'u', password: 'pppppp' })).toEqual([]);
  });

  it('refuses header-breaking credentials', () => {
    expect(() => authConfig('https://h/r', { type: 'basic', username: 'a:b', password: 'secret1' })).toThrow();
    expect(() => authConfig('https://h/r', { type: 'token', token: 'abc\r\nX-Evil: 1' })).toThrow();
  });

  it('httpOrigin keeps scheme, host and port only', () => {
    expect(httpOrigin('http://127.0.0.1:8080/a/b.git')).toBe('http://127.0.0.1:8080/');
    expect(httpOrigin('https://Git.Example.com/a/b.git')).toBe('https://git.example.com:443/');
    expect(httpOrigin('http://git.example.com/a')).toBe('http://git.example.com:80/');
    expect(httpOrigin('file:///tmp/x')).toBeNull();
  });

  it('assertSafeRemoteUrl refuses option-like URLs and embedded passwords', () => {
    expect(() => assertSafeRemoteUrl('--upload-pack=touch /tmp/x')).toThrow();
    expect(() => assertSafeRemoteUrl('https://user:pw@github.com/o/r.git')).toThrow(
      expect.objectContaining({ code: 'invalid_source_url' }),
    );
    for (const ok of ['https://github.com/o/r.git', 'ssh://git@h:22/o/r.git', 'git@github.com:o/r.git', 'file:///tmp/r']) {
      expect(() => assertSafeRemoteUrl(ok)).not.toThrow();
    }
  });
});

describe('buildGitEnv', () => {
  it('is minimal and never inherits the server environment', () => {
    process.env.SYNCLINE_SHOULD_NOT_LEAK = '1';
    const env = buildGitEnv({ url: 'https://h/r', auth: { type: 'token', token: 'tok-123456' } });
    expect(env.SYNCLINE_SHOULD_NOT_LEAK).toBeUndefined();
    expect(env).toMatchObject({
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      LANG: 'C',
    });
    const count = Number(env.GIT_CONFIG_COUNT);
    const keys = Array.from({ length: count }, (_, i) => env[`GIT_CONFIG_KEY_${i}`]);
    expect(keys).toContain('credential.helper');
    expect(keys).toContain('http.https://h:443/.extraHeader');
    // Redirects are never followed (a 302 must not take the header elsewhere).
    expect(keys).toContain('http.followRedirects');
    expect(env[`GIT_CONFIG_VALUE_${keys.indexOf('http.followRedirects')}`]).toBe('false');
    // The raw token is never an env value by itself, only inside the base64 header.
    expect(Object.values(env).some((v) => v?.includes('tok-123456'))).toBe(false);
  });
});

describe('pinned remotes', () => {
  it('pins http(s) with curloptResolve and ssh with HostName, never resolving twice', () => {
    const env = buildGitEnv({ url: 'https://git.example.com/r.git', pin: { host: 'git.example.com', port: 443, address: '140.82.121.4' } });
    const keys = Array.from({ length: Number(env.GIT_CONFIG_COUNT) }, (_, i) => env[`GIT_CONFIG_KEY_${i}`]);
    expect(env[`GIT_CONFIG_VALUE_${keys.indexOf('http.curloptResolve')}`]).toBe('git.example.com:443:140.82.121.4');
    const v6 = buildGitEnv({ url: 'https://git.example.com/r.git', pin: { host: 'git.example.com', port: 8443, address: '2606:4700::1111' } });
    expect(Object.values(v6)).toContain('git.example.com:8443:[2606:4700::1111]');
    const ssh = buildGitEnv({ url: 'git@git.example.com:r.git', pin: { host: 'git.example.com', port: 22, address: '140.82.121.4' } });
    expect(ssh.GIT_SSH_COMMAND).toBe('ssh -o BatchMode=yes -o HostKeyAlias=git.example.com -o HostName=140.82.121.4');
    expect(() => buildGitEnv({ url: 'git@x:r', pin: { host: 'x;touch /tmp/p', port: 22, address: '1.1.1.1' } })).toThrow();
  });
});

describe('summarizeStderr', () => {
  it('prefers fatal/error lines over progress', () => {
    const stderr = 'Cloning into bare repository\rReceiving objects:  50%\rReceiving objects: 100%\nfatal: boom\n';
    expect(summarizeStderr(stderr)).toBe('fatal: boom');
  });
});

describe('KeyedMutex', () => {
  it('serialises per key and lets other keys run', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const task = (key: string, name: string, ms: number) =>
      mutex.run(key, async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
      });
    await Promise.all([task('a', 'a1', 30), task('a', 'a2', 1), task('b', 'b1', 1)]);
    expect(events.indexOf('end a1')).toBeLessThan(events.indexOf('start a2'));
    expect(events.indexOf('start b1')).toBeLessThan(events.indexOf('end a1'));
    expect(mutex.isLocked('a')).toBe(false);
  });

  it('releases the lock when the task throws', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(mutex.run('k', async () => 42)).resolves.toBe(42);
  });
});
