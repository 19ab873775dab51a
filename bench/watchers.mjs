// N SSE watchers in their own process (the server's event loop is not shared with the clients).
//   node bench/watchers.mjs <count> <token> <url> <deploymentId-file-not-used>
// Prints "ready" once every stream is open; then, for each `resource` event, records when it
// arrived (Date.now()) per watcher; on stdin line "<deployment-id> <expected-events>", waits until
// every watcher has that many events of the deployment (or 30 s) and prints one JSON line with
// the arrival times, then exits.
import http from 'node:http';
import readline from 'node:readline';

const [countArg, token, url] = process.argv.slice(2);
const count = Number(countArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: count + 10 });
const arrivals = Array.from({ length: count }, () => []);
let open = 0;

for (let w = 0; w < count; w++) {
  const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) {
      console.error(`watcher ${w}: HTTP ${res.statusCode}`);
      process.exit(1);
    }
    let buf = '';
    let opened = false;
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      if (!opened && buf.includes('\n\n')) {
        opened = true;
        if (++open === count) process.stdout.write('ready\n');
      }
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) arrivals[w].push({ at: Date.now(), event: JSON.parse(data.slice(6)) });
      }
    });
  });
  req.on('error', (err) => {
    console.error(`watcher ${w}: ${err.message}`);
    process.exit(1);
  });
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [deployment, expectedArg] = line.trim().split(' ');
  const expected = Number(expectedArg);
  const started = Date.now();
  const check = () => {
    const got = arrivals.map((a) => a.filter((x) => x.event.deployment === deployment));
    if (got.every((g) => g.length >= expected) || Date.now() - started > 30_000) {
      // Per watcher: when its last event of the deployment arrived (the deployment fully seen).
      const last = got.map((g) => (g.length >= expected ? Math.max(...g.map((x) => x.at)) : null));
      process.stdout.write(`${JSON.stringify({ complete: last.filter((x) => x !== null).length, last })}\n`);
      process.exit(0);
    }
    setTimeout(check, 20);
  };
  check();
});
