import { ActionIcon, Badge, Button, CopyButton, Group, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../components/DataTable.js';
import { Empty, ErrorView, QueryView } from '../components/States.js';
import { api, get } from '../lib/api.js';
import { relativeTime, shortSha } from '../lib/format.js';
import { isGlobalAdmin, useWhoami } from '../lib/session.js';
import type { Mirror, MirrorSyncSummary } from '../lib/types.js';

export function MirrorsPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const who = useWhoami();
  const admin = isGlobalAdmin(who.data);
  const query = useQuery({ queryKey: ['mirrors'], queryFn: () => get<{ items: Mirror[] }>('/mirrors').then((r) => r.items) });
  const sync = useMutation({
    mutationFn: (slug?: string) => api<MirrorSyncSummary>('POST', '/mirrors/sync', slug ? { slug } : {}),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['mirrors'] }),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t('mirrors.title')}</Title>
        {admin ? (
          <Button variant="light" onClick={() => sync.mutate(undefined)} loading={sync.isPending && sync.variables === undefined}>
            {t('mirrors.sync_all')}
          </Button>
        ) : null}
      </Group>
      {sync.isError ? <ErrorView error={sync.error} /> : null}
      {sync.isSuccess ? (
        <Text size="sm" role="status">
          {t('mirrors.sync_result', { processed: sync.data.repos_processed, updated: sync.data.repos_updated, errors: sync.data.errors.length })}
        </Text>
      ) : null}
      <QueryView query={query}>
        {(items) =>
          items.length === 0 ? (
            <Empty title={t('mirrors.empty')}>{t('mirrors.empty_help')}</Empty>
          ) : (
            <DataTable label={t('mirrors.title')} columns={[t('mirrors.slug'), t('mirrors.state'), t('mirrors.head'), t('mirrors.last_synced'), t('mirrors.clone_url'), ...(admin ? [t('common.actions')] : [])]}>
              {items.map((m) => {
                const clone = m.public_url ?? `${window.location.origin}/git/${m.slug}.git`;
                return (
                  <Table.Tr key={m.slug}>
                    <Table.Td>
                      <Text fw={600}>{m.slug}</Text>
                      <Text size="xs" c="dimmed">
                        {t('mirrors.of_source', { source: m.source })}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={m.last_sync_error ? 'red' : m.present ? 'teal' : 'gray'}>
                        {m.last_sync_error ? t('mirrors.error') : m.present ? t('mirrors.present') : t('mirrors.absent')}
                      </Badge>
                      {m.last_sync_error ? (
                        <Text size="xs" c="red">
                          {m.last_sync_error}
                        </Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td className="mono">{shortSha(m.head_commit)}</Table.Td>
                    <Table.Td>{relativeTime(m.last_synced)}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Text size="sm" className="mono">
                          {clone}
                        </Text>
                        <CopyButton value={clone}>
                          {({ copied, copy }) => (
                            <Tooltip label={copied ? t('common.copied') : t('mirrors.copy')}>
                              <ActionIcon variant="subtle" onClick={copy} aria-label={t('mirrors.copy_named', { slug: m.slug })}>
                                {copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
                              </ActionIcon>
                            </Tooltip>
                          )}
                        </CopyButton>
                      </Group>
                    </Table.Td>
                    {admin ? (
                      <Table.Td>
                        <Button size="compact-xs" variant="light" onClick={() => sync.mutate(m.slug)} loading={sync.isPending && sync.variables === m.slug} aria-label={t('mirrors.sync_named', { slug: m.slug })}>
                          {t('mirrors.sync')}
                        </Button>
                      </Table.Td>
                    ) : null}
                  </Table.Tr>
                );
              })}
            </DataTable>
          )
        }
      </QueryView>
    </Stack>
  );
}
