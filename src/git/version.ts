/**
 * The git binary must be new enough for the network hardening (`http.curloptResolve`, 2.37).
 * Refusing to start beats silently connecting without the pin.
 */
import { runGit } from './runner.js';

export const MIN_GIT_VERSION = [2, 37, 0] as const;

let checked: Promise<string> | undefined;

export function parseGitVersion(text: string): [number, number, number] | null {
  const m = /git version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

export function gitVersionSupported(v: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) {
    if (v[i]! !== MIN_GIT_VERSION[i]) return v[i]! > MIN_GIT_VERSION[i]!;
  }
  return true;
}

/** Resolves to git's version text; rejects with a clear message when git is missing or too old. */
export function assertGitVersion(): Promise<string> {
  checked ??= (async () => {
    let text: string;
    try {
      text = (await runGit(['--version'], { idleMs: 30_000, totalMs: 60_000 })).stdout.toString('utf8').trim();
    } catch (err) {
      throw new Error(`Syncline needs the git binary (${MIN_GIT_VERSION.join('.')} or newer) on PATH: ${(err as Error).message}`);
    }
    const v = parseGitVersion(text);
    if (!v || !gitVersionSupported(v)) {
      throw new Error(
        `Syncline needs git ${MIN_GIT_VERSION.join('.')} or newer (found '${text}'): it pins every connection to the checked address with http.curloptResolve`,
      );
    }
    return text;
  })();
  checked.catch(() => {
    checked = undefined;
  });
  return checked;
}
