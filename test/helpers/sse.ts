/**
 * A Server-Sent Events client for tests: opens a stream (`GET /api/v1/events` by default, or a
 * namespace's `/watch`) and collects parsed events, comments and the raw body.
 */
import http from 'node:http';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: any;
}

export interface EventStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: SseEvent[];
  /** Comment lines (`: …`), without the colon. */
  comments: string[];
  /** Everything received so far. */
  body: string;
  /** Resolves when the response ends or the connection closes. */
  ended: Promise<void>;
  close(): void;
}

export interface OpenOptions {
  /**
   * Resolve only once the stream's opening comment arrived (a 200 stream sends one when it is
   * subscribed), or the response ended: events published after that are not missed.
   */
  untilOpened?: boolean;
}

export function openEvents(base: string, headers: Record<string, string>, path = '/api/v1/events', opts: OpenOptions = {}): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let endResolve!: () => void;
      const s: EventStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        body: '',
        ended: new Promise<void>((r) => (endResolve = r)),
        close: () => req.destroy(),
      };
      let settled = !opts.untilOpened;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        s.body += chunk;
        buf += chunk;
        let sep: number;
        while ((sep = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep + 2);
          const e: SseEvent = {};
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              s.comments.push(line.slice(1).trim());
              continue;
            }
            if (line.startsWith('retry:')) continue;
            const colon = line.indexOf(':');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, '');
            isEvent = true;
            if (field === 'data') e.data = JSON.parse(value);
            else if (field === 'id' || field === 'event') e[field] = value;
          }
          if (isEvent) s.events.push(e);
        }
        if (!settled && s.comments.length > 0) {
          settled = true;
          resolve(s);
        }
      });
      res.on('end', () => {
        endResolve();
        if (!settled) resolve(s);
      });
      res.on('error', () => endResolve());
      res.on('close', () => endResolve());
      if (settled) resolve(s);
    });
    req.on('error', reject);
  });
}
