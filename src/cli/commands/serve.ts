import type { Command } from 'commander';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Start the Syncline server (settings from env and syncline.yaml; see docs/configuration.md)')
    .option('--port <port>', 'listen port (SYNCLINE_PORT, default 7420)')
    .option('--host <host>', 'listen address (SYNCLINE_HOST, default 0.0.0.0)')
    .option('--config <file>', 'config file (default ./syncline.yaml when present)')
    .action(async (opts) => {
      const [{ loadSettings }, { startServer }] = await Promise.all([import('../../config/load.js'), import('../../server/start.js')]);
      // A bad setting throws ConfigError: runCli prints it and exits 2 before anything starts.
      await startServer(loadSettings({ file: opts.config, overrides: { port: opts.port, host: opts.host } }));
    });
}
