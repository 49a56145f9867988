import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from './helpers/fake-provider';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const CANARY = 'sk-CANARY-secret-9d41e7';
const NOW = '2026-10-05T10:20:00Z';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake.close();
});

describe.each(backends())('the canary secret through config errors and echoed data on $name', (backend) => {
  let workdir: string;
  let database: ReturnType<typeof backend.setup>;
  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = backend.setup(workdir);
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  it('a secret used as an ordinary config value is not echoed by the error that refuses it', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'worker:\n  maxBackfill: ${OPENAI_ADMIN_KEY}\n');
    const result = await runCli(['run', '--config', config], { cwd: workdir, env: { ...database.env, OPENAI_ADMIN_KEY: CANARY } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('worker.maxBackfill');
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    expect(result.stdout + result.stderr).not.toContain('CANARY');
  });

  it('a secret in a config value the YAML parser refuses is not echoed either', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'worker:\n  interval: ${SERVICE_TOKEN}\nsources: 5\n');
    const result = await runCli(['run', '--config', config], { cwd: workdir, env: { ...database.env, SERVICE_TOKEN: CANARY } });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain(CANARY);
  });

  it('a provider that echoes the key inside a model name: the source fails, nothing is stored or printed', async () => {
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      `sources:\n  - name: echo\n    adapter: utt-adapter-fixture\n    config:\n      baseUrl: ${fake.baseUrl}/echo\n      token: \${FIXTURE_TOKEN}\n`,
    );
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir, env: { ...database.env, FIXTURE_TOKEN: CANARY } });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/echo\s+fixture_api\s+error/);
    expect(result.stdout).toContain('record 0: model: holds the value of a configured secret');
    expect(result.stdout + result.stderr).not.toContain(CANARY);
    const store = await database.open();
    try {
      const dump = await store.client.query<{ row: unknown }>(
        `SELECT row_to_json(t) AS row FROM (SELECT * FROM "${store.schema}".token_usage) t
         UNION ALL SELECT row_to_json(s) FROM (SELECT * FROM "${store.schema}".watchdog_status) s
         UNION ALL SELECT row_to_json(c) FROM (SELECT * FROM "${store.schema}".provider_cost) c`,
      );
      expect(JSON.stringify(dump)).not.toContain(CANARY);
      expect(await store.client.query(`SELECT 1 FROM "${store.schema}".token_usage`)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
