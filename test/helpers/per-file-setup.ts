/**
 * Runs before each test file of the `server` project, whose files share a worker process
 * (`isolate: false`). Process-wide state a file may leave behind is reset here, so a file starts
 * as it would in a fresh process: git's HOME (each test app's context points it at its own data
 * dir, which the app removes when it closes; git spawned there then fails with ENOENT).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll } from 'vitest';
import { setGitHome } from '../../src/git/env.js';

const key = Symbol.for('syncline.test.gitHome');
const store = globalThis as { [key]?: string };

beforeAll(() => {
  const home = (store[key] ??= fs.mkdtempSync(path.join(os.tmpdir(), 'syncline-test-git-home-')));
  setGitHome(home);
});
