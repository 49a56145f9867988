import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeProvider, startFakeProvider } from './helpers/fake-provider';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const NOW = '2026-10-05T10:20:00Z';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake.close();
});

describe.each(backends())('ghost rows on $name', (backend) => {
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

  async function modelsByHour(): Promise<Array<{ hour: string; models: string }>> {
    const store = await database.open();
    try {
      return await store.client.query(
        `SELECT to_char(bucket_start AT TIME ZONE 'UTC', 'HH24') AS hour, string_agg(model, ',' ORDER BY model) AS models
           FROM "${store.schema}".token_usage GROUP BY bucket_start ORDER BY bucket_start`,
      );
    } finally {
      await store.close();
    }
  }

  const config = (mode: string) =>
    writeConfig(
      workdir,
      database.databaseYaml,
      `sources:\n  - name: fake\n    adapter: utt-adapter-fixture\n    maxBackfill: 5h\n    settle: 2h\n    config:\n      baseUrl: ${fake.baseUrl}/${mode}\n      token: t\n`,
    );

  it('a provider revision that drops a row: the row goes from the re-collected window, the rest stays', async () => {
    const first = await runCli(['run', '--config', await config('ok'), '--now', NOW], { cwd: workdir, env: database.env });
    expect(first.code, first.stderr).toBe(0);
    // 05h..10h: five hours of backfill plus the open bucket, alpha and beta in each.
    expect(await modelsByHour()).toEqual(['05', '06', '07', '08', '09', '10'].map((hour) => ({ hour, models: 'alpha,beta' })));

    // An hour later the provider has revised its numbers: beta is no longer reported.
    const second = await runCli(['run', '--config', await config('revised'), '--now', '2026-10-05T11:20:00Z'], { cwd: workdir, env: database.env });
    expect(second.code, second.stderr).toBe(0);
    // The window re-collected was 08h..11h (the 2 h settle window before the 10h watermark, up to the open
    // bucket): beta is gone there, in the same transaction as the new rows; older hours keep it.
    expect(await modelsByHour()).toEqual([
      ...['05', '06', '07'].map((hour) => ({ hour, models: 'alpha,beta' })),
      ...['08', '09', '10', '11'].map((hour) => ({ hour, models: 'alpha' })),
    ]);
  });
});
