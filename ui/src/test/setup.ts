import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import '../i18n/index.js';

// Mantine reads these browser APIs; happy-dom lacks some.
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({ matches: false, media: query, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false }) as MediaQueryList;
}
class RO {
  observe() {}
  unobserve() {}
  disconnect() {}
}
(globalThis as { ResizeObserver?: unknown }).ResizeObserver ??= RO;

afterEach(() => cleanup());
