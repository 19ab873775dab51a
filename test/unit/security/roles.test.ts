import { describe, expect, it } from 'vitest';
import { authorize, canSee, type Principal } from '../../../src/server/auth.js';
import { isUnscoped, namespaceMatches, roleAtLeast, scopeAllows } from '../../../src/security/roles.js';
import { NAMESPACE_PATTERN_RE } from '../../../src/contracts/common.js';
import { constantTimeEqual, generateToken, hashToken } from '../../../src/security/tokens.js';

describe('roles', () => {
  it('orders viewer < deployer < admin', () => {
    expect(roleAtLeast('viewer', 'viewer')).toBe(true);
    expect(roleAtLeast('viewer', 'deployer')).toBe(false);
    expect(roleAtLeast('deployer', 'viewer')).toBe(true);
    expect(roleAtLeast('deployer', 'admin')).toBe(false);
    expect(roleAtLeast('admin', 'deployer')).toBe(true);
    expect(roleAtLeast('admin', 'admin')).toBe(true);
  });
});

describe('namespace patterns', () => {
  it.each([
    ['shop.prod', 'shop.prod', true],
    ['shop.prod', 'shop.prod2', false],
    ['shop.*', 'shop.prod', true],
    ['shop.*', 'shop.a.b', true],
    ['shop.*', 'shop', false],
    ['shop.*', 'shopping.prod', false],
    ['shop*', 'shopping', true],
    ['*', 'anything.at.all', true],
  ])('%s matches %s: %s', (pattern, ns, want) => {
    expect(namespaceMatches(pattern, ns)).toBe(want);
  });

  it('a token without patterns reaches every namespace; with patterns, only matching ones', () => {
    expect(scopeAllows([], 'x')).toBe(true);
    expect(scopeAllows(undefined, 'x')).toBe(true);
    expect(scopeAllows(['shop.*', 'billing.prod'], 'billing.prod')).toBe(true);
    expect(scopeAllows(['shop.*', 'billing.prod'], 'billing.dev')).toBe(false);
  });

  it('only an empty list or * is unscoped', () => {
    expect(isUnscoped([])).toBe(true);
    expect(isUnscoped(['*'])).toBe(true);
    expect(isUnscoped(['shop.*'])).toBe(false);
  });

  it.each(['shop', 'shop.prod', 'shop.*', 'shop*', '*', 'a-b_c.d'])('accepts the pattern %j', (p) => {
    expect(NAMESPACE_PATTERN_RE.test(p)).toBe(true);
  });
  it.each(['', 'Shop.*', 'sh*op', '*.prod', '.shop', 'shop.', 'shop.**', 'shop prod'])('refuses the pattern %j', (p) => {
    expect(NAMESPACE_PATTERN_RE.test(p)).toBe(false);
  });
});

describe('authorize', () => {
  const p = (role: Principal['role'], namespaces: string[] = []): Principal => ({ id: 't', name: 'tok', role, namespaces });

  it('403 below the role', () => {
    expect(() => authorize(p('viewer'), 'admin')).toThrow(expect.objectContaining({ code: 'forbidden', details: { required_role: 'admin' } }));
    expect(() => authorize(p('admin'), 'viewer')).not.toThrow();
  });

  it('403 outside the namespace scope', () => {
    const scoped = p('admin', ['shop.*']);
    expect(() => authorize(scoped, 'admin', 'shop.prod')).not.toThrow();
    expect(() => authorize(scoped, 'admin', 'billing.prod')).toThrow(expect.objectContaining({ code: 'forbidden', details: { namespace: 'billing.prod' } }));
    expect(canSee(scoped, 'shop.prod')).toBe(true);
    expect(canSee(scoped, 'billing.prod')).toBe(false);
  });

  it('403 for a scoped token on an action that needs an unscoped one', () => {
    expect(() => authorize(p('admin', ['shop.*']), 'admin', undefined, { unscoped: true })).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => authorize(p('admin', ['*']), 'admin', undefined, { unscoped: true })).not.toThrow();
    expect(() => authorize(p('admin'), 'admin', undefined, { unscoped: true })).not.toThrow();
  });
});

describe('tokens', () => {
  it('are syl_ + 256 random bits, hashed with SHA-256', () => {
    const a = generateToken();
    expect(a).toMatch(/^syl_[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(a);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a)).toBe(hashToken(a));
  });

  it('compare in constant time, including different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});
