import type { Command } from 'commander';
import type { TokenCreated, TokenList } from '../../contracts/tokens.js';
import { expectOk } from '../api-client.js';
import { printJson, printTable } from '../output.js';
import { withClient } from './shared.js';

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Manage API tokens (admin)');
  withClient(
    token
      .command('create')
      .description('Create a token; the value is printed once')
      .requiredOption('--name <name>', 'token name, shown in audit events')
      .requiredOption('--role <role>', 'viewer | deployer | admin')
      .option('--namespace <pattern...>', 'limit to namespace patterns (repeatable), e.g. shop.*'),
    async (client, opts) => {
      const body = expectOk<TokenCreated>(
        await client.request('POST', '/tokens', {
          name: opts.name,
          role: opts.role,
          ...(opts.namespace ? { namespaces: opts.namespace } : {}),
        }),
      );
      if (opts.json) printJson(body);
      else {
        const scope = body.namespaces.length ? `, ${body.namespaces.join(',')}` : '';
        console.error(`Created token ${body.id} (${body.role}${scope}). It is shown only once:`);
        console.log(body.token);
      }
    },
  );
  withClient(token.command('list').description('List tokens (values are never shown)'), async (client, opts) => {
    const body = expectOk<TokenList>(await client.request('GET', '/tokens'));
    if (opts.json) printJson(body);
    else printTable(body.items, ['id', 'name', 'role', 'namespaces', 'created_at', 'last_used_at']);
  });
  withClient(token.command('revoke <id>').description('Revoke a token'), async (client, _opts, id: string) => {
    expectOk(await client.request('DELETE', `/tokens/${encodeURIComponent(id)}`));
    console.log(`Revoked ${id}`);
  });
}
