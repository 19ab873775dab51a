import type { GitAuth } from '../git/auth.js';
import { githubAppInstallationToken } from '../providers/github-app.js';
import { repoPathExact } from '../providers/repo-url.js';
import type { SecretBox } from '../security/secret-box.js';
import { sourceApiUrl, sourceCredentials, type SourceRow } from '../store/sources.js';

/** Turns a source's stored credentials into what git needs (minting an app token if required). */
export async function gitAuthFor(box: SecretBox, row: SourceRow, fetchImpl?: typeof fetch): Promise<GitAuth> {
  const creds = sourceCredentials(box, row);
  const provider = row.provider as 'github' | 'gitlab' | 'gitea' | 'git';
  switch (creds.type) {
    case 'none':
      return { type: 'none' };
    case 'token':
      return creds.username
        ? { type: 'basic', username: creds.username, password: creds.secrets.token ?? '' }
        : { type: 'token', token: creds.secrets.token ?? '', provider };
    case 'basic':
      return { type: 'basic', username: creds.username ?? '', password: creds.secrets.password ?? '' };
    case 'github_app': {
      const token = await githubAppInstallationToken({
        appId: creds.app_id ?? '',
        installationId: creds.installation_id,
        privateKey: creds.secrets.private_key ?? '',
        baseUrl: sourceApiUrl(row) ?? 'https://api.github.com',
        repo: repoPathExact(row.url),
        ...(fetchImpl ? { fetch: fetchImpl } : {}),
      });
      return { type: 'token', token, provider: 'github' };
    }
  }
}
