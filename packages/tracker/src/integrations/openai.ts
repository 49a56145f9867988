import { createTrackedFetch } from '../capture/tracked-fetch';
import type { Tracker } from '../create-tracker';

export type TrackOpenAIOptions = {
  /** The provider calls are billed by (default 'openai'; 'azure' for Azure OpenAI, 'openrouter'…). */
  readonly provider?: string;
  readonly tags?: Readonly<Record<string, string>>;
};

type FetchingClient = { fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response> };

/**
 * Records every call an `openai` client makes (chat completions, responses,
 * embeddings; streamed calls when the stream ends), with no change at call
 * sites: `const openai = trackOpenAI(new OpenAI(), tracker)`. The client is
 * returned as it was, with its fetch observed: the SDK's retries, streams,
 * `withResponse()` and errors behave as before. A budget refusal rejects the
 * call with BudgetExceededError before anything is sent.
 */
export function trackOpenAI<Client extends object>(client: Client, tracker: Tracker, options: TrackOpenAIOptions = {}): Client {
  const target = client as unknown as FetchingClient;
  if (typeof target.fetch !== 'function') throw new TypeError('trackOpenAI: expected an OpenAI client (an object with a fetch function)');
  target.fetch = createTrackedFetch(tracker, { fetch: target.fetch, provider: options.provider ?? 'openai', tags: options.tags, refusal: 'body' });
  return client;
}
