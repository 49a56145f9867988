import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '@utt/postgres';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated, closed PGlite folder; each test copies it instead of initialising its own. */
    pgliteTemplate: string;
  }
}

/**
 * Initialising a PGlite folder and migrating it takes seconds; copying one
 * takes milliseconds. Every CLI test starts from a copy of this template.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(path.join(tmpdir(), 'utt-cli-template-'));
  const template = path.join(root, 'db');
  const store = await openStore({ path: template, schema: 'utt' });
  await store.close();
  project.provide('pgliteTemplate', template);
  return () => rm(root, { recursive: true, force: true });
}
