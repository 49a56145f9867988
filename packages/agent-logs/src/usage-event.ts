import type { TokenVector } from './token-vector';

/**
 * One model response as an agent's log records it, before de-duplication.
 * Several events with the same `key` are copies of one response (a message
 * written once per content block, a resumed session replaying its history, a
 * sidechain replaying its parent): the ledger keeps exactly one of them.
 */
export type UsageEvent = {
  /** When the response happened (ms since the epoch); its UTC hour is the bucket. */
  readonly timestampMs: number;
  readonly model: string;
  /** Per-event labels such as project and session. Build them in a fixed key order. */
  readonly labels: Readonly<Record<string, string>>;
  /** The counters in core's semantics; `requests` is normally 1. */
  readonly tokens: TokenVector;
  /** The response's identity (Claude Code: message.id). */
  readonly key: string;
  /** Copies under one key with different variants are different responses, unless one is loose (Claude Code: the requestId). */
  readonly variant?: string;
  /** Matches any variant of its key and loses to a copy that is not loose (Claude Code: a sidechain copy). */
  readonly loose?: boolean;
  /** Between matching copies of equal looseness the larger rank wins; a tie keeps the copy seen first. */
  readonly rank: number;
};
