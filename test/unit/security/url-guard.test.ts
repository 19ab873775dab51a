import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../src/errors.js';
import { assertOutboundUrlAllowed, hostAllowListed, isBlockedAddress, parseGitUrl } from '../../../src/security/url-guard.js';

/** A resolver that answers from a table, so these tests never touch DNS. */
const lookupFrom = (table: Record<string, string[]>) => async (host: string) => {
  const found = table[host];
  if (!found) throw new Error(`ENOTFOUND ${host}`);
  return found;
};
const PUBLIC = '140.82.121.4';

async function refusal(url: string, opts: Partial<Parameters<typeof assertOutboundUrlAllowed>[1]> = {}): Promise<BadRequestError> {
  const err = await assertOutboundUrlAllowed(url, { allowedHosts: [], allowFileSources: false, lookup: lookupFrom({}), ...opts }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, url).toBeInstanceOf(BadRequestError);
  return err as BadRequestError;
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
    ['HTTPS://GitHub.COM/acme/shop.git', 'https', 'github.com'],
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
  ])('refuses %j (%s) with invalid_url', (url) => {
    expect(() => parseGitUrl(url)).toThrow(expect.objectContaining({ code: 'invalid_url', statusCode: 400 }));
  });
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
    'not-an-ip',
  ])('blocks %s', (addr) => {
    expect(isBlockedAddress(addr)).toBe(true);
  });

  it.each([PUBLIC, '8.8.8.8', '172.32.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('allows %s', (addr) => {
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
