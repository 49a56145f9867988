import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

// The messages a newcomer meets first, each asserted word for word.
const pglite = backends()[0]!;
const DATE_FORMS =
  'YYYY-MM-DD (UTC midnight), YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] (UTC unless an offset is given), today, yesterday, or Nd / Nh (that long before now, e.g. 7d)';
const FIXTURE = (name: string) => `  - name: ${name}\n    adapter: utt-adapter-fixture\n    config:\n      baseUrl: http://127.0.0.1:9/usage\n      token: \${FIXTURE_TOKEN}\n`;

describe('utt for a newcomer', () => {
  let workdir: string;
  let database: ReturnType<typeof pglite.setup>;
  beforeEach(async () => {
    workdir = await makeWorkdir();
    database = pglite.setup(workdir);
  });
  afterEach(async () => {
    await database.cleanup();
    await removeWorkdir(workdir);
  });

  it('read-only commands never need a source key; collecting ones name the missing variable', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `sources:\n${FIXTURE('fake')}`);
    for (const args of [['report'], ['watchdog'], ['verify'], ['migrate'], ['prices', 'check'], ['agents']]) {
      const result = await runCli([...args, '--config', config], { cwd: workdir });
      expect(result.stderr, args.join(' ')).not.toContain('invalid configuration');
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).not.toBe(1);
    }
    const run = await runCli(['run', '--config', config], { cwd: workdir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`utt: invalid configuration in ${config}:\n  sources[0].config.token: environment variable FIXTURE_TOKEN is not set\n`);
  });

  it('reports every config error at once: schema, missing variables and the adapters’ own problems', async () => {
    const body = [
      'worker: { interval: soon }',
      'sources:',
      FIXTURE('fake').trimEnd(),
      '  - { name: openai, adapter: "@utt/adapter-openai" }',
      '  - name: subs',
      '    adapter: "@utt/adapter-subscription"',
      '    config: { plans: [] , colour: red }',
      '',
    ].join('\n');
    const config = await writeConfig(workdir, database.databaseYaml, body);
    const result = await runCli(['run', '--config', config], { cwd: workdir });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toEqual([
      `utt: invalid configuration in ${config}:`,
      '  worker.interval: invalid duration "soon" (use forms like 15s, 30m, 24h, 2d)',
      '  sources[0].config.token: environment variable FIXTURE_TOKEN is not set',
      '  sources[1].adapter: cannot load adapter @utt/adapter-openai: the package is not installed; did you mean @utt/adapter-openai-usage?',
      expect.stringMatching(/^ {2}sources\[2\]\.config(\.plans)?: /),
      expect.stringMatching(/^ {2}sources\[2\]\.config: .*colour/),
      '',
    ]);
  });

  it('durations need a unit, and the daemon waits at least a minute', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'sources: []\n');
    const bare = await runCli(['daemon', '--interval', '5', '--config', config], { cwd: workdir });
    expect(bare.code).toBe(1);
    expect(bare.stderr).toBe('utt: --interval: invalid duration "5": give a unit (ms, s, m, h, d or w), e.g. 5m or 5s\nrun "utt daemon --help" for usage\n');
    const quick = await runCli(['daemon', '--interval', '30s', '--config', config], { cwd: workdir });
    expect(quick.code).toBe(1);
    expect(quick.stderr).toBe(
      'utt: daemon: --interval 30s is shorter than a minute, the least the daemon waits between cycles (use utt run for a single cycle)\nrun "utt daemon --help" for usage\n',
    );
    const numeric = await writeConfig(workdir, database.databaseYaml, 'worker: { interval: 5 }\nsources: []\n', 'numeric.yaml');
    const fromConfig = await runCli(['daemon', '--config', numeric], { cwd: workdir });
    expect(fromConfig.stderr).toBe(
      `utt: invalid configuration in ${numeric}:\n  worker.interval: a duration needs a unit: write 5m, 5s or 5ms (units: ms, s, m, h, d, w)\n`,
    );
    const stale = await runCli(['watchdog', '--stale-after', '90', '--config', config], { cwd: workdir });
    expect(stale.stderr).toBe('utt: --stale-after: invalid duration "90": give a unit (ms, s, m, h, d or w), e.g. 90m or 90s\nrun "utt watchdog --help" for usage\n');
  });

  it('dates are ISO 8601 or a documented relative form; anything else is refused with the forms named', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'sources: []\n');
    for (const value of ['10/01/2026', 'October 1, 2026', '2026-02-30']) {
      const result = await runCli(['report', '--since', value, '--config', config], { cwd: workdir });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`utt: --since: "${value}" is not a date utt reads; use ${DATE_FORMS}\nrun "utt report --help" for usage\n`);
    }
    for (const value of ['yesterday', 'today', '7d', '2026-10-01', '2026-10-01T12:00', '2026-10-01T12:00:00+02:00']) {
      const result = await runCli(['report', '--since', value, '--config', config], { cwd: workdir });
      expect(result.stderr, value).toBe('');
      expect(result.code, value).toBe(0);
    }
  });

  it('import: the format the error suggests is one --format takes', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, 'sources: []\n');
    const file = path.join(workdir, 'usage.txt');
    await writeFile(file, 'bucket_start,provider,model,input_tokens,output_tokens\n2026-10-01T09:00:00Z,openai,gpt-5,100,20\n');
    const guessed = await runCli(['import', 'usage.txt', '--config', config], { cwd: workdir });
    expect(guessed.code).toBe(1);
    expect(guessed.stderr).toContain('cannot tell the format from the extension .txt; use .csv, .json, .ndjson or .jsonl, or pass the format (csv, json or ndjson; "utt import --format csv")');
    const wrong = await runCli(['import', 'usage.txt', '--format', 'xml', '--config', config], { cwd: workdir });
    expect(wrong.stderr).toBe('utt: import: --format xml is not a format utt imports; choose one of csv, json, ndjson\nrun "utt import --help" for usage\n');
    const told = await runCli(['import', 'usage.txt', '--format', 'csv', '--config', config], { cwd: workdir });
    expect(told.stderr).toBe('');
    expect(told.stdout).toBe('usage.txt: 1 rows read, 1 imported into 1 cells\n');
  });

  it('backfill --source with a typo lists the sources', async () => {
    const config = await writeConfig(workdir, database.databaseYaml, `sources:\n${FIXTURE('alpha')}${FIXTURE('beta')}`);
    const result = await runCli(['backfill', '--source', 'alfa', '--since', '2026-10-01', '--config', config], { cwd: workdir, env: { FIXTURE_TOKEN: 'x' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`utt: invalid configuration in ${config}:\n  no source named "alfa"; the sources are alpha, beta\n`);
  });
});
