import { useQuery } from '@tanstack/react-query';
import { ApiError, get } from './api.js';
import type { Role, Whoami } from './types.js';

const RANK: Record<Role, number> = { viewer: 0, deployer: 1, admin: 2 };

export function useWhoami() {
  return useQuery<Whoami | null>({
    queryKey: ['whoami'],
    queryFn: async () => {
      try {
        return await get<Whoami>('/whoami');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return null;
        throw err;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
}

/** Whether the signed-in token may do what needs `role` (on `namespace`, when given). */
export function allowed(who: Whoami | null | undefined, role: Role, namespace?: string): boolean {
  if (!who || RANK[who.role] < RANK[role]) return false;
  if (namespace === undefined || who.namespaces === null) return true;
  return who.namespaces.some((p) => (p.endsWith('*') ? namespace.startsWith(p.slice(0, -1)) : p === namespace));
}

/** Unscoped admin: sees the global admin pages (tokens, audit, webhooks). */
export const isGlobalAdmin = (who: Whoami | null | undefined): boolean => !!who && who.role === 'admin' && who.namespaces === null;

export function useCan(role: Role, namespace?: string): boolean {
  const { data } = useWhoami();
  return allowed(data, role, namespace);
}
