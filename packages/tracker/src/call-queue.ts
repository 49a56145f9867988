import type { Logger, TrackerSinkV1, TrackerSinkWriteResultV1 } from '@utt/core';
import type { TrackedCall } from './tracked-call';

export type CallQueueOptions = {
  readonly sink: TrackerSinkV1 | undefined;
  /** Calls per write (default 500): a full batch is written at once. */
  readonly batchSize: number;
  /** Longest a call waits before its batch is written (default 1000 ms). */
  readonly flushIntervalMs: number;
  /** Calls held while the sink fails (default 10 000); past it new calls are dropped and counted. */
  readonly maxQueueSize: number;
  readonly logger: Logger;
  /** Each successful write, with the calls it made durable. */
  readonly onCommitted?: (calls: readonly QueuedCall[]) => void;
  readonly onDropped?: (count: number, reason: string) => void;
};

/** A queued call and whether (and after which write) it reached the sink. */
export type QueuedCall = { readonly call: TrackedCall; committedEpoch: number; dropped: boolean };

export type QueueStats = {
  /** Calls waiting to be written (including a batch being written). */
  pending: number;
  written: number;
  /** Calls dropped because the queue was full while the sink failed, left at shutdown or recorded after it, or refused by the sink (an hour already pruned). */
  dropped: number;
  writeFailures: number;
  lastError: string | null;
  /** Calls written that the sink skipped as stored before (same event id: a batch written again after a lost answer). */
  skippedAsStored: number;
  /** Calls written that the sink skipped as the same provider response recorded again under another event id. */
  skippedAsSameResponse: number;
};

const MAX_BACKOFF_MS = 30_000;

/**
 * Recording never waits on the database: calls go into memory and are written
 * in batches on size, on a timer, on flush() and on shutdown(). The timer is
 * unref'd, so it never keeps a process alive. When the sink fails, the batch
 * stays at the head of the queue and is retried (with backoff) in the same
 * order; the queue is bounded, and what it drops is counted and logged.
 */
export function createCallQueue(options: CallQueueOptions) {
  // A ring of pending calls; head is the next to write.
  let items: QueuedCall[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let failures = 0;
  let retryAt = 0;
  let epoch = 0;
  let closed = false;
  // Bumped when shutdown gives up on a write still under way at its deadline (a database that never answers): that
  // write's calls are counted as dropped, and whatever it does later is ignored.
  let generation = 0;
  const stats: QueueStats = { pending: 0, written: 0, dropped: 0, writeFailures: 0, lastError: null, skippedAsStored: 0, skippedAsSameResponse: 0 };
  let droppedSinceReport = 0;
  let droppedAfterClose = 0;

  const pending = () => items.length - head;

  const compact = () => {
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
  };

  const schedule = (delay: number) => {
    if (timer || closed || !options.sink) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drainOnce();
    }, delay);
    timer.unref();
  };

  const drop = (count: number, reason: string) => {
    stats.dropped += count;
    droppedSinceReport += count;
    options.onDropped?.(count, reason);
  };

  // What the sink skipped is counted and told, never silent: a skip of the same response under another event id means
  // the sink took two calls for one, which only a response recorded twice should make it do.
  const countSkipped = (result: TrackerSinkWriteResultV1) => {
    const stored = result.alreadyStored ?? 0;
    const same = result.sameResponse ?? 0;
    if (stored > 0) {
      stats.skippedAsStored += stored;
      options.logger.info('utt tracker: the sink already had calls of a batch written again (same event ids); they were not written twice', {
        skipped: stored,
        skippedAsStored: stats.skippedAsStored,
      });
    }
    if (same > 0) {
      const before = stats.skippedAsSameResponse;
      stats.skippedAsSameResponse += same;
      if (before === 0 || Math.floor(before / 1000) !== Math.floor(stats.skippedAsSameResponse / 1000)) {
        options.logger.warn('utt tracker: the sink skipped calls as the same provider response recorded again (same response id, model and counts)', {
          skipped: same,
          skippedAsSameResponse: stats.skippedAsSameResponse,
        });
      }
    }
  };

  async function writeBatch(): Promise<boolean> {
    const sink = options.sink;
    if (!sink || pending() === 0) return true;
    const batch = items.slice(head, head + options.batchSize);
    const started = generation;
    let result: TrackerSinkWriteResultV1 | undefined | void;
    let refused = 0;
    try {
      result = await sink.write(batch.map((item) => item.call));
      refused = Math.min(batch.length, Math.max(0, Number(result?.refused ?? 0) || 0));
    } catch (error) {
      if (started !== generation) return false;
      failures += 1;
      stats.writeFailures += 1;
      stats.lastError = error instanceof Error ? error.message : String(error);
      retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, options.flushIntervalMs * 2 ** Math.min(failures, 10));
      if (failures === 1) options.logger.warn('utt tracker: writing tracked calls failed; they wait in memory and are retried', { error: stats.lastError, pending: pending() });
      return false;
    }
    // Given up on at shutdown's deadline: its calls are counted as dropped already.
    if (started !== generation) return false;
    // The batch is still at the head: while it was written, only appends happened.
    const written = batch;
    head += batch.length;
    epoch += 1;
    for (const item of written) item.committedEpoch = epoch;
    stats.written += written.length - refused;
    if (result) countSkipped(result);
    if (refused > 0) {
      // Calls of hours the ledger has already pruned: storing them could count a retried call twice.
      drop(refused, 'pruned hour');
      options.logger.warn('utt tracker: the ledger refused calls of hours it has already pruned; they are counted as dropped', { refused });
    }
    if (failures > 0) {
      options.logger.info('utt tracker: writing tracked calls works again', { dropped: droppedSinceReport });
      droppedSinceReport = 0;
    }
    failures = 0;
    retryAt = 0;
    compact();
    options.onCommitted?.(written);
    return true;
  }

  async function drainOnce(): Promise<void> {
    if (writing) return writing;
    const started = generation;
    const drained: Promise<void> = (async () => {
      while (pending() > 0 && Date.now() >= retryAt) {
        const ok = await writeBatch();
        if (!ok) break;
      }
    })().finally(() => {
      if (started !== generation) return;
      writing = undefined;
      if (pending() > 0) schedule(Math.max(options.flushIntervalMs, retryAt - Date.now()));
    });
    writing = drained;
    return drained;
  }

  return {
    stats: (): QueueStats => ({ ...stats, pending: pending() }),
    epoch: () => epoch,
    enqueue(call: TrackedCall): QueuedCall {
      const item: QueuedCall = { call, committedEpoch: 0, dropped: false };
      if (!options.sink) return item;
      if (closed) {
        // Recorded after shutdown() (a stream that ended after it): nothing would ever write it.
        item.dropped = true;
        drop(1, 'after shutdown');
        droppedAfterClose += 1;
        if (droppedAfterClose === 1 || droppedAfterClose % 1000 === 0) {
          options.logger.warn('utt tracker: a call was recorded after shutdown(); it is not written (counted as dropped)', { droppedAfterShutdown: droppedAfterClose });
        }
        return item;
      }
      if (pending() >= options.maxQueueSize) {
        // The queued calls keep their order and the head batch may be in flight: the new call is the one left out.
        item.dropped = true;
        drop(1, 'queue full');
        if (droppedSinceReport === 1 || droppedSinceReport % 1000 === 0) {
          options.logger.error('utt tracker: the call queue is full while the sink fails; new calls are dropped (and counted)', {
            dropped: stats.dropped,
            maxQueueSize: options.maxQueueSize,
          });
        }
        return item;
      }
      items.push(item);
      if (pending() >= options.batchSize && failures === 0) void drainOnce();
      else schedule(options.flushIntervalMs);
      return item;
    },
    /** Writes everything queued now; resolves when written or when the sink has failed (see stats().lastError). */
    async flush(): Promise<void> {
      retryAt = 0;
      if (writing) await writing;
      retryAt = 0;
      await drainOnce();
    },
    /**
     * Stops the timer and writes what is left, retrying until `timeoutMs`; what still fails is counted as dropped.
     * Returns by the deadline even when a write never settles (a database that stops answering without closing the
     * connection): that write's calls are counted as dropped too, since nothing says they were stored.
     */
    async close(timeoutMs: number): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const deadline = Date.now() + timeoutMs;
      // Whether the deadline came before `work` settled.
      const pastDeadline = async (work: Promise<void>): Promise<boolean> => {
        let deadlineTimer: NodeJS.Timeout | undefined;
        const reached = new Promise<boolean>((resolve) => {
          deadlineTimer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()));
        });
        try {
          return await Promise.race([work.then(() => false), reached]);
        } finally {
          clearTimeout(deadlineTimer);
        }
      };
      let writeUnderWay = false;
      while (pending() > 0 && options.sink) {
        retryAt = 0;
        if (writing && (await pastDeadline(writing))) {
          writeUnderWay = true;
          break;
        }
        if (await pastDeadline(drainOnce())) {
          writeUnderWay = true;
          break;
        }
        if (pending() === 0 || Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(0, deadline - Date.now()))));
      }
      const left = pending();
      if (writeUnderWay) {
        generation += 1;
        writing = undefined;
      }
      if (left > 0) {
        for (let index = head; index < items.length; index += 1) (items[index] as QueuedCall).dropped = true;
        head = items.length;
        drop(left, 'shutdown');
        options.logger.error('utt tracker: shutdown could not write every tracked call', {
          dropped: left,
          error: writeUnderWay ? `a write was still under way after ${timeoutMs} ms` : stats.lastError,
        });
      }
    },
  };
}

export type CallQueue = ReturnType<typeof createCallQueue>;
