import { z } from 'zod';

/** Shapes of the web UI's endpoints: whoami, session, files, events (API.md "Web UI and sessions"). */

export const whoami = z.object({
  name: z.string(),
  role: z.enum(['viewer', 'deployer', 'admin']),
  /** Namespace patterns the token is limited to; null when it sees every namespace. */
  namespaces: z.array(z.string()).nullable(),
});
export type Whoami = z.infer<typeof whoami>;

export const sessionCreateBody = z.object({ token: z.string().min(1).max(500) }).strict();

export const specFile = z.object({ path: z.string(), size: z.number(), content: z.string() });
export const namespaceFiles = z.object({ commit: z.string(), ref: z.string(), files: z.array(specFile) });
export type NamespaceFiles = z.infer<typeof namespaceFiles>;
export const filesQuery = z.object({ ref: z.string().min(1).max(255).optional() }).strict();

export const STREAM_EVENT_TYPES = ['namespace', 'deployment', 'plan', 'delivery'] as const;
export type StreamEventType = (typeof STREAM_EVENT_TYPES)[number];

/**
 * One event on `GET /events`. `data` carries the changed object (for `namespace`: `{name,status}`;
 * for `deployment`: the deployment without per-resource results).
 */
export interface StreamEvent {
  id: number;
  type: StreamEventType;
  namespace: string | null;
  data: Record<string, unknown>;
  at: string;
}
