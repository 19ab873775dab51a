import { createRootRoute, createRoute, createRouter, lazyRouteComponent, redirect } from '@tanstack/react-router';
import { Shell } from './components/Shell.js';
import { NamespacesPage } from './pages/Namespaces.js';
import { NotFoundPage } from './pages/NotFound.js';

// Everything but the first screen loads on demand (the initial-JS budget).
const NamespaceLayout = lazyRouteComponent(() => import('./pages/namespace/Layout.js'), 'NamespaceLayout');
const DriftTab = lazyRouteComponent(() => import('./pages/namespace/Drift.js'), 'DriftTab');
const ResourcesTab = lazyRouteComponent(() => import('./pages/namespace/Resources.js'), 'ResourcesTab');
const FilesTab = lazyRouteComponent(() => import('./pages/namespace/Files.js'), 'FilesTab');
const DeploymentsTab = lazyRouteComponent(() => import('./pages/namespace/Deployments.js'), 'DeploymentsTab');
const PlansTab = lazyRouteComponent(() => import('./pages/namespace/Plans.js'), 'PlansTab');
const SourcesPage = lazyRouteComponent(() => import('./pages/Sources.js'), 'SourcesPage');
const MirrorsPage = lazyRouteComponent(() => import('./pages/Mirrors.js'), 'MirrorsPage');
const WebhooksPage = lazyRouteComponent(() => import('./pages/Webhooks.js'), 'WebhooksPage');
const AuditPage = lazyRouteComponent(() => import('./pages/Audit.js'), 'AuditPage');
const TokensPage = lazyRouteComponent(() => import('./pages/Tokens.js'), 'TokensPage');

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
};
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]): T | undefined => (allowed.includes(v as T) ? (v as T) : undefined);

export const DRIFT_FILTERS = ['never_synced', 'in_sync', 'drifted', 'error'] as const;
export const RUN_FILTERS = ['succeeded', 'failed', 'none'] as const;

const rootRoute = createRootRoute({ component: Shell, notFoundComponent: NotFoundPage });

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/namespaces' });
  },
});

export const namespacesRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/namespaces',
  validateSearch: (s: Record<string, unknown>): { q?: string; drift?: (typeof DRIFT_FILTERS)[number]; run?: (typeof RUN_FILTERS)[number]; page?: number } => ({
    q: str(s.q),
    drift: oneOf(s.drift, DRIFT_FILTERS),
    run: oneOf(s.run, RUN_FILTERS),
    page: num(s.page),
  }),
  component: NamespacesPage,
});

export const namespaceRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/namespaces/$ns',
  component: NamespaceLayout,
});

const namespaceIndexRoute = createRoute({
  getParentRoute: () => namespaceRoute,
  path: '/',
  beforeLoad: ({ params }) => {
    throw redirect({ to: '/namespaces/$ns/drift', params });
  },
});

export const driftRoute = createRoute({
  getParentRoute: () => namespaceRoute,
  path: 'drift',
  validateSearch: (s: Record<string, unknown>): { all?: boolean } => ({ all: s.all === true || s.all === 'true' ? true : undefined }),
  component: DriftTab,
});

export const resourcesRoute = createRoute({
  getParentRoute: () => namespaceRoute,
  path: 'resources',
  validateSearch: (s: Record<string, unknown>): { resource?: string; q?: string } => ({ resource: str(s.resource), q: str(s.q) }),
  component: ResourcesTab,
});

export const filesRoute = createRoute({
  getParentRoute: () => namespaceRoute,
  path: 'files',
  validateSearch: (s: Record<string, unknown>): { ref?: string; file?: string } => ({ ref: str(s.ref), file: str(s.file) }),
  component: FilesTab,
});

export const deploymentsRoute = createRoute({
  getParentRoute: () => namespaceRoute,
  path: 'deployments',
  validateSearch: (s: Record<string, unknown>): { open?: string; deploy?: string } => ({ open: str(s.open), deploy: str(s.deploy) }),
  component: DeploymentsTab,
});

export const plansRoute = createRoute({
  getParentRoute: () => namespaceRoute,
  path: 'plans',
  component: PlansTab,
});

export const sourcesRoute = createRoute({ getParentRoute: () => rootRoute, path: '/sources', component: SourcesPage });
export const mirrorsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/mirrors', component: MirrorsPage });
export const webhooksRoute = createRoute({ getParentRoute: () => rootRoute, path: '/webhooks', component: WebhooksPage });
export const auditRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/audit',
  validateSearch: (s: Record<string, unknown>): { namespace?: string; actor?: string } => ({ namespace: str(s.namespace), actor: str(s.actor) }),
  component: AuditPage,
});
export const tokensRoute = createRoute({ getParentRoute: () => rootRoute, path: '/tokens', component: TokensPage });

const routeTree = rootRoute.addChildren([
  indexRoute,
  namespacesRoute,
  namespaceRoute.addChildren([namespaceIndexRoute, driftRoute, resourcesRoute, filesRoute, deploymentsRoute, plansRoute]),
  sourcesRoute,
  mirrorsRoute,
  webhooksRoute,
  auditRoute,
  tokensRoute,
]);

export const router = createRouter({ routeTree, defaultPreload: false, scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
