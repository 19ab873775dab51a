import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * The app's list table: striped, labelled for screen readers, and inside a focusable box that
 * scrolls sideways on narrow screens (so keyboard users can scroll it too). `children` are the
 * body's rows.
 */
export function DataTable({
  label,
  columns,
  highlightOnHover = false,
  testId,
  children,
}: {
  label: string;
  columns: ReactNode[];
  highlightOnHover?: boolean;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-scroll" tabIndex={0}>
      <Table striped highlightOnHover={highlightOnHover} verticalSpacing="xs" aria-label={label} data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column, i) => (
              <Table.Th key={i}>{column}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>{children}</Table.Tbody>
      </Table>
    </div>
  );
}
