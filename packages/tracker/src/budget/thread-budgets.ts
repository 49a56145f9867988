import { BudgetExhaustedError } from './budget-exhausted-error';

type ThreadUsage = {
  maxTokens: number | undefined;
  usedTokens: number;
  /** When a call last counted in it or it was registered (the map is in this order: the least recent first). */
  lastUsedAt: number;
  /** Registered with register() (or runThread): kept until end(), or until the thread bound needs its place. */
  registered: boolean;
  /** runThread()s under way in it: never forgotten while one is. */
  running: number;
};

export type ThreadRetention = {
  /** A thread no call counted in for this long is forgotten, unless registered (default 1 hour). */
  readonly idleTimeoutMs: number;
  /** Threads kept at most; past it the least recently used one is forgotten, unless a runThread is under way in it (default 10 000). */
  readonly maxThreads: number;
  readonly now: () => number;
  /** Told of each thread forgotten (ended, idle or over the bound), so what else is kept per thread goes with it. */
  readonly onForget?: (threadId: string) => void;
};

export const DEFAULT_THREAD_RETENTION: Omit<ThreadRetention, 'now'> = { idleTimeoutMs: 3_600_000, maxThreads: 10_000 };

/**
 * Per-thread token budgets (seed 004's ThreadBudgetRegistry): a thread's call
 * is checked before it is sent and refused with BudgetExhaustedError once the
 * thread has used its tokens. The call in flight when the limit is crossed
 * still finishes, so a thread can end a fraction past its limit.
 *
 * Every thread a call counts in has an entry, so the registry is bounded: a
 * thread is forgotten when it ends, when no call has counted in it for
 * `idleTimeoutMs` (unless registered), and, least recently used first, when
 * more than `maxThreads` are kept (unless a runThread is under way in it).
 * A forgotten thread that is used again starts from zero.
 */
export function createThreadBudgets(defaultMaxTokens: number | undefined, retention: ThreadRetention = { ...DEFAULT_THREAD_RETENTION, now: Date.now }) {
  const threads = new Map<string, ThreadUsage>();
  const { idleTimeoutMs, maxThreads, now, onForget } = retention;
  let lastSweepAt = now();
  const forget = (threadId: string) => {
    threads.delete(threadId);
    onForget?.(threadId);
  };
  /** Forgets threads past the bound (least recent first) and, at most every quarter of the idle timeout, idle ones. */
  const sweep = (at: number) => {
    if (threads.size > maxThreads) {
      for (const [threadId, usage] of threads) {
        if (threads.size <= maxThreads) break;
        if (usage.running === 0) forget(threadId);
      }
    }
    if (at - lastSweepAt < idleTimeoutMs / 4) return;
    lastSweepAt = at;
    const cutoff = at - idleTimeoutMs;
    for (const [threadId, usage] of threads) {
      if (usage.lastUsedAt > cutoff) break;
      if (!usage.registered && usage.running === 0) forget(threadId);
    }
  };
  /** The thread's entry, made the most recently used. */
  const entry = (threadId: string): ThreadUsage => {
    const at = now();
    let usage = threads.get(threadId);
    if (usage) {
      // Moved to the end: the map stays in order of use, so a sweep stops at the first recent thread.
      threads.delete(threadId);
      usage.lastUsedAt = at;
    } else {
      usage = { maxTokens: defaultMaxTokens, usedTokens: 0, lastUsedAt: at, registered: false, running: 0 };
    }
    threads.set(threadId, usage);
    sweep(at);
    return usage;
  };
  return {
    /** Starts (or resets the limit of) a thread; without maxTokens the configured default applies. */
    register(threadId: string, maxTokens?: number): void {
      const usage = entry(threadId);
      usage.maxTokens = maxTokens ?? defaultMaxTokens;
      usage.registered = true;
    },
    /**
     * register() for the length of a runThread: the thread is not forgotten until release(), which returns how many
     * runThreads of it are still under way (end it only at 0: two requests of one session may run at once).
     */
    hold(threadId: string, maxTokens?: number): () => number {
      const usage = entry(threadId);
      usage.maxTokens = maxTokens ?? defaultMaxTokens;
      usage.registered = true;
      usage.running += 1;
      return () => {
        usage.running -= 1;
        return threads.get(threadId) === usage ? usage.running : 0;
      };
    },
    /** Forgets a thread that has ended, with its totals. */
    end(threadId: string): boolean {
      if (!threads.has(threadId)) return false;
      forget(threadId);
      return true;
    },
    check(threadId: string | null | undefined): void {
      if (!threadId) return;
      const usage = threads.get(threadId);
      const maxTokens = usage ? usage.maxTokens : defaultMaxTokens;
      if (maxTokens !== undefined && (usage?.usedTokens ?? 0) >= maxTokens) {
        throw new BudgetExhaustedError({ threadId, usedTokens: usage?.usedTokens ?? 0, maxTokens });
      }
    },
    add(threadId: string | null | undefined, tokens: number): void {
      if (!threadId) return;
      entry(threadId).usedTokens += tokens;
    },
    usage(threadId: string): { usedTokens: number; maxTokens: number | undefined; remainingTokens: number | undefined } | undefined {
      const usage = threads.get(threadId);
      if (!usage) return undefined;
      return {
        usedTokens: usage.usedTokens,
        maxTokens: usage.maxTokens,
        remainingTokens: usage.maxTokens === undefined ? undefined : Math.max(0, usage.maxTokens - usage.usedTokens),
      };
    },
    size: () => threads.size,
  };
}
