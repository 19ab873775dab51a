/**
 * Forge payloads → one event shape. Only the fields Syncline uses are validated (zod, unknown
 * fields ignored), so a forge adding fields never breaks ingestion.
 */
import { z } from 'zod';
import type { WebhookProvider } from './signature.js';

export const ZERO_SHA = /^0+$/;

export type WebhookEvent =
  | { type: 'ping'; repoUrls: string[] }
  | {
      type: 'push';
      repoUrls: string[];
      /** Short branch name, or null for tags. */
      branch: string | null;
      tag: boolean;
      before: string | null;
      after: string | null;
      deleted: boolean;
    }
  | {
      type: 'pull_request';
      repoUrls: string[];
      action: string;
      number: number;
      baseBranch: string;
      headSha: string;
      url: string | null;
      /** The forge's id for the project (GitLab), for API calls. */
      projectId: number | null;
    }
  | { type: 'unhandled'; repoUrls: string[]; reason: string };

const repoGithubLike = z
  .object({
    clone_url: z.string().optional(),
    ssh_url: z.string().optional(),
    html_url: z.string().optional(),
    git_url: z.string().optional(),
    url: z.string().optional(),
  })
  .partial();

const pushGithubLike = z.object({
  ref: z.string(),
  before: z.string().nullish(),
  after: z.string().nullish(),
  deleted: z.boolean().optional(),
  repository: repoGithubLike,
});

const prGithubLike = z.object({
  action: z.string(),
  number: z.number().int(),
  pull_request: z.object({
    html_url: z.string().nullish(),
    head: z.object({ sha: z.string() }),
    base: z.object({ ref: z.string() }),
  }),
  repository: repoGithubLike,
});

const gitlabProject = z
  .object({
    id: z.number().int().optional(),
    git_http_url: z.string().optional(),
    git_ssh_url: z.string().optional(),
    web_url: z.string().optional(),
    http_url: z.string().optional(),
    ssh_url: z.string().optional(),
  })
  .partial();

const pushGitlab = z.object({
  object_kind: z.string().optional(),
  ref: z.string(),
  before: z.string().nullish(),
  after: z.string().nullish(),
  project: gitlabProject.optional(),
  repository: gitlabProject.optional(),
});

const mrGitlab = z.object({
  object_kind: z.literal('merge_request'),
  project: gitlabProject,
  object_attributes: z.object({
    iid: z.number().int(),
    action: z.string().optional(),
    target_branch: z.string(),
    url: z.string().nullish(),
    last_commit: z.object({ id: z.string() }),
    oldrev: z.string().nullish(),
  }),
});

const urls = (...vs: (string | undefined | null)[]) => vs.filter((v): v is string => typeof v === 'string' && v.length > 0);

export class PayloadError extends Error {}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new PayloadError(`payload field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return r.data;
}

function pushFrom(ref: string, before: string | null | undefined, after: string | null | undefined, deleted: boolean, repoUrls: string[]): WebhookEvent {
  const isBranch = ref.startsWith('refs/heads/');
  return {
    type: 'push',
    repoUrls,
    branch: isBranch ? ref.slice('refs/heads/'.length) : null,
    tag: ref.startsWith('refs/tags/'),
    before: before && !ZERO_SHA.test(before) ? before : null,
    after: after && !ZERO_SHA.test(after) ? after : null,
    deleted: deleted || (!!after && ZERO_SHA.test(after)),
  };
}

const PR_ACTIONS = new Set(['opened', 'synchronize', 'synchronized', 'reopened']);
const MR_ACTIONS = new Set(['open', 'update', 'reopen']);

/** Maps one delivery to the event Syncline acts on. Throws PayloadError for a malformed body. */
export function toEvent(provider: WebhookProvider, event: string, body: unknown): WebhookEvent {
  if (provider === 'gitlab') {
    const kind = (body as { object_kind?: unknown } | null)?.object_kind;
    if (event === 'Push Hook' || kind === 'push') {
      const p = parse(pushGitlab, body);
      const proj = p.project ?? p.repository ?? {};
      return pushFrom(p.ref, p.before, p.after, false, urls(proj.git_http_url, proj.git_ssh_url, proj.web_url, proj.http_url, proj.ssh_url));
    }
    if (event === 'Tag Push Hook' || kind === 'tag_push') {
      const p = parse(pushGitlab, body);
      const proj = p.project ?? p.repository ?? {};
      return pushFrom(p.ref.startsWith('refs/') ? p.ref : `refs/tags/${p.ref}`, p.before, p.after, false, urls(proj.git_http_url, proj.git_ssh_url, proj.web_url));
    }
    if (event === 'Merge Request Hook' || kind === 'merge_request') {
      const p = parse(mrGitlab, body);
      const a = p.object_attributes;
      const repoUrls = urls(p.project.git_http_url, p.project.git_ssh_url, p.project.web_url);
      const action = a.action ?? '';
      // An "update" without new commits (title, labels) has no oldrev: nothing to plan.
      if (!MR_ACTIONS.has(action) || (action === 'update' && !a.oldrev)) {
        return { type: 'unhandled', repoUrls, reason: `merge request action '${action}' is not handled` };
      }
      return {
        type: 'pull_request',
        repoUrls,
        action,
        number: a.iid,
        baseBranch: a.target_branch,
        headSha: a.last_commit.id,
        url: a.url ?? null,
        projectId: p.project.id ?? null,
      };
    }
    return { type: 'unhandled', repoUrls: [], reason: `event '${event}' is not handled` };
  }

  // GitHub and Gitea share their payload shapes for what Syncline reads.
  if (event === 'ping') {
    const repo = (body as { repository?: z.infer<typeof repoGithubLike> } | null)?.repository ?? {};
    return { type: 'ping', repoUrls: urls(repo.clone_url, repo.ssh_url, repo.html_url) };
  }
  if (event === 'push') {
    const p = parse(pushGithubLike, body);
    const r = p.repository;
    return pushFrom(p.ref, p.before, p.after, p.deleted ?? false, urls(r.clone_url, r.ssh_url, r.html_url, r.git_url));
  }
  if (event === 'pull_request') {
    const p = parse(prGithubLike, body);
    const r = p.repository;
    const repoUrls = urls(r.clone_url, r.ssh_url, r.html_url, r.git_url);
    if (!PR_ACTIONS.has(p.action)) return { type: 'unhandled', repoUrls, reason: `pull_request action '${p.action}' is not handled` };
    return {
      type: 'pull_request',
      repoUrls,
      action: p.action,
      number: p.number,
      baseBranch: p.pull_request.base.ref,
      headSha: p.pull_request.head.sha,
      url: p.pull_request.html_url ?? null,
      projectId: null,
    };
  }
  return { type: 'unhandled', repoUrls: [], reason: `event '${event}' is not handled` };
}

/** The action recorded on the delivery (GitHub/Gitea `action`, GitLab `object_attributes.action`). */
export function actionOf(body: unknown): string | null {
  const b = body as { action?: unknown; object_attributes?: { action?: unknown } } | null;
  const a = b?.action ?? b?.object_attributes?.action;
  return typeof a === 'string' ? a.slice(0, 100) : null;
}
