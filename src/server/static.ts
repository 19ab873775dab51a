import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorPayload } from '../errors.js';

/** Paths that are never the web UI: unknown paths under them stay JSON 404s. */
const NOT_UI = /^\/(api|git|healthz|readyz|metrics|docs|openapi\.json)(\/|$|\?)/;

/**
 * Strict policy for the UI: scripts only from this origin, no inline script, no framing. Inline
 * styles are allowed (the component library sets style attributes and theme variables).
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Finds the built UI (`ui/dist`) from here, whether running from `src/` or compiled output. */
export function findUiDir(): string | null {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    const candidate = path.join(dir, 'ui', 'dist');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', UI_CSP);
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
}

/**
 * Serves the single-page app: hashed assets under `/assets/` cached for a year, `index.html`
 * never cached, and every GET outside the API, git, ops and docs routes falls back to the index.
 */
export async function registerWebUi(app: FastifyInstance, uiDir: string | null = findUiDir()): Promise<void> {
  // `X-Frame-Options: DENY` on every response is set by buildApp's onSend hook (app.ts).
  if (!uiDir) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.status(503).type('text/plain; charset=utf-8').send('The web UI is not built. Run `npm run build:ui` (npm ci does it).\n'),
    );
    return;
  }
  const index = fs.readFileSync(path.join(uiDir, 'index.html'));
  const sendIndex = (_req: FastifyRequest, reply: FastifyReply) => {
    securityHeaders(reply);
    return reply.status(200).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index);
  };
  await app.register(fastifyStatic, {
    root: uiDir,
    prefix: '/',
    index: false,
    wildcard: false,
    cacheControl: false,
    etag: true,
    lastModified: false,
    globIgnore: ['index.html'],
    setHeaders(res, filePath) {
      res.header('content-security-policy', UI_CSP);
      res.header('x-frame-options', 'DENY');
      res.header('x-content-type-options', 'nosniff');
      const rel = path.relative(uiDir, filePath);
      res.header('cache-control', rel.startsWith(`assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/', { schema: { hide: true } }, sendIndex);
  // SPA fallback: specific routes (the API, git, ops, docs, the files above) always win over '/*'.
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const url = req.url.split('?')[0]!;
    if (NOT_UI.test(url) || url.startsWith('/assets/')) {
      return reply
        .status(404)
        .type('application/json; charset=utf-8')
        .send(errorPayload('not_found', `No route for ${req.method} ${url}`));
    }
    return sendIndex(req, reply);
  });
}
