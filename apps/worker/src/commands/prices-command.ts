import { lacksOnlyUsage } from '@utt/postgres';
import { explainPrice, type PriceExplanation, type TokenRate, updatePricesFile } from '@utt/pricing';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { rowsPerPriceSource } from '../pricing/rows-per-price-source';
import { describeUnpriced, unpricedModels } from '../pricing/unpriced-models';
import { workerPriceRegistry } from '../pricing/worker-price-registry';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseTimeFlag, UsageError } from './parse-time-flag';

/** `utt prices explain|check|update`. */
export async function pricesCommand(
  runtime: Runtime,
  subcommand: string | undefined,
  flags: { provider?: string; model?: string; at?: string; url?: string; json?: boolean; now?: Date },
): Promise<number> {
  switch (subcommand) {
    case 'explain':
      return explain(runtime, flags, flags.now);
    case 'check':
      return check(runtime, flags.now ?? new Date());
    case 'update':
      return update(runtime, flags.url);
    default:
      throw new UsageError(`prices needs explain, check or update${subcommand ? `, not "${subcommand}"` : ''}`);
  }
}

/** Matched source, key, strategy, the rates in force at --at (default now) and the missing ones. */
async function explain(runtime: Runtime, flags: { provider?: string; model?: string; at?: string; json?: boolean }, now: Date | undefined): Promise<number> {
  if (!flags.provider || !flags.model) throw new UsageError('prices explain needs --provider and --model');
  const at = parseTimeFlag('at', flags.at, undefined, 'prices') ?? now ?? new Date();
  const explanation = explainPrice(await workerPriceRegistry(runtime), flags.provider, flags.model, at);
  process.stdout.write(flags.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
  return explanation.found ? EXIT_OK : EXIT_PARTIAL;
}

export function formatExplanation(explanation: PriceExplanation): string {
  const head = `${explanation.provider}/${explanation.model} at ${explanation.at}`;
  if (!explanation.found) {
    return `${head}\n  no price: searched ${explanation.searched.join(', ')}\n  rows for this model stay unpriced (cost NULL, never $0); add it under pricing.overrides\n`;
  }
  const lines = [
    head,
    `  source:     ${explanation.source}`,
    `  key:        ${explanation.key}`,
    `  strategy:   ${explanation.strategy} (matched "${explanation.matchedId}")`,
    `  effective:  ${explanation.effectiveFrom ?? 'base'} (versions: ${explanation.versions.map((version) => version.from ?? 'base').join(', ')})`,
    '  rates (USD per million tokens; per request/search for fees):',
  ];
  for (const [name, rate] of Object.entries(explanation.rates)) lines.push(`    ${name.padEnd(13)}${formatRate(rate as TokenRate)}`);
  lines.push(
    `  missing:    ${explanation.missingRates.length === 0 ? 'none' : `${explanation.missingRates.join(', ')} (tokens there leave a row unpriced)`}`,
  );
  const tiers = Object.entries(explanation.serviceTiers);
  lines.push(`  service tiers: ${tiers.length === 0 ? 'none published (a batch/priority row stays unpriced)' : tiers.map(([tier, multiplier]) => `${tier} x${multiplier}`).join(', ')}`);
  if (explanation.timeOfDayPrices > 0) lines.push(`  time of day: ${explanation.timeOfDayPrices} off-peak/peak prices; only hour buckets inside one period are priced`);
  if (explanation.pricingUrls.length > 0) lines.push(`  pricing page: ${explanation.pricingUrls.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function formatRate(rate: TokenRate): string {
  if (typeof rate === 'string') return rate;
  return `${rate.base}${rate.tiers.map((tier) => `; above ${tier.start} prompt tokens: ${tier.price}`).join('')}`;
}

/**
 * Models seen in the database without a price, rows priced by a source the
 * registry no longer uses, and a prices file older than pricing.maxAge.
 * Exit 2 when anything needs attention, for cron.
 */
async function check(runtime: Runtime, now: Date): Promise<number> {
  const registry = await workerPriceRegistry(runtime);
  const { maxAge } = runtime.loaded.config.pricing;
  const problems: string[] = [];
  const notes: string[] = [`prices: ${registry.sources.map((source) => `${source.label} (${source.entries} models)`).join(' → ')}`];
  if (registry.fileFetchedAt) {
    const age = now.getTime() - new Date(registry.fileFetchedAt).getTime();
    const days = Math.floor(age / 86_400_000);
    if (age > maxAge) problems.push(`prices file ${registry.file} was fetched ${days} days ago (${registry.fileFetchedAt}), older than pricing.maxAge: run utt prices update`);
    else notes.push(`prices file ${registry.file} fetched ${registry.fileFetchedAt} (${days} days ago)`);
  } else {
    notes.push(`no prices file at ${registry.file}: the bundled data is used (run utt prices update to refresh it)`);
  }

  const store = await openConfiguredStore(runtime);
  try {
    const unpriced = await unpricedModels(store);
    for (const model of unpriced) {
      if (lacksOnlyUsage(model.reason)) {
        notes.push(`usage unknown: ${describeUnpriced([model])}: calls whose usage never arrived (streams cut, responses dropped unread) leave their hours without a cost; no price can fill them`);
        continue;
      }
      const now = registry.resolve(model.provider, model.model);
      problems.push(
        `unpriced: ${describeUnpriced([model])}${now ? `; now matches ${now.entry.sourceLabel}:${now.entry.key}, run utt reprice` : ''}`,
      );
    }
    const current = new Set(registry.sources.map((source) => source.label));
    const byRef = await rowsPerPriceSource(store);
    for (const row of byRef) {
      if (!current.has(row.sourceLabel)) {
        notes.push(`${row.rows} rows were priced with ${row.sourceLabel}, which is no longer in use (utt reprice recomputes them)`);
      }
    }
  } finally {
    await store.close();
  }
  for (const note of notes) process.stdout.write(`${note}\n`);
  for (const problem of problems) process.stdout.write(`${problem}\n`);
  process.stdout.write(problems.length === 0 ? 'ok: every model with tokens has a price\n' : `${problems.length} to look at\n`);
  return problems.length === 0 ? EXIT_OK : EXIT_PARTIAL;
}

/** Fetches fresh registry data into pricing.file; only ever run by the operator. */
async function update(runtime: Runtime, urlFlag: string | undefined): Promise<number> {
  const registry = await workerPriceRegistry(runtime);
  const { pricing, worker } = runtime.loaded.config;
  const written = await updatePricesFile(registry.file, {
    url: urlFlag ?? pricing.updateUrl,
    deadlineMs: worker.httpDeadline,
    retryBudgetMs: worker.httpRetryBudget,
  });
  const models = written.providers.reduce((sum, provider) => sum + provider.models.length, 0);
  process.stdout.write(
    `wrote ${written.providers.length} providers, ${models} models to ${registry.file} from ${written.source}\n` +
      'stored costs are unchanged: run utt reprice --since DATE to recompute them with these prices\n',
  );
  return EXIT_OK;
}
