import type { UsageRecordInput } from '@utt/core';
import { ACTIVITY_FIGURES, type ModelFeatureTotals, type ReportDayRecord } from './copilot-api';
import type { CopilotTokenEstimate } from './copilot-config';

export const COPILOT_PROVIDER = 'github';

export type ConvertMetricsOptions = {
  /** The org or enterprise slug, written to `account`. */
  readonly account: string;
  readonly estimateTokens?: CopilotTokenEstimate;
};

/**
 * One day of the usage-metrics report as token_usage records:
 * - one activity row (model '', `labels.metric_set = 'activity'`) whose labels
 *   hold the day's figures as strings; its counters stay NULL, so summing
 *   `requests` never mixes users with interactions;
 * - one row per model and feature (`labels.metric_set = 'interactions'`) with
 *   `requests` = user-initiated interactions. Token columns stay NULL unless
 *   an estimate is configured; then the row says `derived_estimate`.
 */
export function convertReportDay(record: ReportDayRecord, options: ConvertMetricsOptions): UsageRecordInput[] {
  const bucketStart = `${record.day}T00:00:00.000Z`;
  const base = { granularity: 'day' as const, bucket_start: bucketStart, provider: COPILOT_PROVIDER, account: options.account };
  const activityLabels: Record<string, string> = { metric_set: 'activity' };
  for (const figure of ACTIVITY_FIGURES) {
    const value = record[figure];
    if (value !== undefined) activityLabels[figure] = String(value);
  }
  const records: UsageRecordInput[] = [{ ...base, model: '', labels: activityLabels, measurement_basis: 'provider_aggregate' }];

  for (const totals of mergeModelFeatures(record.totals_by_model_feature)) {
    const tokens = estimateTokens(totals, options.estimateTokens);
    const estimated = tokens.input_tokens !== null || tokens.output_tokens !== null;
    records.push({
      ...base,
      model: totals.model,
      labels: { metric_set: 'interactions', feature: totals.feature },
      requests: totals.user_initiated_interaction_count,
      ...tokens,
      measurement_basis: estimated ? 'derived_estimate' : 'provider_aggregate',
    });
  }
  return records;
}

/** The report lists each (model, feature) once; should it repeat one, the counts add up so the conflict key stays unique. */
function mergeModelFeatures(entries: readonly ModelFeatureTotals[]): ModelFeatureTotals[] {
  const merged = new Map<string, ModelFeatureTotals>();
  for (const entry of entries) {
    const key = JSON.stringify([entry.model, entry.feature]);
    const earlier = merged.get(key);
    merged.set(
      key,
      earlier
        ? {
            ...earlier,
            user_initiated_interaction_count: earlier.user_initiated_interaction_count + entry.user_initiated_interaction_count,
            loc_added_sum: addOptional(earlier.loc_added_sum, entry.loc_added_sum),
          }
        : entry,
    );
  }
  return [...merged.values()];
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

/**
 * input = interactions × inputPerInteraction; output = interactions ×
 * outputPerInteraction + accepted lines × outputPerAcceptedLine. A column no
 * configured factor applies to stays NULL (unknown), never 0.
 */
function estimateTokens(
  totals: ModelFeatureTotals,
  estimate: CopilotTokenEstimate | undefined,
): { input_tokens: number | null; output_tokens: number | null } {
  if (!estimate) return { input_tokens: null, output_tokens: null };
  const interactions = totals.user_initiated_interaction_count;
  const input = estimate.inputPerInteraction === undefined ? null : interactions * estimate.inputPerInteraction;
  const outputTerms: number[] = [];
  if (estimate.outputPerInteraction !== undefined) outputTerms.push(interactions * estimate.outputPerInteraction);
  if (estimate.outputPerAcceptedLine !== undefined && totals.loc_added_sum !== undefined) {
    outputTerms.push(totals.loc_added_sum * estimate.outputPerAcceptedLine);
  }
  const output = outputTerms.length === 0 ? null : outputTerms.reduce((sum, term) => sum + term, 0);
  return { input_tokens: input, output_tokens: output };
}
