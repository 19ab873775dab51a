import type { Command } from 'commander';
import type { Source, SourceList } from '../../contracts/sources.js';
import { CliError, expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { withClient } from './shared.js';

function fromEnv(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const value = process.env[name];
  if (!value) throw new CliError(`Environment variable ${name} is empty or unset`, 2);
  return value;
}

export function registerSourceCommands(program: Command): void {
  const source = program.command('source').description('Manage git sources');
  withClient(
    source
      .command('add <name> <url>')
      .description('Register a repository. Secrets come from environment variables so they stay out of argv and shell history.')
      .option('--provider <provider>', 'github | gitlab | gitea | git (default: guessed from the URL)')
      .option('--token-env <VAR>', 'read an access token from this environment variable')
      .option('--username <user>', 'username for basic auth (with --password-env) or to pair with the token')
      .option('--password-env <VAR>', 'read a basic-auth password from this environment variable')
      .option('--mirror', 'serve a read-only mirror at /git/<slug>.git')
      .option('--mirror-access <access>', 'token | public', 'token')
      .option('--mirror-slug <slug>', 'mirror slug (default: the source name)')
      .option('--webhook-secret-env <VAR>', 'read the webhook secret from this environment variable'),
    async (client, opts, name: string, url: string) => {
      const token = fromEnv(opts.tokenEnv);
      const password = fromEnv(opts.passwordEnv);
      const auth = token
        ? { type: 'token', token, ...(opts.username ? { username: opts.username } : {}) }
        : password
          ? { type: 'basic', username: opts.username, password }
          : undefined;
      const webhookSecret = fromEnv(opts.webhookSecretEnv);
      const mirror = opts.mirror
        ? { enabled: true, access: opts.mirrorAccess, ...(opts.mirrorSlug ? { slug: opts.mirrorSlug } : {}) }
        : undefined;
      const body = expectOk<Source>(
        await client.request('POST', '/sources', {
          name,
          url,
          ...(opts.provider ? { provider: opts.provider } : {}),
          ...(auth ? { auth } : {}),
          ...(mirror ? { mirror } : {}),
          ...(webhookSecret ? { webhook_secret: webhookSecret } : {}),
        }),
      );
      if (opts.json) printJson(body);
      else console.log(`Added source ${body.name} (${body.provider}, auth ${body.auth.type})`);
    },
  );
  withClient(source.command('list').description('List sources'), async (client, opts) => {
    const body = expectOk<SourceList>(await client.request('GET', '/sources'));
    if (opts.json) printJson(body);
    else {
      const rows = body.items.map((s) => ({ ...s, auth: s.auth.type, mirror: s.mirror.enabled ? s.mirror.status : '-' }));
      printTable(rows, ['name', 'url', 'provider', 'auth', 'mirror']);
    }
  });
}
