import { parseGitUrl } from '../security/url-guard.js';

/**
 * A forge's REST base from a repository URL, keeping any port: github.com → api.github.com,
 * another GitHub host → https://HOST[:PORT]/api/v3, Gitea → /api/v1, GitLab → /api/v4. For ssh
 * and scp-style URLs the web side is assumed to be https on the default port.
 */
export function defaultApiUrl(provider: string, repoUrl: string): string | null {
  let origin: string;
  const m = /^(https?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)(:\d+)?/i.exec(repoUrl.trim());
  if (m) origin = `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}${m[3] ?? ''}`;
  else {
    let host: string;
    try {
      host = parseGitUrl(repoUrl).host;
    } catch {
      return null;
    }
    if (!host) return null;
    origin = `https://${host.includes(':') ? `[${host}]` : host}`;
  }
  switch (provider) {
    case 'github':
      return /^https?:\/\/(www\.)?github\.com$/.test(origin) ? 'https://api.github.com' : `${origin}/api/v3`;
    case 'gitea':
      return `${origin}/api/v1`;
    case 'gitlab':
      return `${origin}/api/v4`;
    default:
      return null;
  }
}
