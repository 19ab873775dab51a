import { Alert, Anchor, Badge, Button, Drawer, Group, Stack, Table, Text, TextInput, Textarea, Title } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../../components/DataTable.js';
import { Empty, ErrorView, QueryView } from '../../components/States.js';
import { api, ApiError, enc, get } from '../../lib/api.js';
import { relativeTime, shortSha, showValue } from '../../lib/format.js';
import { useResources } from '../../lib/queries.js';
import { useCan } from '../../lib/session.js';
import type { Resource } from '../../lib/types.js';
import { namespaceRoute, resourcesRoute } from '../../router.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Leaf fields as JSON pointers under `/spec`. */
function leaves(value: unknown, prefix: string, out: { path: string; value: unknown }[] = []): { path: string; value: unknown }[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  } else out.push({ path: prefix, value });
  return out;
}

const isManaged = (path: string, managed: string[]) => managed.some((m) => path === m || path.startsWith(`${m}/`));

/** The spec without git-managed fields: what an admin may change. */
function unmanagedPart(spec: Record<string, Json>, managed: string[], prefix = '/spec'): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(spec)) {
    const path = `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (isManaged(path, managed)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && managed.some((m) => m.startsWith(`${path}/`))) {
      const inner = unmanagedPart(v as Record<string, Json>, managed, path);
      if (Object.keys(inner).length > 0) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

function ResourceDrawer({ ns, id, onClose }: { ns: string; id: string; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const canEdit = useCan('admin', ns);
  const [kind, ...rest] = id.split('/');
  const name = rest.join('/');
  const url = `/namespaces/${enc(ns)}/resources/${enc(kind!)}/${enc(name)}`;
  const query = useQuery({ queryKey: ['ns', ns, 'resource', id], queryFn: () => get<Resource>(url) });
  const [draft, setDraft] = useState<string | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const patch = useMutation({
    mutationFn: (spec: unknown) => api<Resource>('PATCH', url, { spec }),
    onSuccess: () => {
      setDraft(null);
      void qc.invalidateQueries({ queryKey: ['ns', ns] });
    },
  });
  const r = query.data;
  const fields = useMemo(() => (r ? leaves(r.spec, '/spec') : []), [r]);
  const initial = r ? JSON.stringify(unmanagedPart(r.spec as Record<string, Json>, r.managed_fields), null, 2) : '';
  const patchError = patch.error instanceof ApiError ? patch.error : null;

  return (
    <Drawer closeButtonProps={{ 'aria-label': t('common.close_dialog') }} opened onClose={onClose} position="right" size="xl" title={id} data-testid="resource-drawer">
      <QueryView query={query}>
        {(res) => (
          <Stack>
            <Text size="sm" c="dimmed">
              {t('resources.meta', { commit: shortSha(res.commit), when: relativeTime(res.updated_at), hash: res.hash.slice(0, 12) })}
            </Text>
            <Table fz="sm" verticalSpacing={4} aria-label={t('resources.fields')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('resources.col.field')}</Table.Th>
                  <Table.Th>{t('resources.col.value')}</Table.Th>
                  <Table.Th>{t('resources.col.managed')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {fields.map((f) => {
                  const managed = isManaged(f.path, res.managed_fields);
                  return (
                    <Table.Tr key={f.path}>
                      <Table.Td className="mono">{f.path}</Table.Td>
                      <Table.Td className="mono">{showValue(f.value)}</Table.Td>
                      <Table.Td>
                        {managed ? (
                          <Badge size="sm" variant="light" color="gray" leftSection={<IconLock size={12} aria-hidden />}>
                            {t('resources.managed')}
                          </Badge>
                        ) : (
                          <Badge size="sm" variant="outline" color="blue">
                            {t('resources.unmanaged')}
                          </Badge>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
            {canEdit ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  try {
                    const value = JSON.parse(draft ?? initial) as unknown;
                    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(t('resources.must_be_object'));
                    setParseError(null);
                    patch.mutate(value);
                  } catch (err) {
                    setParseError(err instanceof Error ? err.message : String(err));
                  }
                }}
              >
                <Stack gap="xs">
                  <Title order={4} size="h5">
                    {t('resources.edit_title')}
                  </Title>
                  <Text size="sm" c="dimmed">
                    {t('resources.edit_help')}
                  </Text>
                  <Textarea
                    label={t('resources.patch_label')}
                    value={draft ?? initial}
                    onChange={(e) => setDraft(e.currentTarget.value)}
                    autosize
                    minRows={4}
                    styles={{ input: { fontFamily: 'ui-monospace, monospace' } }}
                    error={parseError}
                    data-testid="patch-input"
                  />
                  {patchError?.code === 'field_managed_by_git' ? (
                    <Alert color="orange" title={t('resources.managed_conflict_title')} role="alert" data-testid="patch-409">
                      <Text size="sm">{t('errors.field_managed_by_git')}</Text>
                      <Text size="sm" className="mono">
                        {patchError.message}
                      </Text>
                    </Alert>
                  ) : patch.isError ? (
                    <ErrorView error={patch.error} />
                  ) : null}
                  {patch.isSuccess ? (
                    <Alert color="teal" role="status" data-testid="patch-ok">
                      {t('resources.saved')}
                    </Alert>
                  ) : null}
                  <Group>
                    <Button type="submit" loading={patch.isPending}>
                      {t('resources.save')}
                    </Button>
                  </Group>
                </Stack>
              </form>
            ) : null}
          </Stack>
        )}
      </QueryView>
    </Drawer>
  );
}

export function ResourcesTab() {
  const { t } = useTranslation();
  const { ns } = namespaceRoute.useParams();
  const search = resourcesRoute.useSearch();
  const navigate = useNavigate({ from: '/namespaces/$ns/resources' });
  const query = useResources(ns);
  const q = (search.q ?? '').toLowerCase();
  return (
    <Stack>
      <TextInput
        aria-label={t('resources.search')}
        placeholder={t('resources.search')}
        defaultValue={search.q ?? ''}
        onChange={(e) => void navigate({ search: (prev) => ({ ...prev, q: e.currentTarget.value || undefined }), replace: true })}
        maw={360}
      />
      <QueryView query={query}>
        {(items) => {
          const shown = items.filter((r) => !q || `${r.kind}/${r.name}`.toLowerCase().includes(q));
          if (items.length === 0) return <Empty title={t('resources.empty')}>{t('resources.empty_help')}</Empty>;
          return (
            <DataTable label={t('namespace.tab.resources')} highlightOnHover columns={[t('resources.col.resource'), t('resources.col.commit'), t('resources.col.managed_count'), t('resources.col.updated')]}>
              {shown.map((r) => {
                const id = `${r.kind}/${r.name}`;
                return (
                  <Table.Tr key={id}>
                    <Table.Td>
                      <Anchor className="mono" renderRoot={(props) => <Link to="/namespaces/$ns/resources" params={{ ns }} search={(prev) => ({ ...prev, resource: id })} {...props} />}>
                        {id}
                      </Anchor>
                    </Table.Td>
                    <Table.Td className="mono">{shortSha(r.commit)}</Table.Td>
                    <Table.Td>{r.managed_fields.length}</Table.Td>
                    <Table.Td>{relativeTime(r.updated_at)}</Table.Td>
                  </Table.Tr>
                );
              })}
            </DataTable>
          );
        }}
      </QueryView>
      {search.resource ? (
        <ResourceDrawer key={search.resource} ns={ns} id={search.resource} onClose={() => void navigate({ search: (prev) => ({ ...prev, resource: undefined }) })} />
      ) : null}
    </Stack>
  );
}
