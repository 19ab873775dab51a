import { Accordion, Anchor, Badge, Button, Group, Stack, Text } from '@mantine/core';
import { IconArrowBackUp } from '@tabler/icons-react';
import { useNavigate } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { ChangesTable, InvalidList, SummaryLine } from '../../components/Changes.js';
import { Empty, QueryView } from '../../components/States.js';
import { SyncDialog } from '../../components/SyncDialog.js';
import { absoluteTime, commitUrl, relativeTime, shortSha } from '../../lib/format.js';
import { useDeployments, useDrift, useNamespace, useSourceMap } from '../../lib/queries.js';
import { useCan } from '../../lib/session.js';
import type { Deployment } from '../../lib/types.js';
import { deploymentsRoute, namespaceRoute } from '../../router.js';

const STATUS_COLOR = { success: 'teal', noop: 'gray', failed: 'red' } as const;

/** Consecutive no-op runs of the same commit fold into one row with a count. */
function fold(items: Deployment[]): { d: Deployment; count: number }[] {
  const out: { d: Deployment; count: number }[] = [];
  for (const d of items) {
    const last = out[out.length - 1];
    if (last && d.status === 'noop' && last.d.status === 'noop' && last.d.commit === d.commit) last.count += 1;
    else out.push({ d, count: 1 });
  }
  return out;
}

function seconds(d: Deployment): string {
  if (!d.finished_at) return '—';
  return `${((new Date(d.finished_at).getTime() - new Date(d.started_at).getTime()) / 1000).toFixed(1)} s`;
}

export function DeploymentsTab() {
  const { t } = useTranslation();
  const { ns: name } = namespaceRoute.useParams();
  const search = deploymentsRoute.useSearch();
  const navigate = useNavigate({ from: '/namespaces/$ns/deployments' });
  const query = useDeployments(name);
  const info = useNamespace(name);
  const drift = useDrift(name);
  const sources = useSourceMap();
  const canSync = useCan('deployer', name);
  const ns = info.data;
  const source = ns?.source ? sources.get(ns.source) : undefined;
  const head = drift.data?.commit ?? null;
  const current = ns?.last_deployment?.commit ?? null;

  return (
    <>
      <QueryView query={query}>
        {(items) =>
          items.length === 0 ? (
            <Empty title={t('deployments.empty')}>{t('deployments.empty_help')}</Empty>
          ) : (
            <Accordion
              variant="separated"
              value={search.open ?? null}
              onChange={(v) => void navigate({ search: (prev) => ({ ...prev, open: v ?? undefined }), replace: true })}
            >
              {fold(items).map(({ d, count }) => {
                const link = commitUrl(source, d.commit);
                return (
                  <Accordion.Item key={d.id} value={d.id} data-testid="deployment">
                    <Accordion.Control>
                      <Group gap="sm" wrap="wrap">
                        <Badge color={STATUS_COLOR[d.status]} variant="light">
                          {t(`deployment.status.${d.status}`)}
                        </Badge>
                        <Text className="mono" size="sm">
                          {shortSha(d.commit)}
                        </Text>
                        <Text size="sm">{d.author?.name ?? '—'}</Text>
                        <Text size="sm" c="dimmed">
                          {t('deployments.by', { actor: d.actor })} · <time dateTime={d.started_at} title={absoluteTime(d.started_at)}>{relativeTime(d.started_at)}</time>
                        </Text>
                        {count > 1 ? <Badge variant="outline">{t('deployments.folded', { count })}</Badge> : null}
                        {d.commit && d.commit === current ? <Badge variant="dot">{t('deployments.current')}</Badge> : null}
                      </Group>
                    </Accordion.Control>
                    <Accordion.Panel>
                      <Stack gap="xs">
                        <SummaryLine summary={d.summary} />
                        <Text size="sm">
                          {t('deployments.detail', { ref: d.ref, duration: seconds(d) })}{' '}
                          {link ? (
                            <Anchor href={link} target="_blank" rel="noreferrer">
                              {t('deployments.view_commit')}
                            </Anchor>
                          ) : null}
                        </Text>
                        {d.reason ? <Text size="sm">{t('deployments.reason', { reason: d.reason })}</Text> : null}
                        <InvalidList results={d.results} source={source} commit={d.commit} />
                        <ChangesTable results={d.results} />
                        {canSync && d.commit && d.status !== 'failed' && d.commit !== current ? (
                          <Group>
                            <Button
                              size="xs"
                              variant="light"
                              leftSection={<IconArrowBackUp size={14} aria-hidden />}
                              onClick={() => void navigate({ search: (prev) => ({ ...prev, deploy: d.commit! }) })}
                              data-testid="deploy-commit"
                            >
                              {t('deployments.deploy_this')}
                            </Button>
                          </Group>
                        ) : null}
                      </Stack>
                    </Accordion.Panel>
                  </Accordion.Item>
                );
              })}
            </Accordion>
          )
        }
      </QueryView>
      {ns && search.deploy ? (
        <SyncDialog
          key={search.deploy}
          ns={ns}
          source={source}
          opened
          initialRef={search.deploy}
          headCommit={head ?? 'unknown'}
          onClose={() => void navigate({ search: (prev) => ({ ...prev, deploy: undefined }) })}
        />
      ) : null}
    </>
  );
}
