import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { listTrackedCalls, trackedCallSummary, trackedTagValues, usageBreakdown, type UsageStore } from '@utt/postgres';
import { readBudgetStatus } from '@utt/tracker';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, serveDashboard } from '../src/index';
import { formatUsdPrecise } from '../src/format';
import { budgetUsd } from '../src/pages/overview-page';
import { SEED_NOW, SEEDED_API_KEYS, seedDashboard } from './seed-dashboard';
import { FORMULA_TAG, seedLedger } from './seed-ledger';
import { openTestStore, TEST_BACKEND_NAMES, type TestStore } from './test-stores';


const CHROMIUM = process.env.UTT_CHROMIUM || '/usr/bin/chromium';
/** Screenshots are kept for CI to upload; the folder is gitignored. */
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test-artifacts');
const PAGES = [
  { path: '/', heading: 'Overview' },
  { path: '/sources', heading: 'Sources' },
  { path: '/usage', heading: 'Spend & tokens' },
  { path: '/reconciliation', heading: 'Reconciliation' },
  { path: '/agents', heading: 'Coding agents' },
  { path: '/calls', heading: 'Calls' },
  { path: '/tags', heading: 'Tags' },
  { path: '/quotas', heading: 'Quotas' },
  { path: '/quality', heading: 'Data quality' },
];

if (!existsSync(CHROMIUM)) {
  console.info(`@utt/dashboard: the browser suite is skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set UTT_CHROMIUM).`);
}

const BUDGETS = [
  { name: 'all-spend', period: 'month' as const, limitUsd: 1000 },
  { name: 'anthropic-daily', period: 'day' as const, limitUsd: 0.015, scope: { provider: 'anthropic' } },
];

const usd = (value: string | null) =>
  value === null ? null : Number(value).toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe.each(TEST_BACKEND_NAMES)('against %s', (backend) => {
    let testStore: TestStore;
    let store: UsageStore;
    let running: RunningDashboard;
    let context: BrowserContext;
    /** JavaScript switched off: the forms, links and downloads must work without it. */
    let page: Page;
    /** axe runs as a script, so the accessibility scan gets its own page (the dashboard itself has none). */
    let scanPage: Page;
    let scanContext: BrowserContext;
    const consoleErrors: string[] = [];

    beforeAll(async () => {
      testStore = await openTestStore(backend);
      store = testStore.store;
      await seedDashboard(store);
      await seedLedger(store);
      running = await serveDashboard({ store, port: 0, now: () => SEED_NOW, budgets: BUDGETS });
      // axe needs a page created from a context; one page is reused for the whole file.
      context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, javaScriptEnabled: false });
      page = await context.newPage();
      scanContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      scanPage = await scanContext.newPage();
      for (const watched of [page, scanPage]) {
        watched.on('console', (message) => {
          if (message.type() === 'error') consoleErrors.push(message.text());
        });
      }
    });
    afterAll(async () => {
      await context?.close();
      await scanContext?.close();
      await running?.close();
      await testStore?.dispose();
    });

    const open = async (target: string) => {
      const response = await page.goto(new URL(target, running.url).toString());
      expect(response?.status(), target).toBe(200);
    };

    it('renders every page with JavaScript off, passes axe (WCAG 2 A/AA) and keeps a screenshot', async () => {
      for (const { path: target, heading } of PAGES) {
        await open(target);
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(heading);
        expect(await page.locator('#time-zone').textContent()).toContain('Times and days in UTC');
        const body = (await page.content()) ?? '';
        for (const key of SEEDED_API_KEYS) expect(body).not.toContain(key);
        await scanPage.goto(new URL(target, running.url).toString());
        const results = await new AxeBuilder({ page: scanPage }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
        expect(
          results.violations.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`),
          target,
        ).toEqual([]);
        await scanPage.screenshot({ path: path.join(ARTIFACTS, `${backend}-${target === '/' ? 'overview' : target.slice(1)}.png`), fullPage: true });
      }
      expect(consoleErrors).toEqual([]);
      // Nine pages, each loaded twice and scanned by axe: generous on a busy CI machine.
    }, 360_000);

    it('shows the store numbers on the Overview', async () => {
      await open('/');
      const [month] = await usageBreakdown(store, { by: [], since: new Date('2026-10-01T00:00:00Z'), until: new Date('2026-11-01T00:00:00Z') });
      const card = page.locator('.card', { has: page.getByRole('heading', { name: 'Spend, month to date' }) });
      expect(await card.locator('.value').textContent()).toBe(usd(month?.spendUsd ?? null));
      expect(await page.getByRole('status').filter({ hasText: 'Spend anomaly' }).textContent()).toContain('openai/gpt-5 spent $30.00 on 2026-10-19');
      // The chart: an image with a name and description, one tooltip per bar segment.
      const chart = page.getByRole('img', { name: /Spend per day by provider/ });
      await expect(chart.count()).resolves.toBe(1);
      // Budget status: each budget's period total, limit, percent, forecast and state as readBudgetStatus computes them.
      const budgets = await readBudgetStatus(store, BUDGETS, { now: SEED_NOW, timeZone: 'UTC' });
      for (const line of budgets) {
        const cells = await page.locator('#budgets tbody tr', { hasText: line.budget }).locator('td').allTextContents();
        const money = (value: number) => formatUsdPrecise(budgetUsd(value));
        expect([cells[1], cells[2], cells[3], cells[4], cells[5]]).toEqual([money(line.spentUsd), money(line.limitUsd), `${line.percent.toFixed(1)} %`, money(line.forecastUsd), line.state]);
      }
      expect(await page.getByRole('status').filter({ hasText: 'Budgets:' }).textContent()).toContain('anthropic-daily is forecast over its limit');
      expect(await page.locator('#chart-daily-spend rect title').first().textContent()).toMatch(/^2026-09-21 · anthropic: \$1\.50$/);
    });

    it('applies filters from the form and keeps them in a shareable URL', async () => {
      await open('/usage');
      await page.getByLabel('Group by', { exact: true }).selectOption('model');
      await page.getByLabel('Provider', { exact: true }).selectOption('openai');
      await page.getByLabel('From', { exact: true }).fill('2026-10-01');
      await page.getByLabel('To', { exact: true }).fill('2026-10-20');
      await Promise.all([page.waitForURL(/by=model/), page.getByRole('button', { name: 'Apply' }).click()]);
      const url = new URL(page.url());
      expect(Object.fromEntries(url.searchParams)).toMatchObject({ by: 'model', provider: 'openai', from: '2026-10-01', to: '2026-10-20' });
      const [expected] = await usageBreakdown(store, { by: ['model'], providers: ['openai'], since: new Date('2026-10-01T00:00:00Z'), until: new Date('2026-10-21T00:00:00Z') });
      const rows = page.locator('#breakdown tbody tr');
      await expect(rows.count()).resolves.toBe(1);
      expect(await rows.first().locator('th').textContent()).toBe('gpt-5');
      expect(await rows.first().locator('td').first().textContent()).toBe(expected?.inputTokens?.toLocaleString('en-US'));
      expect(await rows.first().locator('td[data-value]').nth(8).getAttribute('data-value')).toBe(expected?.spendUsd);
      // A preset link keeps the other filters.
      await Promise.all([page.waitForURL(/from=2026-10-14/), page.getByRole('link', { name: 'Last 7 days' }).click()]);
      expect(new URL(page.url()).searchParams.get('provider')).toBe('openai');
    });

    it('downloads the CSV of exactly the table on the page', async () => {
      await open('/usage?by=model&from=2026-10-01&to=2026-10-20');
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('section', { has: page.locator('#breakdown') }).getByRole('link', { name: 'CSV' }).click()]);
      expect(download.suggestedFilename()).toBe('utt-usage-breakdown.csv');
      const file = path.join(ARTIFACTS, `${backend}-usage-breakdown.csv`);
      await download.saveAs(file);
      const lines = (await readFile(file, 'utf8')).trim().split('\r\n');
      const shownRows = await page.locator('#breakdown tbody tr th').allTextContents();
      // The first field of each line, unquoted; formulas come back defused with a leading apostrophe.
      const firstField = (line: string) => (line.startsWith('"') ? /^"((?:[^"]|"")*)"/.exec(line)?.[1]?.replaceAll('""', '"') : line.split(',')[0]);
      expect(lines.slice(1).map(firstField)).toEqual(shownRows.map((name) => (name.startsWith('=') ? `'${name}` : name)));
      expect(lines[0]?.split(',')[0]).toBe('Model');
    });

    it('shows reconciliation rows as the store returns them', async () => {
      await open('/reconciliation?from=2026-10-01&to=2026-10-19');
      const rows = await store.reconcile({ since: new Date('2026-10-01T00:00:00Z'), until: new Date('2026-10-20T00:00:00Z') });
      await expect(page.locator('#reconciliation tbody tr').count()).resolves.toBe(rows.length);
      const drift = page.locator('#reconciliation tbody tr', { hasText: '2026-10-17' }).filter({ hasText: 'openai' });
      expect(await drift.locator('td').allTextContents()).toEqual(['litellm', 'openai', '$3.60', '$3.00', '-16.67', 'drift', '0']);
    });

    it('pages through calls, filters them from the form and downloads the CSV of the page shown', async () => {
      const window = { since: new Date('2026-09-21T00:00:00Z'), until: new Date('2026-10-21T00:00:00Z') };
      await open('/calls?limit=25');
      const first = await listTrackedCalls(store, { ...window, limit: 25 });
      const times = await page.locator('#calls tbody tr th').allTextContents();
      expect(times).toEqual(first.calls.map((call) => call.occurredAt.toISOString().slice(0, 19).replace('T', ' ')));
      const summary = await trackedCallSummary(store, window);
      const card = (name: string) => page.locator('.card', { has: page.getByRole('heading', { name, exact: true }) }).locator('.value');
      expect(await card('Calls').textContent()).toBe(summary.calls.toLocaleString('en-US'));
      expect(await card('Cost').textContent()).toBe(usd(summary.costUsd));
      expect(await card('Incomplete streams').textContent()).toBe(String(summary.incompleteCalls));
      // The next page by keyset: the 26th call onward.
      await Promise.all([page.waitForURL(/before=/), page.getByRole('link', { name: 'Older calls' }).first().click()]);
      const second = await listTrackedCalls(store, { ...window, limit: 25, before: first.nextCursor ?? undefined });
      expect(await page.locator('#calls tbody tr th').first().textContent()).toBe(second.calls[0]?.occurredAt.toISOString().slice(0, 19).replace('T', ' '));

      // Filters from the form: a tag, a provider and streams whose usage never arrived.
      await open('/calls');
      await page.getByLabel('Tag (key=value)').fill('feature=chat');
      await page.getByLabel('Provider', { exact: true }).selectOption('anthropic');
      await Promise.all([page.waitForURL(/tag=feature%3Dchat/), page.getByRole('button', { name: 'Apply' }).click()]);
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({ tag: 'feature=chat', provider: 'anthropic' });
      const filtered = await listTrackedCalls(store, { ...window, tags: { feature: 'chat' }, providers: ['anthropic'], limit: 50 });
      await expect(page.locator('#calls tbody tr').count()).resolves.toBe(filtered.calls.length);
      for (const tags of await page.locator('#calls tbody tr td:nth-child(6)').allTextContents()) expect(tags).toContain('feature=chat');
      await page.getByLabel('Tag (key=value)').fill('');
      await page.getByLabel('Usage origin').selectOption('unknown');
      await Promise.all([page.waitForURL(/origin=unknown/), page.getByRole('button', { name: 'Apply' }).click()]);
      const cut = await listTrackedCalls(store, { ...window, usageOrigins: ['unknown'], providers: ['anthropic'] });
      await expect(page.locator('#calls tbody tr').count()).resolves.toBe(cut.calls.length);

      await open(`/calls?tag=${encodeURIComponent(`tenant=${FORMULA_TAG}`)}&limit=25`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CSV' }).click()]);
      expect(download.suggestedFilename()).toBe('utt-calls-calls.csv');
      const file = path.join(ARTIFACTS, `${backend}-calls.csv`);
      await download.saveAs(file);
      const lines = (await readFile(file, 'utf8')).trim().split('\r\n');
      const shown = await page.locator('#calls tbody tr th').allTextContents();
      expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(shown);
      expect(lines.slice(1).every((line) => line.includes(`tenant=${FORMULA_TAG}`))).toBe(true);
    });

    it('breaks calls down by tag value with the untagged share, and downloads it with formulas defused', async () => {
      const window = { since: new Date('2026-09-21T00:00:00Z'), until: new Date('2026-10-21T00:00:00Z') };
      await open('/tags');
      await page.getByLabel('Break down by tag').selectOption('tenant');
      await Promise.all([page.waitForURL(/key=tenant/), page.getByRole('button', { name: 'Apply' }).click()]);
      const values = await trackedTagValues(store, 'tenant', window);
      const rows = page.locator('#tag-values tbody tr');
      await expect(rows.count()).resolves.toBe(values.length);
      expect(await rows.locator('th').allTextContents()).toEqual(values.map((value) => value.value ?? '(no tenant tag)'));
      expect(await rows.locator('td[data-value]').nth(3).getAttribute('data-value')).toBe(values[0]?.costUsd);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('section', { has: page.locator('#tag-values') }).getByRole('link', { name: 'CSV' }).click(),
      ]);
      const file = path.join(ARTIFACTS, `${backend}-tag-values.csv`);
      await download.saveAs(file);
      const text = await readFile(file, 'utf8');
      expect(text).toContain(`'${FORMULA_TAG}`);
      expect(text.split('\r\n').some((line) => line.startsWith('=') || line.startsWith('"='))).toBe(false);
    });

    it('shows quota windows with pace and the rotation suggestion', async () => {
      await open('/quotas');
      const teamA = page.locator('#windows tbody tr', { hasText: 'team-a · 5h' });
      expect(await teamA.locator('td').nth(0).textContent()).toBe('30.0 %');
      expect(await teamA.locator('td').nth(3).textContent()).toBe('-30.0 %');
      expect(await page.locator('.card', { has: page.getByRole('heading', { name: 'Overall' }) }).locator('.value').textContent()).toBe('CRITICAL');
      expect(await page.locator('.card', { has: page.getByRole('heading', { name: 'Use next' }) }).locator('.value').textContent()).toBe('team-a');
      await page.getByLabel('Account', { exact: true }).selectOption('plus@example.com');
      await Promise.all([page.waitForURL(/account=plus/), page.getByRole('button', { name: 'Apply' }).click()]);
      await expect(page.locator('#windows tbody tr').count()).resolves.toBe(1);
      expect(await page.locator('#windows tbody tr td').nth(9).textContent()).toMatch(/^stale/);
    });
  });
});
