/**
 * Repository identity across URL spellings: `https://user:tok@Git.Example.com:8443/Org/Repo.git/`,
 * `git@git.example.com:org/repo.git` and `ssh://git@git.example.com:2222/org/repo` are one repo.
 * Host case, port, scheme, credentials, a `.git` suffix and trailing slashes are ignored; the
 * path is compared case-insensitively (GitHub, Gitea and GitLab paths are).
 */
export function normaliseRepoUrl(raw: string): string | null {
  const s = raw.trim();
  if (!s) return null;
  let host: string;
  let path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)(?::\d+)?(\/.*)?$/i.exec(s);
  if (scheme) {
    host = scheme[2]!;
    path = scheme[3] ?? '';
  } else {
    const scp = /^(?:[^@/]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(s);
    if (!scp) return null;
    host = scp[1]!;
    path = scp[2]!;
  }
  path = path.replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '').replace(/^\/+/, '');
  if (!host || !path) return null;
  return `${host.toLowerCase()}/${path.toLowerCase()}`;
}

/** `owner/repo` (GitHub, Gitea) or `group/sub/project` (GitLab) from a repository URL. */
export function repoPath(raw: string): string | null {
  const n = normaliseRepoUrl(raw);
  return n ? n.slice(n.indexOf('/') + 1) : null;
}

/** The path with its original case (API calls), or null. */
export function repoPathExact(raw: string): string | null {
  const s = raw.trim();
  const m =
    /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(?:\[[^\]]+\]|[^/:]+)(?::\d+)?\/(.+)$/i.exec(s) ?? /^(?:[^@/]+@)?[^/:]+:(?!\/\/)(.+)$/.exec(s);
  if (!m) return null;
  const p = m[1]!.replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/\.git$/i, '').replace(/^\/+/, '');
  return p || null;
}
