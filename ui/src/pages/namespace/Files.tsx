import { Button, Group, NavLink, Paper, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Empty, QueryView } from '../../components/States.js';
import { YamlView } from '../../components/Yaml.js';
import { enc, get } from '../../lib/api.js';
import { shortSha } from '../../lib/format.js';
import type { NamespaceFiles } from '../../lib/types.js';
import { filesRoute, namespaceRoute } from '../../router.js';

export function FilesTab() {
  const { t } = useTranslation();
  const { ns } = namespaceRoute.useParams();
  const search = filesRoute.useSearch();
  const navigate = useNavigate({ from: '/namespaces/$ns/files' });
  const [refInput, setRefInput] = useState(search.ref ?? '');
  const query = useQuery({
    queryKey: ['ns', ns, 'files', search.ref ?? ''],
    queryFn: () => get<NamespaceFiles>(`/namespaces/${enc(ns)}/files${search.ref ? `?ref=${enc(search.ref)}` : ''}`),
  });
  return (
    <Stack>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void navigate({ search: (prev) => ({ ...prev, ref: refInput.trim() || undefined }) });
        }}
      >
        <Group align="end">
          <TextInput label={t('files.ref')} placeholder={t('files.ref_placeholder')} value={refInput} onChange={(e) => setRefInput(e.currentTarget.value)} />
          <Button type="submit" variant="default">
            {t('files.show')}
          </Button>
        </Group>
      </form>
      <QueryView query={query}>
        {(data) => {
          if (data.files.length === 0) return <Empty title={t('files.empty')}>{t('files.empty_help')}</Empty>;
          const current = data.files.find((f) => f.path === search.file) ?? data.files[0]!;
          return (
            <Stack gap="xs">
              <Text size="sm">{t('files.at', { ref: data.ref, commit: shortSha(data.commit), count: data.files.length })}</Text>
              <SimpleGrid cols={{ base: 1, md: 4 }}>
                <Paper withBorder p={4} component="nav" aria-label={t('files.list')}>
                  {data.files.map((f) => (
                    <NavLink
                      key={f.path}
                      label={f.path}
                      className="mono"
                      active={f.path === current.path}
                      aria-current={f.path === current.path ? 'page' : undefined}
                      onClick={() => void navigate({ search: (prev) => ({ ...prev, file: f.path }), replace: true })}
                    />
                  ))}
                </Paper>
                <div style={{ gridColumn: 'span 3', minWidth: 0 }}>
                  <YamlView text={current.content} label={current.path} />
                </div>
              </SimpleGrid>
            </Stack>
          );
        }}
      </QueryView>
    </Stack>
  );
}
