import { randomUUID } from 'node:crypto';
import type { TrackedCallV1 } from '@utt/core';

/**
 * A call as @utt/tracker hands it to the sink: one priced, non-streamed chat
 * completion of billing-api at 10:01 on 2026-11-03. Tests set what they are about.
 */
export function trackedCallV1(overrides: Partial<TrackedCallV1> = {}): TrackedCallV1 {
  return {
    specificationVersion: 'v1',
    eventId: randomUUID(),
    sourceSystem: 'billing-api',
    sourceInstance: 'host-1',
    occurredAt: new Date('2026-11-03T10:01:00Z'),
    provider: 'openai',
    model: 'gpt-test',
    operation: 'chat.completions',
    inputTokens: 100,
    outputTokens: 10,
    cachedReadTokens: null,
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: null,
    webSearches: null,
    serviceTier: '',
    latencyMs: 120,
    streaming: false,
    responseId: null,
    threadId: null,
    agentId: null,
    tags: {},
    labels: {},
    usageOrigin: 'response',
    costUsd: '0.001',
    priceRef: 'config:openai/gpt-test@base',
    unpricedReason: null,
    ...overrides,
  };
}
