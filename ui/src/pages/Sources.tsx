import { Alert, Badge, Button, Group, Modal, PasswordInput, Select, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { DataTable } from '../components/DataTable.js';
import { Empty, ErrorView, QueryView } from '../components/States.js';
import { api, ApiError, enc } from '../lib/api.js';
import { shortSha } from '../lib/format.js';
import { useNamespaces, useSources } from '../lib/queries.js';
import { isGlobalAdmin, useWhoami } from '../lib/session.js';
import type { Source, SourceCheckResult } from '../lib/types.js';

const PROVIDERS = ['github', 'gitlab', 'gitea', 'git'] as const;
const AUTH_TYPES = ['none', 'token', 'basic', 'github_app'] as const;

interface FormState {
  name: string;
  url: string;
  provider: (typeof PROVIDERS)[number] | '';
  authType: (typeof AUTH_TYPES)[number] | '';
  token: string;
  username: string;
  password: string;
  appId: string;
  installationId: string;
  privateKey: string;
  webhookSecret: string;
  mirror: boolean;
}

const emptyForm = (s?: Source): FormState => ({
  name: s?.name ?? '',
  url: s?.url ?? '',
  provider: s?.provider ?? '',
  authType: s ? '' : 'none',
  token: '',
  username: s?.auth.username ?? '',
  password: '',
  appId: '',
  installationId: '',
  privateKey: '',
  webhookSecret: '',
  mirror: s?.mirror.enabled ?? false,
});

/** Add or edit a source. Secret fields are write-only: empty means "keep what is stored". */
function SourceForm({ source, onClose }: { source?: Source; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [f, setF] = useState<FormState>(emptyForm(source));
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((prev) => ({ ...prev, [k]: v }));
  const save = useMutation({
    mutationFn: () => {
      const auth: Record<string, unknown> | undefined = f.authType
        ? {
            type: f.authType,
            ...(f.authType === 'token' && f.token ? { token: f.token } : {}),
            ...(f.authType === 'basic' ? { username: f.username || undefined, ...(f.password ? { password: f.password } : {}) } : {}),
            ...(f.authType === 'github_app'
              ? { app_id: f.appId || undefined, installation_id: f.installationId || undefined, ...(f.privateKey ? { private_key: f.privateKey } : {}) }
              : {}),
          }
        : undefined;
      const body: Record<string, unknown> = {
        url: f.url,
        ...(f.provider ? { provider: f.provider } : {}),
        ...(auth ? { auth } : {}),
        ...(f.webhookSecret ? { webhook_secret: f.webhookSecret } : {}),
        mirror: { enabled: f.mirror },
      };
      return source ? api('PATCH', `/sources/${enc(source.name)}`, body) : api('POST', '/sources', { name: f.name, ...body });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['sources'] });
      onClose();
    },
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const fieldError = (field: string) => (err && String(err.details.field ?? '').startsWith(field) ? err.message : undefined);
  return (
    <Modal closeButtonProps={{ 'aria-label': t('common.close_dialog') }} opened onClose={onClose} title={source ? t('sources.edit_title', { name: source.name }) : t('sources.add_title')} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          {!source ? <TextInput label={t('sources.name')} value={f.name} onChange={(e) => set('name', e.currentTarget.value)} required error={fieldError('name')} data-autofocus /> : null}
          <TextInput label={t('sources.url')} value={f.url} onChange={(e) => set('url', e.currentTarget.value)} required error={fieldError('url') ?? (err?.code === 'host_not_allowed' || err?.code === 'invalid_url' ? err.message : undefined)} />
          <Select label={t('sources.provider')} data={PROVIDERS.map((p) => ({ value: p, label: p }))} value={f.provider || null} onChange={(v) => set('provider', (v ?? '') as FormState['provider'])} clearable placeholder={t('sources.provider_auto')} />
          <Select
            label={t('sources.auth')}
            description={source ? t('sources.auth_keep') : undefined}
            data={AUTH_TYPES.map((a) => ({ value: a, label: t(`sources.auth_type.${a}`) }))}
            value={f.authType || null}
            onChange={(v) => set('authType', (v ?? '') as FormState['authType'])}
            clearable={!!source}
          />
          {f.authType === 'token' ? <PasswordInput label={t('sources.token')} description={t('sources.write_only')} value={f.token} onChange={(e) => set('token', e.currentTarget.value)} autoComplete="new-password" /> : null}
          {f.authType === 'basic' ? (
            <>
              <TextInput label={t('sources.username')} value={f.username} onChange={(e) => set('username', e.currentTarget.value)} />
              <PasswordInput label={t('sources.password')} description={t('sources.write_only')} value={f.password} onChange={(e) => set('password', e.currentTarget.value)} autoComplete="new-password" />
            </>
          ) : null}
          {f.authType === 'github_app' ? (
            <>
              <TextInput label={t('sources.app_id')} value={f.appId} onChange={(e) => set('appId', e.currentTarget.value)} />
              <TextInput label={t('sources.installation_id')} value={f.installationId} onChange={(e) => set('installationId', e.currentTarget.value)} />
              <PasswordInput label={t('sources.private_key')} description={t('sources.write_only')} value={f.privateKey} onChange={(e) => set('privateKey', e.currentTarget.value)} autoComplete="new-password" />
            </>
          ) : null}
          <PasswordInput label={t('sources.webhook_secret')} description={t('sources.write_only')} value={f.webhookSecret} onChange={(e) => set('webhookSecret', e.currentTarget.value)} autoComplete="new-password" />
          <Switch label={t('sources.mirror')} checked={f.mirror} onChange={(e) => set('mirror', e.currentTarget.checked)} />
          {save.isError && !fieldError('') ? <ErrorView error={save.error} /> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={save.isPending}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function CheckButton({ name }: { name: string }) {
  const { t } = useTranslation();
  const check = useMutation({ mutationFn: () => api<SourceCheckResult>('POST', `/sources/${enc(name)}/check`, {}) });
  return (
    <Stack gap={4}>
      <Button size="compact-xs" variant="light" onClick={() => check.mutate()} loading={check.isPending} aria-label={t('sources.check_named', { name })}>
        {t('sources.check')}
      </Button>
      {check.isSuccess ? (
        <Text size="xs" c="teal" role="status">
          {t('sources.check_ok', { branch: check.data.default_branch ?? '?', commit: shortSha(check.data.head?.commit) })}
        </Text>
      ) : null}
      {check.isError ? (
        <Text size="xs" c="red" role="alert">
          {check.error instanceof ApiError ? `${check.error.code}: ${check.error.message}` : String(check.error)}
        </Text>
      ) : null}
    </Stack>
  );
}

export function SourcesPage() {
  const { t } = useTranslation();
  const query = useSources();
  const namespaces = useNamespaces();
  const who = useWhoami();
  const admin = isGlobalAdmin(who.data);
  const [editing, setEditing] = useState<Source | 'new' | null>(null);
  const usedBy = (name: string) => (namespaces.data ?? []).filter((n) => n.source === name).map((n) => n.name);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{t('sources.title')}</Title>
        {admin ? <Button onClick={() => setEditing('new')}>{t('sources.add')}</Button> : null}
      </Group>
      <QueryView query={query}>
        {(items) =>
          items.length === 0 ? (
            <Empty title={t('sources.empty')}>{t('sources.empty_help')}</Empty>
          ) : (
            <DataTable label={t('sources.title')} columns={[t('sources.name'), t('sources.url'), t('sources.credentials'), t('sources.webhook'), t('sources.mirror'), t('sources.used_by'), t('common.actions')]}>
              {items.map((s) => (
                <Table.Tr key={s.name}>
                  <Table.Td fw={600}>{s.name}</Table.Td>
                  <Table.Td>
                    <Text size="sm" className="mono">
                      {s.url}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {s.provider}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={s.auth.type === 'none' ? 'gray' : s.auth.configured ? 'teal' : 'orange'}>
                      {s.auth.type === 'none' ? t('sources.auth_type.none') : s.auth.configured ? t('sources.configured', { type: t(`sources.auth_type.${s.auth.type}`) }) : t('sources.not_configured')}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={s.webhook_secret_configured ? 'teal' : 'gray'}>
                      {s.webhook_secret_configured ? t('sources.secret_set') : t('sources.secret_unset')}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {s.mirror.enabled ? (
                      <Badge variant="light">{s.mirror.status}</Badge>
                    ) : (
                      <Text size="sm" c="dimmed">
                        {t('common.off')}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{usedBy(s.name).join(', ') || '—'}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} align="start">
                      <CheckButton name={s.name} />
                      {admin ? (
                        <Button size="compact-xs" variant="default" onClick={() => setEditing(s)} aria-label={t('sources.edit_named', { name: s.name })}>
                          {t('common.edit')}
                        </Button>
                      ) : null}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </DataTable>
          )
        }
      </QueryView>
      {editing ? <SourceForm source={editing === 'new' ? undefined : editing} onClose={() => setEditing(null)} /> : null}
      {!admin ? <Alert color="gray">{t('sources.readonly')}</Alert> : null}
    </Stack>
  );
}
