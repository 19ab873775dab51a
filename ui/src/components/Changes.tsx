import { Anchor, Badge, Code, List, Table, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { fileUrl, showValue } from '../lib/format.js';
import type { ResultItem, Source } from '../lib/types.js';

const OP_COLOR: Record<string, string> = { create: 'teal', update: 'blue', delete: 'red', noop: 'gray', invalid: 'red' };

export function OpBadge({ op }: { op: string }) {
  const { t } = useTranslation();
  return (
    <Badge size="sm" variant={op === 'delete' || op === 'invalid' ? 'filled' : 'light'} color={OP_COLOR[op] ?? 'gray'}>
      {t(`op.${op}`, { defaultValue: op })}
    </Badge>
  );
}

/** Invalid documents, listed first, with file:line:column linked to the file on the forge. */
export function InvalidList({ results, source, commit }: { results: ResultItem[]; source?: Source; commit?: string | null }) {
  const { t } = useTranslation();
  const invalid = results.filter((r) => r.operation === 'invalid' || r.status === 'invalid');
  if (invalid.length === 0) return null;
  return (
    <List spacing={4} size="sm" data-testid="invalid-list" aria-label={t('plan.invalid_files')}>
      {invalid.map((r, i) => {
        const where = `${r.file ?? '?'}${r.line ? `:${r.line}` : ''}${r.column ? `:${r.column}` : ''}`;
        const href = r.file ? fileUrl(source, commit, r.file, r.line) : null;
        return (
          <List.Item key={i}>
            {href ? (
              <Anchor href={href} target="_blank" rel="noreferrer" className="mono">
                {where}
              </Anchor>
            ) : (
              <Code>{where}</Code>
            )}{' '}
            <Text span size="sm">
              {(r.message ?? '').replace(/^[^\s]+:\d+:\d+:\s*/, '')}
            </Text>
          </List.Item>
        );
      })}
    </List>
  );
}

/** Resource | field path | from → to, over declared fields only. */
export function ChangesTable({ results, fromLabel, toLabel }: { results: ResultItem[]; fromLabel?: string; toLabel?: string }) {
  const { t } = useTranslation();
  const rows: { r: ResultItem; c: ResultItem['changes'][number] | null; first: boolean }[] = results
    .filter((r) => r.operation !== 'invalid' && r.operation !== 'noop')
    .flatMap((r) =>
      r.changes.length > 0
        ? r.changes.map((c, i) => ({ r, c: c as ResultItem['changes'][number] | null, first: i === 0 }))
        : [{ r, c: null as ResultItem['changes'][number] | null, first: true }],
    );
  if (rows.length === 0) return null;
  return (
    <div className="table-scroll" tabIndex={0}>
      <Table verticalSpacing={4} fz="sm" data-testid="changes-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('plan.col.resource')}</Table.Th>
            <Table.Th>{t('plan.col.operation')}</Table.Th>
            <Table.Th>{t('plan.col.path')}</Table.Th>
            <Table.Th>{fromLabel ?? t('plan.col.from')}</Table.Th>
            <Table.Th>{toLabel ?? t('plan.col.to')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map(({ r, c, first }, i) => (
            <Table.Tr key={i} style={r.operation === 'delete' ? { color: 'var(--mantine-color-red-text)' } : undefined}>
              <Table.Td className="mono">{first ? `${r.kind}/${r.name}` : ''}</Table.Td>
              <Table.Td>{first ? <OpBadge op={r.operation} /> : null}</Table.Td>
              <Table.Td className="mono">{c?.path ?? '—'}</Table.Td>
              <Table.Td className="mono change-from">{c ? showValue(c.from) : ''}</Table.Td>
              <Table.Td className="mono change-to">{c ? showValue(c.to) : ''}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}

// Dark enough for 4.5:1 on the grey of an Accordion item (red-text is not, as axe found).
const DELETE_COLOUR = 'light-dark(var(--mantine-color-red-9), var(--mantine-color-red-4))';

export function SummaryLine({ summary }: { summary: { create: number; update: number; delete: number; noop: number; invalid: number } }) {
  const { t } = useTranslation();
  return (
    <Text size="sm" data-testid="summary">
      {(['create', 'update', 'delete', 'noop', 'invalid'] as const).map((k, i) => (
        <span key={k} style={k === 'delete' && summary.delete > 0 ? { color: DELETE_COLOUR, fontWeight: 600 } : undefined}>
          {i > 0 ? ' · ' : ''}
          {t(`summary.${k}`, { count: summary[k] })}
        </span>
      ))}
    </Text>
  );
}
