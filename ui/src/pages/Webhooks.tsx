import { Badge, Button, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../components/DataTable.js';
import { Empty, ErrorView, Loading, NotAvailable } from '../components/States.js';
import { api, enc, get, isMissingEndpoint } from '../lib/api.js';
import { relativeTime } from '../lib/format.js';
import type { Delivery, Job } from '../lib/types.js';

const DELIVERY_COLOR: Record<string, string> = { done: 'teal', failed: 'red', queued: 'blue', ignored: 'gray', duplicate: 'gray' };

function Deliveries() {
  const { t } = useTranslation();
  const query = useQuery({ queryKey: ['deliveries'], queryFn: () => get<{ items: Delivery[] }>('/webhooks/deliveries').then((r) => r.items) });
  if (query.isPending) return <Loading />;
  if (query.isError) return isMissingEndpoint(query.error) ? <NotAvailable what={t('webhooks.deliveries')} /> : <ErrorView error={query.error} />;
  if (query.data.length === 0) return <Empty title={t('webhooks.no_deliveries')}>{t('webhooks.no_deliveries_help')}</Empty>;
  // Failures first.
  const items = [...query.data].sort((a, b) => Number(b.status === 'failed') - Number(a.status === 'failed'));
  return (
    <DataTable label={t('webhooks.deliveries')} columns={[t('webhooks.received'), t('webhooks.event'), t('webhooks.repository'), t('webhooks.status')]}>
      {items.map((d) => (
        <Table.Tr key={d.id}>
          <Table.Td>{relativeTime(d.received_at)}</Table.Td>
          <Table.Td>
            {d.provider} · {d.event}
            {d.action ? ` (${d.action})` : ''}
          </Table.Td>
          <Table.Td className="mono">{d.repository ?? '—'}</Table.Td>
          <Table.Td>
            <Badge variant="light" color={DELIVERY_COLOR[d.status] ?? 'gray'}>
              {t(`webhooks.delivery_status.${d.status}`, { defaultValue: d.status })}
            </Badge>
            {d.error ? (
              <Text size="xs" c="red">
                {d.error}
              </Text>
            ) : null}
          </Table.Td>
        </Table.Tr>
      ))}
    </DataTable>
  );
}

function FailedJobs() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const query = useQuery({ queryKey: ['jobs', 'failed'], queryFn: () => get<{ items: Job[] }>('/jobs?state=failed').then((r) => r.items) });
  const retry = useMutation({
    mutationFn: (id: string) => api('POST', `/jobs/${enc(id)}/retry`, {}),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['jobs'] }),
  });
  if (query.isPending) return <Loading />;
  if (query.isError) return isMissingEndpoint(query.error) ? <NotAvailable what={t('webhooks.jobs')} /> : <ErrorView error={query.error} />;
  if (query.data.length === 0) return <Empty title={t('webhooks.no_failed_jobs')} />;
  return (
    <Table striped verticalSpacing="xs" aria-label={t('webhooks.jobs')}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{t('webhooks.job')}</Table.Th>
          <Table.Th>{t('webhooks.attempts')}</Table.Th>
          <Table.Th>{t('webhooks.last_error')}</Table.Th>
          <Table.Th>{t('common.actions')}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {query.data.map((j) => (
          <Table.Tr key={j.id}>
            <Table.Td>
              {j.kind}
              {j.namespace ? ` · ${j.namespace}` : ''}
            </Table.Td>
            <Table.Td>
              {j.attempts}/{j.max_attempts}
            </Table.Td>
            <Table.Td>
              <Text size="sm" c="red">
                {j.last_error ?? '—'}
              </Text>
            </Table.Td>
            <Table.Td>
              <Button size="compact-xs" variant="light" onClick={() => retry.mutate(j.id)} loading={retry.isPending && retry.variables === j.id}>
                {t('webhooks.retry')}
              </Button>
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function WebhooksPage() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={2}>{t('webhooks.title')}</Title>
      <Title order={3} size="h4">
        {t('webhooks.failed_jobs')}
      </Title>
      <FailedJobs />
      <Title order={3} size="h4">
        {t('webhooks.deliveries')}
      </Title>
      <Deliveries />
    </Stack>
  );
}
