/**
 * The request metrics (server/metrics.ts HttpRequestMetrics) expose exactly what prom-client's
 * Histogram and Counter expose for the same observations: names, help, types, label order,
 * buckets (a value equal to a bound counts in that bucket), sums and counts.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HttpRequestMetrics } from '../../../src/server/metrics.js';

describe('HttpRequestMetrics', () => {
  it('formats like prom-client for the same observations', async () => {
    const reference = new Registry();
    const duration = new Histogram({
      name: 'syncline_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [reference],
    });
    const requests = new Counter({ name: 'syncline_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [reference] });
    const ours = new Registry();
    const http = new HttpRequestMetrics();
    ours.registerMetric(http.histogram() as never);
    ours.registerMetric(http.counter() as never);

    const observations: Array<[string, string, number, number]> = [
      ['GET', '/api/v1/namespaces/:ns/resources/:kind/:name', 200, 0.0004],
      ['GET', '/api/v1/namespaces/:ns/resources/:kind/:name', 200, 0.005],
      ['GET', '/api/v1/namespaces/:ns/resources/:kind/:name', 304, 0.07],
      ['POST', '/api/v1/namespaces/:ns/sync-from-git', 200, 2.5],
      ['GET', 'unmatched', 404, 45],
      ['GET', '/api/v1/namespaces/:ns/resources/:kind/:name', 200, 0.3],
    ];
    for (const [method, route, status, seconds] of observations) {
      const labels = { method, route, status: String(status) };
      duration.observe(labels, seconds);
      requests.inc(labels);
      http.observe(method, route, status, seconds);
    }
    expect(await ours.metrics()).toBe(await reference.metrics());
  });
});
