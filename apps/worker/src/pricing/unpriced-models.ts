import { parseTrackedCellReason, type UsageStore } from '@utt/postgres';

export type UnpricedModel = {
  readonly provider: string;
  readonly model: string;
  readonly reason: string;
  readonly rows: number;
  readonly tokens: number;
};

/**
 * Models with token rows but no cost, grouped by why. A row written before
 * migration 0004 has no reason: it shows as "not recorded".
 */
export async function unpricedModels(store: UsageStore): Promise<UnpricedModel[]> {
  const rows = await store.client.query<{ provider: string; model: string; reason: string; row_count: number; tokens: string }>(
    `SELECT provider, model, COALESCE(unpriced_reason, 'not recorded') AS reason, COUNT(*)::bigint AS row_count,
            SUM(COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0))::text AS tokens
     FROM "${store.schema}".token_usage
     WHERE cost_usd IS NULL
       AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR cached_read_tokens IS NOT NULL OR cached_write_tokens IS NOT NULL)
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3`,
  );
  return rows.map((row) => ({ provider: row.provider, model: row.model, reason: row.reason, rows: Number(row.row_count), tokens: Number(row.tokens) }));
}

export function describeUnpriced(models: readonly UnpricedModel[]): string {
  return models.map((model) => `${model.provider}/${model.model || '(no model)'} (${model.reason}; ${model.rows} rows, ${model.tokens} tokens)`).join(', ');
}

/**
 * Whether a group's rows lack a cost only because calls of theirs never
 * reported usage (tracker hours 'calls_unpriced:N/M:usage_unknown'): a fact
 * to show, that no price can fix and utt reprice leaves alone.
 */
export function onlyUsageUnknown(model: UnpricedModel): boolean {
  const parsed = parseTrackedCellReason(model.reason);
  return parsed !== undefined && parsed.usageUnknownCalls > 0 && parsed.reason === null;
}
