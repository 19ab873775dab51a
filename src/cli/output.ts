/** Small helpers for human-readable CLI output; `--json` prints the API's JSON instead. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (!rows.length) {
    console.log('(none)');
    return;
  }
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') || '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns.map((c) => c.toUpperCase())));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

const useColour = () => process.stdout.isTTY && !process.env.NO_COLOR;
export const colour = {
  green: (s: string) => (useColour() ? `\x1b[32m${s}\x1b[0m` : s),
  red: (s: string) => (useColour() ? `\x1b[31m${s}\x1b[0m` : s),
  yellow: (s: string) => (useColour() ? `\x1b[33m${s}\x1b[0m` : s),
  dim: (s: string) => (useColour() ? `\x1b[2m${s}\x1b[0m` : s),
  bold: (s: string) => (useColour() ? `\x1b[1m${s}\x1b[0m` : s),
};
