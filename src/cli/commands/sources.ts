import type { Command } from 'commander';
import type { ErrorBody } from '../../contracts/errors.js';
import type { Source, SourceCheckResult, SourceList } from '../../contracts/sources.js';
import { CliError, expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { emit, withClient } from './shared.js';

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
      .option('--webhook-secret-env <VAR>', 'read the webhook secret from this environment variable')
      .option('--no-check', 'do not contact the repository now (offline set-up)'),
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
      let check: SourceCheckResult | null = null;
      if (opts.check !== false) {
        // Check the repository now, not at the first plan: a wrong URL or token is reported here.
        const res = await client.request('POST', `/sources/${encodeURIComponent(name)}/check`, {});
        const err = (res.body as Partial<ErrorBody> | null)?.error;
        if (res.status === 200) check = res.body as SourceCheckResult;
        else if (err?.code !== 'runtime_sync_disabled') {
          // Leave nothing half-made: the same command can be run again once fixed.
          await client.request('DELETE', `/sources/${encodeURIComponent(name)}`);
          throw new CliError(
            `${err ? `${err.code}: ${err.message}` : `HTTP ${res.status}`} — source '${name}' was not added (use --no-check to add it without contacting the repository)`,
          );
        }
      }
      emit(opts, { ...body, ...(check ? { check } : {}) }, () =>
        console.log(
          `Added source ${body.name} (${body.provider}, auth ${body.auth.type})` +
            (check ? `: reachable, default branch ${check.default_branch ?? '(none)'}` : opts.check === false ? ' (not checked)' : ' (not checked: runtime sync is off)'),
        ),
      );
    },
  );
  withClient(source.command('get <name>').description('Show a source (never its secrets)'), async (client, opts, name: string) => {
    const body = expectOk<Source>(await client.request('GET', `/sources/${encodeURIComponent(name)}`));
    emit(opts, body, () => printTable([{ ...body, auth: body.auth.type, mirror: body.mirror.enabled ? body.mirror.status : '-' }], ['name', 'url', 'provider', 'auth', 'mirror', 'default_branch']));
  });
  withClient(source.command('check <name>').description('Check the repository is reachable with its credentials').option('--ref <ref>', 'also resolve this ref'), async (client, opts, name: string) => {
    const body = expectOk<SourceCheckResult>(await client.request('POST', `/sources/${encodeURIComponent(name)}/check`, opts.ref ? { ref: opts.ref } : {}));
    emit(opts, body, () => console.log(`ok: default branch ${body.default_branch ?? '(none)'}${body.head ? ` at ${body.head.commit.slice(0, 12)}` : ''}${body.ref ? `; ${body.ref.ref} = ${body.ref.commit.slice(0, 12)}` : ''}`));
  });
  withClient(source.command('delete <name>').description('Delete a source (refused while a namespace uses it)').requiredOption('--yes', 'confirm'), async (client, opts, name: string) => {
    expectOk(await client.request('DELETE', `/sources/${encodeURIComponent(name)}`));
    emit(opts, { deleted: name }, () => console.log(`Deleted source ${name}`));
  });
  withClient(source.command('list').description('List sources'), async (client, opts) => {
    const body = expectOk<SourceList>(await client.request('GET', '/sources'));
    if (opts.json) printJson(body);
    else {
      const rows = body.items.map((s) => ({ ...s, auth: s.auth.type, mirror: s.mirror.enabled ? s.mirror.status : '-' }));
      printTable(rows, ['name', 'url', 'provider', 'auth', 'mirror']);
    }
  });
}
