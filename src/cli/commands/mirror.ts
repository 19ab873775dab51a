import type { Command } from 'commander';
import type { BakeProgress } from '../../mirror/bake.js';
import { CliError } from '../api-client.js';
import { colour } from '../output.js';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A bar per repo on a TTY (received bytes, state); plain lines otherwise (CI logs). */
async function progressFor(names: string[]): Promise<{ progress: BakeProgress; stop(): void }> {
  if (!process.stderr.isTTY) {
    return {
      progress: {
        start: (name) => console.error(`cloning ${name}…`),
        bytes: () => undefined,
        done: (name, r) => console.error(r.ok ? `${name}: ok (${r.headCommit?.slice(0, 12)})` : `${name}: FAILED ${r.error}`),
      },
      stop: () => undefined,
    };
  }
  const { default: cliProgress } = await import('cli-progress');
  const multi = new cliProgress.MultiBar(
    { format: ' {name} |{bar}| {state} {size}', hideCursor: true, clearOnComplete: false, stream: process.stderr, barsize: 24 },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...names.map((n) => n.length));
  const bars = new Map(names.map((n) => [n, multi.create(1, 0, { name: n.padEnd(width), state: 'queued', size: '' })]));
  return {
    progress: {
      start: (name) => bars.get(name)?.update(0, { state: 'cloning' }),
      bytes: (name, b) => bars.get(name)?.update({ size: formatBytes(b) }),
      done: (name, r) => bars.get(name)?.update(1, { state: r.ok ? colour.green('done') : colour.red('failed') }),
    },
    stop: () => multi.stop(),
  };
}

export function registerMirrorCommands(program: Command): void {
  const mirror = program.command('mirror').description('Mirrors for air-gapped sites');
  mirror
    .command('bake')
    .description('Clone sources into a directory for a build-time image (serve it with SYNCLINE_MIRROR_DIR)')
    .requiredOption('--sources <file>', 'YAML list of {name, url, token_env?, username?} (or {sources: [...]})')
    .requiredOption('--out <dir>', 'output directory')
    .option('--concurrency <n>', 'repositories cloned at once', '2')
    .action(async (opts) => {
      // Loaded here, not at start-up: other commands never pay for them.
      const [{ bake, readBakeFile }, { loadSettings }, { guardOptions }] = await Promise.all([
        import('../../mirror/bake.js'),
        import('../../config/load.js'),
        import('../../sync/remote.js'),
      ]);
      const sources = await readBakeFile(opts.sources);
      const ui = await progressFor(sources.map((s) => s.name));
      const settings = loadSettings({ overrides: { log_level: 'warn' } });
      const results = await bake(sources, opts.out, {
        guard: guardOptions(settings),
        progress: ui.progress,
        concurrency: Number(opts.concurrency) || 2,
      });
      ui.stop();
      const failed = results.filter((r) => !r.ok);
      for (const r of failed) console.error(colour.red(`${r.name}: ${r.error}`));
      console.log(`${results.length - failed.length}/${results.length} mirrors baked into ${opts.out}`);
      if (failed.length) throw new CliError(`${failed.length} source(s) failed to bake`, 1);
    });
}
