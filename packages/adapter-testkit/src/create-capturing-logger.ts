import type { LogFields, Logger } from '@utt/core';

export type CapturedLogLine = {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields | undefined;
};

/** A logger that keeps every line, for assertions (and for the canary-secret check). */
export type CapturingLogger = Logger & {
  /** Every line logged so far, in order. */
  readonly lines: readonly CapturedLogLine[];
};

export function createCapturingLogger(): CapturingLogger {
  const lines: CapturedLogLine[] = [];
  const at =
    (level: CapturedLogLine['level']) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
