import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Namespace, Plan } from '../lib/types.js';
import { renderUi } from '../test/render.js';
import { SyncDialog } from './SyncDialog.js';

const ns: Namespace = {
  name: 'shop.prod',
  source: 'shop',
  branch: 'main',
  path: 'prod',
  auto_sync: false,
  prune: true,
  allow_unmerged_refs: false,
  status: 'synced',
  last_deployment: null,
} as unknown as Namespace;

const summary = { create: 0, update: 1, delete: 1, noop: 0, invalid: 0 };
const plan: Plan = {
  namespace: 'shop.prod',
  ref: 'main',
  commit: 'a'.repeat(40),
  source: 'shop',
  summary,
  results: [
    { kind: 'Workload', name: 'api', file: 'prod/api.yaml', operation: 'update', status: 'pending', message: null, changes: [{ path: '/spec/port', from: 8080, to: 9090 }] },
    { kind: 'Workload', name: 'old', file: null, operation: 'delete', status: 'pending', message: null, changes: [] },
  ],
} as unknown as Plan;

function mockFetch(handler: (url: string, init: RequestInit) => { status: number; body: unknown }) {
  const fn = vi.fn(async (url: string, init: RequestInit) => {
    const { status, body } = handler(url, init);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

afterEach(() => vi.unstubAllGlobals());

describe('SyncDialog', () => {
  it('shows the plan first, focuses Cancel, and needs the namespace name typed before deleting', async () => {
    const fetch = mockFetch((url) =>
      url.endsWith('/plan')
        ? { status: 200, body: plan }
        : { status: 200, body: { id: 'd1', namespace: 'shop.prod', status: 'success', ref: 'main', commit: plan.commit, summary, results: [] } },
    );
    renderUi(<SyncDialog ns={ns} opened onClose={() => {}} />);
    expect((await screen.findByTestId('summary')).textContent).toContain('1 delete');
    expect(screen.getByText('/spec/port')).toBeTruthy();
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Cancel'));
    const confirm = screen.getByTestId('confirm-sync') as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    const input = screen.getByTestId('confirm-name') as HTMLInputElement;
    fireEvent.change(input, { target: { value: 'shop' } });
    expect(confirm.disabled).toBe(true);
    fireEvent.change(input, { target: { value: 'shop.prod' } });
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);
    await screen.findByTestId('sync-result');
    const syncCall = fetch.mock.calls.find(([u]) => String(u).endsWith('/sync-from-git'))!;
    expect(syncCall[1].method).toBe('POST');
    expect((syncCall[1].headers as Record<string, string>)['x-syncline-request']).toBe('1');
  });

  it('explains a 422 with the invalid files listed', async () => {
    mockFetch((url) =>
      url.endsWith('/plan')
        ? { status: 200, body: { ...plan, summary: { ...summary, delete: 0 }, results: [plan.results[0]] } }
        : {
            status: 422,
            body: {
              error: {
                code: 'invalid_specs',
                message: '1 invalid document(s)',
                details: {
                  deployment: {
                    commit: plan.commit,
                    results: [{ kind: 'Workload', name: 'bad', file: 'prod/bad.yaml', line: 4, column: 9, operation: 'invalid', status: 'invalid', message: 'prod/bad.yaml:4:9: /spec/port must be integer', changes: [] }],
                  },
                },
              },
            },
          },
    );
    renderUi(<SyncDialog ns={ns} opened onClose={() => {}} />);
    expect((await screen.findByTestId('summary')).textContent).toContain('1 update');
    fireEvent.click(screen.getByTestId('confirm-sync'));
    const error = await screen.findByTestId('sync-error');
    expect(error.textContent).toContain('prod/bad.yaml:4:9');
    expect(error.textContent).toContain('/spec/port must be integer');
  });
});
