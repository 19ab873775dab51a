import { Anchor, Badge, Chip, Group, Pagination, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { Link, useNavigate } from '@tanstack/react-router';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../components/DataTable.js';
import { AutoSyncBadge, DriftBadge, RunBadge, driftOf, runOf, type Drift, type Run } from '../components/Status.js';
import { Empty, QueryView } from '../components/States.js';
import { commitUrl, relativeTime, shortSha } from '../lib/format.js';
import { useNamespaces, useRunningSyncs, useSourceMap } from '../lib/queries.js';
import type { Namespace } from '../lib/types.js';
import { DRIFT_FILTERS, namespacesRoute, RUN_FILTERS } from '../router.js';

const PAGE_SIZE = 50;

export function NamespacesPage() {
  const { t } = useTranslation();
  const search = namespacesRoute.useSearch();
  const navigate = useNavigate({ from: '/namespaces' });
  const query = useNamespaces();
  const sources = useSourceMap();
  const running = useRunningSyncs();
  const setSearch = (patch: Partial<typeof search>) => void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }), replace: true });
  const setQ = useDebouncedCallback((q: string) => setSearch({ q: q || undefined }), 200);

  const rows = useMemo(() => {
    const items = query.data ?? [];
    return items.map((ns) => ({ ns, drift: driftOf(ns), run: runOf(ns, running.has(ns.name)) }));
  }, [query.data, running]);

  const q = (search.q ?? '').toLowerCase();
  const matchesText = (r: { ns: Namespace }) =>
    !q || r.ns.name.includes(q) || (r.ns.source ?? '').includes(q) || r.ns.path.toLowerCase().includes(q) || r.ns.branch.toLowerCase().includes(q);
  const textMatched = rows.filter(matchesText);
  const driftCounts = Object.fromEntries(DRIFT_FILTERS.map((d) => [d, textMatched.filter((r) => r.drift === d).length])) as Record<Drift, number>;
  const runCounts = Object.fromEntries(RUN_FILTERS.map((d) => [d, textMatched.filter((r) => r.run === d).length])) as Record<Run, number>;
  const filtered = textMatched.filter((r) => (!search.drift || r.drift === search.drift) && (!search.run || r.run === search.run));
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const page = Math.min(search.page ?? 1, pages);
  const visible = filtered.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);

  return (
    <Stack>
      <Group justify="space-between" align="end">
        <Title order={2}>{t('namespaces.title')}</Title>
        <Text size="sm" c="dimmed" aria-live="polite" data-testid="ns-count">
          {t('namespaces.count', { shown: filtered.length, total: rows.length })}
        </Text>
      </Group>
      <Paper withBorder p="sm">
        <Stack gap="xs">
          <TextInput
            leftSection={<IconSearch size={16} aria-hidden />}
            placeholder={t('namespaces.search_placeholder')}
            aria-label={t('namespaces.search')}
            defaultValue={search.q ?? ''}
            key={search.q ?? ''}
            onChange={(e) => setQ(e.currentTarget.value.trim())}
          />
          <Group gap="xs" role="group" aria-label={t('namespaces.filter_drift')}>
            <Text size="sm" fw={500}>
              {t('namespaces.filter_drift')}
            </Text>
            {DRIFT_FILTERS.map((d) => (
              <Chip key={d} size="xs" checked={search.drift === d} onChange={() => setSearch({ drift: search.drift === d ? undefined : d })}>
                {t(`drift.${d}`)} ({driftCounts[d]})
              </Chip>
            ))}
          </Group>
          <Group gap="xs" role="group" aria-label={t('namespaces.filter_run')}>
            <Text size="sm" fw={500}>
              {t('namespaces.filter_run')}
            </Text>
            {RUN_FILTERS.map((d) => (
              <Chip key={d} size="xs" checked={search.run === d} onChange={() => setSearch({ run: search.run === d ? undefined : d })}>
                {t(`run.${d}`)} ({runCounts[d]})
              </Chip>
            ))}
          </Group>
        </Stack>
      </Paper>
      <QueryView query={query}>
        {() =>
          rows.length === 0 ? (
            <Empty title={t('namespaces.empty')}>{t('namespaces.empty_help')}</Empty>
          ) : filtered.length === 0 ? (
            <Empty title={t('namespaces.no_match')}>{t('namespaces.no_match_help')}</Empty>
          ) : (
            <>
              <DataTable label={t('namespaces.title')} highlightOnHover testId="ns-table" columns={[t('namespaces.col.name'), t('namespaces.col.status'), t('namespaces.col.source'), t('namespaces.col.policy'), t('namespaces.col.last_deployment')]}>
                {visible.map(({ ns, drift, run }) => {
                  const d = ns.last_deployment;
                  const src = ns.source ? sources.get(ns.source) : undefined;
                  const link = commitUrl(src, d?.commit);
                  return (
                    <Table.Tr key={ns.name} data-testid={`ns-row-${ns.name}`}>
                      <Table.Td>
                        <Anchor fw={600} renderRoot={(props) => <Link to="/namespaces/$ns/drift" params={{ ns: ns.name }} {...props} />}>
                          {ns.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <DriftBadge drift={drift} />
                          <RunBadge run={run} />
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        {ns.source ? (
                          <Text size="sm" className="mono">
                            {ns.source} · {ns.branch} · {ns.path || '/'}
                          </Text>
                        ) : (
                          <Text size="sm" c="dimmed">
                            {t('namespaces.no_source')}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <AutoSyncBadge ns={ns} />
                          {ns.prune ? (
                            <Badge variant="outline" color="grape">
                              {t('policy.prune')}
                            </Badge>
                          ) : null}
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        {d ? (
                          <Text size="sm">
                            {link ? (
                              <Anchor href={link} target="_blank" rel="noreferrer" className="mono" aria-label={t('common.commit_on_forge', { sha: shortSha(d.commit) })}>
                                {shortSha(d.commit)}
                              </Anchor>
                            ) : (
                              <span className="mono">{shortSha(d.commit)}</span>
                            )}{' '}
                            · {d.author?.name ?? d.actor} · <time dateTime={d.started_at}>{relativeTime(d.started_at)}</time>
                          </Text>
                        ) : (
                          <Text size="sm" c="dimmed">
                            {t('namespaces.never_deployed')}
                          </Text>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </DataTable>
              {pages > 1 ? (
                <Group justify="center">
                  <Pagination total={pages} value={page} onChange={(p) => void navigate({ search: (prev) => ({ ...prev, page: p === 1 ? undefined : p }) })} aria-label={t('common.pages')} />
                </Group>
              ) : null}
            </>
          )
        }
      </QueryView>
    </Stack>
  );
}
