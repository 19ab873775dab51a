import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { GitAuth } from '../git/auth.js';
import { ensureMirror, maintainMirror } from '../git/mirror-cache.js';
import { assertGitVersion } from '../git/version.js';
import { redact } from '../security/redact.js';
import type { GuardOptions } from '../security/url-guard.js';
import { checkRemote } from '../sync/remote.js';
import { SOURCE_NAME_RE } from '../contracts/common.js';

/**
 * `syncline mirror bake`: clone sources into a directory at image build time, for sites with no
 * egress. The result is the layout the server reads (`<dir>/<source>.git`, complete-marked),
 * pointed at with SYNCLINE_MIRROR_DIR.
 */
export const bakeSourceSchema = z
  .object({
    name: z.string().regex(SOURCE_NAME_RE, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$'),
    url: z.string().min(1),
    /** Name of an environment variable holding an access token (never the token itself). */
    token_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
    username: z.string().optional(),
  })
  .strict();
export type BakeSource = z.infer<typeof bakeSourceSchema>;

/**
 * A bare list or `{sources: [...]}`, picked by the document's shape rather than a union: a union
 * reports a missing field in either form as a bare "(root): Invalid input".
 */
const bakeListSchema = z.array(bakeSourceSchema);
const bakeFileSchema = z.object({ sources: bakeListSchema }).strict().transform((f) => f.sources);

export async function readBakeFile(file: string): Promise<BakeSource[]> {
  let doc: unknown;
  try {
    doc = parseYaml(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = Array.isArray(doc) ? bakeListSchema.safeParse(doc) : bakeFileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const list = parsed.data;
  if (!list.length) throw new Error(`${file} lists no sources`);
  const dup = list.find((s, i) => list.findIndex((o) => o.name === s.name) !== i);
  if (dup) throw new Error(`${file}: source '${dup.name}' is listed twice`);
  return list;
}

function authFor(s: BakeSource, env: NodeJS.ProcessEnv): GitAuth {
  if (!s.token_env) return { type: 'none' };
  const token = env[s.token_env];
  if (!token) throw new Error(`Environment variable ${s.token_env} (token for '${s.name}') is empty or unset`);
  return s.username ? { type: 'basic', username: s.username, password: token } : { type: 'token', token };
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += await fs.stat(p).then((s) => s.size, () => 0);
  }
  return total;
}

/** Bytes received so far for a clone in progress (its temp dir) or done (its mirror). */
async function bytesOnDisk(outDir: string, name: string): Promise<number> {
  const entries = await fs.readdir(outDir).catch(() => [] as string[]);
  const dirs = entries.filter((e) => e.startsWith(`.tmp-${name}-`) || e === `${name}.git`);
  let total = 0;
  for (const d of dirs) total += await dirSize(path.join(outDir, d));
  return total;
}

export interface BakeProgress {
  start(name: string): void;
  bytes(name: string, bytes: number): void;
  done(name: string, result: { ok: boolean; headCommit?: string; error?: string }): void;
}

export interface BakeResult {
  name: string;
  ok: boolean;
  headCommit?: string;
  error?: string;
}

/** Clones (or refreshes) every source into `outDir`; never throws for one repo's failure. */
export async function bake(
  sources: BakeSource[],
  outDir: string,
  opts: { guard: GuardOptions; progress?: BakeProgress; env?: NodeJS.ProcessEnv; concurrency?: number },
): Promise<BakeResult[]> {
  await assertGitVersion();
  await fs.mkdir(outDir, { recursive: true });
  const env = opts.env ?? process.env;
  const results: BakeResult[] = new Array(sources.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= sources.length) return;
      const s = sources[i]!;
      opts.progress?.start(s.name);
      const poll = setInterval(() => {
        void bytesOnDisk(outDir, s.name).then((b) => opts.progress?.bytes(s.name, b));
      }, 500);
      try {
        // Same guard as the server: resolve, check every address, pin git to the checked one.
        const remote = await checkRemote(s.url, opts.guard);
        const r = await ensureMirror({ name: s.name, ...remote, auth: authFor(s, env) }, { mirrorsDir: outDir });
        if (!r.headCommit) throw new Error('clone produced no default branch commit');
        // Baked mirrors are served as they are (often with runtime sync off): ship the bitmaps
        // the reachability check of every mirror request reads.
        await maintainMirror(r.dir);
        results[i] = { name: s.name, ok: true, headCommit: r.headCommit };
      } catch (err) {
        results[i] = { name: s.name, ok: false, error: redact((err as Error).message) };
      } finally {
        clearInterval(poll);
      }
      opts.progress?.bytes(s.name, await bytesOnDisk(outDir, s.name));
      opts.progress?.done(s.name, results[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, sources.length)) }, worker));
  return results;
}
