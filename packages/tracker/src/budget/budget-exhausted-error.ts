import { UttError } from '@utt/core';

const NAME = 'UTT_BudgetExhaustedError';
const MARKER = `utt.error.${NAME}`;
const SYMBOL = Symbol.for(MARKER);

/** A thread (agent session) has used its token budget: its next call is refused before it is sent. */
export class BudgetExhaustedError extends UttError {
  private readonly [SYMBOL] = true;
  readonly threadId: string;
  readonly usedTokens: number;
  readonly maxTokens: number;

  constructor(options: { threadId: string; usedTokens: number; maxTokens: number }) {
    super({
      name: NAME,
      message: `thread ${JSON.stringify(options.threadId)} has used ${options.usedTokens} of its ${options.maxTokens} tokens`,
    });
    this.threadId = options.threadId;
    this.usedTokens = options.usedTokens;
    this.maxTokens = options.maxTokens;
  }

  static override isInstance(error: unknown): error is BudgetExhaustedError {
    return UttError.carries(error, MARKER);
  }
}
