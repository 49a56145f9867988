import { createTrackedFetch, type TrackedFetchOptions } from '../capture/tracked-fetch';
import type { Tracker } from '../create-tracker';

export type { TrackedFetchOptions };

/**
 * A fetch for any OpenAI-compatible endpoint (LiteLLM proxy, OpenRouter,
 * Azure OpenAI, vLLM) or Anthropic's API: every chat, responses, embeddings
 * or messages call through it is recorded; bodies reach the caller unbuffered
 * and unchanged.
 */
export function trackFetch(tracker: Tracker, options: TrackedFetchOptions = {}): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return createTrackedFetch(tracker, options);
}
