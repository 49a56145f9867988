import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigTooLargeError, ConfigValidationError, formatIssues, redactSecrets, secretValuesOf, substituteEnv } from '@utt/core';
import yaml from 'js-yaml';
import { type Budget, parseBudgets, reportingTimeZoneSchema, type ThreadBudget, threadBudgetConfigSchema } from './budget-config';

export type LoadBudgetsFromConfigOptions = {
  /** Where `${VAR}` values come from (default process.env); `UTT_CONFIG` names the file when no path is given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** What a relative path is resolved against (default process.cwd()), as `utt --config` does. */
  readonly cwd?: string;
};

/** The budget part of a utt config: spread it into createTracker. */
export type ConfigBudgets = {
  readonly budgets: Budget[];
  readonly reportingTimeZone: string;
  /** `threadBudget:` (seed 004's per-thread token limit), when the file has one. */
  readonly threadBudget?: ThreadBudget;
  /** The config file read, absolute. */
  readonly file: string;
};

/**
 * Reads `budgets:`, `reportingTimeZone:` and `threadBudget:` from the utt config file that
 * `utt budget` and the worker read, so budgets are declared once. The file is
 * found as `utt` finds it (the path given, else `UTT_CONFIG`, else
 * `utt.config.yaml`, relative to `cwd`), `${VAR}` and `${VAR:-default}` are
 * substituted as `utt` substitutes them, and both keys are validated with the
 * schemas `utt` uses: a ConfigValidationError names the file and the field
 * (`budgets[1].limitUsd`). Other keys of the file (sources, database…) are
 * the worker's business and are not read, so a collector's unset key
 * variable does not stop a service.
 */
export async function loadBudgetsFromConfig(file?: string, options: LoadBudgetsFromConfigOptions = {}): Promise<ConfigBudgets> {
  const env = options.env ?? process.env;
  const resolved = path.resolve(options.cwd ?? process.cwd(), file ?? env.UTT_CONFIG ?? 'utt.config.yaml');
  let text: string;
  try {
    text = await readFile(resolved, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigValidationError({ file: resolved, issues: [code === 'ENOENT' ? 'file not found' : `cannot read: ${code ?? String(error)}`] });
  }
  let document: unknown;
  try {
    document = yaml.load(text, { filename: resolved }) ?? {};
  } catch (error) {
    const mark = (error as { mark?: { line: number; column: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? 'invalid YAML';
    throw new ConfigValidationError({ file: resolved, issues: [mark ? `line ${mark.line + 1}, column ${mark.column + 1}: ${reason}` : reason] });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigValidationError({ file: resolved, issues: ['the top level must be a mapping (budgets:, reportingTimeZone:, …)'] });
  }
  const { budgets, reportingTimeZone, threadBudget } = document as { budgets?: unknown; reportingTimeZone?: unknown; threadBudget?: unknown };

  let substituted: ReturnType<typeof substituteEnv>;
  try {
    substituted = substituteEnv({ budgets, reportingTimeZone, threadBudget }, env);
  } catch (error) {
    if (error instanceof ConfigTooLargeError) throw new ConfigValidationError({ file: resolved, issues: [error.message] });
    throw error;
  }
  const value = substituted.value as { budgets?: unknown; reportingTimeZone?: unknown; threadBudget?: unknown };
  const missing = substituted.missing.map(({ path: where, variable }) => `${where}: environment variable ${variable} is not set`);
  const zone = reportingTimeZoneSchema.safeParse(value.reportingTimeZone);
  const zoneIssues = zone.success ? [] : formatIssues(zone.error.issues, 'reportingTimeZone');
  const thread = threadBudgetConfigSchema.optional().safeParse(value.threadBudget ?? undefined);
  const threadIssues = thread.success ? [] : formatIssues(thread.error.issues, 'threadBudget');
  let parsed: Budget[] = [];
  let budgetIssues: readonly string[] = [];
  try {
    parsed = parseBudgets(value.budgets);
  } catch (error) {
    if (!ConfigValidationError.isInstance(error)) throw error;
    budgetIssues = error.issues;
  }
  const issues = [...missing, ...zoneIssues, ...threadIssues, ...budgetIssues];
  if (issues.length > 0) {
    // An issue may quote the value it refuses, and that value may be a key used in the wrong place.
    const known = new Set([...secretValuesOf(env), ...substituted.secrets]);
    throw new ConfigValidationError({ file: resolved, issues: issues.map((issue) => redactSecrets(issue, known)) });
  }
  return { budgets: parsed, reportingTimeZone: zone.data ?? 'UTC', ...(thread.data ? { threadBudget: thread.data } : {}), file: resolved };
}
