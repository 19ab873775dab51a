import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../components/DataTable.js';
import { Empty, ErrorView, QueryView } from '../components/States.js';
import { api, ApiError, enc, get } from '../lib/api.js';
import { relativeTime } from '../lib/format.js';
import type { Role, TokenCreated, TokenInfo } from '../lib/types.js';

function CreateToken({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [scope, setScope] = useState('');
  const create = useMutation({
    mutationFn: () => {
      const namespaces = scope.split(',').map((s) => s.trim()).filter(Boolean);
      return api<TokenCreated>('POST', '/tokens', { name, role, ...(namespaces.length ? { namespaces } : {}) });
    },
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['tokens'] }),
  });
  const err = create.error instanceof ApiError ? create.error : null;
  return (
    <Modal closeButtonProps={{ 'aria-label': t('common.close_dialog') }} opened onClose={onClose} title={t('tokens.create_title')}>
      {create.isSuccess ? (
        <Stack>
          <Alert color="yellow" title={t('tokens.shown_once')}>
            {t('tokens.shown_once_help')}
          </Alert>
          <Code block data-testid="new-token">
            {create.data.token}
          </Code>
          <Group justify="flex-end">
            <CopyButton value={create.data.token}>
              {({ copied, copy }) => <Button onClick={copy}>{copied ? t('common.copied') : t('common.copy')}</Button>}
            </CopyButton>
            <Button variant="default" onClick={onClose}>
              {t('common.close')}
            </Button>
          </Group>
        </Stack>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <TextInput label={t('tokens.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus error={err && String(err.details.field ?? '').startsWith('name') ? err.message : undefined} />
            <Select label={t('tokens.role')} data={(['viewer', 'deployer', 'admin'] as const).map((r) => ({ value: r, label: t(`role.${r}`) }))} value={role} onChange={(v) => v && setRole(v as Role)} allowDeselect={false} />
            <TextInput label={t('tokens.scope')} description={t('tokens.scope_help')} value={scope} onChange={(e) => setScope(e.currentTarget.value)} placeholder="shop.*" error={err && String(err.details.field ?? '').startsWith('namespaces') ? err.message : undefined} />
            {create.isError && !(err && err.details.field) ? <ErrorView error={create.error} /> : null}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                {t('common.cancel')}
              </Button>
              <Button type="submit" loading={create.isPending}>
                {t('tokens.create')}
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

export function TokensPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<TokenInfo | null>(null);
  const query = useQuery({ queryKey: ['tokens'], queryFn: () => get<{ items: TokenInfo[] }>('/tokens').then((r) => r.items) });
  const revoke = useMutation({
    mutationFn: (id: string) => api('DELETE', `/tokens/${enc(id)}`),
    onSuccess: () => setRevoking(null),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['tokens'] }),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t('tokens.title')}</Title>
        <Button onClick={() => setCreating(true)}>{t('tokens.create')}</Button>
      </Group>
      <QueryView query={query}>
        {(items) =>
          items.length === 0 ? (
            <Empty title={t('tokens.empty')}>{t('tokens.empty_help')}</Empty>
          ) : (
            <DataTable label={t('tokens.title')} columns={[t('tokens.name'), t('tokens.role'), t('tokens.scope'), t('tokens.last_used'), t('common.actions')]}>
              {items.map((tok) => (
                <Table.Tr key={tok.id}>
                  <Table.Td>
                    <Text fw={600}>{tok.name}</Text>
                    <Text size="xs" c="dimmed">
                      {t('tokens.created', { by: tok.created_by, when: relativeTime(tok.created_at) })}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light">{t(`role.${tok.role}`)}</Badge>
                  </Table.Td>
                  <Table.Td className="mono">{tok.namespaces.length ? tok.namespaces.join(', ') : t('tokens.all_namespaces')}</Table.Td>
                  <Table.Td>{tok.last_used_at ? relativeTime(tok.last_used_at) : t('tokens.never_used')}</Table.Td>
                  <Table.Td>
                    <Button size="compact-xs" color="red" variant="light" onClick={() => setRevoking(tok)} aria-label={t('tokens.revoke_named', { name: tok.name })}>
                      {t('tokens.revoke')}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </DataTable>
          )
        }
      </QueryView>
      {creating ? <CreateToken onClose={() => setCreating(false)} /> : null}
      {revoking ? (
        <Modal closeButtonProps={{ 'aria-label': t('common.close_dialog') }} opened onClose={() => setRevoking(null)} title={t('tokens.revoke_title', { name: revoking.name })}>
          <Stack>
            <Text size="sm">{t('tokens.revoke_help')}</Text>
            {revoke.isError ? <ErrorView error={revoke.error} /> : null}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setRevoking(null)} data-autofocus>
                {t('common.cancel')}
              </Button>
              <Button color="red" onClick={() => revoke.mutate(revoking.id)} loading={revoke.isPending}>
                {t('tokens.revoke')}
              </Button>
            </Group>
          </Stack>
        </Modal>
      ) : null}
    </Stack>
  );
}
