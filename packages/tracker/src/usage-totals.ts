import type { TrackedCall } from './tracked-call';

/** Running totals of the calls a tracker has seen since it started (seed 004's get_totals). */
export type UsageTotals = {
  calls: number;
  /** Uncached input. */
  inputTokens: number;
  outputTokens: number;
  cachedReadTokens: number;
  cachedWriteTokens: number;
  reasoningTokens: number;
  /** input + cache reads + cache writes + output. */
  totalTokens: number;
  /** Sum of the priced calls, in USD (a float: for display and budgets; the ledger keeps exact decimals). */
  costUsd: number;
  /** Calls that have tokens but no price, or no usage at all. */
  unpricedCalls: number;
  /** Calls whose usage never arrived (usage origin 'unknown'). */
  unknownUsageCalls: number;
  latencyMs: number;
};

export function emptyTotals(): UsageTotals {
  return {
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedReadTokens: 0,
    cachedWriteTokens: 0,
    reasoningTokens: 0,
    totalTokens: 0,
    costUsd: 0,
    unpricedCalls: 0,
    unknownUsageCalls: 0,
    latencyMs: 0,
  };
}

/** Every token a call used, as a thread budget counts it. */
export function callTokens(call: TrackedCall): number {
  return (call.inputTokens ?? 0) + (call.cachedReadTokens ?? 0) + (call.cachedWriteTokens ?? 0) + (call.outputTokens ?? 0);
}

export function addToTotals(totals: UsageTotals, call: TrackedCall, cost: number | null): void {
  totals.calls += 1;
  totals.inputTokens += call.inputTokens ?? 0;
  totals.outputTokens += call.outputTokens ?? 0;
  totals.cachedReadTokens += call.cachedReadTokens ?? 0;
  totals.cachedWriteTokens += call.cachedWriteTokens ?? 0;
  totals.reasoningTokens += call.reasoningTokens ?? 0;
  totals.totalTokens += callTokens(call);
  if (cost === null) totals.unpricedCalls += 1;
  else totals.costUsd += cost;
  if (call.usageOrigin === 'unknown') totals.unknownUsageCalls += 1;
  totals.latencyMs += call.latencyMs ?? 0;
}
