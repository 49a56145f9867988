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

const [pglite] = backends();

describe('bounded resources: one source cannot take the cycle with it', () => {
  let workdir: string;
  let database: ReturnType<NonNullable<typeof pglite>['setup']>;
  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = (pglite as NonNullable<typeof pglite>).setup(workdir);
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  const fixtureSource = (name: string, mode: string, extra = '') =>
    `  - name: ${name}\n    adapter: utt-adapter-fixture\n${extra}    config:\n      baseUrl: ${fake.baseUrl}/${mode}\n      token: t\n`;

  it('a source over its time budget fails with a message naming the budget, within it, and the others are written', async () => {
    // The HTTP deadline alone would let the hanging source wait 30 s per call.
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      `worker:\n  httpDeadline: 30s\n  sourceTimeBudget: 1s\nsources:\n${fixtureSource('stuck', 'hang')}${fixtureSource('good', 'ok')}`,
    );
    const started = Date.now();
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toMatch(/stuck\s+fixture_api\s+error/);
    expect(result.stdout).toContain('collecting took longer than its time budget of 1s (worker.sourceTimeBudget)');
    expect(result.stdout).toMatch(/good\s+fixture_api\s+ok/);
  });

  it('a response body over worker.httpMaxResponseSize fails that source once, with the limit named', async () => {
    const config = await writeConfig(
      workdir,
      database.databaseYaml,
      `worker:\n  httpMaxResponseSize: 1MiB\nsources:\n${fixtureSource('big', 'huge')}${fixtureSource('good', 'ok')}`,
    );
    const before = fake.requests.filter((request) => request.path.startsWith('/huge')).length;
    const result = await runCli(['run', '--config', config, '--now', NOW], { cwd: workdir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toContain('answered with a body larger than 1 MiB (worker.httpMaxResponseSize)');
    expect(result.stdout).toMatch(/good\s+fixture_api\s+ok/);
    // Not retried: the same body would be refused again.
    expect(fake.requests.filter((request) => request.path.startsWith('/huge')).length - before).toBe(1);
  });
});
