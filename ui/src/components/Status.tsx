import { Badge, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck, IconCircleDashed, IconCircleX, IconLoader2, IconPlayerPause } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import type { Namespace } from '../lib/types.js';

export type Drift = 'never_synced' | 'in_sync' | 'drifted' | 'error';
export type Run = 'succeeded' | 'failed' | 'running' | 'none';

export function driftOf(ns: Pick<Namespace, 'status'>): Drift {
  switch (ns.status) {
    case 'never_synced':
      return 'never_synced';
    case 'synced':
      return 'in_sync';
    case 'out_of_sync':
      return 'drifted';
    default:
      return 'error';
  }
}

export function runOf(ns: Pick<Namespace, 'last_deployment' | 'status'>, running = false): Run {
  if (running) return 'running';
  const d = ns.last_deployment;
  if (!d) return ns.status === 'error' ? 'failed' : 'none';
  return d.status === 'failed' ? 'failed' : 'succeeded';
}

const ICON = 14;

/** Drift: an icon and a word, never colour alone. */
export function DriftBadge({ drift }: { drift: Drift }) {
  const { t } = useTranslation();
  const spec = {
    never_synced: { color: 'gray', icon: <IconCircleDashed size={ICON} aria-hidden /> },
    in_sync: { color: 'teal', icon: <IconCircleCheck size={ICON} aria-hidden /> },
    drifted: { color: 'orange', icon: <IconAlertTriangle size={ICON} aria-hidden /> },
    error: { color: 'red', icon: <IconCircleX size={ICON} aria-hidden /> },
  }[drift];
  return (
    <Tooltip label={t(`drift.help.${drift}`)} withArrow>
      <Badge variant="light" color={spec.color} leftSection={spec.icon} data-testid="drift-badge" tabIndex={0}>
        {t(`drift.${drift}`)}
      </Badge>
    </Tooltip>
  );
}

/** Last run: an icon and a word. */
export function RunBadge({ run }: { run: Run }) {
  const { t } = useTranslation();
  const spec = {
    succeeded: { color: 'teal', icon: <IconCircleCheck size={ICON} aria-hidden /> },
    failed: { color: 'red', icon: <IconCircleX size={ICON} aria-hidden /> },
    running: { color: 'blue', icon: <IconLoader2 size={ICON} aria-hidden /> },
    none: { color: 'gray', icon: <IconCircleDashed size={ICON} aria-hidden /> },
  }[run];
  return (
    <Badge variant="light" color={spec.color} leftSection={spec.icon} data-testid="run-badge">
      {t(`run.${run}`)}
    </Badge>
  );
}

export function AutoSyncBadge({ ns }: { ns: Pick<Namespace, 'auto_sync' | 'auto_sync_paused'> }) {
  const { t } = useTranslation();
  if (ns.auto_sync && ns.auto_sync_paused) {
    return (
      <Badge variant="outline" color="yellow" leftSection={<IconPlayerPause size={12} aria-hidden />}>
        {t('policy.auto_sync_paused')}
      </Badge>
    );
  }
  return (
    <Badge variant="outline" color={ns.auto_sync ? 'blue' : 'gray'}>
      {ns.auto_sync ? t('policy.auto_sync_on') : t('policy.auto_sync_off')}
    </Badge>
  );
}
