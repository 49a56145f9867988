import { InvalidRecordError, type ProviderCostRow, type UsageRow } from '@utt/core';

const USAGE_TEXT_FIELDS = ['source_instance', 'provider', 'model', 'account', 'api_key', 'user_id'] as const;
const COST_TEXT_FIELDS = ['source_instance', 'provider', 'account', 'model', 'line_item'] as const;

/** Distinct texts remembered per check before it starts again (a guard: a cycle's distinct texts are far fewer). */
const MEMO_LIMIT = 100_000;

/**
 * A provider can echo a credential back inside a data field (a key in the
 * model name, a token as the account). Such a value must never reach the
 * database or a report: the source's write is refused, naming the record and
 * field but never the value.
 */
export function checkEchoedSecrets(
  source: string,
  rows: readonly UsageRow[],
  providerCosts: readonly ProviderCostRow[],
  secrets: ReadonlySet<string>,
): void {
  const candidates = [...secrets].filter((secret) => secret.length >= 4);
  if (candidates.length === 0) return;
  const holdsSecret = textCheck(candidates);
  const issues: string[] = [];
  rows.forEach((row, index) => {
    for (const field of USAGE_TEXT_FIELDS) if (holdsSecret(row[field])) issues.push(`record ${index}: ${field}`);
    for (const key in row.labels) {
      if (holdsSecret(key) || holdsSecret(row.labels[key] as string)) issues.push(`record ${index}: labels`);
    }
  });
  providerCosts.forEach((row, index) => {
    for (const field of COST_TEXT_FIELDS) if (holdsSecret(row[field])) issues.push(`provider cost ${index}: ${field}`);
  });
  if (issues.length === 0) return;
  const shown = issues.length > 5 ? [...issues.slice(0, 5), `… and ${issues.length - 5} more`] : issues;
  throw new InvalidRecordError({
    where: `source "${source}"`,
    issues: shown.map((issue) => `${issue}: holds the value of a configured secret (the provider echoed a credential); nothing was written`),
  });
}

/**
 * Whether a text holds one of the secrets, each distinct text searched once:
 * a cycle's rows repeat a few models, instances and sessions thousands of
 * times.
 */
function textCheck(candidates: readonly string[]): (text: string) => boolean {
  const searched = new Map<string, boolean>();
  return (text) => {
    if (text === '') return false;
    let holds = searched.get(text);
    if (holds === undefined) {
      holds = candidates.some((secret) => text.includes(secret));
      if (searched.size >= MEMO_LIMIT) searched.clear();
      searched.set(text, holds);
    }
    return holds;
  };
}
