import type { ResolvedSettings } from '../config/load.js';
import type { GitTimeouts } from '../git/runner.js';

/** Network git timeouts from settings (seconds → ms). */
export function gitTimeouts(s: Pick<ResolvedSettings, 'git_timeout' | 'git_idle_timeout'>): GitTimeouts {
  return { idleMs: s.git_idle_timeout * 1000, totalMs: s.git_timeout * 1000 };
}
