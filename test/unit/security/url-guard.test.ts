import { describe, expect, it } from 'vitest';
import { SynclineError } from '../../../src/errors.js';
import { assertOutboundUrlAllowed, checkOutbound, hostAllowListed, isBlockedAddress, parseGitUrl } from '../../../src/security/url-guard.js';

/** A resolver that answers from a table, so these tests never touch DNS. */
const lookupFrom = (table: Record<string, string[]>) => async (host: string) => {
  const found = table[host];
  if (!found) throw new Error(`ENOTFOUND ${host}`);
  return found;
};
const PUBLIC = '140.82.121.4';

async function refusal(url: string, opts: Partial<Parameters<typeof assertOutboundUrlAllowed>[1]> = {}): Promise<SynclineError> {
  const err = await assertOutboundUrlAllowed(url, { allowedHosts: [], allowFileSources: false, lookup: lookupFrom({}), ...opts }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, url).toBeInstanceOf(SynclineError);
  return err as SynclineError;
}

describe('parseGitUrl', () => {
  it.each([
    ['https://github.com/acme/shop.git', 'https', 'github.com'],
    ['http://git.example.com:8080/shop', 'http', 'git.example.com'],
    ['ssh://git@git.example.com:2222/acme/shop.git', 'ssh', 'git.example.com'],
    ['git@github.com:acme/shop.git', 'ssh', 'github.com'],
    ['github.com:acme/shop.git', 'ssh', 'github.com'],
    ['git@[2001:db8::1]:acme/shop.git', 'ssh', '2001:db8::1'],
    ['https://[2001:db8::1]/shop.git', 'https', '2001:db8::1'],
    ['file:///srv/git/shop.git', 'file', ''],
  ])('%s → %s on %j', (url, scheme, host) => {
    expect(parseGitUrl(url)).toEqual({ scheme, host, url });
  });

  it.each([
    ['', 'empty'],
    ['ftp://example.com/x', 'unsupported scheme'],
    ['git://example.com/x', 'unsupported scheme'],
    ['https://user:pw@github.com/x', 'embedded credentials'],
    ['https://token@github.com/x', 'embedded user on https'],
    ['ssh://git:pw@github.com/x', 'embedded password on ssh'],
    ['https://github.com/a b', 'space'],
    ['https://github.com/a\nb', 'control character'],
    ['-uhttps://github.com/x', 'option injection'],
    ['--upload-pack=touch /tmp/pwned', 'option injection'],
    ['just-a-word', 'no scheme, not scp-style'],
    // Parser differentials: what WHATWG and libcurl read differently.
    ['http://public.test\\@127.0.0.1:8080/cfg.git', 'backslash before userinfo (WHATWG: public.test, curl: 127.0.0.1)'],
    ['http://public.test\\@[::1]:8080/cfg.git', 'backslash before an IPv6 userinfo'],
    ['https://github.com\\acme/shop.git', 'backslash as a path separator'],
    ['https://github.com/acme/shop.git ', 'trailing space'],
    [' https://github.com/acme/shop.git', 'leading space'],
    ['https://github.com/acme/shop.git\t', 'tab'],
    ['https://github.com/a\u00a0b', 'non-breaking space'],
    ['https://github.com/a\u202eb', 'bidi override'],
    ['https://github.com/a\x7fb', 'DEL'],
    ['HTTPS://GitHub.COM/acme/shop.git', 'not canonical (case)'],
    ['https://github.com', 'not canonical (no path)'],
    ['https://github.com:443/acme/shop.git', 'not canonical (default port)'],
    ['https://github.com/a/../b.git', 'not canonical (dot segments)'],
    ['https://0x8.8.8.8/x', 'not canonical (hex IPv4)'],
    ['https://134744072/acme/shop.git', 'not canonical (decimal IPv4)'],
    ['https://gith\u00fcb.com/x', 'not canonical (IDN)'],
    ['http://user@github.com/x', 'userinfo on http'],
    ['https::http://127.0.0.1/x.git', 'scheme confusion: transport::address'],
    ['http::https://github.com/x.git', 'scheme confusion: transport::address'],
    ['ext::sh -c touch% /tmp/pwned', 'remote helper'],
    ['https:/github.com/x.git', 'malformed scheme'],
    ['https:///github.com/x.git', 'malformed scheme, empty host'],
    ['file://host/srv/x.git', 'file URL with a host'],
  ])('refuses %j (%s) with invalid_url', (url) => {
    expect(() => parseGitUrl(url)).toThrow(expect.objectContaining({ code: 'invalid_url', retryable: false }));
  });
});

describe('disguised blocked addresses', () => {
  it.each(['https://0x7f.1/x', 'https://2130706433/acme/shop.git', 'https://[::ffff:127.0.0.1]/x', 'http://0177.0.0.1/x'])(
    '%s is host_not_allowed (judged as the address it canonicalises to)',
    (url) => {
      expect(() => parseGitUrl(url)).toThrow(expect.objectContaining({ code: 'host_not_allowed' }));
    },
  );
});

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
    // IPv4-compatible (::/96), NAT64 and 6to4 embeddings of private addresses
    '::127.0.0.1',
    '::10.0.0.1',
    '::7f00:1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.1.2.3',
    '64:ff9b:1::1',
    '2002:7f00:1::1',
    '2002:c0a8:101::',
    // documentation and reserved ranges
    '192.0.2.10',
    '198.51.100.7',
    '203.0.113.99',
    '2001:db8::1',
    '2001:db8:ffff::1',
    '3fff::1',
    '198.18.0.1',
    '192.88.99.1',
    'fec0::1',
    'not-an-ip',
  ])('blocks %s', (addr) => {
    expect(isBlockedAddress(addr)).toBe(true);
  });

  it.each([PUBLIC, '8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::1', '203.0.114.1'])('allows %s', (addr) => {
    expect(isBlockedAddress(addr)).toBe(false);
  });
});

describe('hostAllowListed', () => {
  it('matches exact names case-insensitively, *.suffix wildcards and bracketed IPv6', () => {
    expect(hostAllowListed('git.corp', ['Git.Corp'])).toBe(true);
    expect(hostAllowListed('a.b.internal', ['*.internal'])).toBe(true);
    expect(hostAllowListed('internal', ['*.internal'])).toBe(false);
    expect(hostAllowListed('evilinternal', ['*.internal'])).toBe(false);
    expect(hostAllowListed('::1', ['[::1]'])).toBe(true);
    expect(hostAllowListed('git.corp.evil.com', ['git.corp'])).toBe(false);
  });
});

describe('assertOutboundUrlAllowed', () => {
  it('accepts a host that resolves only to public addresses', async () => {
    const parsed = await assertOutboundUrlAllowed('https://github.com/acme/shop.git', {
      allowedHosts: [],
      allowFileSources: false,
      lookup: lookupFrom({ 'github.com': [PUBLIC] }),
    });
    expect(parsed).toEqual({ scheme: 'https', host: 'github.com', url: 'https://github.com/acme/shop.git' });
  });

  it('refuses IP literals in blocked ranges with host_not_allowed', async () => {
    for (const url of ['https://127.0.0.1/x', 'http://10.0.0.1/x', 'http://169.254.169.254/latest', 'https://[::1]/x', 'git@127.0.0.1:x.git']) {
      expect((await refusal(url)).code, url).toBe('host_not_allowed');
    }
  });

  it('refuses a name that resolves to loopback', async () => {
    const err = await refusal('https://evil.example/x.git', { lookup: lookupFrom({ 'evil.example': ['127.0.0.1'] }) });
    expect(err.code).toBe('host_not_allowed');
    expect(err.details).toEqual({ host: 'evil.example' });
  });

  it('checks every address a name resolves to, not just the first', async () => {
    const err = await refusal('https://mixed.example/x.git', { lookup: lookupFrom({ 'mixed.example': [PUBLIC, '10.1.2.3'] }) });
    expect(err.code).toBe('host_not_allowed');
    expect(err.message).toContain('10.1.2.3');
  });

  it('refuses a name that resolves to nothing', async () => {
    expect((await refusal('https://empty.example/x', { lookup: async () => [] })).code).toBe('host_not_allowed');
  });

  it('reports a name that does not resolve as invalid_url', async () => {
    expect((await refusal('https://nx.example/x')).code).toBe('invalid_url');
  });

  it('lets allow-listed hosts through without resolving them', async () => {
    const lookup = async () => {
      throw new Error('must not resolve');
    };
    for (const url of ['https://localhost/x.git', 'http://10.0.0.1/x.git', 'git@git.corp.internal:x.git']) {
      await expect(
        assertOutboundUrlAllowed(url, { allowedHosts: ['localhost', '10.0.0.1', '*.corp.internal'], allowFileSources: false, lookup }),
      ).resolves.toMatchObject({ url });
    }
  });

  it('refuses file:// unless file sources are allowed', async () => {
    const err = await refusal('file:///srv/git/shop.git');
    expect(err.code).toBe('host_not_allowed');
    expect(err.message).toContain('SYNCLINE_ALLOW_FILE_SOURCES');
    await expect(assertOutboundUrlAllowed('file:///srv/git/shop.git', { allowedHosts: [], allowFileSources: true })).resolves.toMatchObject({
      scheme: 'file',
    });
  });
});

describe('checkOutbound (at every connection)', () => {
  it('returns the checked address to pin, and the port', async () => {
    const target = await checkOutbound('https://git.example.com/acme/shop.git', {
      allowedHosts: [],
      allowFileSources: false,
      lookup: lookupFrom({ 'git.example.com': [PUBLIC] }),
    });
    expect(target).toMatchObject({ host: 'git.example.com', port: 443, address: PUBLIC });
    expect((await checkOutbound('git@git.example.com:a.git', { allowedHosts: [], allowFileSources: false, lookup: lookupFrom({ 'git.example.com': [PUBLIC] }) })).port).toBe(22);
  });

  it('a rebinding resolver is caught on the second check', async () => {
    let calls = 0;
    const rebinding = async () => (calls++ === 0 ? [PUBLIC] : ['127.0.0.1']);
    const opts = { allowedHosts: [], allowFileSources: false, lookup: rebinding };
    await expect(checkOutbound('https://rebind.example/x.git', opts)).resolves.toMatchObject({ address: PUBLIC });
    await expect(checkOutbound('https://rebind.example/x.git', opts)).rejects.toMatchObject({ code: 'host_not_allowed' });
  });

  it('an allow-listed IP literal also allows names resolving to it', async () => {
    const opts = { allowedHosts: ['127.0.0.1'], allowFileSources: false, lookup: lookupFrom({ 'git.test': ['127.0.0.1'] }) };
    await expect(checkOutbound('http://git.test:8080/x.git', opts)).resolves.toMatchObject({ address: '127.0.0.1', port: 8080 });
    await expect(
      checkOutbound('http://git.test:8080/x.git', { ...opts, lookup: lookupFrom({ 'git.test': ['127.0.0.1', '10.0.0.1'] }) }),
    ).rejects.toMatchObject({ code: 'host_not_allowed' });
  });
});

describe('hostOf: the one host parser (provider inference and API base URLs use it)', () => {
  it.each([
    ['https://github.com/acme/shop.git', 'github.com'],
    ['https://GitHub.com/acme/shop.git', ''], // not canonical: the guard refuses it
    ['https://git.example.com:8443/acme/shop.git', 'git.example.com'],
    ['ssh://git@gitlab.com/acme/shop.git', 'gitlab.com'],
    ['git@github.com:acme/shop.git', 'github.com'],
    ['https://[::1]/x.git', '::1'],
    ['file:///srv/repo.git', ''],
    ['not a url', ''],
  ])('%s → %o', async (url, host) => {
    const { hostOf } = await import('../../../src/security/url-guard.js');
    expect(hostOf(url)).toBe(host);
  });

  it('drives provider inference and the GitHub API base URL', async () => {
    const { inferProvider } = await import('../../../src/store/sources.js');
    const { githubApiBaseUrl } = await import('../../../src/providers/github-app.js');
    expect(inferProvider('git@github.com:acme/shop.git')).toBe('github');
    expect(inferProvider('https://gitlab.example.org/a/b.git')).toBe('gitlab');
    expect(inferProvider('https://code.example.org:8443/a/b.git')).toBe('git');
    expect(inferProvider('https://gitea.example.org/a/b.git')).toBe('gitea');
    expect(githubApiBaseUrl('https://github.com/acme/shop.git')).toBe('https://api.github.com');
    expect(githubApiBaseUrl('git@ghe.example.com:acme/shop.git')).toBe('https://ghe.example.com/api/v3');
  });
});
