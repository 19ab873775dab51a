import { Code, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../components/DataTable.js';
import { Empty, QueryView } from '../components/States.js';
import { enc, get } from '../lib/api.js';
import { absoluteTime, relativeTime } from '../lib/format.js';
import type { AuditEvent } from '../lib/types.js';
import { auditRoute } from '../router.js';

export function AuditPage() {
  const { t } = useTranslation();
  const search = auditRoute.useSearch();
  const navigate = useNavigate({ from: '/audit' });
  const setFilter = useDebouncedCallback((patch: Partial<typeof search>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true }), 250);
  const ns = search.namespace && /^[a-z0-9][a-z0-9._-]*$/.test(search.namespace) ? search.namespace : undefined;
  const query = useQuery({
    queryKey: ['audit', ns ?? ''],
    queryFn: () => get<{ items: AuditEvent[] }>(`/audit?limit=500${ns ? `&namespace=${enc(ns)}` : ''}`).then((r) => r.items),
  });
  const actor = (search.actor ?? '').toLowerCase();
  return (
    <Stack>
      <Title order={2}>{t('audit.title')}</Title>
      <Group>
        <TextInput label={t('audit.namespace')} defaultValue={search.namespace ?? ''} onChange={(e) => setFilter({ namespace: e.currentTarget.value.trim() || undefined })} />
        <TextInput label={t('audit.actor')} defaultValue={search.actor ?? ''} onChange={(e) => setFilter({ actor: e.currentTarget.value.trim() || undefined })} />
      </Group>
      <QueryView query={query}>
        {(items) => {
          const shown = items.filter((e) => !actor || e.actor.toLowerCase().includes(actor));
          if (shown.length === 0) return <Empty title={t('audit.empty')} />;
          return (
            <DataTable label={t('audit.title')} columns={[t('audit.when'), t('audit.actor'), t('audit.action'), t('audit.target'), t('audit.details')]}>
              {shown.map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td>
                    <time dateTime={e.at} title={absoluteTime(e.at)}>
                      {relativeTime(e.at)}
                    </time>
                  </Table.Td>
                  <Table.Td>{e.actor}</Table.Td>
                  <Table.Td className="mono">{e.action}</Table.Td>
                  <Table.Td className="mono">{e.target}</Table.Td>
                  <Table.Td>
                    <Text size="xs" lineClamp={2}>
                      <Code>{JSON.stringify(e.details)}</Code>
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </DataTable>
          );
        }}
      </QueryView>
    </Stack>
  );
}
