/**
 * `npm run soak [-- <scenario>]`: the long fault scenarios, each printing its figures as JSON
 * (docs/reliability.md lists them with their last figures).
 *   amqp      (default) RabbitMQ unreachable for 60 s during 100 deployments — soak/amqp-outage.ts
 *   replicas  3 replicas kill -9'd 50 times during 200 syncs over 20 namespaces — soak/replicas-kill.ts
 */
const scenario = process.argv[2] ?? 'amqp';
const files: Record<string, string> = { amqp: './amqp-outage.ts', replicas: './replicas-kill.ts' };
const file = files[scenario];
if (!file) {
  console.error(`unknown soak scenario '${scenario}' (one of: ${Object.keys(files).join(', ')})`);
  process.exit(2);
}
await import(file);
