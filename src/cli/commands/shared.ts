import type { Command } from 'commander';
import { CliError, openClient, type ApiClient } from '../api-client.js';
import { printJson } from '../output.js';

/**
 * Adds the connection and output options every API command shares and runs `fn` with a client
 * that is always closed afterwards.
 */
export function withClient(
  cmd: Command,
  fn: (client: ApiClient, opts: any, ...args: any[]) => Promise<void>,
): Command {
  // A command that declares its own --json (older code) keeps it: a second one would make
  // commander refuse to build the whole program.
  if (!cmd.options.some((o) => o.long === '--json')) cmd.option('--json', 'same as --output json');
  return cmd
    .option('--url <url>', 'talk to a running server (default: $SYNCLINE_URL; without it, use the local database)')
    .option('-o, --output <format>', 'text | json (json prints the API response, for scripts)', 'text')
    .action(async (...args: any[]) => {
      const command = args[args.length - 1] as Command;
      const opts = command.opts();
      if (opts.output !== 'text' && opts.output !== 'json') throw new CliError(`--output must be text or json (got '${opts.output}')`, 2);
      if (opts.json) opts.output = 'json';
      opts.json = opts.output === 'json';
      const positional = args.slice(0, -2);
      const client = await openClient({ url: opts.url });
      try {
        await fn(client, opts, ...positional);
      } finally {
        await client.close();
      }
    });
}

/** Whether the command should print JSON (`--output json` / `--json`). */
export function wantsJson(opts: { output?: string; json?: boolean }): boolean {
  return opts.output === 'json' || opts.json === true;
}

/** Prints `body` as JSON with `--output json`, else runs `text`. */
export function emit(opts: { output?: string; json?: boolean }, body: unknown, text: () => void): void {
  if (wantsJson(opts)) printJson(body);
  else text();
}
