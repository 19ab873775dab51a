/**
 * Helpers for the webhook suites: signed deliveries per provider, payloads in each forge's
 * documented shape (GitHub/Gitea push + pull_request, GitLab Push Hook / Merge Request Hook).
 */
import crypto from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../../helpers/app.js';

export const SECRET = 'global-webhook-secret-0123456789';

export type Provider = 'github' | 'gitea' | 'gitlab';

const hmac = (secret: string, body: string) => crypto.createHmac('sha256', secret).update(body).digest('hex');

export function signedHeaders(provider: Provider, event: string, body: string, secret: string | null, id: string = crypto.randomUUID()): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (provider === 'github') {
    h['x-github-event'] = event;
    h['x-github-delivery'] = id;
    if (secret) h['x-hub-signature-256'] = `sha256=${hmac(secret, body)}`;
  } else if (provider === 'gitea') {
    h['x-gitea-event'] = event;
    h['x-gitea-delivery'] = id;
    if (secret) h['x-gitea-signature'] = hmac(secret, body);
  } else {
    h['x-gitlab-event'] = event;
    h['x-gitlab-event-uuid'] = id;
    if (secret) h['x-gitlab-token'] = secret;
  }
  return h;
}

export function deliver(
  t: TestApp,
  provider: Provider,
  event: string,
  payload: unknown,
  opts: { secret?: string | null; id?: string; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  const body = JSON.stringify(payload);
  const headers = { ...signedHeaders(provider, event, body, opts.secret === undefined ? SECRET : opts.secret, opts.id), ...opts.headers };
  return t.app.inject({ method: 'POST', url: `/api/v1/webhooks/${provider}`, headers, payload: body });
}

const ZERO = '0000000000000000000000000000000000000000';

/** GitHub's push payload (documented shape; fields Syncline ignores included). */
export function githubPush(cloneUrl: string, ref: string, before: string | null, after: string | null, extra: Record<string, unknown> = {}): any {
  const full = new URL(cloneUrl).pathname.replace(/^\//, '').replace(/\.git$/, '');
  return {
    ref,
    before: before ?? ZERO,
    after: after ?? ZERO,
    created: before === null,
    deleted: after === null,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${full}/compare/x...y`,
    commits: [],
    head_commit: after ? { id: after, message: 'change', timestamp: new Date().toISOString() } : null,
    repository: {
      id: 1296269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name: full.split('/')[1],
      full_name: full,
      private: true,
      owner: { login: full.split('/')[0], id: 1 },
      html_url: cloneUrl.replace(/\.git$/, ''),
      clone_url: cloneUrl,
      ssh_url: `git@127.0.0.1:${full}.git`,
      default_branch: 'main',
    },
    pusher: { name: 'octocat', email: 'octocat@example.com' },
    sender: { login: 'octocat', id: 1 },
    ...extra,
  };
}

export function githubPullRequest(cloneUrl: string, action: string, number: number, base: string, headSha: string): any {
  const full = new URL(cloneUrl).pathname.replace(/^\//, '').replace(/\.git$/, '');
  return {
    action,
    number,
    pull_request: {
      url: `https://api.github.com/repos/${full}/pulls/${number}`,
      id: 1,
      html_url: `https://github.com/${full}/pull/${number}`,
      number,
      state: 'open',
      title: 'Change config',
      head: { label: 'octocat:feature', ref: 'feature', sha: headSha },
      base: { label: 'octocat:main', ref: base, sha: '0'.repeat(40) },
      merged: false,
    },
    repository: { id: 1296269, name: full.split('/')[1], full_name: full, private: true, html_url: cloneUrl.replace(/\.git$/, ''), clone_url: cloneUrl },
    installation: { id: 77 },
    sender: { login: 'octocat', id: 1 },
  };
}

/** Gitea's push payload. */
export function giteaPush(cloneUrl: string, ref: string, before: string, after: string): any {
  const full = new URL(cloneUrl).pathname.replace(/^\//, '').replace(/\.git$/, '');
  return {
    ref,
    before,
    after,
    compare_url: '',
    commits: [],
    total_commits: 0,
    head_commit: null,
    repository: { id: 1, owner: { login: full.split('/')[0] }, name: full.split('/')[1], full_name: full, private: true, html_url: cloneUrl.replace(/\.git$/, ''), ssh_url: `git@127.0.0.1:${full}.git`, clone_url: cloneUrl, default_branch: 'main' },
    pusher: { login: 'gitea' },
    sender: { login: 'gitea' },
  };
}

/** GitLab's Push Hook payload. */
export function gitlabPush(httpUrl: string, ref: string, before: string, after: string): any {
  const full = new URL(httpUrl).pathname.replace(/^\//, '').replace(/\.git$/, '');
  return {
    object_kind: 'push',
    event_name: 'push',
    before,
    after,
    ref,
    checkout_sha: after,
    user_name: 'John Smith',
    project_id: 15,
    project: { id: 15, name: full.split('/')[1], web_url: httpUrl.replace(/\.git$/, ''), git_ssh_url: `git@127.0.0.1:${full}.git`, git_http_url: httpUrl, path_with_namespace: full, default_branch: 'main' },
    commits: [],
    total_commits_count: 0,
    repository: { name: full.split('/')[1], url: `git@127.0.0.1:${full}.git`, homepage: httpUrl.replace(/\.git$/, ''), git_http_url: httpUrl, git_ssh_url: `git@127.0.0.1:${full}.git` },
  };
}

export function gitlabMergeRequest(httpUrl: string, action: string, iid: number, target: string, sha: string): any {
  const full = new URL(httpUrl).pathname.replace(/^\//, '').replace(/\.git$/, '');
  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    user: { name: 'Administrator' },
    project: { id: 15, name: full.split('/')[1], web_url: httpUrl.replace(/\.git$/, ''), git_http_url: httpUrl, git_ssh_url: `git@127.0.0.1:${full}.git`, path_with_namespace: full },
    object_attributes: { iid, id: 99, target_branch: target, source_branch: 'feature', state: 'opened', action, url: `${httpUrl.replace(/\.git$/, '')}/-/merge_requests/${iid}`, last_commit: { id: sha, message: 'x' }, oldrev: action === 'update' ? 'a'.repeat(40) : undefined },
    repository: { name: full.split('/')[1], url: httpUrl },
  };
}
