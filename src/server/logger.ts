import type { DestinationStream, LoggerOptions } from 'pino';
import { redact, redactDeep } from '../security/redact.js';

/**
 * pino options shared by the server and CLI: every string and object passes through secret
 * redaction before it is written, and credentials-bearing headers are masked.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-gitlab-token"]'],
      censor: '***',
    },
    hooks: {
      logMethod(args, method) {
        const clean = args.map((a) => (typeof a === 'string' ? redact(a) : a && typeof a === 'object' && !(a instanceof Error) ? redactDeep(a) : a));
        return method.apply(this, clean as Parameters<typeof method>);
      },
    },
    serializers: {
      err: (err: Error & { code?: string }) => ({
        type: err?.name,
        code: err?.code,
        message: redact(String(err?.message ?? err)),
        stack: err?.stack ? redact(err.stack) : undefined,
      }),
    },
  };
}

export type LogDestination = DestinationStream;
