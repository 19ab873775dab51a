import i18n from '../i18n/index.js';
import type { Source } from './types.js';

/** "3 minutes ago", in the UI language, from an ISO time. One date helper: Intl, no library. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(i18n.language, { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  if (abs < 86400 * 30) return rtf.format(Math.round(diff / 86400), 'day');
  return new Date(iso).toLocaleDateString(i18n.language);
}

export function absoluteTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(i18n.language) : '—';
}

export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '—');

/** The forge's web page for a repository URL (https only; ssh/scp forms map to https). */
function webBase(source: Pick<Source, 'url' | 'provider'>): string | null {
  let url = source.url.trim();
  const scp = /^[\w.-]+@([^:/]+):(.+)$/.exec(url);
  if (scp) url = `https://${scp[1]}/${scp[2]}`;
  url = url.replace(/^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\//, 'https://$1/');
  if (!/^https?:\/\//.test(url)) return null;
  return url.replace(/\.git\/?$/, '').replace(/\/$/, '');
}

/** Link to a commit on the forge, or null for a plain git source. */
export function commitUrl(source: Pick<Source, 'url' | 'provider'> | undefined, sha: string | null | undefined): string | null {
  if (!source || !sha || source.provider === 'git') return null;
  const base = webBase(source);
  if (!base) return null;
  return source.provider === 'gitlab' ? `${base}/-/commit/${sha}` : `${base}/commit/${sha}`;
}

/** Link to a file (and line) at a commit on the forge. */
export function fileUrl(source: Pick<Source, 'url' | 'provider'> | undefined, sha: string | null | undefined, file: string, line?: number | null): string | null {
  if (!source || !sha || source.provider === 'git') return null;
  const base = webBase(source);
  if (!base) return null;
  const anchor = line ? `#L${line}` : '';
  if (source.provider === 'gitlab') return `${base}/-/blob/${sha}/${file}${anchor}`;
  if (source.provider === 'gitea') return `${base}/src/commit/${sha}/${file}${anchor}`;
  return `${base}/blob/${sha}/${file}${anchor}`;
}

/** A JSON value as one short line for tables. */
export function showValue(v: unknown): string {
  if (v === undefined) return '∅';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}
