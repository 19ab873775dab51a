import type { Command } from 'commander';
import { openClient, type ApiClient } from '../api-client.js';

/**
 * Adds the connection options every API command shares and runs `fn` with a client that is
 * always closed afterwards.
 */
export function withClient(
  cmd: Command,
  fn: (client: ApiClient, opts: any, ...args: any[]) => Promise<void>,
): Command {
  return cmd
    .option('--url <url>', 'talk to a running server (default: $SYNCLINE_URL; without it, use the local database)')
    .action(async (...args: any[]) => {
      const command = args[args.length - 1] as Command;
      const opts = command.opts();
      const positional = args.slice(0, -2);
      const client = await openClient({ url: opts.url });
      try {
        await fn(client, opts, ...positional);
      } finally {
        await client.close();
      }
    });
}
