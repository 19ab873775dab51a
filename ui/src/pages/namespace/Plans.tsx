import { Accordion, Anchor, Badge, Group, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ChangesTable, InvalidList, SummaryLine } from '../../components/Changes.js';
import { Empty, ErrorView, Loading, NotAvailable } from '../../components/States.js';
import { enc, get, isMissingEndpoint } from '../../lib/api.js';
import { relativeTime, shortSha } from '../../lib/format.js';
import { useSourceMap, useNamespace } from '../../lib/queries.js';
import type { StoredPlan } from '../../lib/types.js';
import { namespaceRoute } from '../../router.js';

export function PlansTab() {
  const { t } = useTranslation();
  const { ns } = namespaceRoute.useParams();
  const info = useNamespace(ns);
  const sources = useSourceMap();
  const source = info.data?.source ? sources.get(info.data.source) : undefined;
  const query = useQuery({
    queryKey: ['ns', ns, 'plans'],
    queryFn: () => get<{ items: StoredPlan[] }>(`/namespaces/${enc(ns)}/plans`).then((r) => r.items),
  });
  if (query.isPending) return <Loading />;
  if (query.isError) return isMissingEndpoint(query.error) ? <NotAvailable what={t('namespace.tab.plans')} /> : <ErrorView error={query.error} />;
  const items = query.data;
  if (items.length === 0) return <Empty title={t('plans.empty')}>{t('plans.empty_help')}</Empty>;
  return (
    <Accordion variant="separated">
      {items.map((p) => (
        <Accordion.Item key={p.id} value={p.id}>
          <Accordion.Control>
            <Group gap="sm">
              {p.pull_request ? (
                <Text size="sm" fw={600}>
                  {t('plans.pr', { number: p.pull_request.number })}
                </Text>
              ) : (
                <Text size="sm">{t('plans.api')}</Text>
              )}
              <Text className="mono" size="sm">
                {shortSha(p.commit)}
              </Text>
              {p.stale ? (
                <Badge color="yellow" variant="light">
                  {t('plans.stale')}
                </Badge>
              ) : null}
              <SummaryLine summary={p.summary} />
              <Text size="sm" c="dimmed">
                {relativeTime(p.created_at)}
              </Text>
            </Group>
          </Accordion.Control>
          <Accordion.Panel>
            {p.pull_request ? (
              <Anchor href={p.pull_request.url} target="_blank" rel="noreferrer" size="sm">
                {t('plans.open_pr')}
              </Anchor>
            ) : null}
            <InvalidList results={p.results} source={source} commit={p.commit} />
            <ChangesTable results={p.results} fromLabel={t('plan.col.live')} toLabel={t('plan.col.git')} />
          </Accordion.Panel>
        </Accordion.Item>
      ))}
    </Accordion>
  );
}
