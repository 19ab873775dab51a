import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UnauthorizedError } from '../../errors.js';
import { isUnscoped } from '../../security/roles.js';
import { hashToken } from '../../security/tokens.js';
import { createSession, deleteSession } from '../../store/sessions.js';
import { sessionCreateBody, whoami } from '../../contracts/web.js';
import { CSRF_HEADER, CsrfError, readCookie, SESSION_COOKIE } from '../auth.js';
import { errorResponses } from '../../contracts/errors.js';

const SESSION_TTL_SECONDS = 12 * 3600;

/** `GET /whoami`, `POST /session` (token → HttpOnly cookie), `DELETE /session`. */
export const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.ctx.db.db;
  const secure = (app.ctx.settings.public_url ?? '').startsWith('https:');
  const cookie = (value: string, maxAge: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;

  app.get(
    '/whoami',
    { onRequest: app.requireRole('viewer'), schema: { tags: ['session'], response: { 200: whoami, ...errorResponses } } },
    async (req) => {
      const p = req.principal!;
      return { name: p.name, role: p.role, namespaces: isUnscoped(p.namespaces) ? null : p.namespaces };
    },
  );

  app.post(
    '/session',
    {
      schema: {
        tags: ['session'],
        description: 'Exchanges a token for an HttpOnly session cookie (the web UI signs in with this).',
        body: sessionCreateBody,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const principal = await app.principalFor(req.body.token);
      if (!principal) throw new UnauthorizedError('Unknown or revoked token');
      const id = await createSession(db, hashToken(req.body.token), SESSION_TTL_SECONDS);
      return reply.status(204).header('set-cookie', cookie(id, SESSION_TTL_SECONDS)).header('cache-control', 'no-store').send(null);
    },
  );

  app.delete(
    '/session',
    { schema: { tags: ['session'], description: 'Signs out: ends the session and clears its cookie.', response: { 204: z.null(), ...errorResponses } } },
    async (req, reply) => {
      const id = readCookie(req, SESSION_COOKIE);
      if (id) {
        if (req.headers[CSRF_HEADER] !== '1') throw new CsrfError();
        await deleteSession(db, id);
      }
      return reply.status(204).header('set-cookie', cookie('', 0)).send(null);
    },
  );
};
