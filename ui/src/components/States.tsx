import { Alert, Button, Center, CopyButton, Group, Loader, Stack, Text } from '@mantine/core';
import { IconAlertCircle, IconInbox } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../lib/api.js';

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label ?? t('common.loading')}</Text>
      </Group>
    </Center>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Center py="xl">
      <Stack align="center" gap={4}>
        <IconInbox size={32} aria-hidden opacity={0.6} />
        <Text fw={600}>{title}</Text>
        {children ? <Text c="dimmed" size="sm" ta="center" maw={520}>{children}</Text> : null}
      </Stack>
    </Center>
  );
}

/** Explains an API error in words; the full text is copyable. */
export function ErrorView({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const { t } = useTranslation();
  const e = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  const explained = e ? t(`errors.${e.code}`, { defaultValue: '' }) : '';
  const full = e ? `${e.status} ${e.code}: ${message}` : message;
  return (
    <Alert color="red" icon={<IconAlertCircle aria-hidden />} title={title ?? t('common.error')} role="alert">
      <Stack gap="xs">
        {explained ? <Text size="sm">{explained}</Text> : null}
        <Text size="sm" style={{ wordBreak: 'break-word' }} data-testid="error-message">
          {message}
        </Text>
        <Group gap="xs">
          <CopyButton value={full}>
            {({ copied, copy }) => (
              <Button size="compact-xs" variant="subtle" onClick={copy}>
                {copied ? t('common.copied') : t('common.copy_error')}
              </Button>
            )}
          </CopyButton>
          {onRetry ? (
            <Button size="compact-xs" variant="light" onClick={onRetry}>
              {t('common.retry')}
            </Button>
          ) : null}
        </Group>
      </Stack>
    </Alert>
  );
}

/** Shows loading / error / content for a query. */
export function QueryView<T>({
  query,
  children,
}: {
  query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined; refetch: () => unknown };
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorView error={query.error} onRetry={() => void query.refetch()} />;
  return <>{children(query.data as T)}</>;
}

export function NotAvailable({ what }: { what: string }) {
  const { t } = useTranslation();
  return <Empty title={t('common.not_available', { what })}>{t('common.not_available_help')}</Empty>;
}
