import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from '@utt/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTracker } from '../create-tracker';
import { testPrices } from '../test-support/test-prices';
import { BudgetExceededError } from './budget-exceeded-error';
import { BudgetExhaustedError } from './budget-exhausted-error';
import { loadBudgetsFromConfig } from './load-budgets-from-config';

// The shape `utt` reads: a service shares the file with the worker, whose keys it does not need.
const CONFIG = `database:
  url: \${DATABASE_URL}
sources:
  - name: openai-admin
    adapter: '@utt/adapter-openai-usage'
    config: { adminKey: '\${OPENAI_ADMIN_KEY}' }
reportingTimeZone: \${UTT_ZONE:-Europe/Berlin}
budgets:
  - { name: org-month, period: month, limitUsd: 500, softThreshold: 0.8 }
  - { period: day, limitUsd: 20, behavior: block, scope: { source: '\${APP_NAME}' } }
  - { name: per-call, period: call, limitUsd: 0.01, behavior: block }
`;

async function failure(promise: Promise<unknown>): Promise<ConfigValidationError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!ConfigValidationError.isInstance(error)) throw new Error(`expected a ConfigValidationError, got ${String(error)}`);
  return error;
}

describe('loadBudgetsFromConfig', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'utt-tracker-config-'));
    await mkdir(join(root, 'deploy'));
    await writeFile(join(root, 'deploy', 'utt.config.yaml'), CONFIG);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads budgets and the reporting time zone as utt does: relative to cwd, ${VAR} and ${VAR:-default} substituted, other keys left to the worker', async () => {
    const loaded = await loadBudgetsFromConfig('deploy/utt.config.yaml', { cwd: root, env: { APP_NAME: 'billing-api' } });
    expect(loaded.file).toBe(join(root, 'deploy', 'utt.config.yaml'));
    expect(loaded.reportingTimeZone).toBe('Europe/Berlin');
    expect(loaded.budgets).toEqual([
      { name: 'org-month', period: 'month', limitUsd: 500, softThreshold: 0.8, behavior: 'notify' },
      { name: 'day[source=billing-api]', period: 'day', limitUsd: 20, behavior: 'block', scope: { source: 'billing-api' } },
      { name: 'per-call', period: 'call', limitUsd: 0.01, behavior: 'block' },
    ]);
    const zoned = await loadBudgetsFromConfig(join(root, 'deploy', 'utt.config.yaml'), { env: { APP_NAME: 'billing-api', UTT_ZONE: 'Asia/Kolkata' } });
    expect(zoned.reportingTimeZone).toBe('Asia/Kolkata');
  });

  it('finds the file through UTT_CONFIG, then utt.config.yaml in the working directory', async () => {
    expect((await loadBudgetsFromConfig(undefined, { cwd: root, env: { UTT_CONFIG: 'deploy/utt.config.yaml', APP_NAME: 'a' } })).budgets).toHaveLength(3);
    const inCwd = await loadBudgetsFromConfig(undefined, { cwd: join(root, 'deploy'), env: { APP_NAME: 'a' } });
    expect(inCwd.file).toBe(join(root, 'deploy', 'utt.config.yaml'));
    const missing = await failure(loadBudgetsFromConfig(undefined, { cwd: root, env: {} }));
    expect(missing.message).toBe(`invalid configuration in ${join(root, 'utt.config.yaml')}:\n  file not found`);
    expect(await loadBudgetsFromConfig('empty.yaml', { cwd: root, env: {} }).catch((error: Error) => error.message)).toContain('file not found');
    await writeFile(join(root, 'empty.yaml'), '# nothing yet\n');
    expect(await loadBudgetsFromConfig('empty.yaml', { cwd: root, env: {} })).toEqual({ budgets: [], reportingTimeZone: 'UTC', file: join(root, 'empty.yaml') });
  });

  it('names the file and the field of every problem, and never echoes a secret', async () => {
    const file = join(root, 'bad.yaml');
    await writeFile(
      file,
      `reportingTimeZone: Mars/Olympus
budgets:
  - { period: week, limitUsd: 5 }
  - { period: day, limitUsd: -1, scope: { tenant: acme } }
  - { period: day, limitUsd: '\${DAILY_LIMIT}' }
  - { period: day, limitUsd: 3, scope: { model: '\${SECRET_TOKEN}' }, extra: '\${SECRET_TOKEN}' }
`,
    );
    const error = await failure(loadBudgetsFromConfig(file, { env: { SECRET_TOKEN: 'sk-very-secret-123' } }));
    expect(error.file).toBe(file);
    expect(error.issues).toEqual([
      'budgets[2].limitUsd: environment variable DAILY_LIMIT is not set',
      'reportingTimeZone: must be an IANA time zone name such as UTC or Europe/Berlin',
      expect.stringMatching(/^budgets\[0\]\.period: /),
      expect.stringMatching(/^budgets\[1\]\.limitUsd: must be more than 0/),
      expect.stringMatching(/^budgets\[1\]\.scope: .*tenant/),
      expect.stringMatching(/^budgets\[2\]\.limitUsd: /),
      expect.stringMatching(/^budgets\[3\]: .*extra/),
    ]);
    expect(error.message).not.toContain('sk-very-secret-123');

    await writeFile(file, 'budgets:\n  - { period: day, limitUsd: 5\n');
    const yaml = await failure(loadBudgetsFromConfig(file, { env: {} }));
    expect(yaml.issues[0]).toMatch(/^line \d+, column \d+: /);
    await writeFile(file, 'budgets:\n  - { name: a, period: day, limitUsd: 5 }\n  - { name: a, period: month, limitUsd: 50 }\n');
    expect((await failure(loadBudgetsFromConfig(file, { env: {} }))).issues).toEqual(['budgets[1].name: another budget is already called "a"']);
  });

  it('reads threadBudget: the default token limit of every thread, which createTracker({ config }) applies', async () => {
    const file = join(root, 'threads.yaml');
    await writeFile(file, 'threadBudget: { defaultMaxTokens: 1500 }\n');
    expect(await loadBudgetsFromConfig(file, { env: {} })).toEqual({ budgets: [], reportingTimeZone: 'UTC', threadBudget: { defaultMaxTokens: 1500 }, file });
    const tracker = await createTracker({ application: 'billing-api', prices: testPrices(), flushOnExit: false, config: file });
    // A thread registered without its own limit gets the file's: 1,600 tokens spend its 1,500, so the next call is refused.
    const refused = await tracker.runThread('chat-1', async () => {
      tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1000, outputTokens: 600 });
      return tracker.admit({ provider: 'openai', model: 'gpt-test' }).catch((error: unknown) => error);
    });
    expect(BudgetExhaustedError.isInstance(refused)).toBe(true);
    expect(refused).toMatchObject({ threadId: 'chat-1', maxTokens: 1500, usedTokens: 1600 });
    await tracker.shutdown();
    const both = await failure(createTracker({ application: 'billing-api', prices: testPrices(), flushOnExit: false, config: file, threadBudget: { defaultMaxTokens: 5 } }));
    expect(both.issues).toEqual(['threadBudget: set in the config file and in the options; keep one']);
    await writeFile(file, 'threadBudget: { defaultMaxTokens: -3, perThread: 1 }\n');
    const bad = await failure(loadBudgetsFromConfig(file, { env: {} }));
    expect(bad.file).toBe(file);
    expect(bad.issues).toEqual([expect.stringMatching(/^threadBudget/), expect.stringMatching(/^threadBudget/)]);
  });

  it('is what createTracker({ config }) applies', async () => {
    const file = join(root, 'tight.yaml');
    await writeFile(file, 'budgets:\n  - { name: per-call, period: call, limitUsd: 0.001, behavior: raise }\n');
    const tracker = await createTracker({ application: 'billing-api', prices: testPrices(), flushOnExit: false, config: file });
    // 1000 output tokens of gpt-test cost $0.008: past the per-call limit of the file.
    expect(() => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 0, outputTokens: 1000 })).toThrow(BudgetExceededError);
    await tracker.shutdown();
    const both = await failure(createTracker({ application: 'billing-api', prices: testPrices(), flushOnExit: false, config: file, budgets: [] }));
    expect(both.issues[0]).toMatch(/^config: /);
    const tagged = join(root, 'tagged.yaml');
    await writeFile(tagged, "budgets:\n  - { period: day, limitUsd: 2, scope: { tags: { tenant: '*' } } }\n");
    const sink = { specificationVersion: 'v1' as const, write: async () => {}, readSpend: async () => ['0'] };
    const unlabelled = await failure(createTracker({ application: 'billing-api', prices: testPrices(), flushOnExit: false, config: tagged, sink }));
    expect(unlabelled.file).toBe(tagged);
    expect(unlabelled.issues[0]).toMatch(/^budgets\[0\]\.scope\.tags\.tenant: add "tenant" to labelTags/);
  });
});
