import type { UsageEvent } from './usage-event';

const HOUR_MS = 3_600_000;

/**
 * Folds runs of consecutive copies of one response before they reach the
 * ledger: Claude Code writes a response once per content block, each line
 * repeating the usage (the early ones with a partial output count), so half
 * the events of a transcript are such copies.
 *
 * Two consecutive events fold when key, variant, looseness and hour are the
 * same; the better one (the larger rank; a tie keeps the first) goes on.
 * The ledger would keep exactly that one of the two whatever it already
 * holds, so the result is the same, with half the work (and half the events
 * posted from a worker thread). A folded copy counts as a duplicate.
 */
export function foldConsecutiveCopies(emit: (event: UsageEvent) => void): {
  readonly emit: (event: UsageEvent) => void;
  /** Hands on the held event; call at the end of a file. */
  flush(): void;
  /** Copies folded away so far. */
  readonly folded: () => number;
} {
  let held: UsageEvent | undefined;
  let heldHour = 0;
  let folded = 0;
  return {
    emit(event) {
      const hour = Math.floor(event.timestampMs / HOUR_MS);
      if (
        held !== undefined &&
        event.key === held.key &&
        hour === heldHour &&
        (event.variant ?? '') === (held.variant ?? '') &&
        (event.loose === true) === (held.loose === true)
      ) {
        folded += 1;
        if (event.rank > held.rank) held = event;
        return;
      }
      if (held !== undefined) emit(held);
      held = event;
      heldHour = hour;
    },
    flush() {
      if (held !== undefined) emit(held);
      held = undefined;
    },
    folded: () => folded,
  };
}
