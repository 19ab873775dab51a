import { Alert, Anchor, Breadcrumbs, Button, Group, Stack, Tabs, Text, Title } from '@mantine/core';
import { IconPlayerPause, IconRefresh } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { AutoSyncBadge, DriftBadge, RunBadge, driftOf, runOf } from '../../components/Status.js';
import { ErrorView, Loading } from '../../components/States.js';
import { SyncDialog } from '../../components/SyncDialog.js';
import { api, enc } from '../../lib/api.js';
import { relativeTime, shortSha } from '../../lib/format.js';
import { useNamespace, useRunningSyncs, useSourceMap } from '../../lib/queries.js';
import { useCan } from '../../lib/session.js';
import { namespaceRoute } from '../../router.js';

const TABS = ['drift', 'resources', 'files', 'deployments', 'plans'] as const;

export function NamespaceLayout() {
  const { t } = useTranslation();
  const { ns: name } = namespaceRoute.useParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  const tab = TABS.find((x) => pathname.endsWith(`/${x}`)) ?? 'drift';
  const query = useNamespace(name);
  const sources = useSourceMap();
  const running = useRunningSyncs();
  const canSync = useCan('deployer', name);
  const canAdmin = useCan('admin', name);
  const [syncOpen, setSyncOpen] = useState(false);
  const resume = useMutation({
    mutationFn: () => api('PATCH', `/namespaces/${enc(name)}`, { auto_sync_paused: null }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['ns', name] }),
  });

  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorView error={query.error} onRetry={() => void query.refetch()} />;
  const ns = query.data;
  const source = ns.source ? sources.get(ns.source) : undefined;
  const paused = ns.auto_sync && ns.auto_sync_paused ? ns.auto_sync_paused : null;

  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/namespaces">
          {t('nav.namespaces')}
        </Anchor>
        <Text>{ns.name}</Text>
      </Breadcrumbs>
      <Group justify="space-between" align="start">
        <Stack gap={6}>
          <Title order={2}>{ns.name}</Title>
          <Group gap={6}>
            <DriftBadge drift={driftOf(ns)} />
            <RunBadge run={runOf(ns, running.has(ns.name))} />
            <AutoSyncBadge ns={ns} />
          </Group>
          <Text size="sm" c="dimmed" className="mono">
            {ns.source ? `${ns.source} · ${ns.branch} · ${ns.path || '/'}` : t('namespaces.no_source')}
          </Text>
          {ns.last_deployment ? (
            <Text size="sm" c="dimmed">
              {t('namespace.deployed', { commit: shortSha(ns.last_deployment.commit), when: relativeTime(ns.last_deployment.started_at), actor: ns.last_deployment.actor })}
            </Text>
          ) : null}
        </Stack>
        {canSync && ns.source ? (
          <Button leftSection={<IconRefresh size={16} aria-hidden />} onClick={() => setSyncOpen(true)} data-testid="sync-now">
            {t('sync.open')}
          </Button>
        ) : null}
      </Group>
      {paused ? (
        <Alert color="yellow" icon={<IconPlayerPause aria-hidden />} title={t('namespace.paused_title')} data-testid="paused-banner">
          <Stack gap="xs">
            <Text size="sm">{t('namespace.paused_body', { by: paused.by, when: relativeTime(paused.at), reason: paused.reason ?? '—', commit: shortSha(paused.commit) })}</Text>
            {canAdmin ? (
              <Group>
                <Button size="xs" onClick={() => resume.mutate()} loading={resume.isPending}>
                  {t('namespace.resume', { branch: ns.branch })}
                </Button>
              </Group>
            ) : null}
            {resume.isError ? <ErrorView error={resume.error} /> : null}
          </Stack>
        </Alert>
      ) : null}
      <Tabs value={tab} onChange={(v) => v && void navigate({ to: `/namespaces/$ns/${v as (typeof TABS)[number]}`, params: { ns: name } })} keepMounted>
        <Tabs.List aria-label={t('namespace.tabs')}>
          {TABS.map((x) => (
            <Tabs.Tab key={x} value={x}>
              {t(`namespace.tab.${x}`)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {TABS.map((x) => (
          <Tabs.Panel key={x} value={x} pt="md">
            {x === tab ? <Outlet /> : null}
          </Tabs.Panel>
        ))}
      </Tabs>
      {syncOpen ? <SyncDialog ns={ns} source={source} opened={syncOpen} onClose={() => setSyncOpen(false)} /> : null}
    </Stack>
  );
}
