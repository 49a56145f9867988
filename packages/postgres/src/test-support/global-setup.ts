import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { TEST_DATABASE_URL_VARIABLE } from './test-database-url';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An initialised, closed PGlite data folder that each suite copies instead of running initdb again. */
    pgliteTemplate: string;
  }
}

/**
 * Runs once per test run. A fresh PGlite folder takes seconds to initialise and
 * a copy of an initialised one a fraction of that, so every suite copies this
 * template.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!process.env[TEST_DATABASE_URL_VARIABLE]) {
    console.info(
      `@utt/postgres: real-PostgreSQL tests are skipped because ${TEST_DATABASE_URL_VARIABLE} is not set; ` +
        'every suite still runs on PGlite. Set it to a postgres:// URL of a database the tests may create schemas in.',
    );
  }
  const root = await mkdtemp(join(tmpdir(), 'utt-pglite-template-'));
  const template = join(root, 'data');
  const database = await PGlite.create(template);
  await database.close();
  project.provide('pgliteTemplate', template);
  return async () => {
    await rm(root, { recursive: true, force: true });
  };
}
