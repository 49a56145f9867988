import { BudgetExhaustedError } from './budget-exhausted-error';

type ThreadUsage = { maxTokens: number | undefined; usedTokens: number };

/**
 * Per-thread token budgets (seed 004's ThreadBudgetRegistry): a thread's call
 * is checked before it is sent and refused with BudgetExhaustedError once the
 * thread has used its tokens. The call in flight when the limit is crossed
 * still finishes, so a thread can end a fraction past its limit.
 */
export function createThreadBudgets(defaultMaxTokens: number | undefined) {
  const threads = new Map<string, ThreadUsage>();
  const entry = (threadId: string): ThreadUsage => {
    let usage = threads.get(threadId);
    if (!usage) {
      usage = { maxTokens: defaultMaxTokens, usedTokens: 0 };
      threads.set(threadId, usage);
    }
    return usage;
  };
  return {
    /** Starts (or resets the limit of) a thread; without maxTokens the configured default applies. */
    register(threadId: string, maxTokens?: number): void {
      const usage = entry(threadId);
      usage.maxTokens = maxTokens ?? defaultMaxTokens;
    },
    /** Forgets a thread that has ended. */
    end(threadId: string): boolean {
      return threads.delete(threadId);
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
