// A concurrent prober (its own process, so a blocked Syncline event loop cannot slow the prober's
// own clock): open-loop, one request to each URL every INTERVAL ms whatever the previous answers
// did, latency measured from the moment a request was due. Prints one JSON line on stdin EOF.
//   node bench/prober.mjs <interval-ms> <token> <url>...
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [intervalArg, token, ...urls] = process.argv.slice(2);
const interval = Number(intervalArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const samples = Object.fromEntries(urls.map((u) => [u, []]));
const errors = Object.fromEntries(urls.map((u) => [u, 0]));
let pending = 0;
let stopping = false;

function probe(url, due) {
  pending++;
  const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
    res.resume();
    res.on('end', () => {
      pending--;
      if (res.statusCode === 200) samples[url].push([performance.now() - due, due - start]);
      else errors[url]++;
      maybeDone();
    });
  });
  req.on('error', () => {
    pending--;
    errors[url]++;
    maybeDone();
  });
}

// Warm up before the clock starts: one request per URL (and a few in parallel, as the open loop
// will send them), so the sockets are open and this process's HTTP client is compiled. Without
// it the first probes of a fresh process measured its own start-up (tens of ms, more at load),
// not the server: the server's event loop was idle then.
async function warmUp() {
  const once = (url) =>
    new Promise((resolve) => {
      const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', resolve);
    });
  for (let round = 0; round < 3; round++) await Promise.all(urls.flatMap((u) => [once(u), once(u)]));
}
await warmUp();

const start = performance.now();
let tick = 0;
const timer = setInterval(() => {
  if (stopping) return;
  // Catch up on missed ticks (open loop): every due request is sent, stamped with its due time.
  const now = performance.now();
  while (start + tick * interval <= now) {
    const due = start + tick * interval;
    tick++;
    for (const u of urls) probe(u, due);
  }
}, Math.max(1, Math.floor(interval / 2)));

function maybeDone() {
  if (stopping && pending === 0) finish();
}
function finish() {
  clearInterval(timer);
  const out = {};
  for (const u of urls) {
    const all = samples[u].sort((a, b) => a[0] - b[0]);
    const s = all.map((x) => x[0]);
    const q = (p) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10 : null);
    // When (ms after the prober started) the slowest probes were due: where in the sync the stalls are.
    const slowest = all.slice(-5).reverse().map(([lat, at]) => [Math.round(at), Math.round(lat)]);
    out[u] = { n: s.length, errors: errors[u], p50: q(0.5), p99: q(0.99), max: s.length ? Math.round(s[s.length - 1] * 10) / 10 : null, slowest_at_ms: slowest };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  stopping = true;
  maybeDone();
});
process.stdout.write('ready\n');
