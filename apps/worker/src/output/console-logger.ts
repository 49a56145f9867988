import { type LogFields, type Logger, redactSecrets } from '@utt/core';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Logs to stderr (stdout is for reports), one line per event, with every
 * configured secret value redacted: the last line of defence for invariant 13.
 */
export function createConsoleLogger(options: { level: LogLevel; secrets: ReadonlySet<string>; prefix?: string }): Logger {
  function write(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < ORDER[options.level]) return;
    const detail = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    const line = `${level}${options.prefix ? ` [${options.prefix}]` : ''}: ${message}${detail}`;
    process.stderr.write(`${redactSecrets(line, options.secrets)}\n`);
  }
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

export function withPrefix(logger: Logger, prefix: string): Logger {
  const tag = (message: string) => `[${prefix}] ${message}`;
  return {
    debug: (message, fields) => logger.debug(tag(message), fields),
    info: (message, fields) => logger.info(tag(message), fields),
    warn: (message, fields) => logger.warn(tag(message), fields),
    error: (message, fields) => logger.error(tag(message), fields),
  };
}
