import { useMutationState, useQuery } from '@tanstack/react-query';
import { usePollInterval } from '../components/LiveContext.js';
import { enc, get } from './api.js';
import type { Deployment, DriftReport, Namespace, Resource, Source } from './types.js';

export function useNamespaces() {
  const refetchInterval = usePollInterval();
  return useQuery({ queryKey: ['namespaces'], queryFn: () => get<{ items: Namespace[] }>('/namespaces').then((r) => r.items), refetchInterval });
}

export function useNamespace(ns: string) {
  const refetchInterval = usePollInterval();
  return useQuery({ queryKey: ['ns', ns, 'info'], queryFn: () => get<Namespace>(`/namespaces/${enc(ns)}`), refetchInterval });
}

export function useSources() {
  return useQuery({ queryKey: ['sources'], queryFn: () => get<{ items: Source[] }>('/sources').then((r) => r.items), staleTime: 60_000 });
}

export function useSourceMap(): Map<string, Source> {
  const { data } = useSources();
  return new Map((data ?? []).map((s) => [s.name, s]));
}

export function useDrift(ns: string) {
  return useQuery({ queryKey: ['ns', ns, 'drift'], queryFn: () => get<DriftReport>(`/namespaces/${enc(ns)}/drift`) });
}

export function useDeployments(ns: string) {
  const refetchInterval = usePollInterval();
  return useQuery({
    queryKey: ['ns', ns, 'deployments'],
    queryFn: () => get<{ items: Deployment[] }>(`/namespaces/${enc(ns)}/deployments`).then((r) => r.items),
    refetchInterval,
  });
}

export function useResources(ns: string) {
  return useQuery({
    queryKey: ['ns', ns, 'resources'],
    queryFn: () => get<{ items: Resource[] }>(`/namespaces/${enc(ns)}/resources`).then((r) => r.items),
  });
}

/** Namespaces with a sync running from this browser (the "running" last-run badge). */
export function useRunningSyncs(): Set<string> {
  const running = useMutationState({
    filters: { mutationKey: ['sync'], status: 'pending' },
    select: (m) => (m.state.variables as { ns?: string } | undefined)?.ns ?? '',
  });
  return new Set(running);
}
