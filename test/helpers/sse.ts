/** A Server-Sent Events client for tests: opens `GET /api/v1/events` and collects parsed events. */
import http from 'node:http';

export interface EventStream {
  status: number;
  events: { id?: string; event?: string; data?: any }[];
  close(): void;
}

export function openEvents(base: string, headers: Record<string, string>, path = '/api/v1/events'): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const s: EventStream = { status: res.statusCode ?? 0, events: [], close: () => req.destroy() };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let sep: number;
        while ((sep = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep + 2);
          const e: EventStream['events'][number] = {};
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || line.startsWith('retry:')) continue;
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            isEvent = true;
            if (field === 'data') e.data = JSON.parse(value);
            else if (field === 'id' || field === 'event') e[field] = value;
          }
          if (isEvent) s.events.push(e);
        }
      });
      resolve(s);
    });
    req.on('error', reject);
  });
}
