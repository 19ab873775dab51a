import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AnswerMemo, isLsRefs, refState } from '../../../src/mirror/answer-memo.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } })
    .toString()
    .trim();
}

function bareWithCommits(): { dir: string; c1: string; c2: string } {
  const root = mkdtempSync(join(tmpdir(), 'answer-memo-'));
  dirs.push(root);
  const work = join(root, 'work');
  git(root, ['init', '-q', '-b', 'main', work]);
  writeFileSync(join(work, 'a'), '1');
  git(work, ['add', 'a']);
  git(work, ['commit', '-qm', 'one']);
  const c1 = git(work, ['rev-parse', 'HEAD']);
  writeFileSync(join(work, 'a'), '2');
  git(work, ['commit', '-qam', 'two']);
  const c2 = git(work, ['rev-parse', 'HEAD']);
  const dir = join(root, 'm.git');
  git(root, ['clone', '-q', '--bare', work, dir]);
  return { dir, c1, c2 };
}

const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

describe('refState', () => {
  it('changes with every input of an advertisement: a branch moved, a ref added or packed, HEAD, the config', () => {
    const { dir, c1 } = bareWithCommits();
    const states = new Set<string>();
    const take = async () => {
      const s = await refState(dir);
      expect(s).not.toBeNull();
      return s!;
    };
    return (async () => {
      const s0 = await take();
      expect(await take()).toBe(s0); // stable when nothing moved
      states.add(s0);
      git(dir, ['update-ref', 'refs/heads/main', c1]);
      states.add(await take());
      git(dir, ['update-ref', 'refs/pull/1/head', c1]); // outside heads and tags: git advertises it too
      states.add(await take());
      git(dir, ['pack-refs', '--all']);
      states.add(await take());
      git(dir, ['symbolic-ref', 'HEAD', 'refs/heads/other']);
      states.add(await take());
      await new Promise((r) => setTimeout(r, 20));
      git(dir, ['config', 'uploadpack.allowFilter', 'false']);
      states.add(await take());
      expect(states.size).toBe(6);
    })();
  });

  it('is null for a repository it does not read (reftable)', async () => {
    const { dir } = bareWithCommits();
    writeFileSync(join(dir, 'reftable'), '');
    expect(await refState(dir)).toBeNull();
  });
});

describe('isLsRefs', () => {
  it('recognises a v2 ls-refs command and nothing else', () => {
    expect(isLsRefs(Buffer.from(`${pkt('command=ls-refs\n')}${pkt('agent=git/2.39\n')}0001${pkt('peel\n')}0000`))).toBe(true);
    expect(isLsRefs(Buffer.from(`${pkt('command=fetch\n')}0001${pkt('done\n')}0000`))).toBe(false);
    expect(isLsRefs(Buffer.from(`${pkt('command=ls-refsX\n')}0000`))).toBe(false);
    expect(isLsRefs(Buffer.from('0000'))).toBe(false);
    expect(isLsRefs(Buffer.from('zzzzcommand=ls-refs\n'))).toBe(false);
  });
});

describe('AnswerMemo', () => {
  it('keys every input apart', () => {
    const base = { mirrorDir: '/m/a.git', protocol: 'version=2', operation: 'ls-refs' as const, state: 's', body: Buffer.from('b') };
    const keys = new Set([
      AnswerMemo.key(base),
      AnswerMemo.key({ ...base, mirrorDir: '/m/b.git' }),
      AnswerMemo.key({ ...base, protocol: undefined }),
      AnswerMemo.key({ ...base, operation: 'info-refs' }),
      AnswerMemo.key({ ...base, state: 's2' }),
      AnswerMemo.key({ ...base, body: Buffer.from('c') }),
    ]);
    expect(keys.size).toBe(6);
  });

  it('serves an answer until its age passes the TTL, and stays within its byte bound (oldest dropped)', () => {
    const memo = new AnswerMemo({ maxBytes: 10, maxEntryBytes: 6, ttlMs: 1000 });
    memo.set('a', Buffer.from('aaaa'), 0);
    expect(memo.get('a', 999)?.toString()).toBe('aaaa');
    expect(memo.get('a', 1000)).toBeUndefined();
    memo.set('big', Buffer.from('1234567'), 0); // over maxEntryBytes: not kept
    expect(memo.get('big', 0)).toBeUndefined();
    memo.set('x', Buffer.from('xxxx'), 0);
    memo.set('y', Buffer.from('yyyy'), 1);
    memo.set('z', Buffer.from('zzzz'), 2);
    expect(memo.size.bytes).toBeLessThanOrEqual(10);
    expect(memo.get('x', 3)).toBeUndefined();
    expect(memo.get('z', 3)?.toString()).toBe('zzzz');
    memo.clear();
    expect(memo.size).toEqual({ entries: 0, bytes: 0 });
  });
});
