import { Alert, Button, Group, Stack, Switch, Text } from '@mantine/core';
import { useNavigate } from '@tanstack/react-router';
import { useTranslation } from 'react-i18next';
import { ChangesTable, InvalidList, SummaryLine } from '../../components/Changes.js';
import { Empty, QueryView } from '../../components/States.js';
import { shortSha } from '../../lib/format.js';
import { useDrift, useNamespace, useSourceMap } from '../../lib/queries.js';
import type { Plan } from '../../lib/types.js';
import { driftRoute, namespaceRoute } from '../../router.js';

/** Git head vs live, per declared field: resource | path | git → live. */
export function DriftTab() {
  const { t } = useTranslation();
  const { ns } = namespaceRoute.useParams();
  const search = driftRoute.useSearch();
  const navigate = useNavigate({ from: '/namespaces/$ns/drift' });
  const query = useDrift(ns);
  const info = useNamespace(ns);
  const sources = useSourceMap();
  const source = info.data?.source ? sources.get(info.data.source) : undefined;
  return (
    <QueryView query={query}>
      {(d) => {
        if (d.fetch_status === 'no_file' || d.fetch_status === 'fetch_failed') {
          return (
            <Alert color={d.fetch_status === 'fetch_failed' ? 'red' : 'yellow'} title={t(`drift.fetch.${d.fetch_status}`)} role="alert">
              <Text size="sm">{d.message}</Text>
              <Button mt="sm" size="xs" variant="light" onClick={() => void query.refetch()}>
                {t('common.retry')}
              </Button>
            </Alert>
          );
        }
        const plan = d.plan as Plan;
        const changed = plan.results.filter((r) => r.operation !== 'noop' && r.operation !== 'invalid');
        const results = search.all ? plan.results : changed;
        return (
          <Stack>
            <Group justify="space-between">
              <Text size="sm">{t('drift.head_vs_live', { commit: shortSha(d.commit) })}</Text>
              <Switch
                label={t('drift.show_unchanged')}
                checked={!!search.all}
                onChange={(e) => void navigate({ search: { all: e.currentTarget.checked ? true : undefined }, replace: true })}
              />
            </Group>
            <SummaryLine summary={plan.summary} />
            {plan.summary.invalid > 0 ? (
              <Alert color="red" title={t('drift.invalid_title', { count: plan.summary.invalid })} role="alert">
                <InvalidList results={plan.results} source={source} commit={d.commit} />
              </Alert>
            ) : null}
            {changed.length === 0 && plan.summary.invalid === 0 ? (
              <Empty title={t('drift.none_title')}>{t('drift.none_help')}</Empty>
            ) : (
              <ChangesTable results={results} fromLabel={t('plan.col.live')} toLabel={t('plan.col.git')} />
            )}
          </Stack>
        );
      }}
    </QueryView>
  );
}
