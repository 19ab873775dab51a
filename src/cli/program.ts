/**
 * The CLI as a function: `runCli(argv)` parses, runs and returns the exit code without ending the
 * process, so tests run it in-process (src/cli/main.ts is the executable entry).
 */
import { Command, CommanderError } from 'commander';
import { SynclineError } from '../errors.js';
import { redact } from '../security/redact.js';
import { CliError } from './api-client.js';
import { registerNamespaceCommands } from './commands/namespaces.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSourceCommands } from './commands/sources.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerSyncCommands } from './commands/sync.js';
import { registerMirrorCommands } from './commands/mirror.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerJobCommands } from './commands/jobs.js';
import { registerKindCommands } from './commands/kinds.js';
import { registerReadCommands } from './commands/read.js';

export function buildProgram(): Command {
  const program = new Command('syncline')
    .description('Syncline: a self-hosted GitOps configuration server')
    .version('0.1.0')
    .showHelpAfterError()
    // Commander throws instead of calling process.exit (inherited by the subcommands below).
    .exitOverride();
  registerServeCommand(program);
  registerTokenCommands(program);
  registerSourceCommands(program);
  registerNamespaceCommands(program);
  registerSyncCommands(program);
  registerKindCommands(program);
  registerReadCommands(program);
  registerMirrorCommands(program);
  registerClusterCommands(program);
  registerJobCommands(program);
  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…); resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  // A command may report a non-error outcome through process.exitCode (e.g. drift: out of sync).
  const outer = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    // Help, version and usage errors: commander has already printed what it had to say.
    if (err instanceof CommanderError) return err.exitCode;
    const code = err instanceof CliError ? err.exitCode : err instanceof Error && err.name === 'ConfigError' ? 2 : 1;
    const message = err instanceof SynclineError ? `${err.code}: ${err.message}` : (err as Error).message;
    console.error(`error: ${redact(message)}`);
    return code;
  } finally {
    process.exitCode = outer;
  }
}
