import { unpricedModelTotals, type UsageStore } from '@utt/postgres';

export type UnpricedModel = {
  readonly provider: string;
  readonly model: string;
  readonly reason: string;
  readonly rows: number;
  readonly tokens: number;
};

/** Shown for a row without a reason (written before migration 0004, or by a writer that gave none). */
const NO_REASON = 'not recorded';

/**
 * Models with tokens but no cost, grouped by why, sorted by provider, model
 * and reason. Read from the daily roll-ups (a year of hourly rows in tens of
 * milliseconds, where the raw rows took seconds on PGlite), counted as
 * `utt report` counts unpriced usage: a NULL-cost row whose token counters are
 * all 0 or NULL has nothing to price and is not listed.
 */
export async function unpricedModels(store: UsageStore): Promise<UnpricedModel[]> {
  // A reason that reads "not recorded" and a missing one print alike, so they are one group, as they always were.
  const groups = new Map<string, { provider: string; model: string; reason: string; rows: number; tokens: number }>();
  for (const total of await unpricedModelTotals(store)) {
    const reason = total.reason ?? NO_REASON;
    const key = JSON.stringify([total.provider, total.model, reason]);
    const group = groups.get(key);
    if (group) {
      group.rows += total.rows;
      group.tokens += total.tokens;
    } else {
      groups.set(key, { provider: total.provider, model: total.model, reason, rows: total.rows, tokens: total.tokens });
    }
  }
  return [...groups.values()].sort((a, b) => compareText(a.provider, b.provider) || compareText(a.model, b.model) || compareText(a.reason, b.reason));
}

/** Plain code-unit order, the same on every database whatever its collation. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function describeUnpriced(models: readonly UnpricedModel[]): string {
  return models.map((model) => `${model.provider}/${model.model || '(no model)'} (${model.reason}; ${model.rows} rows, ${model.tokens} tokens)`).join(', ');
}
