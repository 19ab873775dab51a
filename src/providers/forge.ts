/**
 * Reporting to forges: GitHub check runs (App auth) or commit statuses (token), Gitea commit
 * statuses, GitLab commit statuses. Octokit for GitHub; small typed calls for Gitea and GitLab.
 * Every request goes through forgeFetch (URL guard, retries honouring Retry-After / rate limits).
 */
import { Octokit } from '@octokit/rest';
import { SynclineError } from '../errors.js';
import type { SecretBox } from '../security/secret-box.js';
import type { GuardOptions } from '../security/url-guard.js';
import { sourceApiUrl, sourceCredentials, type SourceRow } from '../store/sources.js';
import { githubAppInstallation } from './github-app.js';
import { forgeFetch, type FetchLike } from './http.js';
import { repoPathExact } from './repo-url.js';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'failure';
  message: string;
}

export interface ForgeReport {
  sha: string;
  /** `syncline/<namespace>`: check run name / status context. */
  name: string;
  conclusion: 'success' | 'failure';
  title: string;
  /** Markdown (GitHub check run summary). */
  summary: string;
  /** ≤ 140 characters (commit status description). */
  description: string;
  target_url: string | null;
  annotations: Annotation[];
  /** GitLab's numeric project id when the payload gave one. */
  project_id?: number | null;
}

export interface ForgeEnv {
  box: SecretBox;
  guard: GuardOptions;
  offline: boolean;
  fetch?: FetchLike;
}

/** How a source reports, or null when it cannot (plain git, no credentials). */
export function reportMode(row: SourceRow): 'check_run' | 'github_status' | 'gitea_status' | 'gitlab_status' | null {
  if (row.auth_type === 'none') return null;
  if (row.provider === 'github') return row.auth_type === 'github_app' ? 'check_run' : 'github_status';
  if (row.provider === 'gitea') return 'gitea_status';
  if (row.provider === 'gitlab') return 'gitlab_status';
  return null;
}

const GITHUB_SUMMARY_MAX = 65_000;
const ANNOTATION_BATCH = 50;

function failed(status: number, what: string, body: string): SynclineError {
  const msg = `${what} failed: HTTP ${status}${body ? ` ${body.slice(0, 300)}` : ''}`;
  // Server-side failures may pass; a refusal (401/403/404/422) will not.
  return status >= 500 ? new SynclineError('report_failed', msg) : new SynclineError('report_failed', msg);
}

async function json(res: Response, what: string): Promise<any> {
  const text = await res.text();
  if (!res.ok) throw failed(res.status, what, text);
  return text ? JSON.parse(text) : null;
}

export async function sendReport(env: ForgeEnv, row: SourceRow, report: ForgeReport): Promise<{ mode: string }> {
  const mode = reportMode(row);
  if (!mode || env.offline) return { mode: 'none' };
  const f = env.fetch ?? forgeFetch({ guard: env.guard, offline: env.offline });
  const api = sourceApiUrl(row);
  const repo = repoPathExact(row.url);
  if (!api || !repo) throw new SynclineError('report_failed', `Cannot derive the forge API for source '${row.name}'`);
  const creds = sourceCredentials(env.box, row);
  const description = report.description.slice(0, 140);

  if (mode === 'check_run') {
    const { token } = await githubAppInstallation({
      appId: creds.app_id ?? '',
      installationId: creds.installation_id,
      privateKey: creds.secrets.private_key ?? '',
      baseUrl: api,
      repo,
      fetch: f,
    });
    const octokit = new Octokit({ auth: token, baseUrl: api, request: { fetch: f, retries: 0 } });
    const [owner, name] = repo.split('/') as [string, string];
    try {
      const created = await octokit.rest.checks.create({
        owner,
        repo: name,
        name: report.name,
        head_sha: report.sha,
        status: 'in_progress',
        ...(report.target_url ? { details_url: report.target_url } : {}),
      });
      const id = created.data.id;
      const summary = report.summary.length > GITHUB_SUMMARY_MAX ? `${report.summary.slice(0, GITHUB_SUMMARY_MAX)}\n\n…(truncated)` : report.summary;
      const batches: Annotation[][] = [];
      for (let i = 0; i < report.annotations.length; i += ANNOTATION_BATCH) batches.push(report.annotations.slice(i, i + ANNOTATION_BATCH));
      await octokit.rest.checks.update({
        owner,
        repo: name,
        check_run_id: id,
        status: 'completed',
        conclusion: report.conclusion,
        output: { title: report.title, summary, ...(batches[0] ? { annotations: batches[0] } : {}) },
      });
      for (const batch of batches.slice(1)) {
        await octokit.rest.checks.update({ owner, repo: name, check_run_id: id, output: { title: report.title, summary, annotations: batch } });
      }
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status) throw failed(status, 'GitHub check run', String((err as Error).message ?? ''));
      throw err;
    }
    return { mode };
  }

  if (mode === 'github_status' || mode === 'gitea_status') {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (creds.type === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.secrets.password ?? ''}`).toString('base64')}`;
    } else headers.authorization = `token ${creds.secrets.token ?? ''}`;
    const res = await f(`${api}/repos/${repo}/statuses/${report.sha}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        state: report.conclusion,
        context: report.name,
        description,
        ...(report.target_url ? { target_url: report.target_url } : {}),
      }),
    });
    await json(res, mode === 'github_status' ? 'GitHub commit status' : 'Gitea commit status');
    return { mode };
  }

  // GitLab
  const project = report.project_id ? String(report.project_id) : encodeURIComponent(repo);
  const res = await f(`${api}/projects/${project}/statuses/${report.sha}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'private-token': creds.secrets.token ?? creds.secrets.password ?? '' },
    body: JSON.stringify({
      state: report.conclusion === 'success' ? 'success' : 'failed',
      name: report.name,
      description,
      ...(report.target_url ? { target_url: report.target_url } : {}),
    }),
  });
  await json(res, 'GitLab commit status');
  return { mode };
}

/** `GET /repos/{owner}/{repo}` (GitHub, Gitea) or `GET /projects/:path` (GitLab): for source checks. */
export async function checkRepoApi(
  env: ForgeEnv,
  row: SourceRow,
): Promise<{ reachable: boolean; private: boolean | null; permissions: Record<string, boolean> | null; message?: string } | null> {
  if (env.offline || row.auth_type === 'none' || !['github', 'gitea', 'gitlab'].includes(row.provider)) return null;
  const f = env.fetch ?? forgeFetch({ guard: env.guard, attempts: 2 });
  const api = sourceApiUrl(row);
  const repo = repoPathExact(row.url);
  if (!api || !repo) return null;
  const creds = sourceCredentials(env.box, row);
  const headers: Record<string, string> = { accept: 'application/json' };
  try {
    if (row.provider === 'github' && creds.type === 'github_app') {
      const { token } = await githubAppInstallation({
        appId: creds.app_id ?? '',
        installationId: creds.installation_id,
        privateKey: creds.secrets.private_key ?? '',
        baseUrl: api,
        repo,
        fetch: f,
      });
      headers.authorization = `token ${token}`;
    } else if (creds.type === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${creds.username ?? ''}:${creds.secrets.password ?? ''}`).toString('base64')}`;
    } else if (row.provider === 'gitlab') headers['private-token'] = creds.secrets.token ?? '';
    else headers.authorization = `token ${creds.secrets.token ?? ''}`;
    const url = row.provider === 'gitlab' ? `${api}/projects/${encodeURIComponent(repo)}` : `${api}/repos/${repo}`;
    const res = await f(url, { headers });
    if (res.status === 404) {
      return { reachable: true, private: null, permissions: null, message: 'Repository not found, or the credentials have no access to it' };
    }
    if (res.status === 401 || res.status === 403) {
      return { reachable: true, private: null, permissions: null, message: `The forge refused the credentials (HTTP ${res.status})` };
    }
    const body = await json(res, 'repository lookup');
    if (row.provider === 'gitlab') {
      const p = body?.permissions ?? {};
      const level = Math.max(p.project_access?.access_level ?? 0, p.group_access?.access_level ?? 0);
      return { reachable: true, private: body?.visibility ? body.visibility !== 'public' : null, permissions: { pull: level >= 10 || body?.visibility === 'public', push: level >= 30, admin: level >= 40 } };
    }
    return { reachable: true, private: typeof body?.private === 'boolean' ? body.private : null, permissions: body?.permissions ?? null };
  } catch (err) {
    return { reachable: false, private: null, permissions: null, message: (err as Error).message };
  }
}
