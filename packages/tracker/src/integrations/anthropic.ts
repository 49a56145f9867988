import { createTrackedFetch } from '../capture/tracked-fetch';
import type { Tracker } from '../create-tracker';

export type TrackAnthropicOptions = {
  /** Default 'anthropic'. */
  readonly provider?: string;
  readonly tags?: Readonly<Record<string, string>>;
};

type FetchingClient = { fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response> };

/**
 * Records every `messages.create` / `messages.stream` call an
 * `@anthropic-ai/sdk` client makes, with no change at call sites:
 * `const anthropic = trackAnthropic(new Anthropic(), tracker)`. Streams are
 * followed as the caller reads them: input and cache counts and the 5m/1h
 * cache-write split from message_start, cumulative counts from the last
 * message_delta (overwritten, never added).
 */
export function trackAnthropic<Client extends object>(client: Client, tracker: Tracker, options: TrackAnthropicOptions = {}): Client {
  const target = client as unknown as FetchingClient;
  if (typeof target.fetch !== 'function') throw new TypeError('trackAnthropic: expected an Anthropic client (an object with a fetch function)');
  target.fetch = createTrackedFetch(tracker, { fetch: target.fetch, provider: options.provider ?? 'anthropic', tags: options.tags, refusal: 'body' });
  return client;
}
