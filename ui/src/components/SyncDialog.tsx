import { Alert, Button, Group, Modal, ScrollArea, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCircleCheck } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, enc } from '../lib/api.js';
import { shortSha } from '../lib/format.js';
import type { Deployment, Namespace, Plan, ResultItem, Source } from '../lib/types.js';
import { ChangesTable, InvalidList, SummaryLine } from './Changes.js';
import { ErrorView, Loading } from './States.js';

export interface SyncDialogProps {
  ns: Namespace;
  source?: Source;
  opened: boolean;
  onClose: () => void;
  /** A commit to deploy (rollback / "Deploy this commit"); the branch head when absent. */
  initialRef?: string;
  /** The branch head commit, to tell whether `initialRef` is a rollback. */
  headCommit?: string | null;
}

interface SyncVars {
  ns: string;
  ref?: string;
  reason?: string;
}

async function runSync(v: SyncVars): Promise<Deployment> {
  const body: Record<string, string> = {};
  if (v.ref) body.ref = v.ref;
  if (v.reason) body.reason = v.reason;
  try {
    return await api<Deployment>('POST', `/namespaces/${enc(v.ns)}/sync-from-git`, body);
  } catch (err) {
    // A server without the optional `reason` field (issue 9) refuses it; sync without it.
    if (err instanceof ApiError && err.code === 'invalid_request' && v.reason && JSON.stringify(err.details).includes('reason')) {
      delete body.reason;
      return api<Deployment>('POST', `/namespaces/${enc(v.ns)}/sync-from-git`, body);
    }
    throw err;
  }
}

/** Sync failures in words: 409 busy, 422 invalid files (listed), 502 git server. */
export function SyncError({ error, source }: { error: unknown; source?: Source }) {
  const { t } = useTranslation();
  if (error instanceof ApiError && error.code === 'invalid_specs') {
    const dep = (error.details as { deployment?: Deployment }).deployment;
    return (
      <Alert color="red" title={t('sync.invalid_title')} icon={<IconAlertTriangle aria-hidden />} role="alert" data-testid="sync-error">
        <Stack gap="xs">
          <Text size="sm">{t('errors.invalid_specs')}</Text>
          {dep ? <InvalidList results={dep.results} source={source} commit={dep.commit} /> : <Text size="sm">{error.message}</Text>}
        </Stack>
      </Alert>
    );
  }
  return <ErrorView error={error} title={t('sync.failed_title')} />;
}

export function SyncDialog({ ns, source, opened, onClose, initialRef, headCommit }: SyncDialogProps) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [refInput, setRefInput] = useState(initialRef ?? '');
  const [ref, setRef] = useState(initialRef ?? '');
  const [confirmText, setConfirmText] = useState('');
  const [reason, setReason] = useState('');
  const rollback = !!initialRef && !!headCommit && initialRef !== headCommit;

  const plan = useQuery({
    queryKey: ['ns', ns.name, 'plan', ref],
    queryFn: () => api<Plan>('POST', `/namespaces/${enc(ns.name)}/plan`, ref ? { ref } : {}),
    enabled: opened,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
  const sync = useMutation({
    mutationKey: ['sync'],
    mutationFn: runSync,
    onSuccess: (d) => {
      notifications.show({ color: 'teal', title: t('sync.done_title', { ns: ns.name }), message: t(`deployment.status.${d.status}`) });
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['namespaces'] });
      void qc.invalidateQueries({ queryKey: ['ns', ns.name] });
    },
  });

  const p = plan.data;
  const deletes = p?.summary.delete ?? 0;
  const invalid = p?.summary.invalid ?? 0;
  const needsName = deletes > 0;
  const canSync = !!p && invalid === 0 && (!needsName || confirmText === ns.name) && (!rollback || reason.trim().length > 0) && !sync.isPending;
  const deletedResources: ResultItem[] = p ? p.results.filter((r) => r.operation === 'delete') : [];

  const close = () => {
    sync.reset();
    setConfirmText('');
    onClose();
  };

  return (
    <Modal closeButtonProps={{ 'aria-label': t('common.close_dialog') }} opened={opened} onClose={close} title={t(rollback ? 'sync.title_rollback' : 'sync.title', { ns: ns.name })} size="xl" aria-describedby="sync-desc">
      <Stack>
        <Text id="sync-desc" size="sm" c="dimmed">
          {t('sync.description', { branch: ns.branch })}
        </Text>
        {sync.isSuccess ? (
          <Alert color="teal" icon={<IconCircleCheck aria-hidden />} title={t('sync.result_title')} role="status" data-testid="sync-result">
            <Stack gap={4}>
              <Text size="sm">
                {t(`deployment.status.${sync.data.status}`)} · <span className="mono">{shortSha(sync.data.commit)}</span>
              </Text>
              <SummaryLine summary={sync.data.summary} />
            </Stack>
          </Alert>
        ) : (
          <>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                setRef(refInput.trim());
              }}
            >
              <Group align="end">
                <TextInput
                  label={t('sync.ref')}
                  description={t('sync.ref_help')}
                  placeholder={ns.branch}
                  value={refInput}
                  onChange={(e) => setRefInput(e.currentTarget.value)}
                  style={{ flex: 1 }}
                />
                <Button type="submit" variant="default">
                  {t('sync.preview')}
                </Button>
              </Group>
            </form>
            {rollback && ns.auto_sync ? (
              <Alert color="yellow" icon={<IconAlertTriangle aria-hidden />} data-testid="pause-warning">
                {t('sync.pause_warning')}
              </Alert>
            ) : null}
            {plan.isPending ? <Loading label={t('sync.planning')} /> : null}
            {plan.isError ? <SyncError error={plan.error} source={source} /> : null}
            {p ? (
              <Stack gap="xs" aria-live="polite">
                <Text size="sm">
                  {t('sync.plan_at', { commit: shortSha(p.commit), ref: p.ref })}
                </Text>
                <SummaryLine summary={p.summary} />
                {invalid > 0 ? (
                  <Alert color="red" title={t('sync.invalid_title')} role="alert">
                    <Text size="sm">{t('sync.invalid_help')}</Text>
                    <InvalidList results={p.results} source={source} commit={p.commit} />
                  </Alert>
                ) : null}
                <ScrollArea.Autosize mah={300}>
                  <ChangesTable results={p.results} fromLabel={t('plan.col.live')} toLabel={t('plan.col.git')} />
                  {p.summary.create + p.summary.update + p.summary.delete === 0 && invalid === 0 ? <Text size="sm">{t('sync.nothing')}</Text> : null}
                </ScrollArea.Autosize>
                {needsName ? (
                  <TextInput
                    label={t('sync.confirm_delete', { count: deletes, ns: ns.name })}
                    description={deletedResources.map((r) => `${r.kind}/${r.name}`).join(', ')}
                    value={confirmText}
                    onChange={(e) => setConfirmText(e.currentTarget.value)}
                    error={confirmText && confirmText !== ns.name ? t('sync.confirm_mismatch') : undefined}
                    data-testid="confirm-name"
                  />
                ) : null}
                {rollback ? (
                  <Textarea label={t('sync.reason')} description={t('sync.reason_help')} value={reason} onChange={(e) => setReason(e.currentTarget.value)} required autosize minRows={2} />
                ) : null}
              </Stack>
            ) : null}
            {sync.isError ? <SyncError error={sync.error} source={source} /> : null}
          </>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close} data-autofocus>
            {sync.isSuccess ? t('common.close') : t('common.cancel')}
          </Button>
          {!sync.isSuccess ? (
            <Button
              color={deletes > 0 ? 'red' : 'blue'}
              disabled={!canSync}
              loading={sync.isPending}
              onClick={() => sync.mutate({ ns: ns.name, ref: ref || undefined, reason: reason.trim() || undefined })}
              data-testid="confirm-sync"
            >
              {rollback ? t('sync.deploy_commit') : t('sync.sync')}
            </Button>
          ) : null}
        </Group>
        <div aria-live="polite" className="visually-hidden">
          {sync.isPending ? t('sync.running') : ''}
        </div>
      </Stack>
    </Modal>
  );
}
