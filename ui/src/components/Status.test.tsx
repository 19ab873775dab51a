import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderUi } from '../test/render.js';
import { DriftBadge, RunBadge, driftOf, runOf } from './Status.js';

describe('status badges', () => {
  it('map the namespace status and last deployment to two separate statuses', () => {
    expect(driftOf({ status: 'out_of_sync' })).toBe('drifted');
    expect(driftOf({ status: 'never_synced' })).toBe('never_synced');
    expect(runOf({ status: 'synced', last_deployment: { status: 'noop' } as never })).toBe('succeeded');
    expect(runOf({ status: 'synced', last_deployment: { status: 'failed' } as never })).toBe('failed');
    expect(runOf({ status: 'synced', last_deployment: null }, true)).toBe('running');
  });

  it('each badge has a word and an icon, never colour alone', () => {
    renderUi(
      <>
        <DriftBadge drift="drifted" />
        <RunBadge run="failed" />
      </>,
    );
    const drift = screen.getByTestId('drift-badge');
    expect(drift.textContent).toBe('Drifted');
    expect(drift.querySelector('svg')).not.toBeNull();
    const run = screen.getByTestId('run-badge');
    expect(run.textContent).toBe('Failed');
    expect(run.querySelector('svg')).not.toBeNull();
  });
});
